package httpflv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mediaserver/mediaserver/internal/cors"
	"github.com/mediaserver/mediaserver/internal/mediahttp"
	"github.com/mediaserver/mediaserver/stream"
)

// PathSuffix is the suffix of the paths the Handler serves:
// /{app}/{name}.flv.
const PathSuffix = ".flv"

// Hub finds live streams; *stream.Registry is one.
type Hub interface {
	// Lookup returns the live stream for key.
	Lookup(key stream.Key) (*stream.Stream, bool)
}

// Handler serves HTTP-FLV and WebSocket-FLV viewers on /{app}/{name}.flv.
// It answers GET, HEAD and OPTIONS (CORS preflight); a GET that asks for a
// WebSocket upgrade is served as WebSocket-FLV. Handler tracks its viewers
// so the admin API can list and kick them, and Close ends them all.
type Handler struct {
	cfg      Config
	hub      Hub
	log      *slog.Logger
	front    mediahttp.Front
	upgrader websocket.Upgrader
	nextID   atomic.Uint64

	mu       sync.Mutex
	sessions map[string]*session
	closed   bool
	wg       sync.WaitGroup // one per running session

	closedBytesOut atomic.Uint64 // bytes sent to viewers that have left
	batchBuffers   sync.Pool     // *[]byte batch buffers shared by viewers that need one
	wsTooLarge     atomic.Uint64 // WebSocket viewers cut off for a message over WSReadLimit
}

// New returns a Handler serving the streams of hub with
// cfg.WithDefaults(), or an error wrapping ErrInvalidConfig when that does
// not validate. A nil log discards.
func New(cfg Config, hub Hub, log *slog.Logger) (*Handler, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new http-flv handler: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{
		cfg: cfg,
		hub: hub,
		log: log.With("component", "httpflv"),
		front: mediahttp.Front{
			CORS: cors.Policy{AllowedOrigins: cfg.AllowedOrigins}, Authorizer: cfg.Authorizer, NameMethod: true,
		},
		sessions: make(map[string]*session),
	}
	h.upgrader = websocket.Upgrader{
		HandshakeTimeout: cfg.WriteTimeout,
		CheckOrigin:      func(r *http.Request) bool { return h.front.CORS.Allowed(r.Header.Get("Origin")) },
		Error:            wsHandshakeError,
	}
	h.batchBuffers.New = func() any {
		b := make([]byte, 0, MaxBatchBytes+64<<10)
		return &b
	}
	return h, nil
}

// ServeHTTP serves one viewer until its stream ends, it goes away, it is
// kicked or the Handler closes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.front.Admit(w, r) {
		return
	}
	key, ok := mediahttp.Key(w, r.URL.Path, PathSuffix, "no stream at this path: ")
	if !ok {
		return
	}
	s, ok := h.hub.Lookup(key)
	if !ok {
		mediahttp.Error(w, http.StatusNotFound, "stream "+key.String()+" not found")
		return
	}
	protocol := ProtocolFLV
	if r.Method == http.MethodGet && websocket.IsWebSocketUpgrade(r) {
		protocol = ProtocolWS
	}
	req := stream.AccessRequest{
		Action: stream.ActionPlay, Protocol: protocol, Key: key, Query: r.URL.RawQuery,
		RemoteAddr: r.RemoteAddr, SessionID: string(protocol) + "-" + strconv.FormatUint(h.nextID.Add(1), 10),
	}
	if err := h.front.Authorize(w, r, req); err != nil {
		// The access checker logs refusals, rate-limited; a line per
		// refused request here would let a flood through to the log.
		h.log.Debug("viewer refused", "session", req.SessionID, "stream", key.String(), "remote", r.RemoteAddr, "reason", err)
		return
	}
	tracks, err := selectTracks(s, r.URL.RawQuery)
	if err != nil {
		mediahttp.Error(w, http.StatusNotFound, err.Error())
		return
	}
	if protocol == ProtocolWS {
		h.serveWS(w, r, s, req, tracks)
		return
	}
	h.serveFLV(w, r, s, req, tracks)
}

// selectTracks returns the tracks a viewer gets of a multitrack stream: one
// video and one audio track, the default ones or those its query names
// (?track=N, ?video=N&audio=M), rewritten as single-track tags that every
// FLV player reads. It fails with stream.ErrUnknownTrack for a track the
// stream does not have.
func selectTracks(s *stream.Stream, rawQuery string) (stream.TrackSelection, error) {
	want, err := stream.ParseTrackQuery(rawQuery)
	if err != nil {
		return stream.TrackSelection{}, fmt.Errorf("stream %s: %w", s.Key(), err)
	}
	return s.SelectTracks(want)
}

