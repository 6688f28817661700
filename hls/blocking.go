package hls

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/mediaserver/mediaserver/internal/mediahttp"
	"github.com/mediaserver/mediaserver/stream"
)

// Cache-Control of playlists of the lowlatency variant. A blocking answer
// is for one (msn, part) and holds it for good; the next part is one part
// target away, so caches may keep it about that long (the query is part of
// the cache key). The plain playlist is a client's first load, after which
// it follows with blocking requests: a second-old copy only starts it a
// part or two further back, and lets a cache answer a crowd of first loads
// with one origin request (an uncacheable answer would make nginx's
// proxy_cache_lock queue them one by one).
const (
	blockingCacheControl = "public, max-age=1"
	liveLLCacheControl   = "public, max-age=1"
)

// directives are the delivery directives of a playlist request (RFC
// 8216bis section 6.2.5).
type directives struct {
	msn  uint64
	part int // -1: none
	// block is set when _HLS_msn is present: the request waits for msn
	// (and part).
	block bool
	skip  bool // _HLS_skip=YES or v2: a delta update will do
}

// parseDirectives reads _HLS_msn, _HLS_part and _HLS_skip, failing with
// ErrInvalidDirective for a malformed value or a part without msn.
func parseDirectives(q url.Values) (directives, error) {
	d := directives{part: -1}
	if v, ok := q["_HLS_msn"]; ok {
		n, err := strconv.ParseUint(v[0], 10, 64)
		if err != nil || len(v) > 1 {
			return d, fmt.Errorf("%w: _HLS_msn=%q", ErrInvalidDirective, shorten(v[0]))
		}
		d.msn, d.block = n, true
	}
	if v, ok := q["_HLS_part"]; ok {
		n, err := strconv.ParseUint(v[0], 10, 31)
		if err != nil || len(v) > 1 {
			return d, fmt.Errorf("%w: _HLS_part=%q", ErrInvalidDirective, shorten(v[0]))
		}
		if !d.block {
			return d, fmt.Errorf("%w: _HLS_part without _HLS_msn", ErrInvalidDirective)
		}
		d.part = int(n)
	}
	if v, ok := q["_HLS_skip"]; ok {
		if len(v) > 1 || v[0] != "YES" && v[0] != "v2" {
			return d, fmt.Errorf("%w: _HLS_skip=%q", ErrInvalidDirective, shorten(v[0]))
		}
		d.skip = true
	}
	return d, nil
}

