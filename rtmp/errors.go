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
)
