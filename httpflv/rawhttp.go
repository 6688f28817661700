package httpflv

import (
	"net"
	"net/http"
	"strconv"
	"time"
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
	_, err := iov.WriteTo(t.w) // WriteTo consumes its copy of the slice header
	clear(t.iov)
	t.iov = t.iov[:0]
	return err
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
