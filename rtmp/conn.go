package rtmp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mediaserver/mediaserver/internal/conns"
	"github.com/mediaserver/mediaserver/internal/writev"
	"github.com/mediaserver/mediaserver/rtmp/chunk"
	"github.com/mediaserver/mediaserver/rtmp/handshake"
	"github.com/mediaserver/mediaserver/stream"
)

// Hub is what an RTMP connection needs from the stream hub.
type Hub interface {
	// Publish claims a stream name for a publisher.
	Publish(key stream.Key, info stream.PublisherInfo) (*stream.Publisher, error)
	// Lookup finds a live stream.
	Lookup(key stream.Key) (*stream.Stream, bool)
}

// Chunk stream ids the server sends on. Control messages use 2 by the spec;
// the rest are conventional and keep media types on streams of their own so
// that a player's header compression state stays simple.
const (
	csidControl = 2
	csidCommand = 3
	csidAudio   = 4
	csidData    = 5
	csidVideo   = 6
)

// ServerConn is one RTMP connection seen from the server: handshake,
// connect, then either a publish session feeding the hub or a play session
// fed by it. It works over any io.ReadWriter; when that is a net.Conn it
// also sets read and write deadlines and closes it to end the session.
type ServerConn struct {
	rw   io.ReadWriter
	conn net.Conn // rw as a net.Conn, or nil
	cfg  ServerConfig
	hub  Hub
	log  *slog.Logger
	// refusals rate-limits the log lines of publishers refused by a
	// budget; the Server shares its own. Without it they are logged at
	// debug level.
	refusals *conns.LogLimiter
	id       string
	remote   string
	// connLog is log before a publish or play scoped it to a stream.
	connLog *slog.Logger

	r *chunk.Reader

	// out carries every write after the handshake: control and command
	// messages through w, which it guards, and a player's media, also
	// from the stream's delivery goroutine (see playSession.TryWrite).
	out *writev.Conn
	w   *chunk.Writer

	// Set by connect.
	connected      bool
	app            string
	appQuery       string
	tcURL          string
	flashVer       string
	objectEncoding float64

	nextStreamID uint32
	peerWindow   uint32 // the client's acknowledgement window; 0 until set
	lastAck      uint64 // BytesRead when we last acknowledged

	pub  *publishSession
	play *playSession

	closeOnce sync.Once
	stats     connStats
	enh       enhancedConn // Enhanced RTMP capabilities (enhanced.go)

	// setupDeadline is when a client that has neither published nor
	// played is cut off; lastMedia when a publisher last sent audio or
	// video. Both are owned by the Serve goroutine.
	setupDeadline time.Time
	lastMedia     time.Time

	// dlMu orders read deadline updates with shutdown, so that a deadline
	// set by Serve cannot undo the one shutdown set.
	dlMu     sync.Mutex
	draining bool // guarded by dlMu: Server.Shutdown asked for goodbye

	causeMu sync.Mutex
	cause   error // why another goroutine closed the connection

	kicked atomic.Bool // an operator closed the connection
}

// NewServerConn prepares a connection running with cfg.WithDefaults();
// Serve runs it. id names the session in logs and the API. It fails with
// an error wrapping ErrInvalidConfig when the configuration does not
// validate.
func NewServerConn(rw io.ReadWriter, id string, cfg ServerConfig, hub Hub, log *slog.Logger) (*ServerConn, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new rtmp connection: %w", err)
	}
	return newServerConn(rw, id, cfg, hub, log), nil
}

