// Package rtmp is the RTMP server: it accepts encoders that publish streams
// into the hub and players that read them back. The protocol layers live in
// subpackages, each pure over io.Reader/io.Writer: handshake, chunk
// (chunk stream and protocol control messages) and amf (AMF0/AMF3). This
// package adds commands, the per-connection state machine (ServerConn) and
// the listener (Server).
package rtmp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mediaserver/mediaserver/amf"
	"github.com/mediaserver/mediaserver/internal/conns"
	"github.com/mediaserver/mediaserver/rtmp/chunk"
	"github.com/mediaserver/mediaserver/stream"
)

// ServerConfig configures the RTMP server. Zero fields take the documented
// defaults.
type ServerConfig struct {
	// Addr is the listen address. Default ":1935".
	Addr string `yaml:"addr"`
	// TLSAddr is the listen address of RTMPS: the same server over TLS,
	// with the certificate the caller configures (the server composes it
	// from its shared TLS settings). Empty (the default): no RTMPS.
	TLSAddr string `yaml:"tls_addr"`
	// ChunkSize is the chunk size the server sends with. Default 4096.
	ChunkSize int `yaml:"chunk_size"`
	// WindowAckSize is the acknowledgement window the server announces.
	// Default 2500000 bytes.
	WindowAckSize uint32 `yaml:"window_ack_size"`
	// HandshakeTimeout bounds the whole handshake. Default 10s.
	HandshakeTimeout time.Duration `yaml:"handshake_timeout"`
	// SetupTimeout is the time a client has after the handshake to publish
	// or play (connect, createStream … included), and again after it ended
	// a publish or play with deleteStream, closeStream or FCUnpublish.
	// Default 15s.
	SetupTimeout time.Duration `yaml:"setup_timeout"`
	// IdleTimeout ends a publisher that sends no audio or video for this
	// long (other messages do not count). Default 30s.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// WriteTimeout ends a player that accepts no data for this long.
	// Default 10s.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// MaxMessageSize caps a message's length read off the wire. Default
	// chunk.DefaultMaxMessageSize.
	MaxMessageSize int `yaml:"max_message_size"`
	// MaxChunkStreams caps the chunk streams one connection may open.
	// Default 64.
	MaxChunkStreams int `yaml:"max_chunk_streams"`
	// MaxConns caps the connections served at once; one more is closed
	// right after accept. Default DefaultMaxConns (10000); negative: no cap.
	MaxConns int `yaml:"max_conns"`
	// MaxConnsPerIP caps the connections from one client address. Default
	// DefaultMaxConnsPerIP (100); negative: no cap.
	MaxConnsPerIP int `yaml:"max_conns_per_ip"`
	// RefusalDelay is how long a refused publisher or player is kept
	// before its connection is closed, so that an encoder retrying at once
	// does not reconnect in a tight loop. Default 2s.
	RefusalDelay time.Duration `yaml:"refusal_delay"`
	// Authorizer decides who may publish and play; nil allows everyone.
	Authorizer Authorizer `yaml:"-"`
	// PlayListener is told when a player leaves; nil tells no one.
	PlayListener PlayListener `yaml:"-"`
}

// PlayListener is told when a player that was let in leaves, with what it
// was sent and for how long it played.
type PlayListener interface {
	PlayStopped(req stream.AccessRequest, bytes uint64, d time.Duration)
}

// Authorizer decides whether a client may publish or play a stream. An
// error refuses it; its text is sent to the client.
type Authorizer interface {
	Authorize(ctx context.Context, req stream.AccessRequest) error
}

// Defaults of ServerConfig, applied by ServerConfig.WithDefaults to zero
// fields (the connection caps are DefaultMaxConns and DefaultMaxConnsPerIP).
const (
	// DefaultAddr is the default ServerConfig.Addr.
	DefaultAddr = ":1935"
	// DefaultChunkSize is the default ServerConfig.ChunkSize.
	DefaultChunkSize = 4096
	// DefaultWindowAckSize is the default ServerConfig.WindowAckSize.
	DefaultWindowAckSize = 2500000
	// DefaultHandshakeTimeout is the default ServerConfig.HandshakeTimeout.
	DefaultHandshakeTimeout = 10 * time.Second
	// DefaultSetupTimeout is the default ServerConfig.SetupTimeout.
	DefaultSetupTimeout = 15 * time.Second
	// DefaultIdleTimeout is the default ServerConfig.IdleTimeout.
	DefaultIdleTimeout = 30 * time.Second
	// DefaultWriteTimeout is the default ServerConfig.WriteTimeout.
	DefaultWriteTimeout = 10 * time.Second
	// DefaultMaxChunkStreams is the default ServerConfig.MaxChunkStreams.
	DefaultMaxChunkStreams = 64
	// DefaultRefusalDelay is the default ServerConfig.RefusalDelay.
	DefaultRefusalDelay = 2 * time.Second
)

