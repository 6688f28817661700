package rtmp

import (
	"context"
	"errors"
	"net"
	"sync/atomic"

	"github.com/mediaserver/mediaserver/amf"
	"github.com/mediaserver/mediaserver/internal/conns"
	"github.com/mediaserver/mediaserver/rtmp/chunk"
	"github.com/mediaserver/mediaserver/stream"
)

// Defaults of the connection limits in ServerConfig.
const (
	// DefaultMaxConns is the default ServerConfig.MaxConns.
	DefaultMaxConns = 10000
	// DefaultMaxConnsPerIP is the default ServerConfig.MaxConnsPerIP.
	DefaultMaxConnsPerIP = 100
)

// Limit names, as counted by Server.LimitsHit and logged as the reason a
// connection was refused or ended.
const (
	// LimitConns: the server had MaxConns connections.
	LimitConns = "connections"
	// LimitConnsPerIP: the client's address had MaxConnsPerIP connections.
	LimitConnsPerIP = "connections_per_ip"
	// LimitHandshakeTimeout: the handshake took longer than HandshakeTimeout.
	LimitHandshakeTimeout = "handshake_timeout"
	// LimitSetupTimeout: no publish or play within SetupTimeout of the
	// handshake.
	LimitSetupTimeout = "setup_timeout"
	// LimitIdleTimeout: a publisher sent no media for IdleTimeout.
	LimitIdleTimeout = "idle_timeout"
	// LimitWriteTimeout: a player accepted no data for WriteTimeout.
	LimitWriteTimeout = "write_timeout"
	// LimitMessageSize: a message longer than MaxMessageSize.
	LimitMessageSize = "message_size"
	// LimitChunkStreams: more than MaxChunkStreams chunk streams.
	LimitChunkStreams = "chunk_streams"
	// LimitAMFDepth: AMF values nested deeper than amf.MaxDepth (a fixed
	// cap of 64 levels).
	LimitAMFDepth = "amf_depth"
)

// limitNames lists every limit, in the order LimitsHit reports them.
var limitNames = [...]string{
	LimitConns, LimitConnsPerIP, LimitHandshakeTimeout, LimitSetupTimeout, LimitIdleTimeout,
	LimitWriteTimeout, LimitMessageSize, LimitChunkStreams, LimitAMFDepth,
}

// limitCounters counts the times each limit was hit.
type limitCounters struct {
	n [len(limitNames)]atomic.Uint64
}

// hit counts one hit of the named limit.
func (l *limitCounters) hit(name string) {
	for i, n := range limitNames {
		if n == name {
			l.n[i].Add(1)
			return
		}
	}
}

// snapshot returns the counts by limit name, every limit present.
func (l *limitCounters) snapshot() map[string]uint64 {
	m := make(map[string]uint64, len(limitNames))
	for i, n := range limitNames {
		m[n] = l.n[i].Load()
	}
	return m
}

// LimitsHit returns how many times each limit was hit since the server
// started, keyed by the Limit* names (every limit present, zero when never
// hit).
func (s *Server) LimitsHit() map[string]uint64 { return s.limits.snapshot() }

// limitOf names the limit an ended connection's error reports, or "".
func limitOf(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrHandshakeTimeout):
		return LimitHandshakeTimeout
	case errors.Is(err, ErrSetupTimeout):
		return LimitSetupTimeout
	case errors.Is(err, ErrIdleTimeout):
		return LimitIdleTimeout
	case errors.Is(err, ErrWriteTimeout):
		return LimitWriteTimeout
	case errors.Is(err, chunk.ErrMessageTooLarge):
		return LimitMessageSize
	case errors.Is(err, chunk.ErrTooManyChunkStreams):
		return LimitChunkStreams
	case errors.Is(err, amf.ErrTooDeep):
		return LimitAMFDepth
	}
	return ""
}

// isTimeout reports whether err is a deadline expiring.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// admission returns the connection counter for the configured caps.
func admission(cfg ServerConfig) *conns.Counter {
	return &conns.Counter{Max: cfg.MaxConns, MaxPerHost: cfg.MaxConnsPerIP}
}

// limitOfRefusal names the limit behind a refusal.
func limitOfRefusal(r conns.Refusal) string {
	switch r {
	case conns.TooMany:
		return LimitConns
	case conns.TooManyFromHost:
		return LimitConnsPerIP
	}
	return ""
}

// OwnerChecker is implemented by an Authorizer that can tell whether its
// acceptance of a publisher proves the publisher owns the stream key (it
// checked a publish key or asked a hook), as opposed to letting anyone
// publish. Only such a publisher may take a live stream over
// (stream.Config.Takeover).
type OwnerChecker interface {
	ChecksPublisher(key stream.Key) bool
}

// PublishResolver is implemented by an Authorizer that resolves what an
// encoder sent to the stream it may publish (a secret stream key stands for
// its stream's name) and to the key it proved to hold: the server then
// asks it instead of Authorize for publishes.
type PublishResolver interface {
	AuthorizePublish(ctx context.Context, req stream.AccessRequest) (stream.PublishGrant, error)
}

// isOwner reports whether an authorised publisher of key counts as its
// owner.
func (c *ServerConn) isOwner(key stream.Key) bool {
	oc, ok := c.cfg.Authorizer.(OwnerChecker)
	return ok && oc.ChecksPublisher(key)
}
