package httpflv

import "errors"

// Reasons a viewer session ends, used as context causes and in logs.
var (
	// ErrKicked ends a session stopped by Handler.Kick.
	ErrKicked = errors.New("httpflv: viewer kicked")
	// ErrShutdown ends every session when Handler.Close is called.
	ErrShutdown = errors.New("httpflv: server shutting down")
	// ErrPeerGone ends a WebSocket session whose viewer closed the
	// connection, sent a close frame or stopped answering pings.
	ErrPeerGone = errors.New("httpflv: viewer went away")
)

// ErrInvalidConfig is wrapped by Config.Validate and New for a Config that
// cannot be used.
var ErrInvalidConfig = errors.New("httpflv: invalid configuration")

// errStopped is returned by a write attempted after the session was
// stopped; the session's context cause says why.
var errStopped = errors.New("httpflv: session stopped")

// errParked is returned by a viewer's loop when it handed the viewer to the
// stream's delivery goroutine: its goroutine ends without ending the
// session.
var errParked = errors.New("httpflv: viewer parked")
