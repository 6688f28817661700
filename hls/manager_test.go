package hls

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/stream"
)

var camKey = stream.Key{App: "live", Name: "cam"}

// testManager is a Manager over a real registry, with an HTTP server.
type testManager struct {
	m   *Manager
	hub *stream.Registry
	srv *httptest.Server
}

func startManager(t *testing.T, cfg Config) *testManager {
	t.Helper()
	if cfg.Variant == "" {
		cfg.Variant = VariantMPEGTS // these tests read MPEG-TS segments
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	hub, err := stream.NewRegistry(stream.Config{}, log)
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewManager(cfg, hub, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m)
	t.Cleanup(func() {
		srv.Close()
		hub.Close()
		m.Close()
	})
	return &testManager{m: m, hub: hub, srv: srv}
}

func (tm *testManager) publish(t *testing.T, key stream.Key) *stream.Publisher {
	t.Helper()
	p, err := tm.hub.Publish(key, stream.PublisherInfo{ID: "test", Protocol: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func writeFrames(p *stream.Publisher, frames []*stream.Frame) {
	for _, f := range frames {
		p.WriteFrame(f)
	}
}

// get fetches a path with optional request headers (name, value pairs).
func (tm *testManager) get(t *testing.T, method, path string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, tm.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// waitPlaylist polls the playlist until cond holds for a valid parse.
func (tm *testManager) waitPlaylist(t *testing.T, path string, what string, cond func(parsedPlaylist) bool) parsedPlaylist {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, body := tm.get(t, http.MethodGet, path)
		if resp.StatusCode == http.StatusOK {
			p, err := newPlaylistChecker().check(body)
			if err != nil {
				t.Fatalf("%v\n%s", err, body)
			}
			if cond(p) {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; last answer %d:\n%s", what, resp.StatusCode, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestHTTPPlaylistAndSegments(t *testing.T) {
	tm := startManager(t, Config{})
	pub := tm.publish(t, camKey)
	writeFrames(pub, source{fps: 30, gop: 30, audio: true}.frames(t, 8100))
	p := tm.waitPlaylist(t, "/live/cam.m3u8", "4 segments", func(p parsedPlaylist) bool { return len(p.segments) == 4 })

	resp, body := tm.get(t, http.MethodGet, "/live/cam.m3u8", "Origin", "https://player.example")
	h := resp.Header
	if ct := h.Get("Content-Type"); ct != "application/vnd.apple.mpegurl" {
		t.Errorf("playlist Content-Type %q", ct)
	}
	if cc := h.Get("Cache-Control"); cc != "public, max-age=1" {
		t.Errorf("playlist Cache-Control %q", cc)
	}
	if o := h.Get("Access-Control-Allow-Origin"); o != "*" {
		t.Errorf("Access-Control-Allow-Origin %q", o)
	}
	if h.Get("Last-Modified") != "" || h.Get("ETag") == "" {
		t.Errorf("playlist validators: Last-Modified %q, ETag %q", h.Get("Last-Modified"), h.Get("ETag"))
	}
	if r, _ := tm.get(t, http.MethodGet, "/live/cam.m3u8", "If-None-Match", h.Get("ETag")); r.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: status %d, want 304", r.StatusCode)
	}
	if _, err := newPlaylistChecker().check(body); err != nil {
		t.Fatal(err)
	}

	for _, seg := range p.segments {
		path := "/live/" + seg.uri
		resp, data := tm.get(t, http.MethodGet, path)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "video/mp2t" {
			t.Errorf("segment Content-Type %q", ct)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Errorf("segment Cache-Control %q", cc)
		}
		if len(data) == 0 || len(data)%188 != 0 || data[0] != 0x47 {
			t.Errorf("segment %s: %d bytes", path, len(data))
		}
		if r, b := tm.get(t, http.MethodHead, path); r.StatusCode != http.StatusOK || len(b) != 0 {
			t.Errorf("HEAD %s: %d with %d bytes", path, r.StatusCode, len(b))
		}
		if r, b := tm.get(t, http.MethodGet, path, "Range", "bytes=188-375"); r.StatusCode != http.StatusPartialContent || len(b) != 188 {
			t.Errorf("range request: %d with %d bytes", r.StatusCode, len(b))
		}
	}
	st, ok := tm.m.Stats(camKey)
	if !ok || !st.Live || st.Segments != 4 || st.MediaSequence != 1 || st.LastSequence != 4 ||
		st.LastSegmentDuration != 2*time.Second || st.TargetDuration != 2*time.Second || st.Bytes == 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestHTTPErrors(t *testing.T) {
	tm := startManager(t, Config{})
	pub := tm.publish(t, camKey)
	writeFrames(pub, source{fps: 30, gop: 30}.frames(t, 4100))
	p := tm.waitPlaylist(t, "/live/cam.m3u8", "a segment", func(p parsedPlaylist) bool { return len(p.segments) > 0 })
	token, _, _ := strings.Cut(strings.TrimPrefix(p.segments[0].uri, "cam/"), "-")
	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/live/nobody.m3u8", http.StatusNotFound},
		{http.MethodGet, "/live/cam/" + token + "-99.ts", http.StatusNotFound},
		{http.MethodGet, "/live/cam/" + token + "-00.ts", http.StatusNotFound},
		{http.MethodGet, "/live/cam/zzz-0.ts", http.StatusNotFound},
		{http.MethodGet, "/live/cam/0.ts", http.StatusNotFound},
		{http.MethodGet, "/live/cam.ts", http.StatusNotFound},
		{http.MethodGet, "/a/b/c/d.ts", http.StatusNotFound},
		{http.MethodGet, "/live/.hidden.m3u8", http.StatusNotFound},
		{http.MethodGet, "/live/cam.flv", http.StatusNotFound},
		{http.MethodPost, "/live/cam.m3u8", http.StatusMethodNotAllowed},
	}
	for _, tc := range tests {
		resp, _ := tm.get(t, tc.method, tc.path)
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, resp.StatusCode, tc.want)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s %s: Cache-Control %q", tc.method, tc.path, cc)
		}
	}
}

func TestHTTPCORS(t *testing.T) {
	tm := startManager(t, Config{AllowedOrigins: []string{"https://good.example"}})
	resp, _ := tm.get(t, http.MethodGet, "/live/nobody.m3u8", "Origin", "https://good.example")
	if o := resp.Header.Get("Access-Control-Allow-Origin"); o != "https://good.example" || resp.Header.Get("Vary") != "Origin" {
		t.Errorf("allowed origin: ACAO %q, Vary %q", o, resp.Header.Get("Vary"))
	}
	if resp, _ := tm.get(t, http.MethodGet, "/live/nobody.m3u8", "Origin", "https://evil.example"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("other origin: %d, want 403", resp.StatusCode)
	}
	resp, _ = tm.get(t, http.MethodOptions, "/live/cam.m3u8", "Origin", "https://good.example",
		"Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "range")
	if resp.StatusCode != http.StatusNoContent || !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "GET") ||
		resp.Header.Get("Access-Control-Allow-Headers") != "range" {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestHTTPWaitsForFirstSegment(t *testing.T) {
	tm := startManager(t, Config{SegmentDuration: 2 * time.Second})
	pub := tm.publish(t, camKey)
	frames := source{fps: 30, gop: 30, audio: true}.frames(t, 2100)
	writeFrames(pub, frames[:2]) // headers only: no segment yet
	type answer struct {
		code int
		body []byte
	}
	done := make(chan answer, 1)
	go func() {
		resp, err := http.Get(tm.srv.URL + "/live/cam.m3u8")
		if err != nil {
			done <- answer{code: -1, body: []byte(err.Error())}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		done <- answer{resp.StatusCode, b}
	}()
	// The request registered as a viewer before it started waiting.
	waitFor(t, "the request to arrive", func() bool { return tm.m.Viewers(camKey) == 1 })
	writeFrames(pub, frames[2:])
	a := <-done
	if a.code != http.StatusOK {
		t.Fatalf("waiting request: %d %s", a.code, a.body)
	}
	if _, err := newPlaylistChecker().check(a.body); err != nil {
		t.Fatal(err)
	}
}

func TestHTTPNotReadyIsServiceUnavailable(t *testing.T) {
	tm := startManager(t, Config{SegmentDuration: MinSegmentDuration})
	pub := tm.publish(t, camKey)
	writeFrames(pub, source{fps: 30, gop: 30, audio: true}.frames(t, 100)[:2])
	resp, _ := tm.get(t, http.MethodGet, "/live/cam.m3u8")
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
		resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("not ready: %d, Retry-After %q, Cache-Control %q", resp.StatusCode,
			resp.Header.Get("Retry-After"), resp.Header.Get("Cache-Control"))
	}
}

func TestManagerRestartIsDiscontinuity(t *testing.T) {
	tm := startManager(t, Config{EndListDelay: 100 * time.Millisecond, EndedRetention: 400 * time.Millisecond})
	c := newPlaylistChecker()
	checkLoad := func(p parsedPlaylist) bool {
		t.Helper()
		_, body := tm.get(t, http.MethodGet, "/live/cam.m3u8")
		if _, err := c.check(body); err != nil {
			t.Fatalf("%v\n%s", err, body)
		}
		return true
	}
	pub := tm.publish(t, camKey)
	writeFrames(pub, source{fps: 30, gop: 30, audio: true, start: 1000}.frames(t, 4500))
	first := tm.waitPlaylist(t, "/live/cam.m3u8", "2 segments", func(p parsedPlaylist) bool { return len(p.segments) == 2 })
	checkLoad(first)
	pub.Close()
	// The flushed last segment, then EXT-X-ENDLIST after the delay.
	ended := tm.waitPlaylist(t, "/live/cam.m3u8", "EXT-X-ENDLIST", func(p parsedPlaylist) bool { return p.ended })
	checkLoad(ended)
	if len(ended.segments) != 3 {
		t.Errorf("%d segments after the end, want the flushed third", len(ended.segments))
	}

	pub = tm.publish(t, camKey)
	writeFrames(pub, source{fps: 30, gop: 30, audio: true}.frames(t, 4500))
	// The playlist ended: the new publisher gets a playlist of its own that
	// continues the media sequence (EXT-X-ENDLIST is never taken back).
	again := tm.waitPlaylist(t, "/live/cam.m3u8", "segments of the new publisher", func(p parsedPlaylist) bool {
		return !p.ended && len(p.segments) == 2
	})
	c = newPlaylistChecker()
	checkLoad(again)
	if again.mediaSeq != 4 || again.segments[0].seq != 4 {
		t.Errorf("first segment of the new publisher: %+v, want sequence 4", again.segments[0])
	}
	for _, s := range again.segments {
		if s.disc {
			t.Errorf("segment %d discontinuity %v", s.seq, s.disc)
		}
	}

	// After the retention the state is freed; a new publisher continues the
	// media sequence under a new token.
	pub.Close()
	waitFor(t, "the stream to be freed", func() bool {
		_, ok := tm.m.Stats(camKey)
		return !ok
	})
	if resp, _ := tm.get(t, http.MethodGet, "/live/"+again.segments[1].uri); resp.StatusCode != http.StatusNotFound {
		t.Errorf("segment of a freed stream: %d", resp.StatusCode)
	}
	pub = tm.publish(t, camKey)
	defer pub.Close()
	writeFrames(pub, source{fps: 30, gop: 30, audio: true}.frames(t, 2500))
	fresh := tm.waitPlaylist(t, "/live/cam.m3u8", "a fresh playlist", func(p parsedPlaylist) bool { return len(p.segments) > 0 })
	oldToken, _, _ := strings.Cut(again.segments[0].uri, "-")
	newToken, _, _ := strings.Cut(fresh.segments[0].uri, "-")
	if fresh.mediaSeq <= again.segments[1].seq || newToken == oldToken {
		t.Errorf("fresh playlist: media sequence %d after %d, URI %q after %q", fresh.mediaSeq,
			again.segments[1].seq, fresh.segments[0].uri, again.segments[1].uri)
	}
	if fresh.segments[0].disc {
		t.Error("a fresh playlist starts with a discontinuity")
	}
}

func TestManagerViewers(t *testing.T) {
	tm := startManager(t, Config{ViewerTimeout: time.Hour})
	pub := tm.publish(t, camKey)
	writeFrames(pub, source{fps: 30, gop: 30}.frames(t, 2100))
	tm.waitPlaylist(t, "/live/cam.m3u8", "a segment", func(p parsedPlaylist) bool { return len(p.segments) > 0 })
	for _, c := range []struct{ addr, agent string }{
		{"10.0.0.1:1000", "hls.js"}, {"10.0.0.1:1001", "hls.js"}, {"10.0.0.1:1002", "VLC"}, {"10.0.0.2:1000", "hls.js"},
	} {
		r := httptest.NewRequest(http.MethodGet, "/live/cam.m3u8", nil)
		r.RemoteAddr = c.addr
		r.Header.Set("User-Agent", c.agent)
		w := httptest.NewRecorder()
		tm.m.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			t.Fatalf("status %d", w.Code)
		}
	}
	// Two distinct addresses plus the test's own HTTP client: clients are
	// told apart by address, whatever their User-Agent.
	if n := tm.m.Viewers(camKey); n != 3 {
		t.Errorf("Viewers = %d, want 3", n)
	}
	if st, _ := tm.m.Stats(camKey); st.Viewers != 3 {
		t.Errorf("Stats().Viewers = %d", st.Viewers)
	}
	if n := tm.m.Viewers(stream.Key{App: "live", Name: "other"}); n != 0 {
		t.Errorf("Viewers of an unknown stream = %d", n)
	}
}

func TestManagerStartOnRequest(t *testing.T) {
	tm := startManager(t, Config{Start: StartOnRequest, IdleTimeout: 300 * time.Millisecond, EndListDelay: -1})
	pub := tm.publish(t, camKey)
	defer pub.Close()
	writeFrames(pub, source{fps: 30, gop: 30, audio: true}.frames(t, 2000))
	if _, ok := tm.m.Stats(camKey); ok {
		t.Fatal("segmenting before any request")
	}
	// The first request starts the segmenter from the cached GOP and waits
	// while more frames arrive.
	code := make(chan int, 1)
	go func() {
		resp, err := http.Get(tm.srv.URL + "/live/cam.m3u8")
		if err != nil {
			code <- -1
			return
		}
		resp.Body.Close()
		code <- resp.StatusCode
	}()
	waitFor(t, "the request to arrive", func() bool { return tm.m.Viewers(camKey) == 1 })
	writeFrames(pub, source{fps: 30, gop: 30, audio: true, start: 2000}.frames(t, 3000)[2:])
	if c := <-code; c != http.StatusOK {
		t.Fatalf("first request: %d", c)
	}
	if st, ok := tm.m.Stats(camKey); !ok || !st.Live {
		t.Fatalf("stats after a request: %+v", st)
	}
	// Without requests the segmenter stops and the playlist ends.
	waitFor(t, "the idle segmenter to stop", func() bool {
		st, ok := tm.m.Stats(camKey)
		return ok && !st.Live && st.Ended
	})
}

func TestManagerStreamPublishedBeforeManager(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	hub, err := stream.NewRegistry(stream.Config{}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	pub, err := hub.Publish(camKey, stream.PublisherInfo{ID: "early"})
	if err != nil {
		t.Fatal(err)
	}
	writeFrames(pub, source{fps: 30, gop: 30, audio: true}.frames(t, 2100))
	m, err := NewManager(Config{Variant: VariantMPEGTS}, hub, log)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	w := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/live/cam.m3u8", nil))
	}()
	waitFor(t, "the request to arrive", func() bool { return m.Viewers(camKey) == 1 })
	writeFrames(pub, source{fps: 30, gop: 30, audio: true, start: 2100}.frames(t, 2100)[2:])
	<-done
	if w.Code != http.StatusOK {
		t.Errorf("playlist of a stream published before the manager: %d %s", w.Code, w.Body)
	}
}

func TestManagerCloseStopsEverything(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	hub, err := stream.NewRegistry(stream.Config{}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	m, err := NewManager(Config{Variant: VariantMPEGTS}, hub, log)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := hub.Publish(camKey, stream.PublisherInfo{ID: "a"})
	defer pub.Close()
	writeFrames(pub, source{fps: 30, gop: 30}.frames(t, 2100))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // a request waiting while the manager closes
		defer wg.Done()
		w := httptest.NewRecorder()
		m.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/live/cam.m3u8", nil))
	}()
	m.Close()
	m.Close()
	wg.Wait()
	w := httptest.NewRecorder()
	m.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/live/cam.m3u8", nil))
	if w.Code != http.StatusNotFound {
		t.Errorf("after Close: %d", w.Code)
	}
	other, _ := hub.Publish(stream.Key{App: "live", Name: "late"}, stream.PublisherInfo{ID: "b"})
	defer other.Close()
	if _, ok := m.Stats(stream.Key{App: "live", Name: "late"}); ok {
		t.Error("a stream published after Close is segmented")
	}
}

func TestDiskStorage(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "live", "old")
	if err := os.MkdirAll(stale, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"lz2k8a-17.ts", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(stale, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tm := startManager(t, Config{Storage: StorageDisk, Dir: dir, PlaylistLength: 2, RetainAfterWindow: 1,
		EndListDelay: -1, EndedRetention: 300 * time.Millisecond})
	if _, err := os.Stat(filepath.Join(stale, "lz2k8a-17.ts")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale segment not removed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(stale, "notes.txt")); err != nil {
		t.Errorf("foreign file removed: %v", err)
	}

	pub := tm.publish(t, camKey)
	writeFrames(pub, source{fps: 30, gop: 30, audio: true}.frames(t, 20100))
	p := tm.waitPlaylist(t, "/live/cam.m3u8", "10 segments", func(p parsedPlaylist) bool { return p.mediaSeq == 9 })
	files, _ := filepath.Glob(filepath.Join(dir, "live", "cam", "*.ts"))
	if len(files) != 3 {
		t.Errorf("%d segment files on disk, want 3 (window 2 + 1 retained): %v", len(files), files)
	}
	for _, s := range p.segments {
		resp, data := tm.get(t, http.MethodGet, "/live/"+s.uri)
		want, err := os.ReadFile(filepath.Join(dir, "live", s.uri))
		if resp.StatusCode != http.StatusOK || err != nil || string(data) != string(want) {
			t.Errorf("segment %s: %d, %d bytes, file %d bytes, %v", s.uri, resp.StatusCode, len(data), len(want), err)
		}
	}
	pub.Close()
	waitFor(t, "the stream to be freed", func() bool {
		_, ok := tm.m.Stats(camKey)
		return !ok
	})
	if _, err := os.Stat(filepath.Join(dir, "live", "cam")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stream directory left behind: %v", err)
	}
}

func TestConfigDefaultsAndValidation(t *testing.T) {
	c := Config{}.WithDefaults()
	if c.SegmentDuration != 2*time.Second || c.PlaylistLength != 6 || c.Start != StartOnPublish || c.Storage != StorageMemory ||
		c.RetainAfterWindow != 1 || c.EndListDelay != 5*time.Second || c.EndedRetention != time.Minute ||
		c.MaxSegmentBytes != 32<<20 || c.MaxSegmentDuration != 30*time.Second {
		t.Errorf("defaults %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("defaults invalid: %v", err)
	}
	bad := []Config{
		{SegmentDuration: time.Millisecond},
		{SegmentDuration: time.Hour},
		{PlaylistLength: -1},
		{PlaylistLength: MaxPlaylistLength + 1},
		{Start: "sometimes"},
		{Storage: "tape"},
		{Storage: StorageDisk},
		{MaxSegmentBytes: 1000},
		{IdleTimeout: -time.Second},
	}
	for _, b := range bad {
		if _, err := NewManager(b, nil, nil); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("NewManager(%+v) error %v, want ErrInvalidConfig", b, err)
		}
	}
}

// Ensure the frames helper's sequence headers are what the segmenter
// expects (a guard for the other tests).
func TestSourceFrames(t *testing.T) {
	frames := source{fps: 30, gop: 30, audio: true}.frames(t, 1000)
	if !frames[0].Header || frames[0].Type != flv.TagVideo || !frames[1].Header || frames[1].Type != flv.TagAudio {
		t.Fatal("source does not start with sequence headers")
	}
	if !frames[2].Keyframe {
		t.Fatal("first media frame is not a keyframe")
	}
}

// The feeder used to attach its reader from its own goroutine, so frames
// published before that goroutine ran were skipped up to the newest
// keyframe (a new reader starts at the newest cached keyframe).
func TestRegressionFeederSkippedFramesPublishedBeforeItRan(t *testing.T) {
	tm := startManager(t, Config{})
	release := make(chan struct{})
	tm.m.feedHook = func() { <-release }
	pub := tm.publish(t, camKey)
	writeFrames(pub, source{fps: 30, gop: 30, audio: true}.frames(t, 6100)) // before the feeder runs
	close(release)
	p := tm.waitPlaylist(t, "/live/cam.m3u8", "3 segments", func(p parsedPlaylist) bool { return len(p.segments) == 3 })
	if p.mediaSeq != firstMediaSequence {
		t.Errorf("media sequence %d", p.mediaSeq)
	}
	if st, _ := tm.m.Stats(camKey); st.Segmenter.Dropped != 0 || st.Segmenter.Frames < 180 {
		t.Errorf("segmenter stats %+v: frames were skipped", st.Segmenter)
	}
}
