package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
)

// Limits on path and query values, checked before use.
const (
	// MaxNameLength caps an app or stream name (as stream.MaxNameLength).
	MaxNameLength = 128
	// MaxSessionIDLength caps a session id.
	MaxSessionIDLength = 64
)

// handler serves the API routes.
type handler struct {
	deps Deps
	log  *slog.Logger
	mux  *chi.Mux
}

// New returns the API handler. Its routes are absolute (BasePath + …):
// mount it at BasePath + "/" without stripping the prefix. It fails with
// an error wrapping ErrInvalidConfig when cfg does not validate. A nil log
// discards.
func New(cfg Config, deps Deps, log *slog.Logger) (http.Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new api handler: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if deps.Streams == nil {
		deps.Streams = noStreams{}
	}
	if deps.Sessions == nil {
		deps.Sessions = noSessions{}
	}
	if deps.Keys == nil {
		deps.Keys = noKeys{}
	}
	if deps.Recordings == nil {
		deps.Recordings = noRecordings{}
	}
	if deps.Forwards == nil {
		deps.Forwards = noForwards{streams: deps.Streams}
	}
	if deps.Server == nil {
		deps.Server = func() ServerInfo { return ServerInfo{} }
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	h := &handler{deps: deps, log: log.With("component", "api"), mux: chi.NewRouter()}
	guard := deps.Guard
	if guard == nil {
		var err error
		if guard, err = NewGuard(cfg, nil, h.log); err != nil {
			return nil, fmt.Errorf("new api handler: %w", err)
		}
	}
	h.routes(guard)
	return h.mux, nil
}

// routes registers every route. openapi.json must list each of them (a
// test walks the router to check).
func (h *handler) routes(guard *Guard) {
	r := h.mux
	r.Use(guard.Protect)
	r.NotFound(h.notFound)
	r.MethodNotAllowed(h.methodNotAllowed)
	r.Get(BasePath+"/streams", h.listStreams)
	r.Get(BasePath+"/streams/{app}/{name}", h.getStream)
	r.Delete(BasePath+"/streams/{app}/{name}", h.kickStream)
	r.Post(BasePath+"/streams/{app}/{name}/reconnect", h.reconnectStream)
	r.Get(BasePath+"/streams/{app}/{name}/forwards", h.listForwards)
	r.Post(BasePath+"/streams/{app}/{name}/forwards", h.addForward)
	r.Delete(BasePath+"/streams/{app}/{name}/forwards/{id}", h.removeForward)
	r.Get(BasePath+"/sessions", h.listSessions)
	r.Get(BasePath+"/sessions/{id}", h.getSession)
	r.Delete(BasePath+"/sessions/{id}", h.kickSession)
	r.Get(BasePath+"/keys", h.listKeys)
	r.Post(BasePath+"/keys", h.createKey)
	r.Delete(BasePath+"/keys/{key_id}", h.revokeKey)
	r.Post(BasePath+"/keys/{key_id}/rotate", h.rotateKey)
	r.Post(BasePath+"/streams/{app}/{name}/recording", h.startRecording)
	r.Delete(BasePath+"/streams/{app}/{name}/recording", h.stopRecording)
	r.Get(BasePath+"/recordings", h.listRecordings)
	r.Delete(BasePath+"/recordings/{id}", h.deleteRecording)
	r.Get(BasePath+"/relays", h.listRelays)
	r.Get(BasePath+"/server", h.server)
	r.Get(BasePath+"/cluster", h.cluster)
	r.Get(BasePath+"/openapi.json", serveOpenAPI)
}

// notFound answers paths that match no route.
func (h *handler) notFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusNotFound, CodeNotFound, "no API route "+shorten(r.URL.Path))
}

// candidateMethods are the methods probed to fill the Allow header.
var candidateMethods = [...]string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// methodNotAllowed answers a known path with the wrong method, listing
// the allowed ones.
func (h *handler) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, m := range candidateMethods {
		if h.mux.Match(chi.NewRouteContext(), m, r.URL.Path) {
			allowed = append(allowed, m)
		}
	}
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	writeError(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed,
		fmt.Sprintf("method %s not allowed here; allowed: %s", shorten(r.Method), strings.Join(allowed, ", ")))
}

