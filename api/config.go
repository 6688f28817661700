package api

import (
	"fmt"
	"strings"
	"unicode"
)

// BasePath is the prefix of every route the Handler serves; mount the
// Handler at BasePath + "/" without stripping it.
const BasePath = "/api/v1"

// Paging limits for list endpoints.
const (
	// DefaultPerPage is the page size when ?per_page is absent.
	DefaultPerPage = 20
	// MaxPerPage is the largest ?per_page accepted.
	MaxPerPage = 100
	// MaxPage is the largest ?page accepted; it only bounds the arithmetic.
	MaxPage = 1 << 20
)

// Config configures the API. The zero value is usable: no token, loopback
// clients only.
type Config struct {
	// Token is the bearer token clients must send
	// ("Authorization: Bearer <token>"). When empty, the API answers only
	// clients connecting from a loopback address and refuses others with
	// 403. Behind a reverse proxy on the same host every client looks
	// local: set a token there. Default empty. Environment:
	// MEDIASERVER_API_TOKEN.
	Token string `yaml:"token"`
	// AllowedHosts are the names, besides localhost and loopback
	// addresses, that requests to the API, dashboard, metrics and profiler
	// may be addressed to (their Host header, any port) while no token is
	// set: the names this machine is reached by locally. Any other Host is
	// refused with 403, so that a page on a name that resolves to this
	// machine (DNS rebinding) cannot use the API. Default none.
	// Environment: MEDIASERVER_API_ALLOWED_HOSTS (comma-separated).
	AllowedHosts []string `yaml:"allowed_hosts"`
}

// Validate reports a token no client can send: one with spaces or control
// characters, which a bearer token cannot carry (a value copied with a
// trailing newline or space would refuse every client).
// It also reports an allowed host that is not a bare host name or
// address (a URL, a path, spaces).
func (c Config) Validate() error {
	if strings.IndexFunc(c.Token, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return fmt.Errorf("%w: token contains spaces or control characters", ErrInvalidConfig)
	}
	for _, h := range c.AllowedHosts {
		if normalHost(h) == "" || strings.ContainsAny(h, "/?#@ \t") || strings.IndexFunc(h, unicode.IsControl) >= 0 {
			return fmt.Errorf("%w: allowed_hosts entry %q: want a host name or address, such as media.example.com",
				ErrInvalidConfig, h)
		}
	}
	return nil
}
