package httpflv

import (
	"encoding/binary"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/mediaserver/mediaserver/internal/writev"
	"github.com/mediaserver/mediaserver/stream"
)

// framing is how a connWriter frames a batch on the wire.
type framing uint8

const (
	// framingBare writes the bytes as they are (an HTTP/1.0 body).
	framingBare framing = iota
	// framingChunked writes each batch as one chunk of a chunked body.
	framingChunked
	// framingWebSocket writes each batch as one binary WebSocket message
	// (a single unmasked frame, as a server sends it).
	framingWebSocket
)

// WebSocket opcodes (RFC 6455, section 5.2).
const (
	wsOpBinary = 0x2
	wsOpClose  = 0x8
	wsOpPing   = 0x9
	wsOpPong   = 0xa
)

// connWriter writes a viewer's batches straight to a connection taken over
// from net/http (an HTTP/1.x response or an upgraded WebSocket), framed as
// the protocol wants, with one vectored write per batch and no copy of the
// shared tag bytes. It is a directTransport: on Linux the stream's
// delivery goroutine writes to it without waiting (trySend).
type connWriter struct {
	conn    net.Conn // written to: the connection, unwrapped from any listener wrapper
	sess    *session
	timeout time.Duration
	framing framing
	sock    *writev.Writer // nil where the platform has none: no trySend

	// mu lets one frame onto the wire at a time: batches, and the control
	// frames the WebSocket reader and pinger write. A trySend that wrote
	// part of a batch keeps it locked until flushRest has written the rest.
	// It is taken before the session's lock.
	mu         sync.Mutex
	restLocked bool
	parked     bool // written by the delivery goroutine: the socket has no deadline
	iov        net.Buffers
	rest       net.Buffers // what trySend left unwritten
	head       [18]byte    // the batch's framing header: chunk size line or WebSocket header
	ctlHead    [10]byte    // a control frame's header
}

// crlf ends a chunk.
var crlf = []byte("\r\n")

// newConnWriter returns a writer for conn. A listener may wrap connections
// (limits, accounting); vectored writes reach writev only on the
// connection itself, so conn is unwrapped. The socket's unsent bytes are
// capped (limitUnsent) where the platform allows.
func newConnWriter(conn net.Conn, sess *session, timeout time.Duration, f framing) *connWriter {
	if u, ok := conn.(interface{ NetConn() net.Conn }); ok {
		conn = u.NetConn()
	}
	_ = limitUnsent(conn) // best effort: without it, lag hides in the kernel
	return &connWriter{conn: conn, sess: sess, timeout: timeout, framing: f, sock: writev.New(conn)}
}

// send implements transport: the batch is written within the write
// timeout, unless the session was stopped.
func (w *connWriter) send(bufs [][]byte, size int) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.parked = false
	if err := w.sess.arm(w.conn, w.timeout); err != nil {
		return err
	}
	err := w.writeAll(w.frame(bufs, size))
	w.clearIOV()
	return err
}

// frame returns the batch bufs (size bytes) framed, as w.iov.
func (w *connWriter) frame(bufs [][]byte, size int) net.Buffers {
	iov := w.iov[:0]
	switch w.framing {
	case framingChunked:
		line := append(strconv.AppendUint(w.head[:0], uint64(size), 16), crlf...)
		iov = append(append(append(iov, line), bufs...), crlf)
	case framingWebSocket:
		iov = append(append(iov, appendWSHeader(w.head[:0], wsOpBinary, size)), bufs...)
	default:
		iov = append(iov, bufs...)
	}
	w.iov = iov
	return iov
}

// clearIOV drops the references w.iov holds.
func (w *connWriter) clearIOV() {
	clear(w.iov)
	w.iov = w.iov[:0]
}

// writeAll writes iov, waiting for the socket within its deadline.
func (w *connWriter) writeAll(iov net.Buffers) error {
	if w.sock != nil {
		_, err := w.sock.All(iov)
		return err
	}
	_, err := iov.WriteTo(w.conn) // WriteTo consumes its copy of the slice header
	return err
}

// canTrySend implements directTransport.
func (w *connWriter) canTrySend() bool { return w.sock != nil }

// trySend implements directTransport: one non-blocking vectored write of
// the framed batch. What the socket did not take is kept in w.rest, and
// the error is then stream.ErrWouldBlock; so it is when a control frame is
// being written at the moment, and the whole batch is kept.
func (w *connWriter) trySend(bufs [][]byte, size int) error {
	if !w.mu.TryLock() {
		w.rest = append(w.rest[:0], w.frame(bufs, size)...)
		w.clearIOV()
		return stream.ErrWouldBlock
	}
	iov := w.frame(bufs, size)
	n, err := w.sock.Try(iov)
	if err == nil && n < writev.Len(iov) {
		w.rest = writev.AppendRest(w.rest[:0], iov, n)
		w.restLocked = true // nothing may come between the parts of a frame
		err = stream.ErrWouldBlock
	}
	w.clearIOV()
	if !w.restLocked {
		w.mu.Unlock()
	}
	return err
}

// flushRest implements directTransport: it writes what trySend left,
// within the write timeout.
func (w *connWriter) flushRest() error {
	if !w.restLocked {
		w.mu.Lock()
	}
	w.restLocked = false
	w.parked = false
	defer w.mu.Unlock()
	err := w.sess.arm(w.conn, w.timeout)
	if err == nil && len(w.rest) > 0 {
		err = w.writeAll(w.rest)
	}
	clear(w.rest)
	w.rest = w.rest[:0]
	return err
}

// prepareDirect implements directTransport: the socket's deadline is
// cleared, since non-blocking writes have no use for one and would fail
// once it passed.
func (w *connWriter) prepareDirect() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if cap(w.iov) > parkedBufs+2 {
		w.iov = nil // from catching up; TryWrite's batches are small
	}
	w.sock.Release()
	w.parked = true
	w.sess.disarm()
	return w.conn.SetWriteDeadline(time.Time{})
}

// writeControl writes one WebSocket control frame within the write
// timeout, also after the session was stopped (the close frame). A parked
// viewer's socket gets its deadline cleared again afterwards.
func (w *connWriter) writeControl(op byte, payload []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	// The deadline is later than any the session armed: arm renews its
	// own in time.
	if err := w.conn.SetWriteDeadline(time.Now().Add(w.timeout)); err != nil {
		return err
	}
	err := w.writeAll(net.Buffers{appendWSHeader(w.ctlHead[:0], op, len(payload)), payload})
	if w.parked {
		_ = w.conn.SetWriteDeadline(time.Time{})
	}
	return err
}

// finish ends an HTTP body when the connection is sound (the last chunk
// of a chunked body).
func (w *connWriter) finish(sound bool) {
	if sound && w.framing == framingChunked {
		w.mu.Lock()
		_ = w.conn.SetWriteDeadline(time.Now().Add(w.timeout))
		_, _ = w.conn.Write([]byte("0\r\n\r\n"))
		w.mu.Unlock()
	}
}

// appendWSHeader appends the header of an unmasked, final WebSocket frame
// with opcode op and an n-byte payload.
func appendWSHeader(dst []byte, op byte, n int) []byte {
	dst = append(dst, 0x80|op)
	switch {
	case n < 126:
		return append(dst, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(dst, 126), uint16(n))
	default:
		return binary.BigEndian.AppendUint64(append(dst, 127), uint64(n))
	}
}
