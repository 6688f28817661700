package hls

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mediaserver/mediaserver/internal/mediahttp"
	"github.com/mediaserver/mediaserver/stream"
)

// HTTP response details.
const (
	playlistSuffix      = ".m3u8"
	segmentSuffix       = ".ts"
	contentTypePlaylist = "application/vnd.apple.mpegurl"
	contentTypeSegment  = "video/mp2t"
	// segmentCacheControl: segment URIs are never reused, so caches may keep
	// them as long as they like.
	segmentCacheControl = "public, max-age=31536000, immutable"
	// maxTokenLen bounds the token part of a segment name: the 26
	// characters newStateToken writes.
	maxTokenLen = 26
)

// ServeHTTP answers GET and HEAD for /{app}/{name}.m3u8 (the media
// playlist) and /{app}/{name}/{token}-{seq}.ts (segments), and CORS
// preflight requests for both. A GET of either is authorised with the
// query it carries; the playlist appends its query (but the _HLS_
// delivery directives) to the URIs it lists.
func (m *Manager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !m.front.Admit(w, r) {
		return
	}
	path := r.URL.Path
	switch {
	case strings.HasSuffix(path, playlistSuffix):
		m.servePlaylist(w, r, path)
	case strings.HasSuffix(path, segmentSuffix):
		m.serveSegment(w, r, path)
	default:
		mediahttp.Error(w, http.StatusNotFound, "not an HLS path")
	}
}

// servePlaylist serves the media playlist, waiting up to one target
// duration for the first segment of a live stream.
func (m *Manager) servePlaylist(w http.ResponseWriter, r *http.Request, path string) {
	key, ok := mediahttp.Key(w, path, playlistSuffix, "")
	if !ok {
		return
	}
	if !m.authorize(w, r, key) {
		return // refused and answered
	}
	st, err := m.stateFor(key)
	if errors.Is(err, ErrMemoryFull) {
		w.Header().Set("Retry-After", "5")
		mediahttp.Error(w, http.StatusServiceUnavailable,
			"the server's media memory is full (stream.memory_budget); try again later")
		return
	}
	if err != nil || st == nil {
		mediahttp.Error(w, http.StatusNotFound, "stream not found")
		return
	}
	query := propagatedQuery(r.URL.RawQuery)
	client := clientOf(r.RemoteAddr)
	timer := time.NewTimer(m.cfg.SegmentDuration)
	defer timer.Stop()
	for {
		st.mu.Lock()
		st.touch(client, m.now())
		body, etag, target := st.playlist, st.etag, st.target
		live, freed, changed := st.live, st.freed, st.changed
		st.mu.Unlock()
		switch {
		case body != nil:
			if query != "" {
				body = withURIQuery(body, query)
			}
			h := w.Header()
			h.Set("Content-Type", contentTypePlaylist)
			h.Set("Cache-Control", fmt.Sprintf("public, max-age=%d", max(1, target/2)))
			h.Set("ETag", etag)
			// No Last-Modified: a playlist changes several times a second at
			// most, below its one-second resolution; the ETag validates.
			http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
			return
		case freed || !live:
			mediahttp.Error(w, http.StatusNotFound, "stream not found")
			return
		}
		if !st.wait(changed, timer.C, r.Context().Done()) {
			st.mu.Lock()
			msg := "stream starting, no segment yet"
			if left := st.leftOutReason(); left != "" {
				msg = "no segment: no track of the stream can be carried in HLS (" + left + ")"
			}
			st.mu.Unlock()
			w.Header().Set("Retry-After", "1")
			mediahttp.Error(w, http.StatusServiceUnavailable, msg)
			return
		}
	}
}

// serveSegment serves one stored segment.
func (m *Manager) serveSegment(w http.ResponseWriter, r *http.Request, path string) {
	key, token, seq, err := parseSegmentPath(path)
	if err != nil {
		mediahttp.Error(w, http.StatusNotFound, err.Error())
		return
	}
	// Segments are authorised like the playlist, with the query the
	// playlist propagated into their URIs: the play secret's token is
	// checked every time, an on_play answer comes from the play cache.
	if !m.authorize(w, r, key) {
		return // refused and answered
	}
	st := m.existing(key)
	if st == nil {
		mediahttp.Error(w, http.StatusNotFound, "stream not found")
		return
	}
	st.mu.Lock()
	st.touch(clientOf(r.RemoteAddr), m.now())
	var e *segmentEntry
	if subtle.ConstantTimeCompare([]byte(st.token), []byte(token)) == 1 {
		e = st.find(seq)
	}
	var body segmentBody
	var created time.Time
	if e != nil {
		body, created = e.body, e.created
	}
	st.mu.Unlock()
	if e == nil {
		mediahttp.Error(w, http.StatusNotFound, "segment not found")
		return
	}
	rc, err := body.open()
	if err != nil {
		mediahttp.Error(w, http.StatusNotFound, "segment not found")
		return
	}
	defer rc.Close()
	h := w.Header()
	h.Set("Content-Type", contentTypeSegment)
	h.Set("Cache-Control", segmentCacheControl)
	h.Set("ETag", `"`+token+"-"+strconv.FormatUint(seq, 10)+`"`)
	http.ServeContent(w, r, "", created, io.ReadSeeker(rc))
}

