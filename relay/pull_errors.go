package relay

import "errors"

// Sentinel errors of the pull side; callers compare with errors.Is.
var (
	// ErrInvalidPullConfig is wrapped by PullConfig.Validate and NewPuller
	// for a configuration that cannot be used.
	ErrInvalidPullConfig = errors.New("relay: invalid pull configuration")
	// ErrUnsupportedSource is returned for a source URL whose scheme is
	// not rtmp, rtmps, http or https.
	ErrUnsupportedSource = errors.New("relay: unsupported source URL")
	// ErrNoSource is returned by Puller.Pull for an empty source URL.
	ErrNoSource = errors.New("relay: no source for the stream")
	// ErrPullerClosed is returned by a Puller after Close.
	ErrPullerClosed = errors.New("relay: puller closed")
	// ErrNotLive is returned by Puller.Pull when the pull did not go live
	// before its wait ended; the pull goes on retrying.
	ErrNotLive = errors.New("relay: pulled stream not live")
	// ErrSourceEnded is returned when an RTMP source tells its player
	// the stream ended (NetStream.Play.UnpublishNotify, Stop or Complete).
	ErrSourceEnded = errors.New("relay: the source ended the stream")
	// ErrTooManyPulls is returned by Puller.Pull when PullConfig.MaxPulls
	// pulls run already.
	ErrTooManyPulls = errors.New("relay: too many pulls")
	// ErrPullStopped is why a pull ended by Puller.Stop stopped.
	ErrPullStopped = errors.New("relay: pull stopped")
	// ErrPullIdle is why an on-demand pull stopped PullConfig.IdleTimeout
	// after its last viewer left.
	ErrPullIdle = errors.New("relay: no viewer left")
	// ErrTakenOver is the last error of a pull whose stream another
	// publisher took over (stream.Config.Takeover).
	ErrTakenOver = errors.New("relay: another publisher took the stream over")
	// ErrSourceStatus is returned when an HTTP-FLV source answers with a
	// status other than 200.
	ErrSourceStatus = errors.New("relay: source answered with an error status")
)
