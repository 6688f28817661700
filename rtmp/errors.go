package rtmp

import "errors"

// Errors a caller of this package can branch on.
var (
	// ErrMalformedCommand is returned for a command message whose AMF body
	// does not start with a command name.
	ErrMalformedCommand = errors.New("malformed command")
	// ErrUnknownCommand is returned for a command the server does not know.
	ErrUnknownCommand = errors.New("unknown command")
	// ErrUnexpectedMessage is returned for a message that is not valid in
	// the connection's current state, such as media before publish.
	ErrUnexpectedMessage = errors.New("unexpected message")
	// ErrHandshake wraps the error of a failed RTMP handshake.
	ErrHandshake = errors.New("handshake failed")
	// ErrServerClosed is returned by Serve after Close.
	ErrServerClosed = errors.New("rtmp: server closed")
	// ErrHandshakeTimeout: the client did not finish the handshake within
	// ServerConfig.HandshakeTimeout.
	ErrHandshakeTimeout = errors.New("handshake timeout")
	// ErrSetupTimeout: the client neither published nor played within
	// ServerConfig.SetupTimeout of the handshake.
	ErrSetupTimeout = errors.New("no publish or play in time")
	// ErrIdleTimeout: a publisher sent no audio or video for
	// ServerConfig.IdleTimeout.
	ErrIdleTimeout = errors.New("publisher sent no media in time")
	// ErrWriteTimeout: a player accepted no data for
	// ServerConfig.WriteTimeout.
	ErrWriteTimeout = errors.New("player write timeout")
	// ErrPublisherCutOff: the hub ended a publisher's session: another
	// publisher took the stream over, or the stream was closed.
	ErrPublisherCutOff = errors.New("publisher cut off")
	// ErrInvalidConfig is wrapped by ServerConfig.Validate, NewServer and
	// NewServerConn for a configuration that cannot be used.
	ErrInvalidConfig = errors.New("rtmp: invalid configuration")
)

// Errors of the client (Client, Dial).
var (
	// ErrURLScheme: a URL given to Dial is neither rtmp:// nor rtmps://.
	ErrURLScheme = errors.New("rtmp: url scheme must be rtmp or rtmps")
	// ErrNotPublishing: WriteFrames was called before Publish succeeded.
	ErrNotPublishing = errors.New("rtmp: client is not publishing")
)
