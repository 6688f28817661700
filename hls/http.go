package hls

import (
	"bytes"
	"fmt"
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
	fragmentSuffix      = ".m4s" // fMP4 segments and parts
	initSuffix          = ".mp4"
	contentTypePlaylist = "application/vnd.apple.mpegurl"
	contentTypeSegment  = "video/mp2t"
	contentTypeMP4      = "video/mp4"
	// segmentCacheControl: segment URIs are never reused, so caches may keep
	// them as long as they like.
	segmentCacheControl = "public, max-age=31536000, immutable"
	// maxTokenLen bounds the token part of a segment name: the 26
	// characters newStateToken writes.
	maxTokenLen = 26
)

// ServeHTTP answers GET and HEAD for /{app}/{name}.m3u8 (the media
// playlist), /{app}/{name}/{token}-{seq}.ts or .m4s (segments),
// /{app}/{name}/{token}-part{n}.m4s (LL-HLS parts) and
// /{app}/{name}/{token}-init{gen}.mp4 (init sections), and CORS preflight
// requests for all. A GET of any is authorised with the query it carries;
// the playlist appends its query (but the _HLS_ delivery directives) to
// the URIs it lists.
func (m *Manager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !m.front.Admit(w, r) {
		return
	}
	path := r.URL.Path
	switch {
	case strings.HasSuffix(path, playlistSuffix):
		m.servePlaylist(w, r, path)
	case strings.HasSuffix(path, segmentSuffix), strings.HasSuffix(path, fragmentSuffix),
		strings.HasSuffix(path, initSuffix):
		m.serveMedia(w, r, path)
	default:
		mediahttp.Error(w, http.StatusNotFound, "not an HLS path")
	}
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

// mediaKind tells what a media path names.
type mediaKind int

// Media kinds.
const (
	mediaSegment mediaKind = iota // {token}-{seq}.ts or .m4s
	mediaPart                     // {token}-part{n}.m4s
	mediaInit                     // {token}-init{gen}.mp4
)

// mediaRef is a parsed media path.
type mediaRef struct {
	key   stream.Key
	token string
	kind  mediaKind
	num   uint64 // the segment's sequence number, the part's n, the init's generation
	file  string // the file name
}

// parseSegmentPath parses /{app}/{name}/{token}-{seq}.ts. Only the
// canonical form segmentPath writes is accepted.
func parseSegmentPath(path string) (key stream.Key, token string, seq uint64, err error) {
	ref, err := parseMediaPath(path)
	if err == nil && (ref.kind != mediaSegment || !strings.HasSuffix(ref.file, segmentSuffix)) {
		err = fmt.Errorf("%w: %q is not a segment", ErrInvalidPath, shorten(ref.file))
	}
	if err != nil {
		return key, "", 0, err
	}
	return ref.key, ref.token, ref.num, nil
}

// parseMediaPath parses the path of a segment, part or init section
// (ServeHTTP). Only the canonical forms segmentName, partName and initName
// write are accepted.
func parseMediaPath(path string) (mediaRef, error) {
	var ref mediaRef
	rest, ok := strings.CutPrefix(path, "/")
	if !ok {
		return ref, fmt.Errorf("%w: %q is not absolute", ErrInvalidPath, shorten(path))
	}
	app, rest, ok1 := strings.Cut(rest, "/")
	name, file, ok2 := strings.Cut(rest, "/")
	if !ok1 || !ok2 {
		return ref, fmt.Errorf("%w: %q is not /app/name/file", ErrInvalidPath, shorten(path))
	}
	if err := stream.CheckName(app); err != nil {
		return ref, fmt.Errorf("%w: %w", ErrInvalidPath, err)
	}
	if err := stream.CheckName(name); err != nil {
		return ref, fmt.Errorf("%w: %w", ErrInvalidPath, err)
	}
	ref.key, ref.file = stream.Key{App: app, Name: name}, file
	base, prefix := "", ""
	if b, ok := strings.CutSuffix(file, segmentSuffix); ok {
		base = b
	} else if b, ok := strings.CutSuffix(file, fragmentSuffix); ok {
		base = b
		if t, n, ok := strings.Cut(b, "-part"); ok {
			base, prefix, ref.kind = t+"-"+n, "part", mediaPart
		}
	} else if b, ok := strings.CutSuffix(file, initSuffix); ok {
		t, n, ok := strings.Cut(b, "-init")
		if !ok {
			return ref, fmt.Errorf("%w: %q is not an init section", ErrInvalidPath, shorten(file))
		}
		base, prefix, ref.kind = t+"-"+n, "init", mediaInit
	} else {
		return ref, fmt.Errorf("%w: %q is not a segment", ErrInvalidPath, shorten(file))
	}
	token, num, ok := strings.Cut(base, "-")
	if !ok || !validToken(token) {
		return ref, fmt.Errorf("%w: bad %s name %q", ErrInvalidPath, "media", shorten(file))
	}
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil || strconv.FormatUint(n, 10) != num {
		return ref, fmt.Errorf("%w: bad %snumber in %q", ErrInvalidPath, prefix, shorten(file))
	}
	ref.token, ref.num = token, n
	return ref, nil
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
