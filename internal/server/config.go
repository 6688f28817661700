package server

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/mediaserver/mediaserver/api"
	"github.com/mediaserver/mediaserver/cluster"
	"github.com/mediaserver/mediaserver/hls"
	"github.com/mediaserver/mediaserver/httpflv"
	"github.com/mediaserver/mediaserver/internal/access"
	"github.com/mediaserver/mediaserver/internal/metrics"
	"github.com/mediaserver/mediaserver/record"
	"github.com/mediaserver/mediaserver/relay"
	"github.com/mediaserver/mediaserver/rtmp"
	"github.com/mediaserver/mediaserver/stream"
)

// Log formats (LogConfig.Format).
const (
	// LogFormatText writes logfmt-style lines (slog's text handler).
	LogFormatText = "text"
	// LogFormatJSON writes one JSON object per line.
	LogFormatJSON = "json"
)

// Defaults of LogConfig and HTTPConfig, applied by Config.WithDefaults to
// zero fields. The other parts of Config take the defaults of their
// packages.
const (
	// DefaultLogLevel is the default LogConfig.Level.
	DefaultLogLevel = "info"
	// DefaultLogFormat is the default LogConfig.Format.
	DefaultLogFormat = LogFormatText
	// DefaultHTTPAddr is the default HTTPConfig.Addr.
	DefaultHTTPAddr = ":8080"
	// DefaultReadHeaderTimeout is the default HTTPConfig.ReadHeaderTimeout.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultIdleTimeout is the default HTTPConfig.IdleTimeout.
	DefaultIdleTimeout = 120 * time.Second
	// DefaultHTTPMaxConns is the default HTTPConfig.MaxConns.
	DefaultHTTPMaxConns = 10000
	// DefaultHTTPMaxConnsPerIP is the default HTTPConfig.MaxConnsPerIP.
	DefaultHTTPMaxConnsPerIP = 256
	// DefaultMaxHeaderBytes is the default HTTPConfig.MaxHeaderBytes.
	DefaultMaxHeaderBytes = 64 << 10
	// DefaultShutdownLinger is the default HTTPConfig.ShutdownLinger.
	DefaultShutdownLinger = time.Second
	// DefaultShutdownGrace is the default HTTPConfig.ShutdownGrace.
	DefaultShutdownGrace = 5 * time.Second
)

// Config is the whole server configuration. Each package owns its part and
// documents its defaults.
type Config struct {
	Log     LogConfig         `yaml:"log"`
	RTMP    rtmp.ServerConfig `yaml:"rtmp"`
	HTTP    HTTPConfig        `yaml:"http"`
	Stream  stream.Config     `yaml:"stream"`
	FLV     httpflv.Config    `yaml:"flv"`
	HLS     hls.Config        `yaml:"hls"`
	API     api.Config        `yaml:"api"`
	Metrics metrics.Config    `yaml:"metrics"`
	Access  access.Config     `yaml:"access"`
	Record  record.Config     `yaml:"record"`
	Cluster cluster.Config    `yaml:"cluster"`
	// Relay is the streams pulled from other servers (relay.*).
	Relay relay.PullConfig `yaml:"relay"`
	// TLS is the certificate of the HTTPS and RTMPS listeners
	// (http.tls_addr, rtmp.tls_addr).
	TLS TLSConfig `yaml:"tls"`
	// Forward sends live streams on to other RTMP/RTMPS servers.
	Forward relay.ForwardConfig `yaml:"forward"`
}

// LogConfig selects the log format and level.
type LogConfig struct {
	// Level is debug, info, warn or error. Default DefaultLogLevel
	// (info).
	Level string `yaml:"level"`
	// Format is LogFormatText ("text", the default) or LogFormatJSON
	// ("json").
	Format string `yaml:"format"`
}

// HTTPConfig configures the HTTP listener that serves media, the API and
// the UI.
type HTTPConfig struct {
	// Addr is the listen address. Default DefaultHTTPAddr (":8080").
	Addr string `yaml:"addr"`
	// TLSAddr is the listen address of HTTPS, which serves all that Addr
	// serves, over HTTP/2 or HTTP/1.1 (ALPN), with the certificate of
	// Config.TLS. Addr keeps serving plain HTTP beside it. Empty (the
	// default): no HTTPS.
	TLSAddr string `yaml:"tls_addr"`
	// ReadHeaderTimeout bounds reading a request's headers (slow clients).
	// Default DefaultReadHeaderTimeout (10s).
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// IdleTimeout closes idle keep-alive connections. Default
	// DefaultIdleTimeout (120s).
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// MaxConns caps the HTTP connections open at once; one more is closed
	// right after accept. Default DefaultHTTPMaxConns (10000); negative:
	// no cap.
	MaxConns int `yaml:"max_conns"`
	// MaxConnsPerIP caps the HTTP connections from one client address.
	// Default DefaultHTTPMaxConnsPerIP (256); negative: no cap.
	MaxConnsPerIP int `yaml:"max_conns_per_ip"`
	// MaxHeaderBytes caps a request's line and headers; a larger request
	// is answered 431. Default DefaultMaxHeaderBytes (64 KiB).
	MaxHeaderBytes int `yaml:"max_header_bytes"`
	// ShutdownLinger is how long HTTP keeps answering during a shutdown
	// after every HLS playlist got EXT-X-ENDLIST, so that players polling
	// them see the end (bounded by ShutdownGrace; only when there are
	// playlists). Default DefaultShutdownLinger (1s); negative: none.
	ShutdownLinger time.Duration `yaml:"shutdown_linger"`
	// ShutdownGrace bounds the whole shutdown on SIGTERM: publishers and
	// viewers are told and closed, playlists ended, then responses still
	// running are cut. Default DefaultShutdownGrace (5s).
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
	// Pprof serves Go's profiler at /debug/pprof/ to loopback clients
	// that pass the API's guard (the token when api.token is set), for
	// performance work. Default false.
	Pprof bool `yaml:"pprof"`
}

