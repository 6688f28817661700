package relay

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"
)

// Defaults of ForwardConfig, applied by WithDefaults to zero fields.
const (
	// DefaultMinBackoff is the default ForwardConfig.MinBackoff.
	DefaultMinBackoff = time.Second
	// DefaultMaxBackoff is the default ForwardConfig.MaxBackoff.
	DefaultMaxBackoff = 30 * time.Second
	// DefaultForwardTimeout is the default ForwardConfig.Timeout.
	DefaultForwardTimeout = 10 * time.Second
	// DefaultMaxTargets is the default ForwardConfig.MaxTargets.
	DefaultMaxTargets = 16
	// DefaultHookTimeout is the default ForwardConfig.HookTimeout.
	DefaultHookTimeout = 3 * time.Second
	// DefaultMaxHookCalls is the default ForwardConfig.MaxHookCalls.
	DefaultMaxHookCalls = 8
)

// MaxTargetURLLength caps a forward target URL (also a template).
const MaxTargetURLLength = 2048

// Placeholders of target URL templates, replaced by the stream's app and
// name.
const (
	// PlaceholderApp is replaced by the stream's app.
	PlaceholderApp = "{app}"
	// PlaceholderName is replaced by the stream's name.
	PlaceholderName = "{name}"
)

// ForwardConfig configures the Forwarder (config key "forward").
type ForwardConfig struct {
	// Apps maps an app to the target URL templates every stream of the app
	// is forwarded to: rtmp:// or rtmps:// URLs whose path is the target's
	// app then its stream name, with {app} and {name} replaced by the
	// stream's.
	Apps map[string][]string `yaml:"apps"`
	// Streams maps "app/name" to the target URL templates of that one
	// stream, forwarded to besides its app's.
	Streams map[string][]string `yaml:"streams"`
	// OnForward is the URL of the on_forward hook: asked (POST, JSON) when
	// a stream starts, it picks the stream's targets. Empty: no hook.
	OnForward string `yaml:"on_forward"`
	// HookTimeout bounds one on_forward call. Default DefaultHookTimeout
	// (3s).
	HookTimeout time.Duration `yaml:"hook_timeout"`
	// MaxHookCalls caps the on_forward calls in flight; streams that start
	// meanwhile wait their turn. Default DefaultMaxHookCalls (8).
	MaxHookCalls int `yaml:"max_hook_calls"`
	// MinBackoff is the wait before the first reconnect of a target that
	// failed; it doubles with each failure in a row, up to MaxBackoff, and
	// each wait is shortened by a random part of up to a half (jitter).
	// Default DefaultMinBackoff (1s).
	MinBackoff time.Duration `yaml:"min_backoff"`
	// MaxBackoff caps the reconnect wait. Default DefaultMaxBackoff (30s).
	MaxBackoff time.Duration `yaml:"max_backoff"`
	// Timeout bounds a target's connect and publish and each write to it.
	// Default DefaultForwardTimeout (10s).
	Timeout time.Duration `yaml:"timeout"`
	// MaxTargets caps the targets of one stream. Default DefaultMaxTargets
	// (16).
	MaxTargets int `yaml:"max_targets"`
	// CAFile is a PEM file of certificates trusted for rtmps:// targets
	// besides the system's roots (a private CA). Empty: the system's only.
	CAFile string `yaml:"ca_file"`
}

// WithDefaults returns c with the documented defaults in its zero fields.
func (c ForwardConfig) WithDefaults() ForwardConfig {
	forwardDefault(&c.HookTimeout, DefaultHookTimeout)
	forwardDefault(&c.MaxHookCalls, DefaultMaxHookCalls)
	forwardDefault(&c.MinBackoff, DefaultMinBackoff)
	forwardDefault(&c.MaxBackoff, DefaultMaxBackoff)
	forwardDefault(&c.Timeout, DefaultForwardTimeout)
	forwardDefault(&c.MaxTargets, DefaultMaxTargets)
	return c
}

