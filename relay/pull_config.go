package relay

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/mediaserver/mediaserver/stream"
)

// Defaults of PullConfig, applied by WithDefaults to zero fields.
const (
	// DefaultPullIdleTimeout is the default PullConfig.IdleTimeout.
	DefaultPullIdleTimeout = 10 * time.Second
	// DefaultPullStartTimeout is the default PullConfig.StartTimeout.
	DefaultPullStartTimeout = 10 * time.Second
	// DefaultPullRetryDelay is the default PullConfig.RetryDelay.
	DefaultPullRetryDelay = time.Second
	// DefaultPullRetryMaxDelay is the default PullConfig.RetryMaxDelay.
	DefaultPullRetryMaxDelay = 30 * time.Second
	// DefaultPullReadTimeout is the default PullConfig.ReadTimeout.
	DefaultPullReadTimeout = 10 * time.Second
	// DefaultMaxPulls is the default PullConfig.MaxPulls.
	DefaultMaxPulls = 1000
)

// NamePlaceholder is replaced by the stream name in the URL templates of
// PullConfig.Apps.
const NamePlaceholder = "{name}"

// PullSource is one stream pulled from another server (PullConfig.Sources).
type PullSource struct {
	// URL is where the stream comes from: rtmp://, rtmps://, or an
	// http:// or https:// HTTP-FLV URL.
	URL string `yaml:"url"`
	// OnDemand starts the pull with the stream's first viewer and stops it
	// IdleTimeout after the last one left; false pulls the stream all the
	// time.
	OnDemand bool `yaml:"on_demand"`
}

// PullConfig configures the streams a server pulls from other servers
// (the relay.* settings).
type PullConfig struct {
	// Sources maps "app/name" to the stream's source.
	Sources map[string]PullSource `yaml:"sources"`
	// Apps maps an app to a URL template whose NamePlaceholder ("{name}")
	// is replaced by the stream name: any stream of the app is pulled on
	// demand from there. A stream in Sources is pulled from its own
	// source.
	Apps map[string]string `yaml:"apps"`
	// IdleTimeout is how long an on-demand pull goes on after its last
	// viewer left. Default DefaultPullIdleTimeout (10s).
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// StartTimeout bounds how long the first viewer of a stream pulled on
	// demand waits for the pull to go live before it is told the stream
	// is not found. Default DefaultPullStartTimeout (10s).
	StartTimeout time.Duration `yaml:"start_timeout"`
	// RetryDelay is the wait before the first retry of a failed pull; it
	// doubles with every further failure up to RetryMaxDelay, with
	// jitter. Default DefaultPullRetryDelay (1s).
	RetryDelay time.Duration `yaml:"retry_delay"`
	// RetryMaxDelay caps the wait between retries. Default
	// DefaultPullRetryMaxDelay (30s).
	RetryMaxDelay time.Duration `yaml:"retry_max_delay"`
	// ReadTimeout bounds each read from a source (and its connection
	// setup): a source silent for longer is dropped and retried. Default
	// DefaultPullReadTimeout (10s).
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// MaxPulls caps the pulls running at once: a viewer of a stream whose
	// pull would pass it is told the stream is not found (always-on
	// sources start regardless). Default DefaultMaxPulls (1000); negative:
	// no cap.
	MaxPulls int `yaml:"max_pulls"`
	// TLS configures the client side of rtmps:// and https:// sources
	// (trusted roots, client certificates); nil verifies servers against
	// the system's roots. Not a setting of the file: for programs that
	// embed the server, and tests.
	TLS *tls.Config `yaml:"-"`
}

// WithDefaults returns c with the documented defaults in its zero fields.
func (c PullConfig) WithDefaults() PullConfig {
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultPullIdleTimeout
	}
	if c.StartTimeout == 0 {
		c.StartTimeout = DefaultPullStartTimeout
	}
	if c.RetryDelay == 0 {
		c.RetryDelay = DefaultPullRetryDelay
	}
	if c.RetryMaxDelay == 0 {
		c.RetryMaxDelay = max(DefaultPullRetryMaxDelay, c.RetryDelay)
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = DefaultPullReadTimeout
	}
	if c.MaxPulls == 0 {
		c.MaxPulls = DefaultMaxPulls
	}
	return c
}

// Validate reports the first setting that cannot be used, wrapping
// ErrInvalidPullConfig; call it on the result of WithDefaults.
func (c PullConfig) Validate() error {
	switch {
	case c.IdleTimeout < 0 || c.StartTimeout < 0 || c.RetryDelay < 0 || c.ReadTimeout < 0:
		return fmt.Errorf("%w: idle_timeout, start_timeout, retry_delay and read_timeout must not be negative", ErrInvalidPullConfig)
	case c.RetryMaxDelay < c.RetryDelay:
		return fmt.Errorf("%w: retry_max_delay %v is below retry_delay %v", ErrInvalidPullConfig, c.RetryMaxDelay, c.RetryDelay)
	}
	for name, src := range c.Sources {
		app, stm, ok := strings.Cut(name, "/")
		if !ok {
			return fmt.Errorf("%w: sources: %q is not app/name", ErrInvalidPullConfig, name)
		}
		if err := errors.Join(stream.CheckName(app), stream.CheckName(stm)); err != nil {
			return fmt.Errorf("%w: sources: %q is not app/name: %w", ErrInvalidPullConfig, name, err)
		}
		if err := checkSourceURL(src.URL); err != nil {
			return fmt.Errorf("%w: sources.%s: %w", ErrInvalidPullConfig, name, err)
		}
	}
	for app, tmpl := range c.Apps {
		if err := stream.CheckName(app); err != nil {
			return fmt.Errorf("%w: apps: %q is not an app name: %w", ErrInvalidPullConfig, app, err)
		}
		if !strings.Contains(tmpl, NamePlaceholder) {
			return fmt.Errorf("%w: apps.%s: the URL has no %s", ErrInvalidPullConfig, app, NamePlaceholder)
		}
		if err := checkSourceURL(strings.ReplaceAll(tmpl, NamePlaceholder, "x")); err != nil {
			return fmt.Errorf("%w: apps.%s: %w", ErrInvalidPullConfig, app, err)
		}
	}
	return nil
}

// source returns the source of key: its entry in Sources, else its app's
// template in Apps (pulled on demand).
func (c PullConfig) source(key stream.Key) (PullSource, bool) {
	if src, ok := c.Sources[key.String()]; ok {
		return src, true
	}
	if tmpl, ok := c.Apps[key.App]; ok {
		return PullSource{URL: strings.ReplaceAll(tmpl, NamePlaceholder, url.PathEscape(key.Name)), OnDemand: true}, true
	}
	return PullSource{}, false
}

// checkSourceURL reports a URL the relay cannot pull from.
func checkSourceURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnsupportedSource, err)
	}
	switch u.Scheme {
	case "rtmp", "rtmps", "http", "https":
	default:
		return fmt.Errorf("%w: %q: scheme must be rtmp, rtmps, http or https", ErrUnsupportedSource, raw)
	}
	if u.Host == "" {
		return fmt.Errorf("%w: %q has no host", ErrUnsupportedSource, raw)
	}
	return nil
}