// DefaultConfig returns the configuration the command starts from before
// it reads the configuration file, environment and flags: the zero Config
// with the stream and metrics packages' DefaultConfig (republishing on,
// per-stream metrics on), whose settings are off in the zero Config. Every
// other default is filled in by WithDefaults once all settings are read,
// so that a default derived from another setting (hls.max_segment_duration
// from hls.segment_duration) follows what was set.
func DefaultConfig() Config {
	return Config{Stream: stream.DefaultConfig(), Metrics: metrics.DefaultConfig()}
}

// WithDefaults returns c with every part's defaults filled in: the
// effective configuration New runs with and the API reports. Applying it
// twice changes nothing.
func (c Config) WithDefaults() Config {
	c.Log = c.Log.WithDefaults()
	c.RTMP = c.RTMP.WithDefaults()
	c.HTTP = c.HTTP.WithDefaults()
	c.Stream = c.Stream.WithDefaults()
	c.FLV = c.FLV.WithDefaults()
	c.HLS = c.HLS.WithDefaults()
	c.Metrics = c.Metrics.WithDefaults()
	c.Access = c.Access.WithDefaults()
	c.Record = c.Record.WithDefaults()
	c.Cluster = c.Cluster.WithDefaults()
	c.Relay = c.Relay.WithDefaults()
	c.Forward = c.Forward.WithDefaults()
	return c
}

// Validate reports every setting that cannot be used, each named by its
// part; call it on the result of WithDefaults.
func (c Config) Validate() error {
	var errs []error
	for _, part := range []struct {
		name string
		err  error
	}{
		{"log", c.Log.Validate()}, {"rtmp", c.RTMP.Validate()}, {"stream", c.Stream.Validate()},
		{"flv", c.FLV.Validate()}, {"hls", c.HLS.Validate()}, {"api", c.API.Validate()},
		{"metrics", c.Metrics.Validate()}, {"access", c.Access.Validate()},
		{"record", c.Record.Validate()},
		{"cluster", c.Cluster.Validate()},
		{"relay", c.Relay.Validate()},
		{"tls", c.validateTLS()},
		{"forward", c.Forward.Validate()},
	} {
		if part.err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", part.name, part.err))
		}
	}
	return errors.Join(errs...)
}

// WithDefaults returns c with DefaultLogLevel and DefaultLogFormat in its
// empty fields.
func (c LogConfig) WithDefaults() LogConfig {
	if c.Level == "" {
		c.Level = DefaultLogLevel
	}
	if c.Format == "" {
		c.Format = DefaultLogFormat
	}
	return c
}

// Validate reports an unknown level or format.
func (c LogConfig) Validate() error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.Level)); err != nil {
		return fmt.Errorf("%w: level %q: %w", ErrInvalidConfig, c.Level, err)
	}
	if c.Format != LogFormatText && c.Format != LogFormatJSON {
		return fmt.Errorf("%w: format %q: want %s or %s", ErrInvalidConfig, c.Format, LogFormatText, LogFormatJSON)
	}
	return nil
}

// WithDefaults returns c with the documented defaults in its zero fields
// (a negative ShutdownGrace too).
func (c HTTPConfig) WithDefaults() HTTPConfig {
	if c.Addr == "" {
		c.Addr = DefaultHTTPAddr
	}
	if c.ReadHeaderTimeout == 0 {
		c.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.MaxConns == 0 {
		c.MaxConns = DefaultHTTPMaxConns
	}
	if c.MaxConnsPerIP == 0 {
		c.MaxConnsPerIP = DefaultHTTPMaxConnsPerIP
	}
	if c.MaxHeaderBytes <= 0 {
		c.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if c.ShutdownLinger == 0 {
		c.ShutdownLinger = DefaultShutdownLinger
	}
	if c.ShutdownGrace <= 0 {
		c.ShutdownGrace = DefaultShutdownGrace
	}
	return c
}
