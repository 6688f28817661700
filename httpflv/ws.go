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

	"github.com/mediaserver/mediaserver/internal/mediahttp"
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
	mediahttp.Error(w, status, "websocket: "+reason.Error())
}

// serveWS streams s to a WebSocket-FLV viewer: one binary message per
// batch of FLV bytes, the first starting with the FLV header. The session
// ends with a close frame when the stream ends, the viewer is kicked or
// the server shuts down. Besides the viewer's writer (a goroutine, or the
// stream's delivery goroutine while the viewer keeps up), a session runs a
// reader goroutine (answers control frames, notices the viewer leaving)
// and a pinger; both are stopped and waited for before the session ends.
// Every frame goes out through one connWriter, so control frames never
// come between the parts of a message.
func (h *Handler) serveWS(w http.ResponseWriter, r *http.Request, s *stream.Stream, req stream.AccessRequest, tracks stream.TrackSelection) {
	// The connection outlives the request: its session must not end with
	// the request's context.
	sess, ctx, err := h.open(context.WithoutCancel(r.Context()), req, s, tracks)
	if err != nil {
		mediahttp.Error(w, http.StatusServiceUnavailable, "server shutting down")
		return
	}
	log := h.log.With("session", sess.id, "stream", sess.key.String(), "remote", sess.remote)
	conn, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		// The upgrader has answered the request.
		h.finish(sess, log, fmt.Errorf("websocket handshake: %w", err))
		return
	}
	log.Info("viewer joined", "protocol", ProtocolWS, "tracks", tracks.String())
	netConn := conn.NetConn()
	out := newConnWriter(netConn, sess, h.cfg.WriteTimeout, framingWebSocket)
	sess.mu.Lock()
	sess.interrupt = func() { _ = netConn.SetWriteDeadline(time.Now()) }
	sess.mu.Unlock()
	// gorilla would answer pings and close frames by writing itself; they
	// go through out instead. A failed answer shows on the next write.
	conn.SetPingHandler(func(data string) error {
		_ = out.writeControl(wsOpPong, []byte(data))
		return nil
	})
	conn.SetCloseHandler(func(code int, _ string) error {
		_ = out.writeControl(wsOpClose, websocket.FormatCloseMessage(code, ""))
		return nil
	})

	var wg sync.WaitGroup
	readerDone := make(chan struct{})
	wg.Go(func() {
		defer close(readerDone)
		h.wsRead(conn, sess)
	})
	wg.Go(func() { h.wsPing(ctx, out, sess) })

	v := newViewer(sess.reader, out, h.cfg, &sess.bytesOut)
	h.runViewer(ctx, sess, v, out, func(err error) {
		reason := endReason(ctx, err)
		if !v.writeFailed {
			h.wsClose(out, reason, readerDone, log)
		}
		sess.stop(reason) // stops the pinger
		_ = conn.Close()  // releases the reader goroutine
		wg.Wait()
		h.finish(sess, log, reason)
	})
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
func (h *Handler) wsPing(ctx context.Context, out *connWriter, sess *session) {
	t := time.NewTicker(h.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := out.writeControl(wsOpPing, nil); err != nil {
				sess.stop(fmt.Errorf("ping: %w", err))
				return
			}
		}
	}
}

// wsClose sends the close frame that fits reason and waits a little for the
// viewer to answer (the reader goroutine ends when it does). Nothing is sent
// when the viewer is gone or a write failed: the connection is unusable.
func (h *Handler) wsClose(out *connWriter, reason error, readerDone <-chan struct{}, log *slog.Logger) {
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
	if err := out.writeControl(wsOpClose, msg); err != nil {
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