// BytesSent counts the bytes sent to viewers, those that left included.
func (h *Handler) BytesSent() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := h.closedBytesOut.Load()
	for _, sess := range h.sessions {
		n += sess.bytesOut.Load()
	}
	return n
}

// BytesReceived counts the bytes received from viewers: none worth
// counting, as viewers only send requests and control frames.
func (h *Handler) BytesReceived() uint64 { return 0 }

// setFLVHeaders sets the headers of a live FLV response.
func setFLVHeaders(h http.Header) {
	h.Set("Content-Type", "video/x-flv")
	h.Set("Cache-Control", "no-cache, no-store")
	h.Set("X-Content-Type-Options", "nosniff")
}

// open creates and registers the session of a viewer of the tracks of s.
// It fails with ErrShutdown after Close. The caller must call h.finish.
func (h *Handler) open(ctx context.Context, req stream.AccessRequest, s *stream.Stream, tracks stream.TrackSelection) (*session, context.Context, error) {
	id := req.SessionID
	sess := &session{id: id, protocol: req.Protocol, remote: req.RemoteAddr, key: s.Key(), start: time.Now(), req: req}
	ctx, sess.cancel = context.WithCancelCause(ctx)
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		sess.cancel(ErrShutdown)
		return nil, nil, ErrShutdown
	}
	sess.reader = s.NewReader(stream.ReaderInfo{ID: id, Protocol: req.Protocol, RemoteAddr: req.RemoteAddr, Tracks: tracks})
	h.sessions[id] = sess
	h.wg.Add(1)
	h.mu.Unlock()
	return sess, ctx, nil
}

// finish unregisters a session, logs how it ended and releases its reader.
func (h *Handler) finish(sess *session, log *slog.Logger, reason error) {
	sess.end(reason)
	sess.reader.Close()
	h.mu.Lock()
	delete(h.sessions, sess.id)
	h.closedBytesOut.Add(sess.bytesOut.Load())
	h.mu.Unlock()
	st := sess.snapshot()
	if l := h.cfg.PlayListener; l != nil {
		l.PlayStopped(sess.req, st.BytesOut, time.Since(sess.start))
	}
	log.Info("viewer left", "reason", reasonText(reason), "bytes_out", st.BytesOut,
		"frames", st.Frames, "dropped", st.Dropped, "socket_full", sess.fullSocket.Load(),
		"duration", time.Since(sess.start).Round(time.Millisecond))
	h.wg.Done()
}

// reasonText describes why a session ended.
func reasonText(err error) string {
	if errors.Is(err, io.EOF) {
		return "stream ended"
	}
	return err.Error()
}

// endReason returns why the viewer loop stopped: the session context's cause
// when it was cancelled (kick, shutdown, viewer gone), err otherwise, io.EOF
// for a clean end of stream.
func endReason(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		cause := context.Cause(ctx)
		if errors.Is(cause, context.Canceled) {
			// The request's context: the viewer closed the connection.
			return ErrPeerGone
		}
		return cause
	}
	if err == nil {
		return io.EOF
	}
	return err
}

// serveFLV streams the tracks of s to an HTTP-FLV viewer.
func (h *Handler) serveFLV(w http.ResponseWriter, r *http.Request, s *stream.Stream, req stream.AccessRequest, tracks stream.TrackSelection) {
	setFLVHeaders(w.Header())
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	// A response that can be taken over outlives the request: its session
	// must not end with the request's context.
	_, takeover := w.(http.Hijacker)
	takeover = takeover && r.ProtoMajor == 1
	parent := r.Context()
	if takeover {
		parent = context.WithoutCancel(parent)
	}
	sess, ctx, err := h.open(parent, req, s, tracks)
	if err != nil {
		mediahttp.Error(w, http.StatusServiceUnavailable, "server shutting down")
		return
	}
	log := h.log.With("session", sess.id, "stream", sess.key.String(), "remote", sess.remote)
	log.Info("viewer joined", "protocol", ProtocolFLV, "tracks", tracks.String())
	// Send the response header at once: the player sees the stream start
	// even while the FLV header waits for the stream's tracks to be known.
	done := func(err error) {
		reason := endReason(ctx, err)
		sess.end(reason)
		h.finish(sess, log, reason)
	}
	var raw *rawResponse
	if takeover {
		raw, err = hijack(w, r, sess, h.cfg.WriteTimeout)
	}
	switch {
	case err != nil:
		done(err)
	case raw != nil:
		// The viewer runs on a goroutine of its own, owned by h (open
		// counted it in h.wg; finish releases it), and the request
		// returns: net/http then frees the request's buffers and its
		// deeper stack, most of what a viewer would otherwise hold.
		v := newViewer(sess.reader, raw.connWriter, h.cfg, &sess.bytesOut)
		h.runViewer(ctx, sess, v, raw.connWriter, func(err error) {
			raw.close(!v.writeFailed)
			done(err)
		})
	default:
		_, err = h.serveFLVResponse(ctx, w, sess)
		done(err)
	}
}

