package httpflv

import (
	"crypto/tls"
	"encoding/binary"
	"errors"
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

// connWriter frames a viewer's batches for a connection taken over from
// net/http (an HTTP/1.x response or an upgraded WebSocket) and writes
// them through a writev.Conn: one vectored write per batch, no copy of the
// shared tag bytes, control frames never between the parts of a batch. It
// is a directTransport: on Linux the stream's delivery goroutine writes to
// it without waiting (trySend).
type connWriter struct {
	out     *writev.Conn
	sess    *session
	framing framing
	// gather, on a TLS connection, lends the buffer a batch is copied
	// into, to go out in one Write: a vectored write reaches a TLS
	// connection as one Write, one record and one syscall per piece. Nil
	// on a socket.
	gather *sync.Pool // of *[]byte
	one    [1][]byte  // the gathered batch, as the iovec of a Write

	// iov and head are the batch being framed, by the viewer's goroutine
	// or, while it is parked, the delivery goroutine.
	iov  net.Buffers
	head [18]byte // the batch's framing header: chunk size line or WebSocket header
}

// lastChunk ends a chunked body.
const lastChunk = "0\r\n\r\n"

// crlf ends a chunk.
var crlf = []byte("\r\n")

// newConnWriter returns a writer for conn, whose batch writes the session
// arms (and refuses once it was stopped). The socket's unsent bytes are
// capped (writev.LimitUnsent) where the platform allows, so that a slow
// viewer's backlog stays where the stream's lag bound sees it. On a TLS
// connection, each batch is gathered into a buffer borrowed from pool (of
// *[]byte) and written at once.
func newConnWriter(conn net.Conn, sess *session, timeout time.Duration, f framing, pool *sync.Pool) *connWriter {
	_ = writev.LimitUnsent(conn) // best effort: without it, lag hides in the kernel
	w := &connWriter{
		out: writev.NewConn(conn, writev.ConnConfig{
			Timeout: timeout,
			Arm:     func() error { return sess.arm(conn, timeout) },
		}),
		sess:    sess,
		framing: f,
	}
	if _, ok := conn.(*tls.Conn); ok {
		w.gather = pool
	}
	return w
}

// send implements transport: the batch is written within the write
// timeout, unless the session was stopped.
func (w *connWriter) send(bufs [][]byte, size int) error {
	iov := w.frame(bufs, size)
	var err error
	if w.gather != nil {
		err = withGathered(w.gather, iov, func(b []byte) error {
			w.one[0] = b
			_, err := w.out.Write(w.one[:])
			w.one[0] = nil
			return err
		})
	} else {
		_, err = w.out.Write(iov)
	}
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

// canTrySend implements directTransport.
func (w *connWriter) canTrySend() bool { return w.out.CanTryWrite() }

// trySend implements directTransport: one non-blocking vectored write of
// the framed batch. What the socket did not take is kept for flushRest,
// and the error is then stream.ErrWouldBlock.
func (w *connWriter) trySend(bufs [][]byte, size int) error {
	_, err := w.out.TryWrite(w.frame(bufs, size))
	w.clearIOV()
	if errors.Is(err, writev.ErrWouldBlock) {
		return stream.ErrWouldBlock
	}
	return err
}

// flushRest implements directTransport: it writes what trySend kept,
// within the write timeout.
func (w *connWriter) flushRest() error {
	_, err := w.out.Flush()
	return err
}

// prepareDirect implements directTransport: the socket's deadline is
// cleared, since non-blocking writes have no use for one and would fail
// once it passed.
func (w *connWriter) prepareDirect() error {
	if cap(w.iov) > parkedBufs+2 {
		w.iov = nil // from catching up; TryWrite's batches are small
	}
	w.sess.disarm()
	return w.out.Park()
}

// writeControl writes one WebSocket control frame within the write
// timeout, also after the session was stopped (the close frame).
func (w *connWriter) writeControl(op byte, payload []byte) error {
	_, err := w.out.WriteControl([][]byte{appendWSHeader(nil, op, len(payload)), payload})
	return err
}

// finish ends an HTTP body when the connection is sound (the last chunk
// of a chunked body).
func (w *connWriter) finish(sound bool) {
	if sound && w.framing == framingChunked {
		_, _ = w.out.WriteControl([][]byte{[]byte(lastChunk)})
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