// Validate reports every setting that cannot be used; call it on the
// result of WithDefaults.
func (c ForwardConfig) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	for app, urls := range c.Apps {
		if app == "" || strings.Contains(app, "/") {
			bad("apps: app %q: want a name without /", app)
		}
		for _, u := range urls {
			if err := checkTargetURL(u); err != nil {
				bad("apps.%s: %v", app, err)
			}
		}
	}
	for key, urls := range c.Streams {
		if app, name, ok := strings.Cut(key, "/"); !ok || app == "" || name == "" {
			bad("streams: key %q: want app/name", key)
		}
		for _, u := range urls {
			if err := checkTargetURL(u); err != nil {
				bad("streams.%s: %v", key, err)
			}
		}
	}
	if c.OnForward != "" {
		if u, err := url.Parse(c.OnForward); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("on_forward %q: want an http:// or https:// URL", c.OnForward)
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"hook_timeout", c.HookTimeout}, {"min_backoff", c.MinBackoff}, {"max_backoff", c.MaxBackoff}, {"timeout", c.Timeout}} {
		if d.v < 0 {
			bad("%s %v is negative", d.name, d.v)
		}
	}
	if c.MaxBackoff < c.MinBackoff {
		bad("max_backoff %v is below min_backoff %v", c.MaxBackoff, c.MinBackoff)
	}
	if c.MaxTargets < 1 {
		bad("max_targets %d: want at least 1", c.MaxTargets)
	}
	if c.MaxHookCalls < 1 {
		bad("max_hook_calls %d: want at least 1", c.MaxHookCalls)
	}
	if c.CAFile != "" {
		if _, err := loadRoots(c.CAFile); err != nil {
			bad("ca_file: %v", err)
		}
	}
	return errors.Join(errs...)
}

// tlsConfig returns the TLS client configuration of rtmps:// targets: nil
// (the system's roots) without CAFile.
func (c ForwardConfig) tlsConfig() (*tls.Config, error) {
	if c.CAFile == "" {
		return nil, nil
	}
	roots, err := loadRoots(c.CAFile)
	if err != nil {
		return nil, err
	}
	return &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}, nil
}

// loadRoots returns the system's roots plus the certificates of the PEM
// file path.
func loadRoots(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read ca file: %w", err)
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("ca file %s holds no PEM certificate", path)
	}
	return roots, nil
}

// targetsFor returns the target URL templates configured for app/name:
// the app's, then the stream's.
func (c ForwardConfig) targetsFor(app, name string) []string {
	out := append([]string(nil), c.Apps[app]...)
	return append(out, c.Streams[app+"/"+name]...)
}

// checkTargetURL checks a target URL or template: rtmp:// or rtmps://, a
// host, and a path of an app and a stream name.
func checkTargetURL(raw string) error {
	_, _, err := splitTargetURL(raw)
	return err
}

// splitTargetURL checks a target URL and returns the URL the client
// connects to (without the stream name) and the stream name it publishes
// (the rest of the path after the app, with the query).
func splitTargetURL(raw string) (connectURL, name string, err error) {
	if len(raw) > MaxTargetURLLength {
		return "", "", fmt.Errorf("%w: longer than %d bytes", ErrTargetURL, MaxTargetURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", fmt.Errorf("%w: %w", ErrTargetURL, err)
	}
	if u.Scheme != "rtmp" && u.Scheme != "rtmps" {
		return "", "", fmt.Errorf("%w: %q: scheme must be rtmp or rtmps", ErrTargetURL, redactURL(raw))
	}
	if u.Hostname() == "" {
		return "", "", fmt.Errorf("%w: %q has no host", ErrTargetURL, redactURL(raw))
	}
	app, name, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	if app == "" || name == "" {
		return "", "", fmt.Errorf("%w: %q: want %s://host[:port]/app/stream", ErrTargetURL, redactURL(raw), u.Scheme)
	}
	if u.RawQuery != "" {
		name += "?" + u.RawQuery
	}
	return u.Scheme + "://" + u.Host + "/" + app, name, nil
}

// expandTarget replaces the placeholders of a target URL template.
func expandTarget(template, app, name string) string {
	return strings.NewReplacer(PlaceholderApp, app, PlaceholderName, name).Replace(template)
}

// redactURL shows a target URL without its secrets: the stream name (a
// platform's stream key) and the query keep their first characters only,
// and user information is dropped.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		if len(raw) > 12 {
			return raw[:12] + "…"
		}
		return raw
	}
	app, name, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	if len(name) > 4 {
		name = name[:4] + "…"
	}
	out := u.Scheme + "://" + u.Host + "/" + app
	if name != "" {
		out += "/" + name
	}
	if u.RawQuery != "" {
		out += "?…"
	}
	return out
}

// forwardDefault sets *v to def when it is the zero value.
func forwardDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// Redacted returns c with the stream keys of its target URLs shortened,
// for reports of the configuration.
func (c ForwardConfig) Redacted() ForwardConfig {
	redact := func(m map[string][]string) map[string][]string {
		if m == nil {
			return nil
		}
		out := make(map[string][]string, len(m))
		for k, urls := range m {
			for _, u := range urls {
				out[k] = append(out[k], redactURL(u))
			}
		}
		return out
	}
	c.Apps, c.Streams = redact(c.Apps), redact(c.Streams)
	return c
}
