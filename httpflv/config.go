package httpflv

import (
	"context"
	"fmt"
	"time"

	"github.com/mediaserver/mediaserver/internal/cors"
	"github.com/mediaserver/mediaserver/stream"
)

// Default values applied by Config for zero or negative fields.
const (
	// DefaultWriteTimeout is the default Config.WriteTimeout.
	DefaultWriteTimeout = 10 * time.Second
	// DefaultPingInterval is the default Config.PingInterval.
	DefaultPingInterval = 15 * time.Second
	// DefaultMaxBatch is the default Config.MaxBatch.
	DefaultMaxBatch = 128
	// DefaultWSReadLimit is the default Config.WSReadLimit.
	DefaultWSReadLimit = 4096
	// DefaultHeaderWait is the default Config.HeaderWait.
	DefaultHeaderWait = 2 * time.Second

	// MaxMaxBatch caps Config.MaxBatch.
	MaxMaxBatch = 4096
	// MaxBatchBytes is the most bytes a viewer assembles before writing: a
	// batch of large frames (the first one, carrying the cached GOP, for
	// example) is written in pieces of about this size.
	MaxBatchBytes = 128 << 10
	// maxPooledBuffer is the largest WebSocket batch buffer returned to the
	// shared pool (a batch is cut near MaxBatchBytes, so most are).
	maxPooledBuffer = 2 * MaxBatchBytes
)

// Config configures a Handler. The zero value is usable: every field has a
// default.
type Config struct {
	// AllowedOrigins lists the origins whose pages may play streams (CORS for
	// HTTP-FLV, the Origin check for WebSocket-FLV). Empty or containing "*"
	// allows any origin. Default: any.
	AllowedOrigins []string `yaml:"allowed_origins"`
	// WriteTimeout bounds every write to a viewer: a viewer that stops
	// reading is disconnected once a write has been blocked this long.
	// Default DefaultWriteTimeout (10 s).
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// PingInterval is how often a WebSocket viewer is pinged; one that has
	// not answered (or sent anything) for PingInterval+WriteTimeout is
	// disconnected. Default DefaultPingInterval (15 s).
	PingInterval time.Duration `yaml:"ping_interval"`
	// MaxBatch is the most frames a viewer takes from its reader for one
	// write. Default DefaultMaxBatch (128); capped at MaxMaxBatch.
	MaxBatch int `yaml:"max_batch"`
	// WSReadLimit is the largest message accepted from a WebSocket viewer
	// (viewers have nothing to say; a larger message ends the session).
	// Default DefaultWSReadLimit (4096 bytes).
	WSReadLimit int64 `yaml:"ws_read_limit"`
	// HeaderWait is the longest a viewer of a stream that has just started
	// waits for its sequence headers or first keyframe before the FLV header
	// is written, so that the header's audio and video flags are right.
	// Default DefaultHeaderWait (2 s).
	HeaderWait time.Duration `yaml:"header_wait"`
	// Authorizer decides who may play; nil allows everyone.
	Authorizer Authorizer `yaml:"-"`
	// PlayListener is told when a viewer leaves; nil tells no one.
	PlayListener PlayListener `yaml:"-"`
}

// Authorizer decides whether a viewer may play a stream. An error refuses
// it with 403 and the error's text.
type Authorizer interface {
	Authorize(ctx context.Context, req stream.AccessRequest) error
}

// PlayListener is told when a viewer that was let in leaves, with the bytes
// it was sent and how long it watched.
type PlayListener interface {
	PlayStopped(req stream.AccessRequest, bytes uint64, d time.Duration)
}

// WithDefaults returns c with the documented defaults in its unset fields
// and its out-of-range values brought into range: the configuration a
// Handler runs with. Applying it twice changes nothing.
func (c Config) WithDefaults() Config {
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.PingInterval <= 0 {
		c.PingInterval = DefaultPingInterval
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = DefaultMaxBatch
	}
	c.MaxBatch = min(c.MaxBatch, MaxMaxBatch)
	if c.WSReadLimit <= 0 {
		c.WSReadLimit = DefaultWSReadLimit
	}
	if c.HeaderWait <= 0 {
		c.HeaderWait = DefaultHeaderWait
	}
	return c
}

// Validate reports a setting that cannot be used: an allowed origin that
// is neither "*" nor scheme://host[:port]. Call it on the result of
// WithDefaults.
func (c Config) Validate() error {
	if err := (cors.Policy{AllowedOrigins: c.AllowedOrigins}).Validate(); err != nil {
		return fmt.Errorf("%w: allowed_origins: %w", ErrInvalidConfig, err)
	}
	return nil
}
