package server

import "errors"

// ErrInvalidConfig is wrapped by Config.Validate and New for a
// configuration that cannot be used.
var ErrInvalidConfig = errors.New("server: invalid configuration")