// servePlaylist serves the media playlist: at once, or once the first
// segment of a live stream is there (waiting up to one target duration),
// or, for a blocking reload of the lowlatency variant, once it holds the
// segment or part asked for (waiting up to Config.BlockingTimeout).
// Every waiter wakes on the one channel each change closes and answers
// with the playlist bytes built once for that change.
func (m *Manager) servePlaylist(w http.ResponseWriter, r *http.Request, path string) {
	key, ok := mediahttp.Key(w, path, playlistSuffix, "")
	if !ok {
		return
	}
	if m.serveVariantPlaylist(w, r, key) {
		return // a multivariant playlist or a rendition's (variants_http.go)
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
	m.serveMediaPlaylist(w, r, key, st)
}

// serveMediaPlaylist serves the media playlist of st (servePlaylist) to an
// authorised request for key.
func (m *Manager) serveMediaPlaylist(w http.ResponseWriter, r *http.Request, key stream.Key, st *streamState) {
	var err error
	var dir directives
	if st.variant == VariantLowLatency {
		if dir, err = parseDirectives(r.URL.Query()); err != nil {
			mediahttp.Error(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	query := propagatedQuery(r.URL.RawQuery)
	client := clientOf(r.RemoteAddr)
	limit := m.cfg.SegmentDuration
	if dir.block {
		limit = m.cfg.BlockingTimeout
	}
	start := m.now()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	for {
		st.mu.Lock()
		st.touch(client, m.now())
		body, etag, target := st.playlist, st.etag, st.target
		ready := body != nil
		if ready && dir.block {
			if dir.msn > st.nextSeq+1 {
				last := st.nextSeq - 1
				st.mu.Unlock()
				mediahttp.Error(w, http.StatusBadRequest, fmt.Sprintf(
					"%v: _HLS_msn=%d is beyond the last segment (%d) plus two", ErrInvalidDirective, dir.msn, last))
				return
			}
			ready = st.endList || st.reached(dir.msn, dir.part)
		}
		if ready && dir.skip && st.delta != nil {
			body, etag = st.delta, etag[:len(etag)-1]+`-skip"`
		}
		live, freed, changed, ended := st.live, st.freed, st.changed, st.endList
		st.mu.Unlock()
		switch {
		case ready:
			if st.variant == VariantLowLatency && !ended {
				body = m.withRenditionReports(body, st)
			}
			if query != "" {
				body = withURIQuery(body, query)
			}
			h := w.Header()
			h.Set("Content-Type", contentTypePlaylist)
			switch {
			case dir.block:
				h.Set("Cache-Control", blockingCacheControl)
				if m.log.Enabled(r.Context(), slog.LevelDebug) {
					m.log.Debug("blocking reload answered", "stream", key.String(), "msn", dir.msn, "part", dir.part,
						"waited", m.now().Sub(start))
				}
			case st.variant == VariantLowLatency && !ended:
				h.Set("Cache-Control", liveLLCacheControl)
			default:
				h.Set("Cache-Control", fmt.Sprintf("public, max-age=%d", max(1, target/2)))
			}
			h.Set("ETag", etag)
			// No Last-Modified: a playlist changes several times a second at
			// most, below its one-second resolution; the ETag validates.
			http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
			return
		case freed || !live && body == nil:
			mediahttp.Error(w, http.StatusNotFound, "stream not found")
			return
		case m.leftGroup(key):
			mediahttp.Error(w, http.StatusNotFound, "stream not live: it left its group")
			return
		}
		if !st.wait(changed, timer.C, r.Context().Done()) {
			m.answerNotYet(w, st, body != nil && dir.block)
			return
		}
	}
}

// answerNotYet answers 503 to a playlist request whose wait ran out:
// blocked for a part or segment that did not come in time, or for the
// first segment.
func (m *Manager) answerNotYet(w http.ResponseWriter, st *streamState, blocked bool) {
	if blocked {
		w.Header().Set("Retry-After", "1")
		mediahttp.Error(w, http.StatusServiceUnavailable, fmt.Sprintf(
			"the segment or part asked for did not come within %v (hls.blocking_timeout)", m.cfg.BlockingTimeout))
		return
	}
	st.mu.Lock()
	msg := "stream starting, no segment yet"
	if left := st.leftOutReason(); left != "" {
		msg = "no segment: no track of the stream can be carried in HLS (" + left + ")"
	}
	st.mu.Unlock()
	w.Header().Set("Retry-After", "1")
	mediahttp.Error(w, http.StatusServiceUnavailable, msg)
}

// mediaBody is what serveMedia sends: a stored segment body (a byte range
// of it for a part of a finished segment) or bytes held in memory.
type mediaBody struct {
	stored   segmentBody
	from, to int // the byte range of stored; to == 0: all of it
	held     bool
	data     []byte // when held
	created  time.Time
}

// serveMedia serves a stored segment, part or init section. A GET of the
// part the preload hint names waits (up to Config.BlockingTimeout) until
// the part is complete and returns it whole.
func (m *Manager) serveMedia(w http.ResponseWriter, r *http.Request, path string) {
	ref, err := parseMediaPath(path)
	if err != nil {
		mediahttp.Error(w, http.StatusNotFound, err.Error())
		return
	}
	// Media is authorised like the playlist, with the query the playlist
	// propagated into its URIs: the play secret's token is checked every
	// time, an on_play answer comes from the play cache.
	if !m.authorize(w, r, m.authKey(ref.key)) {
		return // refused and answered
	}
	st := m.existing(ref.key)
	if st == nil {
		mediahttp.Error(w, http.StatusNotFound, "stream not found")
		return
	}
	body, found := m.lookupMedia(st, ref, r)
	if !found {
		mediahttp.Error(w, http.StatusNotFound, "segment not found")
		return
	}
	content := io.ReadSeeker(bytes.NewReader(body.data))
	if !body.held {
		rc, err := body.stored.open()
		if err != nil {
			mediahttp.Error(w, http.StatusNotFound, "segment not found")
			return
		}
		defer rc.Close()
		content = rc
		if body.to > 0 {
			at, ok := rc.(io.ReaderAt) // the memory and disk stores' readers are
			if !ok {
				mediahttp.Error(w, http.StatusNotFound, "part not found")
				return
			}
			content = io.NewSectionReader(at, int64(body.from), int64(body.to-body.from))
		}
	}
	h := w.Header()
	switch {
	case ref.kind != mediaSegment || st.variant != VariantMPEGTS:
		h.Set("Content-Type", contentTypeMP4)
	default:
		h.Set("Content-Type", contentTypeSegment)
	}
	h.Set("Cache-Control", segmentCacheControl)
	h.Set("ETag", `"`+ref.file+`"`)
	http.ServeContent(w, r, "", body.created, content)
}

// lookupMedia finds what ref names in st, waiting for the next part when
// ref names it.
func (m *Manager) lookupMedia(st *streamState, ref mediaRef, r *http.Request) (mediaBody, bool) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	client := clientOf(r.RemoteAddr)
	for {
		st.mu.Lock()
		st.touch(client, m.now())
		if subtle.ConstantTimeCompare([]byte(st.token), []byte(ref.token)) != 1 {
			st.mu.Unlock()
			return mediaBody{}, false
		}
		body, found, next := st.media(ref)
		changed := st.changed
		st.mu.Unlock()
		if found || !next {
			return body, found
		}
		if timer == nil {
			timer = time.NewTimer(m.cfg.BlockingTimeout)
		}
		if !st.wait(changed, timer.C, r.Context().Done()) {
			return mediaBody{}, false
		}
	}
}

// media returns what ref names in st; next is set when it names the part
// the preload hint names, not there yet. st.mu must be held.
func (st *streamState) media(ref mediaRef) (body mediaBody, found, next bool) {
	switch ref.kind {
	case mediaSegment:
		if e := st.find(ref.num); e != nil && e.name == ref.file {
			return mediaBody{stored: e.body, created: e.created}, true, false
		}
	case mediaInit:
		if ref.num <= math.MaxInt32 {
			if in := st.initOf(int(ref.num)); in != nil {
				return mediaBody{held: true, data: in.data, created: in.created}, true, false
			}
		}
	case mediaPart:
		if loc, ok := st.findPart(ref.num); ok {
			p := loc.part
			if loc.seg == nil {
				return mediaBody{held: true, data: p.data, created: p.created}, true, false
			}
			return mediaBody{stored: loc.seg.body, from: p.offset, to: p.offset + p.size, created: p.created}, true, false
		}
		return mediaBody{}, false, ref.num == st.nextPart && !st.freed && !st.endList
	}
	return mediaBody{}, false, false
}
