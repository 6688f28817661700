package httpflv

import (
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/mediaserver/mediaserver/stream"
)

// rawTransport writes a viewer's batches straight to the connection of an
// HTTP/1.x response taken over from net/http: each batch is one chunk of
// the chunked body (HTTP/1.0: the bare bytes, the body ending with the
// connection), written with one vectored write and no copy of the shared
// tag bytes. Taking the connection over also frees what net/http keeps per
// request, which is most of a viewer's memory.
type rawTransport struct {
	conn    net.Conn // closed at the end
	w       net.Conn // written to: conn, or the connection it wraps
	sess    *session
	timeout time.Duration
	chunked bool
	iov     net.Buffers
	line    [18]byte // chunk size line: up to 16 hex digits and CRLF

	// sock writes to w's descriptor, when the platform allows
	// (writev_linux.go): without waiting, which lets the stream's delivery
	// goroutine write to the viewer (trySend), or waiting.
	sock *socketWriter
	// rest is what a non-blocking write left unwritten: the tail of a
	// batch, written by the owner before anything else (flushRest).
	rest net.Buffers
}

// crlf ends a chunk.
var crlf = []byte("\r\n")

// hijack takes the connection of an HTTP/1.x response over and writes the
// response header. It returns nil, nil when the response cannot be taken
// over (HTTP/2, test recorders): the caller then writes through w.
func hijack(w http.ResponseWriter, r *http.Request, sess *session, timeout time.Duration) (*rawTransport, error) {
	if r.ProtoMajor != 1 {
		return nil, nil
	}
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, nil //nolint:nilerr // not supported: fall back to w
	}
	t := &rawTransport{conn: conn, w: conn, sess: sess, timeout: timeout, chunked: r.ProtoMinor >= 1}
	// A listener may wrap connections (limits, accounting); vectored writes
	// reach writev only on the connection itself.
	if u, ok := conn.(interface{ NetConn() net.Conn }); ok {
		t.w = u.NetConn()
	}
	t.sock = newSocketWriter(t.w)
	h := w.Header()
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	h.Set("Connection", "close")
	status := "HTTP/1.0 200 OK\r\n"
	if t.chunked {
		h.Set("Transfer-Encoding", "chunked")
		status = "HTTP/1.1 200 OK\r\n"
	}
	head := []byte(status)
	for k, vs := range h {
		for _, v := range vs {
			head = append(append(append(append(head, k...), ": "...), v...), crlf...)
		}
	}
	head = append(head, crlf...)
	if err := sess.arm(conn, timeout); err != nil {
		_ = conn.Close()
		return nil, err
	}
	if _, err := conn.Write(head); err != nil {
		_ = conn.Close()
		return nil, err
	}
	sess.mu.Lock()
	sess.interrupt = func() { _ = conn.SetWriteDeadline(time.Now()) }
	sess.mu.Unlock()
	return t, nil
}

// send implements transport.
func (t *rawTransport) send(bufs [][]byte, size int) error {
	if err := t.sess.arm(t.w, t.timeout); err != nil {
		return err
	}
	iov := t.frame(bufs, size)
	var err error
	if t.sock != nil {
		_, err = t.sock.writevAll(iov)
	} else {
		_, err = iov.WriteTo(t.w) // WriteTo consumes its copy of the slice header
	}
	clear(t.iov)
	t.iov = t.iov[:0]
	return err
}

// frame returns the batch bufs (size bytes) framed for the response body
// as t.iov: a chunk for a chunked body, the bare bytes otherwise.
func (t *rawTransport) frame(bufs [][]byte, size int) net.Buffers {
	iov := t.iov[:0]
	if t.chunked {
		line := append(strconv.AppendUint(t.line[:0], uint64(size), 16), crlf...)
		iov = append(iov, line)
	}
	iov = append(iov, bufs...)
	if t.chunked {
		iov = append(iov, crlf)
	}
	t.iov = iov
	return iov
}

// canTrySend implements directTransport.
func (t *rawTransport) canTrySend() bool { return t.sock != nil }

// trySend implements directTransport: one non-blocking vectored write of
// the framed batch. What the socket did not take is kept in t.rest, and
// the error is then stream.ErrWouldBlock.
func (t *rawTransport) trySend(bufs [][]byte, size int) error {
	iov := t.frame(bufs, size)
	n, err := t.sock.writev(iov)
	if err == nil && n < iovLen(iov) {
		t.rest = appendRest(t.rest[:0], iov, n)
		err = stream.ErrWouldBlock
	}
	clear(t.iov)
	t.iov = t.iov[:0]
	return err
}

// flushRest implements directTransport: it writes what trySend left, under
// the write timeout.
func (t *rawTransport) flushRest() error {
	if len(t.rest) == 0 {
		return nil
	}
	if err := t.sess.arm(t.w, t.timeout); err != nil {
		return err
	}
	_, err := t.sock.writevAll(t.rest)
	clear(t.rest)
	t.rest = t.rest[:0]
	return err
}

// prepareDirect implements directTransport: the socket's deadline is
// cleared, since non-blocking writes have no use for one and would fail
// once it passed. The session's mu is held.
func (t *rawTransport) prepareDirect() error {
	if cap(t.iov) > parkedBufs+2 {
		t.iov = nil // from catching up; TryWrite's batches are small
	}
	t.sock.release()
	t.sess.armedUntil = time.Time{}
	return t.w.SetWriteDeadline(time.Time{})
}

// iovLen returns the number of bytes in iov.
func iovLen(iov [][]byte) int {
	n := 0
	for _, b := range iov {
		n += len(b)
	}
	return n
}

// appendRest appends to dst what is left of iov after its first n bytes.
func appendRest(dst net.Buffers, iov [][]byte, n int) net.Buffers {
	for i, b := range iov {
		if n < len(b) {
			dst = append(dst, b[n:])
			return append(dst, iov[i+1:]...)
		}
		n -= len(b)
	}
	return dst
}

// finish ends the body (the last chunk) when the connection is sound, and
// closes the connection.
func (t *rawTransport) finish(sound bool) {
	if sound && t.chunked {
		_ = t.conn.SetWriteDeadline(time.Now().Add(t.timeout))
		_, _ = t.conn.Write([]byte("0\r\n\r\n"))
	}
	_ = t.conn.Close()
}
