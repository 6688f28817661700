package httpflv

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// rawResponse is an HTTP/1.x response taken over from net/http: its
// batches are written by a connWriter, each as one chunk of the chunked
// body (HTTP/1.0: the bare bytes, the body ending with the connection).
// Taking the connection over also frees what net/http keeps per request,
// which is most of a viewer's memory.
type rawResponse struct {
	*connWriter
	conn net.Conn // as net/http handed it over; closed at the end
}

// hijack takes the connection of an HTTP/1.x response over and writes the
// response header; over TLS, batches are gathered into buffers of pool. It returns nil, nil when the response cannot be taken
// over (HTTP/2, test recorders): the caller then writes through w.
func hijack(w http.ResponseWriter, r *http.Request, sess *session, timeout time.Duration, pool *sync.Pool) (*rawResponse, error) {
	if r.ProtoMajor != 1 {
		return nil, nil
	}
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, nil //nolint:nilerr // not supported: fall back to w
	}
	chunked := r.ProtoMinor >= 1
	f := framingBare
	if chunked {
		f = framingChunked
	}
	t := &rawResponse{connWriter: newConnWriter(conn, sess, timeout, f, pool), conn: conn}
	h := w.Header()
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	h.Set("Connection", "close")
	status := "HTTP/1.0 200 OK\r\n"
	if chunked {
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

// close ends the body (the last chunk) when the connection is sound, and
// closes the connection.
func (t *rawResponse) close(sound bool) {
	t.finish(sound)
	_ = t.conn.Close()
}
