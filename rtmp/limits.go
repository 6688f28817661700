package rtmp

import (
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mediaserver/mediaserver/rtmp/amf"
	"github.com/mediaserver/mediaserver/rtmp/chunk"
	"github.com/mediaserver/mediaserver/stream"
)

// Defaults of the connection limits in ServerConfig.
const (
	// DefaultMaxConns is the default ServerConfig.MaxConns.
	DefaultMaxConns = 10000
	// DefaultMaxConnsPerIP is the default ServerConfig.MaxConnsPerIP.
	DefaultMaxConnsPerIP = 100
	// refusalLogInterval is how often a refusal for the same reason and
	// address is logged; refusals in between are only counted.
	refusalLogInterval = 10 * time.Second
	// maxRefusalLogKeys bounds the addresses remembered for rate-limiting
	// refusal logs.
	maxRefusalLogKeys = 4096
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

// admission tracks the connections per client address.
type admission struct {
	perIP map[string]int
	total int
}

// hostOf returns the host part of a network address.
func hostOf(addr net.Addr) string {
	if addr == nil {
		return ""
	}
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	return host
}

// admit reserves a slot for a connection from host, or names the limit
// that refuses it. s.mu must be held.
func (s *Server) admitLocked(host string) string {
	if s.cfg.MaxConns > 0 && s.adm.total >= s.cfg.MaxConns {
		return LimitConns
	}
	if s.cfg.MaxConnsPerIP > 0 && s.adm.perIP[host] >= s.cfg.MaxConnsPerIP {
		return LimitConnsPerIP
	}
	s.adm.total++
	s.adm.perIP[host]++
	return ""
}

// releaseLocked frees the slot of a connection from host. s.mu must be
// held.
func (s *Server) releaseLocked(host string) {
	s.adm.total--
	if n := s.adm.perIP[host] - 1; n > 0 {
		s.adm.perIP[host] = n
	} else {
		delete(s.adm.perIP, host)
	}
}

// logLimiter logs an event at most once per interval per key, counting the
// occurrences it kept quiet about, so a flood of refusals cannot flood the
// log.
type logLimiter struct {
	mu   sync.Mutex
	last map[string]logEntry
}

type logEntry struct {
	at         time.Time
	suppressed uint64
}

// log logs msg with args when key was not logged within
// refusalLogInterval, adding how many were suppressed since.
func (l *logLimiter) log(log *slog.Logger, key, msg string, args ...any) {
	now := time.Now()
	l.mu.Lock()
	if l.last == nil {
		l.last = make(map[string]logEntry)
	}
	e, ok := l.last[key]
	if ok && now.Sub(e.at) < refusalLogInterval {
		e.suppressed++
		l.last[key] = e
		l.mu.Unlock()
		return
	}
	if !ok && len(l.last) >= maxRefusalLogKeys {
		for k, v := range l.last {
			if now.Sub(v.at) >= refusalLogInterval {
				delete(l.last, k)
			}
		}
		if len(l.last) >= maxRefusalLogKeys {
			clear(l.last)
		}
	}
	l.last[key] = logEntry{at: now}
	l.mu.Unlock()
	if e.suppressed > 0 {
		args = append(args, "suppressed_since_last_log", e.suppressed)
	}
	log.Warn(msg, args...)
}

// OwnerChecker is implemented by an Authorizer that can tell whether its
// acceptance of a publisher proves the publisher owns the stream key (it
// checked a publish key or asked a hook), as opposed to letting anyone
// publish. Only such a publisher may take a live stream over
// (stream.Config.Takeover).
type OwnerChecker interface {
	ChecksPublisher(key stream.Key) bool
}

// isOwner reports whether an authorised publisher of key counts as its
// owner.
func (c *ServerConn) isOwner(key stream.Key) bool {
	oc, ok := c.cfg.Authorizer.(OwnerChecker)
	return ok && oc.ChecksPublisher(key)
}
