package cluster

import "errors"

// Errors of the package; returned errors wrap them.
var (
	// ErrInvalidConfig is returned for a configuration that does not
	// validate.
	ErrInvalidConfig = errors.New("cluster: invalid configuration")
	// ErrNotLive is returned by Owner for a name no origin claims.
	ErrNotLive = errors.New("cluster: stream is not live on any origin")
	// ErrDegraded is wrapped by Health while Redis cannot be reached.
	ErrDegraded = errors.New("cluster: Redis unreachable")
)
