package relay

import "errors"

// Errors a caller of this package can branch on.
var (
	// ErrInvalidConfig is wrapped by Validate and the constructors for a
	// configuration that cannot be used.
	ErrInvalidConfig = errors.New("relay: invalid configuration")
	// ErrTargetURL: a forward target URL is not rtmp:// or rtmps:// with a
	// host, an app and a stream name.
	ErrTargetURL = errors.New("relay: bad forward target url")
	// ErrStreamNotLive: the stream a forward is added to is not live.
	ErrStreamNotLive = errors.New("relay: stream is not live")
	// ErrTargetNotFound: no forward target of the stream has the id.
	ErrTargetNotFound = errors.New("relay: no such forward target")
	// ErrTooManyTargets: the stream already has ForwardConfig.MaxTargets
	// targets.
	ErrTooManyTargets = errors.New("relay: too many forward targets")
	// ErrCodecNotAnnounced: the stream carries an Enhanced RTMP codec
	// (HEVC, AV1, VP9, Opus …) that the target did not announce in its
	// connect _result; it is not sent there.
	ErrCodecNotAnnounced = errors.New("relay: target did not announce the codec")
	// ErrClosed: the forwarder was closed.
	ErrClosed = errors.New("relay: forwarder closed")
)

// errStreamEnded: the forwarded stream ended and its target got all of
// it; the target ends rather than reconnecting.
var errStreamEnded = errors.New("relay: stream ended")