// propagatedQuery returns the query of a playlist request that the
// playlist appends to the URIs it lists, the way a CDN carries a signed
// URL's token to the segments: every parameter but the _HLS_ delivery
// directives, re-encoded so that nothing but URL characters reaches the
// playlist ("" when none is left).
func propagatedQuery(raw string) string {
	if raw == "" {
		return ""
	}
	v, _ := url.ParseQuery(raw) // what parsed, even when a later pair did not
	for k := range v {
		if strings.HasPrefix(k, "_HLS_") {
			delete(v, k)
		}
	}
	return v.Encode()
}

// withURIQuery returns a copy of playlist with query appended to every URI
// it lists: the URI lines and the URI="…" attributes of tags.
func withURIQuery(playlist []byte, query string) []byte {
	out := make([]byte, 0, len(playlist)+bytes.Count(playlist, []byte("\n"))*(len(query)+1))
	for line := range bytes.Lines(playlist) {
		text := bytes.TrimRight(line, "\r\n")
		eol := line[len(text):]
		switch {
		case len(text) == 0:
			out = append(out, line...)
		case text[0] != '#':
			out = appendWithQuery(out, text, query)
			out = append(out, eol...)
		default:
			for {
				i := bytes.Index(text, []byte(`URI="`))
				if i < 0 {
					break
				}
				i += len(`URI="`)
				end := bytes.IndexByte(text[i:], '"')
				if end < 0 {
					break
				}
				out = append(out, text[:i]...)
				out = appendWithQuery(out, text[i:i+end], query)
				text = text[i+end:]
			}
			out = append(out, text...)
			out = append(out, eol...)
		}
	}
	return out
}

// appendWithQuery appends uri with query added to it.
func appendWithQuery(out, uri []byte, query string) []byte {
	out = append(out, uri...)
	if bytes.IndexByte(uri, '?') >= 0 {
		out = append(out, '&')
	} else {
		out = append(out, '?')
	}
	return append(out, query...)
}

// segmentPath returns the URL path of a segment.
func segmentPath(key stream.Key, token string, seq uint64) string {
	return "/" + key.App + "/" + key.Name + "/" + segmentName(token, seq)
}

// parseSegmentPath parses /{app}/{name}/{token}-{seq}.ts. Only the
// canonical form segmentPath writes is accepted.
func parseSegmentPath(path string) (key stream.Key, token string, seq uint64, err error) {
	rest, ok := strings.CutPrefix(path, "/")
	if !ok {
		return key, "", 0, fmt.Errorf("%w: %q is not absolute", ErrInvalidPath, shorten(path))
	}
	app, rest, ok1 := strings.Cut(rest, "/")
	name, file, ok2 := strings.Cut(rest, "/")
	if !ok1 || !ok2 {
		return key, "", 0, fmt.Errorf("%w: %q is not /app/name/file.ts", ErrInvalidPath, shorten(path))
	}
	if err := stream.CheckName(app); err != nil {
		return key, "", 0, fmt.Errorf("%w: %w", ErrInvalidPath, err)
	}
	if err := stream.CheckName(name); err != nil {
		return key, "", 0, fmt.Errorf("%w: %w", ErrInvalidPath, err)
	}
	base, ok := strings.CutSuffix(file, segmentSuffix)
	if !ok {
		return key, "", 0, fmt.Errorf("%w: %q is not a segment", ErrInvalidPath, shorten(file))
	}
	token, num, ok := strings.Cut(base, "-")
	if !ok || !validToken(token) {
		return key, "", 0, fmt.Errorf("%w: bad segment name %q", ErrInvalidPath, shorten(file))
	}
	seq, err = strconv.ParseUint(num, 10, 64)
	if err != nil || strconv.FormatUint(seq, 10) != num {
		return key, "", 0, fmt.Errorf("%w: bad sequence number in %q", ErrInvalidPath, shorten(file))
	}
	return stream.Key{App: app, Name: name}, token, seq, nil
}

// validToken reports whether s can be a state token: 1..maxTokenLen
// lower-case letters and digits.
func validToken(s string) bool {
	if s == "" || len(s) > maxTokenLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'z') {
			return false
		}
	}
	return true
}

// shorten truncates s for an error message.
func shorten(s string) string {
	const limit = 64
	if len(s) > limit {
		return s[:limit] + "…"
	}
	return s
}

// wait blocks until changed is closed (true) or timeout or cancel fires
// (false), counted as a waiting request so that an idle segmenter is not
// stopped under it.
func (st *streamState) wait(changed <-chan struct{}, timeout <-chan time.Time, cancel <-chan struct{}) bool {
	st.mu.Lock()
	st.waiting++
	st.mu.Unlock()
	defer func() {
		st.mu.Lock()
		st.waiting--
		st.mu.Unlock()
	}()
	select {
	case <-changed:
		return true
	case <-timeout:
	case <-cancel:
	}
	return false
}

// authorize asks whether the client of r may play key over HLS, with the
// request's query; a refusal is answered and false returned. Playlists and
// segments are authorised alike.
func (m *Manager) authorize(w http.ResponseWriter, r *http.Request, key stream.Key) bool {
	return m.front.Authorize(w, r, stream.AccessRequest{
		Action: stream.ActionPlay, Protocol: stream.ProtocolHLS, Key: key, Query: r.URL.RawQuery, RemoteAddr: r.RemoteAddr,
	}) == nil
}