// listStreams serves GET /streams.
func (h *handler) listStreams(w http.ResponseWriter, r *http.Request) {
	p, err := parsePaging(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, CodeBadRequest, err.Error())
		return
	}
	all := h.deps.Streams.Streams()
	slices.SortFunc(all, func(a, b StreamInfo) int {
		if c := strings.Compare(a.App, b.App); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	now := h.deps.Now()
	page := pageOf(all, p)
	doc := listDoc[streamDoc]{Items: make([]streamDoc, 0, len(page)), Total: len(all), Page: p.page, PerPage: p.perPage}
	for _, s := range page {
		doc.Items = append(doc.Items, newStreamDoc(s, now))
	}
	writeJSON(w, http.StatusOK, doc)
}

// streamParams reads and checks {app} and {name}; on failure it has
// answered.
func streamParams(w http.ResponseWriter, r *http.Request) (app, name string, ok bool) {
	app, name = chi.URLParam(r, "app"), chi.URLParam(r, "name")
	for _, v := range []struct{ what, s string }{{"app", app}, {"stream name", name}} {
		if err := checkName(v.s); err != nil {
			writeError(w, http.StatusBadRequest, CodeBadRequest, v.what+": "+err.Error())
			return "", "", false
		}
	}
	return app, name, true
}

// getStream serves GET /streams/{app}/{name}.
func (h *handler) getStream(w http.ResponseWriter, r *http.Request) {
	app, name, ok := streamParams(w, r)
	if !ok {
		return
	}
	s, found := h.deps.Streams.Stream(app, name)
	if !found {
		writeError(w, http.StatusNotFound, CodeNotFound, "stream "+app+"/"+name+" is not live")
		return
	}
	writeJSON(w, http.StatusOK, newStreamDoc(s, h.deps.Now()))
}

// kickStream serves DELETE /streams/{app}/{name}: the publisher is
// disconnected and the stream ends.
func (h *handler) kickStream(w http.ResponseWriter, r *http.Request) {
	app, name, ok := streamParams(w, r)
	if !ok {
		return
	}
	if !h.deps.Streams.KickPublisher(app, name) {
		writeError(w, http.StatusNotFound, CodeNotFound, "stream "+app+"/"+name+" is not live")
		return
	}
	h.log.Info("publisher kicked through the API", "stream", app+"/"+name, "remote", r.RemoteAddr)
	w.WriteHeader(http.StatusNoContent)
}

// sessionFilter selects sessions for GET /sessions.
type sessionFilter struct {
	stream, role, protocol string
}

// parseSessionFilter reads ?stream=app/name, ?role and ?protocol.
func parseSessionFilter(r *http.Request) (sessionFilter, error) {
	q := r.URL.Query()
	f := sessionFilter{stream: q.Get("stream"), role: q.Get("role"), protocol: q.Get("protocol")}
	if q.Has("stream") {
		app, name, ok := strings.Cut(f.stream, "/")
		if !ok {
			return f, fmt.Errorf("stream filter %q: want app/name", shorten(f.stream))
		}
		if err := checkName(app); err != nil {
			return f, fmt.Errorf("stream filter app: %w", err)
		}
		if err := checkName(name); err != nil {
			return f, fmt.Errorf("stream filter name: %w", err)
		}
	}
	if q.Has("role") {
		switch f.role {
		case RolePublisher, RoleViewer, RoleConnecting:
		default:
			return f, fmt.Errorf("role filter %q: want %s, %s or %s", shorten(f.role), RolePublisher, RoleViewer, RoleConnecting)
		}
	}
	if q.Has("protocol") {
		if err := checkName(f.protocol); err != nil {
			return f, fmt.Errorf("protocol filter: %w", err)
		}
	}
	return f, nil
}

// match reports whether s passes the filter.
func (f sessionFilter) match(s SessionInfo) bool {
	return (f.stream == "" || s.Stream == f.stream) &&
		(f.role == "" || s.Role == f.role) &&
		(f.protocol == "" || s.Protocol == f.protocol)
}

// listSessions serves GET /sessions.
func (h *handler) listSessions(w http.ResponseWriter, r *http.Request) {
	p, err := parsePaging(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, CodeBadRequest, err.Error())
		return
	}
	f, err := parseSessionFilter(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, CodeBadRequest, err.Error())
		return
	}
	all := h.deps.Sessions.Sessions()
	selected := make([]SessionInfo, 0, len(all))
	for _, s := range all {
		if f.match(s) {
			selected = append(selected, s)
		}
	}
	slices.SortFunc(selected, func(a, b SessionInfo) int {
		if c := a.StartTime.Compare(b.StartTime); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	now := h.deps.Now()
	page := pageOf(selected, p)
	doc := listDoc[sessionDoc]{Items: make([]sessionDoc, 0, len(page)), Total: len(selected), Page: p.page, PerPage: p.perPage}
	for _, s := range page {
		doc.Items = append(doc.Items, newSessionDoc(s, now))
	}
	writeJSON(w, http.StatusOK, doc)
}

// sessionParam reads and checks {id}; on failure it has answered.
func sessionParam(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := chi.URLParam(r, "id")
	if err := checkSessionID(id); err != nil {
		writeError(w, http.StatusBadRequest, CodeBadRequest, err.Error())
		return "", false
	}
	return id, true
}

// getSession serves GET /sessions/{id}.
func (h *handler) getSession(w http.ResponseWriter, r *http.Request) {
	id, ok := sessionParam(w, r)
	if !ok {
		return
	}
	for _, s := range h.deps.Sessions.Sessions() {
		if s.ID == id {
			writeJSON(w, http.StatusOK, newSessionDoc(s, h.deps.Now()))
			return
		}
	}
	writeError(w, http.StatusNotFound, CodeNotFound, "no session "+id)
}

// kickSession serves DELETE /sessions/{id}: that one connection is
// closed.
func (h *handler) kickSession(w http.ResponseWriter, r *http.Request) {
	id, ok := sessionParam(w, r)
	if !ok {
		return
	}
	if !h.deps.Sessions.Kick(id) {
		writeError(w, http.StatusNotFound, CodeNotFound, "no session "+id)
		return
	}
	h.log.Info("session kicked through the API", "session", id, "remote", r.RemoteAddr)
	w.WriteHeader(http.StatusNoContent)
}

// server serves GET /server.
func (h *handler) server(w http.ResponseWriter, _ *http.Request) {
	info := h.deps.Server()
	now := h.deps.Now()
	doc := serverDoc{
		Version:   info.Version,
		StartTime: utc(info.StartTime),
		Counters:  info.Counters,
		Config:    MaskSecrets(info.Config),
	}
	if !info.StartTime.IsZero() {
		doc.UptimeSeconds = seconds(now.Sub(info.StartTime))
	}
	if doc.Counters == nil {
		doc.Counters = map[string]uint64{}
	}
	var viewers ViewerCounts
	for _, s := range h.deps.Streams.Streams() {
		doc.Totals.Streams++
		doc.Totals.BytesIn += s.BytesIn
		doc.Totals.DroppedFrames += s.Dropped
		viewers = viewers.add(s.Viewers)
	}
	doc.Totals.Viewers = newViewersDoc(viewers)
	for _, s := range h.deps.Sessions.Sessions() {
		doc.Totals.Sessions++
		doc.Totals.BytesOut += s.BytesOut
		if s.Role == RolePublisher {
			doc.Totals.Publishers++
		}
	}
	if h.deps.Totals != nil {
		t := h.deps.Totals()
		doc.Totals.BytesIn, doc.Totals.BytesOut, doc.Totals.DroppedFrames = t.BytesIn, t.BytesOut, t.Dropped
	}
	writeJSON(w, http.StatusOK, doc)
}

// paging is a validated ?page / ?per_page pair.
type paging struct {
	page, perPage int
}

// parsePaging reads ?page (≥ 1, default 1) and ?per_page (1..MaxPerPage,
// default DefaultPerPage).
func parsePaging(r *http.Request) (paging, error) {
	q := r.URL.Query()
	p := paging{page: 1, perPage: DefaultPerPage}
	if q.Has("page") {
		n, err := strconv.Atoi(q.Get("page"))
		if err != nil || n < 1 || n > MaxPage {
			return p, fmt.Errorf("page %q: want an integer from 1 to %d", shorten(q.Get("page")), MaxPage)
		}
		p.page = n
	}
	if q.Has("per_page") {
		n, err := strconv.Atoi(q.Get("per_page"))
		if err != nil || n < 1 || n > MaxPerPage {
			return p, fmt.Errorf("per_page %q: want an integer from 1 to %d", shorten(q.Get("per_page")), MaxPerPage)
		}
		p.perPage = n
	}
	return p, nil
}

// pageOf returns the items of page p (empty past the end).
func pageOf[T any](all []T, p paging) []T {
	start := (p.page - 1) * p.perPage
	if start >= len(all) {
		return nil
	}
	return all[start:min(start+p.perPage, len(all))]
}

// checkName checks an app or stream name as the stream hub does: 1 to
// MaxNameLength letters, digits or -_.~, not starting with a dot.
func checkName(s string) error {
	if s == "" || len(s) > MaxNameLength {
		return fmt.Errorf("length %d not in 1..%d", len(s), MaxNameLength)
	}
	if s[0] == '.' {
		return fmt.Errorf("%q starts with a dot", shorten(s))
	}
	for i := 0; i < len(s); i++ {
		if !nameChar(s[i]) {
			return fmt.Errorf("%q has character %q", shorten(s), s[i])
		}
	}
	return nil
}

// checkSessionID checks a session id: 1 to MaxSessionIDLength letters,
// digits or -_.~.
func checkSessionID(s string) error {
	if s == "" || len(s) > MaxSessionIDLength {
		return fmt.Errorf("session id of length %d not in 1..%d", len(s), MaxSessionIDLength)
	}
	for i := 0; i < len(s); i++ {
		if !nameChar(s[i]) {
			return fmt.Errorf("session id %q has character %q", shorten(s), s[i])
		}
	}
	return nil
}

// nameChar reports whether c may appear in a name or id.
func nameChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	case c == '-' || c == '_' || c == '.' || c == '~':
		return true
	}
	return false
}

// shorten caps client-supplied text echoed in a message.
func shorten(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