// WithDefaults returns c with the documented defaults in its zero fields:
// the configuration a Server runs with. Applying it twice changes nothing.
func (c ServerConfig) WithDefaults() ServerConfig {
	setDefault(&c.Addr, DefaultAddr)
	setDefault(&c.ChunkSize, DefaultChunkSize)
	setDefault(&c.WindowAckSize, DefaultWindowAckSize)
	setDefault(&c.HandshakeTimeout, DefaultHandshakeTimeout)
	setDefault(&c.SetupTimeout, DefaultSetupTimeout)
	setDefault(&c.IdleTimeout, DefaultIdleTimeout)
	setDefault(&c.WriteTimeout, DefaultWriteTimeout)
	setDefault(&c.MaxMessageSize, chunk.DefaultMaxMessageSize)
	setDefault(&c.MaxChunkStreams, DefaultMaxChunkStreams)
	setDefault(&c.RefusalDelay, DefaultRefusalDelay)
	setDefault(&c.MaxConns, DefaultMaxConns)
	setDefault(&c.MaxConnsPerIP, DefaultMaxConnsPerIP)
	return c
}

// Validate reports settings that cannot be used: a chunk size outside
// 1..chunk.MaxChunkSize, a message size cap outside
// 1..chunk.MaxMessageLength, a negative chunk stream cap or timeout. Call
// it on the result of WithDefaults.
func (c ServerConfig) Validate() error {
	var errs []error
	if c.ChunkSize < 1 || c.ChunkSize > chunk.MaxChunkSize {
		errs = append(errs, fmt.Errorf("%w: chunk_size %d not in 1..%d", ErrInvalidConfig, c.ChunkSize, chunk.MaxChunkSize))
	}
	if c.MaxMessageSize < 1 || c.MaxMessageSize > chunk.MaxMessageLength {
		errs = append(errs, fmt.Errorf("%w: max_message_size %d not in 1..%d", ErrInvalidConfig,
			c.MaxMessageSize, chunk.MaxMessageLength))
	}
	if c.MaxChunkStreams < 0 {
		errs = append(errs, fmt.Errorf("%w: negative max_chunk_streams %d", ErrInvalidConfig, c.MaxChunkStreams))
	}
	for _, d := range []struct {
		name  string
		value time.Duration
	}{
		{"handshake_timeout", c.HandshakeTimeout}, {"setup_timeout", c.SetupTimeout},
		{"idle_timeout", c.IdleTimeout}, {"write_timeout", c.WriteTimeout},
	} {
		if d.value < 0 {
			errs = append(errs, fmt.Errorf("%w: negative %s %v", ErrInvalidConfig, d.name, d.value))
		}
	}
	return errors.Join(errs...)
}

// setDefault stores def in *v when *v is the zero value.
func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// Server accepts RTMP connections and runs a ServerConn for each.
type Server struct {
	cfg ServerConfig
	hub Hub
	log *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	nextID atomic.Uint64

	mu     sync.Mutex
	lns    []net.Listener // the listeners Serve accepts on
	conns  map[*ServerConn]struct{}
	closed bool
	wg     sync.WaitGroup

	adm      *conns.Counter   // connections in total and per address
	limits   limitCounters    // limits hit, by name
	refusals conns.LogLimiter // rate-limits the logs of refused connections
	draining atomic.Bool      // Shutdown is telling sessions goodbye

	// Totals of connections that have ended; live ones are added on read.
	handshakeFailures atomic.Uint64
	closedBytesIn     atomic.Uint64
	closedBytesOut    atomic.Uint64
}

// NewServer returns a server running with cfg.WithDefaults() that
// attaches its publishers and players to hub, or an error wrapping
// ErrInvalidConfig when that configuration does not validate. A nil log
// discards.
func NewServer(cfg ServerConfig, hub Hub, log *slog.Logger) (*Server, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new rtmp server: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		cfg: cfg, hub: hub, log: log.With("component", "rtmp"),
		ctx: ctx, cancel: cancel, conns: make(map[*ServerConn]struct{}),
		adm: admission(cfg),
	}, nil
}

// Serve accepts connections on ln until Close. It returns ErrServerClosed
// after Close. It may run on several listeners at once (RTMP and RTMPS, a
// TLS listener from tls.NewListener), all closed by Close and Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.lns = append(s.lns, ln)
	s.mu.Unlock()
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.ctx.Err() != nil || s.draining.Load() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return fmt.Errorf("accept: %w", err)
		}
		s.startConn(nc)
	}
}

