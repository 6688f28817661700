package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/mediaserver/mediaserver/internal/conns"
)

// HTTP limit names reported by the metrics (component "http").
const (
	// LimitHTTPHeaderTimeout: a client did not send a request's headers
	// within HTTPConfig.ReadHeaderTimeout (slowloris, or a connection that
	// never sends).
	LimitHTTPHeaderTimeout = "header_timeout"
	// LimitHTTPHeaderSize: a request line and headers larger than
	// HTTPConfig.MaxHeaderBytes, answered 431.
	LimitHTTPHeaderSize = "header_size"
	// LimitHTTPConns: HTTPConfig.MaxConns connections were open; one more
	// is closed right after accept.
	LimitHTTPConns = "connections"
	// LimitHTTPConnsPerIP: HTTPConfig.MaxConnsPerIP connections from the
	// client's address were open.
	LimitHTTPConnsPerIP = "connections_per_ip"
)

// status431 starts the response net/http writes itself when a request's
// headers exceed MaxHeaderBytes.
var status431 = []byte("HTTP/1.1 431 ")

// connKey keys the guarded connection in a request's context.
type connKey struct{}

// httpLimits counts the HTTP limits the standard server enforces without
// telling: it wraps every accepted connection to see header timeouts and
// 431 answers, and logs each hit (at most once per address per
// conns.LogInterval).
type httpLimits struct {
	log            *slog.Logger
	adm            conns.Counter // connections in total and per address
	headerTimeouts atomic.Uint64
	headerTooLarge atomic.Uint64
	connsRefused   atomic.Uint64
	perIPRefused   atomic.Uint64
	logged         conns.LogLimiter
}

// LimitsHit implements metrics.LimitSource.
func (l *httpLimits) LimitsHit() map[string]uint64 {
	return map[string]uint64{
		LimitHTTPHeaderTimeout: l.headerTimeouts.Load(),
		LimitHTTPHeaderSize:    l.headerTooLarge.Load(),
		LimitHTTPConns:         l.connsRefused.Load(),
		LimitHTTPConnsPerIP:    l.perIPRefused.Load(),
	}
}

// admit reserves a connection slot for host, or names the limit that
// refuses it.
func (l *httpLimits) admit(host string) string {
	switch l.adm.Admit(host) {
	case conns.TooMany:
		return LimitHTTPConns
	case conns.TooManyFromHost:
		return LimitHTTPConnsPerIP
	}
	return ""
}

// hit counts a limit and logs it unless the address was logged recently.
func (l *httpLimits) hit(limit string, remote net.Addr) {
	switch limit {
	case LimitHTTPHeaderTimeout:
		l.headerTimeouts.Add(1)
	case LimitHTTPHeaderSize:
		l.headerTooLarge.Add(1)
	case LimitHTTPConns:
		l.connsRefused.Add(1)
	case LimitHTTPConnsPerIP:
		l.perIPRefused.Add(1)
	}
	host := conns.HostOf(remote)
	l.logged.Warn(l.log, limit+" "+host, "http connection closed", "remote", host, "reason", limit)
}

// listener wraps ln so that its connections are watched.
func (l *httpLimits) listener(ln net.Listener) net.Listener { return guardListener{Listener: ln, l: l} }

// connContext stores the guarded connection in the request context.
func (l *httpLimits) connContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, guarded(c))
}

// connState notes hijacked connections (WebSocket), whose later timeouts
// are not header timeouts.
func (l *httpLimits) connState(c net.Conn, state http.ConnState) {
	if gc := guarded(c); gc != nil && state == http.StateHijacked {
		gc.hijacked.Store(true)
	}
}

// guarded returns the guardConn under c, which net/http hands over as it
// is or, on the HTTPS listener, inside the TLS connection; nil for any
// other.
func guarded(c net.Conn) *guardConn {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	gc, _ := c.(*guardConn)
	return gc
}

// handler marks the connection as inside a request while h runs, so that
// reads by handlers are not taken for header reads.
func (l *httpLimits) handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gc, _ := r.Context().Value(connKey{}).(*guardConn)
		if gc != nil {
			gc.requests.Add(1)
			gc.inHandler.Add(1)
			gc.pending.Store(0)
			defer func() {
				gc.pending.Store(0)
				gc.inHandler.Add(-1)
			}()
		}
		h.ServeHTTP(w, r)
	})
}

// guardListener wraps accepted connections in guardConn.
type guardListener struct {
	net.Listener
	l *httpLimits
}

// Accept implements net.Listener. Connections over the caps are closed at
// once, counted and (rate-limited) logged.
func (g guardListener) Accept() (net.Conn, error) {
	for {
		c, err := g.Listener.Accept()
		if err != nil {
			return nil, err
		}
		host := conns.HostOf(c.RemoteAddr())
		if limit := g.l.admit(host); limit != "" {
			_ = c.Close()
			g.l.hit(limit, c.RemoteAddr())
			continue
		}
		return &guardConn{Conn: c, l: g.l, host: host}, nil
	}
}

// guardConn watches one HTTP connection: a read deadline that expires with
// header bytes pending (or before any request) is a header timeout; a 431
// written outside a handler is an oversized header.
type guardConn struct {
	net.Conn
	l         *httpLimits
	host      string
	closeOnce sync.Once
	requests  atomic.Int64 // requests handed to a handler
	inHandler atomic.Int64
	pending   atomic.Int64 // bytes read since the last handler started or ended
	hijacked  atomic.Bool
	reported  atomic.Bool
}

// Read implements net.Conn.
func (c *guardConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.pending.Add(int64(n))
	if err != nil && !c.hijacked.Load() && c.inHandler.Load() == 0 {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() && (c.requests.Load() == 0 || c.pending.Load() > 0) {
			c.report(LimitHTTPHeaderTimeout)
		}
	}
	return n, err
}

// Write implements net.Conn.
func (c *guardConn) Write(p []byte) (int, error) {
	if c.inHandler.Load() == 0 && !c.hijacked.Load() && bytes.HasPrefix(p, status431) {
		c.report(LimitHTTPHeaderSize)
	}
	return c.Conn.Write(p)
}

// NetConn returns the wrapped connection, for writers that need its own
// methods: vectored writes (net.Buffers) reach writev only on the
// connection itself.
func (c *guardConn) NetConn() net.Conn { return c.Conn }

// Close implements net.Conn and frees the connection's slot once.
func (c *guardConn) Close() error {
	err := c.Conn.Close()
	c.closeOnce.Do(func() { c.l.adm.Release(c.host) })
	return err
}

// report counts a limit once per connection.
func (c *guardConn) report(limit string) {
	if c.reported.CompareAndSwap(false, true) {
		c.l.hit(limit, c.RemoteAddr())
	}
}
