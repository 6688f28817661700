package cors

import (
	"errors"
	"fmt"
	"net/url"
)

// Validate reports the allowed origins that can never match a request:
// an origin is "*" or a scheme and host with an optional port, exactly as
// browsers send it in the Origin header ("https://player.example",
// "http://localhost:3000"), without a path, query or trailing slash.
func (p Policy) Validate() error {
	var errs []error
	for _, o := range p.AllowedOrigins {
		if o == "*" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" || u.User != nil ||
			u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
			errs = append(errs, fmt.Errorf("%w: %q: want \"*\" or scheme://host[:port]", ErrInvalidOrigin, o))
		}
	}
	return errors.Join(errs...)
}
