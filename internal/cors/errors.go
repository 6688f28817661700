package cors

import "errors"

// ErrInvalidOrigin is wrapped by Policy.Validate for an allowed origin that
// no browser would ever send.
var ErrInvalidOrigin = errors.New("cors: invalid allowed origin")