// runViewer runs v on a goroutine of its own, owned by h (open counted it
// in h.wg; end must release it through finish), and returns at once. Where
// out allows, a viewer that keeps up is written by the stream's delivery
// goroutine and has no goroutine of its own: it is parked whenever it
// catches up, and its goroutine starts again when it falls behind, the
// stream ends or the session stops. end is called once, when the viewer
// is done, with the reason.
func (h *Handler) runViewer(ctx context.Context, sess *session, v *viewer, out *connWriter, end func(error)) {
	finish := func(err error) {
		if !errors.Is(err, errParked) {
			end(err)
		}
	}
	if out.canTrySend() {
		v.direct = out
		resume := func(reason error) {
			if errors.Is(reason, stream.ErrWouldBlock) {
				sess.fullSocket.Add(1)
			}
			go func() { finish(v.resume(ctx, reason)) }()
		}
		v.park = func() bool {
			return out.prepareDirect() == nil && sess.park(v, resume)
		}
	}
	go func() { finish(v.run(ctx)) }()
}

// serveFLVResponse runs a viewer through net/http's response writer, for
// responses that cannot be taken over.
func (h *Handler) serveFLVResponse(ctx context.Context, w http.ResponseWriter, sess *session) (*viewer, error) {
	rc := http.NewResponseController(w)
	sess.mu.Lock()
	sess.interrupt = func() { _ = rc.SetWriteDeadline(time.Now()) }
	sess.mu.Unlock()
	out := &httpTransport{w: w, rc: rc, sess: sess, timeout: h.cfg.WriteTimeout, pool: &h.batchBuffers}
	w.WriteHeader(http.StatusOK)
	v := newViewer(sess.reader, out, h.cfg, &sess.bytesOut)
	err := out.flush()
	if err == nil {
		err = v.run(ctx)
	}
	if !v.writeFailed {
		// The connection is sound (the stream ended, or the viewer was
		// stopped between writes): give the server time to end the chunked
		// body cleanly after a stop may have set a past deadline.
		_ = rc.SetWriteDeadline(time.Now().Add(h.cfg.WriteTimeout))
	}
	return v, err
}

// httpTransport writes a viewer's batches to an HTTP response: one Write
// (one chunk) and one Flush per batch, each under the write timeout.
type httpTransport struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	sess    *session
	timeout time.Duration
	pool    *sync.Pool // of *[]byte
}

// send implements transport: the batch is gathered into one pooled
// buffer and written as one chunk.
func (t *httpTransport) send(bufs [][]byte, _ int) error {
	if err := t.sess.arm(t.rc, t.timeout); err != nil {
		return err
	}
	return withGathered(t.pool, bufs, func(b []byte) error {
		if _, err := t.w.Write(b); err != nil {
			return err
		}
		return t.rc.Flush()
	})
}

// flush sends what is buffered (the response header) under the timeout.
func (t *httpTransport) flush() error {
	if err := t.sess.arm(t.rc, t.timeout); err != nil {
		return err
	}
	return t.rc.Flush()
}

// Sessions returns the current viewers, sorted by start time then ID.
func (h *Handler) Sessions() []Session {
	h.mu.Lock()
	out := make([]Session, 0, len(h.sessions))
	for _, s := range h.sessions {
		out = append(out, s.snapshot())
	}
	h.mu.Unlock()
	slices.SortFunc(out, func(a, b Session) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// Kick ends the viewer with the given ID: an HTTP-FLV response ends, a
// WebSocket-FLV viewer gets a close frame. It reports whether the viewer
// existed. The viewer is gone from Sessions once its goroutine has finished.
func (h *Handler) Kick(id string) bool {
	h.mu.Lock()
	s, ok := h.sessions[id]
	h.mu.Unlock()
	if ok {
		s.stop(ErrKicked)
	}
	return ok
}

// Close ends every viewer, refuses new ones (503) and waits until all
// viewer goroutines have returned. It is idempotent.
func (h *Handler) Close() {
	h.mu.Lock()
	h.closed = true
	live := make([]*session, 0, len(h.sessions))
	for _, s := range h.sessions {
		live = append(live, s)
	}
	h.mu.Unlock()
	for _, s := range live {
		s.stop(ErrShutdown)
	}
	h.wg.Wait()
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