// newServerConn is NewServerConn with cfg already filled and validated.
func newServerConn(rw io.ReadWriter, id string, cfg ServerConfig, hub Hub, log *slog.Logger) *ServerConn {
	c := &ServerConn{rw: rw, cfg: cfg, hub: hub, id: id, nextStreamID: 1}
	c.out = writev.NewConn(rw, writev.ConnConfig{Timeout: cfg.WriteTimeout})
	if conn, ok := rw.(net.Conn); ok {
		c.conn = conn
		c.remote = conn.RemoteAddr().String()
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c.log = log.With("session", id, "remote", c.remote)
	c.connLog = c.log
	c.stats.start = time.Now()
	return c
}

// ID returns the session id.
func (c *ServerConn) ID() string { return c.id }

// Serve runs the connection until the peer leaves, an error occurs or ctx
// is cancelled. A clean end (the peer closed, the session was stopped)
// returns nil.
func (c *ServerConn) Serve(ctx context.Context) (err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopWatch := context.AfterFunc(ctx, c.Close)
	defer stopWatch()
	defer func() { c.endSessions(c.endReason(ctx, err)) }()

	c.setReadDeadline(time.Now().Add(c.cfg.HandshakeTimeout))
	if err := handshake.Server(c.rw, handshake.ServerConfig{}); err != nil {
		switch {
		case c.isDraining() || ctx.Err() != nil:
			return nil
		case errors.Is(err, io.EOF):
			return nil // closed before sending a byte: a port probe
		case isTimeout(err):
			return fmt.Errorf("%w: %w after %v: %w", ErrHandshake, ErrHandshakeTimeout, c.cfg.HandshakeTimeout, err)
		}
		return fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	c.setupDeadline = time.Now().Add(c.cfg.SetupTimeout)
	c.r = chunk.NewReader(c.rw, chunk.ReaderConfig{
		MaxMessageSize:  c.cfg.MaxMessageSize,
		MaxChunkStreams: c.cfg.MaxChunkStreams,
	})
	c.w = chunk.NewWriter(c.rw)

	for {
		c.setReadDeadline(c.readDeadline())
		msg, err := c.r.ReadMessage()
		if err != nil {
			return c.readFailed(ctx, err)
		}
		c.stats.addIn(len(msg.Payload))
		if err := c.handleMessage(ctx, &msg); err != nil {
			if isClosed(err) {
				return nil // the peer left while we answered it
			}
			return err
		}
		if err := c.maybeAck(); err != nil {
			return err
		}
	}
}

// Close ends the connection: a blocked read or write returns at once.
func (c *ServerConn) Close() {
	c.closeOnce.Do(func() {
		if closer, ok := c.rw.(io.Closer); ok {
			_ = closer.Close()
		}
	})
}

// endedByServer reports whether the server ended the session on purpose
// (the stream a player watched ended).
func (c *ServerConn) endedByServer() bool {
	return c.play != nil && c.play.finished()
}

// readDeadline is when the next read must have completed: SetupTimeout
// after the handshake, or after the client ended its publish or play with
// deleteStream, closeStream or FCUnpublish, until it publishes or plays
// (again); IdleTimeout
// after a publisher's last audio or video, and never for a player, which
// has nothing to send but acknowledgements (a dead player is found by the
// write deadline).
func (c *ServerConn) readDeadline() time.Time {
	switch {
	case c.pub != nil:
		return c.lastMedia.Add(c.cfg.IdleTimeout)
	case c.play != nil:
		return time.Time{}
	default:
		return c.setupDeadline
	}
}

// setReadDeadline sets the connection's read deadline (zero: none), or a
// past one once the server is draining.
func (c *ServerConn) setReadDeadline(t time.Time) {
	if c.conn == nil {
		return
	}
	c.dlMu.Lock()
	defer c.dlMu.Unlock()
	if c.draining {
		t = time.Unix(1, 0)
	}
	_ = c.conn.SetReadDeadline(t)
}

// readFailed turns the error that ended the read loop into Serve's result:
// nil for a clean end (peer gone, session ended, shutdown after saying
// goodbye), the limit that was hit, or the protocol error.
func (c *ServerConn) readFailed(ctx context.Context, err error) error {
	switch {
	case c.isDraining():
		c.goodbye()
		return nil
	case errors.Is(c.causeErr(), errEndedByHub):
		return nil
	case c.causeErr() != nil:
		return c.causeErr()
	case ctx.Err() != nil || c.endedByServer() || isClosed(err):
		return nil
	case isTimeout(err) && c.pub != nil:
		return fmt.Errorf("%w (%v): %w", ErrIdleTimeout, c.cfg.IdleTimeout, err)
	case isTimeout(err) && c.play == nil:
		return fmt.Errorf("%w (%v): %w", ErrSetupTimeout, c.cfg.SetupTimeout, err)
	}
	return fmt.Errorf("read: %w", err)
}

// shutdown asks the connection to say goodbye and end: its blocked read
// returns at once and Serve ends the sessions with the messages clients
// expect (see Server.Shutdown). Without a net.Conn it closes at once.
func (c *ServerConn) shutdown() {
	if c.conn == nil {
		c.Close()
		return
	}
	c.dlMu.Lock()
	c.draining = true
	_ = c.conn.SetReadDeadline(time.Unix(1, 0))
	c.dlMu.Unlock()
}

// isDraining reports whether shutdown was called.
func (c *ServerConn) isDraining() bool {
	c.dlMu.Lock()
	defer c.dlMu.Unlock()
	return c.draining
}

// closeWith records why the connection is being closed from another
// goroutine (Serve returns it) and closes it.
func (c *ServerConn) closeWith(cause error) {
	c.causeMu.Lock()
	if c.cause == nil {
		c.cause = cause
	}
	c.causeMu.Unlock()
	c.Close()
}

// causeErr returns the error recorded by closeWith.
func (c *ServerConn) causeErr() error {
	c.causeMu.Lock()
	defer c.causeMu.Unlock()
	return c.cause
}

// goodbye ends the connection's session for a server shutdown: a publisher
// is told its stream is unpublished, a player that its stream ended.
// Writes are bounded by the write timeout (and fail at once once the
// connection is closed when the grace period ends).
func (c *ServerConn) goodbye() {
	const why = "Server shutting down."
	if c.pub != nil {
		id := c.pub.streamID
		c.log.Info("publish ended", "reason", "server shutting down")
		c.pub.close(true)
		c.pub = nil
		_ = c.writeStatus(id, "status", codeUnpublishSuccess, "Stream is now unpublished: "+why)
		_ = c.writeStatus(0, "status", codeConnectClosed, why)
	}
	if c.play != nil {
		c.play.stop("server shutting down")
		if !c.play.finished() {
			c.play.sayEnded(why)
		}
	}
	c.Close()
}

// endSessions releases what the connection holds in the hub and waits for
// its play loop; reason says why the connection ends.
func (c *ServerConn) endSessions(reason string) {
	if c.play != nil {
		c.play.stop(reason)
	}
	if c.pub != nil {
		// A connection that dropped may come back (republish window);
		// one an operator kicked may not.
		c.pub.close(c.kicked.Load())
		c.pub = nil
	}
	c.Close()
}

// endReason says why a connection whose Serve returns err ends, for the
// log of the session it had.
func (c *ServerConn) endReason(ctx context.Context, err error) string {
	switch {
	case c.endedByServer():
		return "stream ended"
	case c.kicked.Load():
		return "kicked"
	case err != nil:
		return err.Error()
	case c.isDraining() || ctx.Err() != nil:
		return "server shutting down"
	}
	return "peer left"
}

// kick closes the connection for an operator; a publisher's stream ends at
// once instead of waiting for a republish.
func (c *ServerConn) kick() {
	c.kicked.Store(true)
	c.Close()
}

// handleMessage dispatches one message by type.
func (c *ServerConn) handleMessage(ctx context.Context, msg *chunk.Message) error {
	switch msg.Type {
	case chunk.TypeSetChunkSize, chunk.TypeAbort, chunk.TypeAck, chunk.TypeSetPeerBandwidth:
		// The chunk reader applies chunk size and abort; acknowledgements
		// and bandwidth hints from the client need nothing from us.
		return nil
	case chunk.TypeWindowAckSize:
		size, err := chunk.ParseWindowAckSize(msg.Payload)
		if err != nil {
			return fmt.Errorf("window acknowledgement size: %w", err)
		}
		c.peerWindow = size
		return nil
	case chunk.TypeUserControl:
		return c.handleUserControl(msg)
	case chunk.TypeCommandAMF0, chunk.TypeCommandAMF3:
		cmd, err := ParseCommand(msg)
		if err != nil {
			return err
		}
		return c.handleCommand(ctx, msg.StreamID, cmd)
	case chunk.TypeDataAMF0, chunk.TypeDataAMF3:
		return c.handleData(msg)
	case chunk.TypeAudio, chunk.TypeVideo:
		return c.handleMedia(msg.Type, msg.Timestamp, msg.Payload)
	case chunk.TypeAggregate:
		return c.handleAggregate(msg)
	case chunk.TypeSharedObjectAMF0, chunk.TypeSharedObjectAMF3:
		c.log.Debug("ignoring shared object message")
		return nil
	default:
		return fmt.Errorf("message type %d: %w", msg.Type, ErrUnexpectedMessage)
	}
}

// handleUserControl answers pings; the other events need no action.
func (c *ServerConn) handleUserControl(msg *chunk.Message) error {
	ev, err := chunk.ParseUserControl(msg.Payload)
	if err != nil {
		return fmt.Errorf("user control: %w", err)
	}
	if ev.Type == chunk.EventPingRequest {
		return c.writeControl(chunk.TypeUserControl,
			chunk.AppendUserControl(nil, chunk.UserControl{Type: chunk.EventPingResponse, Value: ev.Value}))
	}
	return nil
}

// maybeAck sends an acknowledgement once the client's window is reached.
func (c *ServerConn) maybeAck() error {
	if c.peerWindow == 0 {
		return nil
	}
	n := c.r.BytesRead()
	if n-c.lastAck < uint64(c.peerWindow) {
		return nil
	}
	c.lastAck = n
	return c.writeControl(chunk.TypeAck, chunk.AppendAck(nil, uint32(n)))
}

// writeControl sends a protocol control message on chunk stream 2.
func (c *ServerConn) writeControl(typ chunk.MessageType, payload []byte) error {
	return c.writeMessage(&chunk.Message{Type: typ, ChunkStreamID: csidControl, Payload: payload})
}

// writeMessage sends one message through the chunk writer.
func (c *ServerConn) writeMessage(m *chunk.Message) error {
	if err := c.out.Control(func() error { return c.w.WriteMessage(m) }); err != nil {
		return fmt.Errorf("write %v message: %w", m.Type, err)
	}
	return nil
}

// writeCommand encodes and sends a command on the given message stream.
func (c *ServerConn) writeCommand(streamID uint32, cmd Command) error {
	payload, err := AppendCommand(nil, cmd)
	if err != nil {
		return fmt.Errorf("encode %s: %w", cmd.Name, err)
	}
	return c.writeMessage(&chunk.Message{
		Type: chunk.TypeCommandAMF0, ChunkStreamID: csidCommand, StreamID: streamID, Payload: payload,
	})
}

// isClosed reports whether err means the connection is gone rather than
// that the peer sent something wrong.
func isClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)
}
