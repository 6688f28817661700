package httpflv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mediaserver/mediaserver/stream"
)

// closeGrace bounds how long a WebSocket session waits for the viewer's
// answer to its close frame before closing the connection.
const closeGrace = 2 * time.Second

// Close frame texts.
const (
	closeTextEnded    = "stream ended"
	closeTextKicked   = "kicked"
	closeTextShutdown = "server shutting down"
)

// wsHandshakeError answers a failed WebSocket handshake with a short reason.
func wsHandshakeError(w http.ResponseWriter, _ *http.Request, status int, reason error) {
	textError(w, status, "websocket: "+reason.Error())
}

// serveWS streams s to a WebSocket-FLV viewer: one binary message per batch
// of FLV bytes, pings every PingInterval, a close frame when the stream ends,
// the viewer is kicked or the server shuts down. Besides the request
// goroutine, which writes, a session runs a reader goroutine (answers
// control frames, notices the viewer leaving) and a pinger; both are stopped
// and waited for before serveWS returns.
func (h *Handler) serveWS(w http.ResponseWriter, r *http.Request, s *stream.Stream, req stream.AccessRequest) {
	sess, ctx, err := h.open(r.Context(), req, readerProtocolWS, s)
	if err != nil {
		textError(w, http.StatusServiceUnavailable, "server shutting down")
		return
	}
	log := h.log.With("session", sess.id, "stream", sess.key.String(), "remote", sess.remote)
	conn, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		// The upgrader has answered the request.
		h.finish(sess, log, fmt.Errorf("websocket handshake: %w", err))
		return
	}
	log.Info("viewer joined", "protocol", ProtocolWS)
	netConn := conn.NetConn()
	sess.mu.Lock()
	sess.interrupt = func() { _ = netConn.SetWriteDeadline(time.Now()) }
	sess.mu.Unlock()

	var wg sync.WaitGroup
	readerDone := make(chan struct{})
	wg.Go(func() {
		defer close(readerDone)
		h.wsRead(conn, sess)
	})
	wg.Go(func() { h.wsPing(ctx, conn, sess) })

	out := &wsTransport{conn: conn, sess: sess, timeout: h.cfg.WriteTimeout, pool: &h.batchBuffers}
	err = newViewer(sess.reader, out, h.cfg, &sess.bytesOut).run(ctx)
	reason := endReason(ctx, err)
	h.wsClose(conn, reason, readerDone, log)
	sess.stop(reason) // stops the pinger
	_ = conn.Close()  // releases the reader goroutine
	wg.Wait()
	h.finish(sess, log, reason)
}

// wsRead reads from the viewer until the connection fails or closes,
// discarding data messages; gorilla answers pings and close frames while it
// reads. The viewer must answer pings (or send anything) within
// PingInterval+WriteTimeout. It stops the session when the viewer leaves.
func (h *Handler) wsRead(conn *websocket.Conn, sess *session) {
	wait := h.cfg.PingInterval + h.cfg.WriteTimeout
	conn.SetReadLimit(h.cfg.WSReadLimit)
	_ = conn.SetReadDeadline(time.Now().Add(wait))
	conn.SetPongHandler(func(string) error {
		return conn.SetReadDeadline(time.Now().Add(wait))
	})
	for {
		_, msg, err := conn.NextReader()
		if err == nil {
			_, err = io.Copy(io.Discard, msg)
		}
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				h.wsTooLarge.Add(1)
				err = fmt.Errorf("%w (%s, %d bytes): %w", ErrPeerGone, LimitWSMessageSize, h.cfg.WSReadLimit, err)
			} else {
				err = fmt.Errorf("%w: %w", ErrPeerGone, err)
			}
			sess.stop(err)
			return
		}
		_ = conn.SetReadDeadline(time.Now().Add(wait))
	}
}

// wsPing pings the viewer every PingInterval until ctx is done.
func (h *Handler) wsPing(ctx context.Context, conn *websocket.Conn, sess *session) {
	t := time.NewTicker(h.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(h.cfg.WriteTimeout)); err != nil {
				sess.stop(fmt.Errorf("ping: %w", err))
				return
			}
		}
	}
}

// wsClose sends the close frame that fits reason and waits a little for the
// viewer to answer (the reader goroutine ends when it does). Nothing is sent
// when the viewer is gone or a write failed: the connection is unusable.
func (h *Handler) wsClose(conn *websocket.Conn, reason error, readerDone <-chan struct{}, log *slog.Logger) {
	var code int
	var text string
	switch {
	case errors.Is(reason, io.EOF):
		code, text = websocket.CloseNormalClosure, closeTextEnded
	case errors.Is(reason, ErrKicked):
		code, text = websocket.ClosePolicyViolation, closeTextKicked
	case errors.Is(reason, ErrShutdown):
		code, text = websocket.CloseGoingAway, closeTextShutdown
	default:
		return
	}
	msg := websocket.FormatCloseMessage(code, text)
	if err := conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(h.cfg.WriteTimeout)); err != nil {
		log.Debug("close frame not sent", "err", err)
		return
	}
	t := time.NewTimer(closeGrace)
	defer t.Stop()
	select {
	case <-readerDone:
	case <-t.C:
	}
}

// wsTransport writes a viewer's batches as binary messages, one per batch,
// each under the write timeout. gorilla writes a message held in one buffer
// with a single writev (frame header + payload), so the batch is gathered
// into a buffer borrowed from a pool shared by all viewers: a viewer holds
// no buffer between batches.
type wsTransport struct {
	conn    *websocket.Conn
	sess    *session
	timeout time.Duration
	pool    *sync.Pool // of *[]byte
}

// send implements transport.
func (t *wsTransport) send(bufs [][]byte, size int) error {
	if err := t.sess.arm(t.conn, t.timeout); err != nil {
		return err
	}
	return withGathered(t.pool, bufs, func(msg []byte) error {
		return t.conn.WriteMessage(websocket.BinaryMessage, msg)
	})
}

// withGathered copies bufs into one buffer borrowed from pool and calls
// write with it; the buffer goes back to the pool afterwards.
func withGathered(pool *sync.Pool, bufs [][]byte, write func([]byte) error) error {
	bp := pool.Get().(*[]byte)
	b := (*bp)[:0]
	for _, p := range bufs {
		b = append(b, p...)
	}
	err := write(b)
	if cap(b) <= maxPooledBuffer {
		*bp = b[:0]
		pool.Put(bp)
	}
	return err
}