// startConn registers a connection and runs it in a goroutine the server
// owns. A connection over MaxConns or MaxConnsPerIP is closed at once: the
// refusal is counted, and logged at most once per conns.LogInterval per
// address.
func (s *Server) startConn(nc net.Conn) {
	host := conns.HostOf(nc.RemoteAddr())
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = nc.Close()
		return
	}
	if limit := limitOfRefusal(s.adm.Admit(host)); limit != "" {
		s.mu.Unlock()
		_ = nc.Close()
		s.limits.hit(limit)
		s.refusals.Warn(s.log, limit+" "+host, "connection refused", "remote", host, "reason", limit,
			"max_conns", s.cfg.MaxConns, "max_conns_per_ip", s.cfg.MaxConnsPerIP)
		return
	}
	id := "rtmp-" + strconv.FormatUint(s.nextID.Add(1), 10)
	c := newServerConn(nc, id, s.cfg, s.hub, s.log)
	c.refusals = &s.refusals
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		err := c.Serve(s.ctx)
		s.mu.Lock()
		delete(s.conns, c)
		s.adm.Release(host)
		s.closedBytesIn.Add(c.stats.bytesIn.Load())
		s.closedBytesOut.Add(c.stats.bytesOut.Load())
		s.mu.Unlock()
		if limit := limitOf(err); limit != "" {
			s.limits.hit(limit)
			c.log.Warn("connection closed", "reason", err, "limit", limit)
			if errors.Is(err, ErrHandshake) {
				s.handshakeFailures.Add(1)
			}
			return
		}
		switch {
		case err == nil:
			c.log.Debug("connection closed")
		case errors.Is(err, ErrHandshake):
			s.handshakeFailures.Add(1)
			c.log.Warn("connection closed", "reason", err)
		default:
			c.log.Warn("connection closed", "reason", err)
		}
	}()
}

// Shutdown stops accepting and ends every connection gracefully: a
// publisher is told its stream is unpublished (onStatus
// NetStream.Unpublish.Success) and a player that the stream ended
// (StreamEOF, NetStream.Play.UnpublishNotify, NetStream.Play.Stop) before
// its connection is closed. Connections still open when ctx ends are
// closed as by Close. It returns ctx's error in that case.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	conns := make([]*ServerConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	s.draining.Store(true)
	err := s.closeListeners()
	for _, c := range conns {
		c.shutdown()
	}
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.log.Warn("shutdown grace period over, closing the remaining connections", "left", s.connCount())
		err = errors.Join(err, ctx.Err())
	}
	s.cancel()
	<-done
	return err
}

// connCount returns the number of live connections.
func (s *Server) connCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Close stops accepting, ends every connection and waits for them.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	err := s.closeListeners()
	s.wg.Wait()
	return err
}

// closeListeners closes every listener Serve runs on; s.closed must be
// set, so that no other is added.
func (s *Server) closeListeners() error {
	s.mu.Lock()
	lns := slices.Clone(s.lns)
	s.mu.Unlock()
	var errs []error
	for _, ln := range lns {
		if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, fmt.Errorf("close listener %s: %w", ln.Addr(), err))
		}
	}
	return errors.Join(errs...)
}

// Role is what an RTMP connection does: publish or play a stream.
type Role string

// Roles of a connection (Session.Role).
const (
	// RolePublisher is a connection publishing a stream.
	RolePublisher Role = "publisher"
	// RolePlayer is a connection playing a stream.
	RolePlayer Role = "player"
)

// Session describes one RTMP connection for the admin API.
type Session struct {
	ID         string
	RemoteAddr string
	Role       Role   // RolePublisher, RolePlayer or "" when neither (yet, or again)
	Stream     string // app/name, when publishing or playing
	Start      time.Time
	BytesIn    uint64
	BytesOut   uint64
}

// Sessions lists the current connections, ordered by id.
func (s *Server) Sessions() []Session {
	s.mu.Lock()
	list := make([]Session, 0, len(s.conns))
	for c := range s.conns {
		list = append(list, c.session())
	}
	s.mu.Unlock()
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	return list
}

// Kick closes the connection with the given id; a publisher's stream ends
// at once (no republish wait). It reports whether one was found.
func (s *Server) Kick(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.id == id {
			c.kick()
			return true
		}
	}
	return false
}

// HandshakeFailures counts connections whose handshake failed.
func (s *Server) HandshakeFailures() uint64 { return s.handshakeFailures.Load() }

// BytesReceived counts the payload bytes received from clients, ended
// connections included.
func (s *Server) BytesReceived() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.closedBytesIn.Load()
	for c := range s.conns {
		n += c.stats.bytesIn.Load()
	}
	return n
}

// BytesSent counts the bytes sent to clients, ended connections included.
func (s *Server) BytesSent() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.closedBytesOut.Load()
	for c := range s.conns {
		n += c.stats.bytesOut.Load()
	}
	return n
}

// connStats counts a connection's traffic; read by Sessions while the
// connection runs.
type connStats struct {
	start    time.Time
	bytesIn  atomic.Uint64
	bytesOut atomic.Uint64
	role     atomic.Value // Role
	stream   atomic.Value // string
}

func (s *connStats) addIn(n int)  { s.bytesIn.Add(uint64(n)) }
func (s *connStats) addOut(n int) { s.bytesOut.Add(uint64(n)) }

// session snapshots the connection for Sessions.
func (c *ServerConn) session() Session {
	role, _ := c.stats.role.Load().(Role)
	st, _ := c.stats.stream.Load().(string)
	return Session{
		ID: c.id, RemoteAddr: c.remote, Role: role, Stream: st, Start: c.stats.start,
		BytesIn: c.stats.bytesIn.Load(), BytesOut: c.stats.bytesOut.Load(),
	}
}

// appendValues encodes AMF0 values as a data message body.
func appendValues(values []any) ([]byte, error) {
	b, err := amf.Append0(nil, values...)
	if err != nil {
		return nil, fmt.Errorf("encode data message: %w", err)
	}
	return b, nil
}
