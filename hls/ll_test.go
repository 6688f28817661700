package hls

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// syntheticProducer drives a state's serving side as the feeder does, with
// made-up init sections, parts and segments (their bytes are opaque to
// the serving side).
type syntheticProducer struct {
	m     *Manager
	st    *streamState
	gen   int
	data  []byte // of the segment in progress
	parts []PartInfo
	pdt   time.Time
	fill  byte
	disc  bool // the next segment needs a new init section
}

// startSynthetic registers a live state for camKey in tm's manager and
// returns a producer for it.
func startSynthetic(t *testing.T, tm *testManager) *syntheticProducer {
	t.Helper()
	m := tm.m
	m.mu.Lock()
	st := m.newStateLocked(camKey)
	st.seg = NewSegmenter(SegmenterConfig{TargetDuration: m.cfg.SegmentDuration})
	m.mu.Unlock()
	st.mu.Lock()
	st.live = true
	st.mu.Unlock()
	return &syntheticProducer{m: m, st: st, pdt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

// init emits a new init section.
func (p *syntheticProducer) init() []byte {
	p.gen++
	p.disc = p.gen > 1
	data := []byte(fmt.Sprintf("init section %d", p.gen))
	p.m.emitInit(p.st, p.gen, data)
	return data
}

// part emits a part of d and returns its bytes.
func (p *syntheticProducer) part(d time.Duration) []byte {
	p.fill++
	data := bytes.Repeat([]byte{p.fill}, 100+int(p.fill))
	independent := len(p.parts) == 0
	p.m.emitPart(p.st, &Part{Data: data, Duration: d, Independent: independent})
	p.data = append(p.data, data...)
	p.parts = append(p.parts, PartInfo{Duration: d, Independent: independent, Size: len(data)})
	return data
}

// segment finishes the segment in progress.
func (p *syntheticProducer) segment() {
	var d time.Duration
	for _, pi := range p.parts {
		d += pi.Duration
	}
	if d == 0 {
		d = time.Second // the fmp4 and mpegts variants have no parts
	}
	if p.data == nil {
		p.fill++
		p.data = bytes.Repeat([]byte{p.fill}, 188)
	}
	init := p.gen
	if p.st.variant == VariantMPEGTS {
		init = 0
	}
	p.m.emit(p.st, &Segment{Data: p.data, Duration: d, ProgramDateTime: p.pdt, Independent: true,
		Parts: p.parts, Init: init, Discontinuity: p.disc}, nil, slog.New(slog.DiscardHandler))
	p.pdt = p.pdt.Add(d)
	p.data, p.parts, p.disc = nil, nil, false
}

// fullSegment emits a segment of n parts of 200 ms (or a plain one of 1 s
// when the variant has no parts).
func (p *syntheticProducer) fullSegment(n int) {
	if p.st.variant == VariantLowLatency {
		for range n {
			p.part(200 * time.Millisecond)
		}
	}
	p.segment()
}

// llConfig is a lowlatency configuration with 1 s segments of 200 ms parts.
func llConfig() Config {
	return Config{Variant: VariantLowLatency, SegmentDuration: time.Second, PlaylistLength: 10,
		BlockingTimeout: 3 * time.Second}
}

func TestLowLatencyPlaylistTags(t *testing.T) {
	tm := startManager(t, llConfig())
	p := startSynthetic(t, tm)
	p.init()
	for range 4 {
		p.fullSegment(5)
	}
	p.part(200 * time.Millisecond)
	p.part(200 * time.Millisecond)
	resp, body := tm.get(t, http.MethodGet, "/live/cam.m3u8?token=s3cr%2Ft")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("playlist: %d %s", resp.StatusCode, body)
	}
	text := string(body)
	tok := p.st.token
	for _, want := range []string{
		"#EXT-X-VERSION:9\n",
		"#EXT-X-TARGETDURATION:1\n",
		"#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=6,PART-HOLD-BACK=0.6\n",
		"#EXT-X-PART-INF:PART-TARGET=0.2\n",
		"#EXT-X-MEDIA-SEQUENCE:1\n",
		`#EXT-X-MAP:URI="cam/` + tok + `-init1.mp4?token=s3cr%2Ft"` + "\n",
		"#EXT-X-PROGRAM-DATE-TIME:2026-01-02T03:04:05.000Z\n#EXTINF:1.000,\ncam/" + tok + "-1.m4s?token=s3cr%2Ft\n",
		// Segment 4's parts (15..19), then the two of segment 5 and the hint.
		`#EXT-X-PART:DURATION=0.200,URI="cam/` + tok + `-part15.m4s?token=s3cr%2Ft",INDEPENDENT=YES` + "\n",
		`#EXT-X-PART:DURATION=0.200,URI="cam/` + tok + `-part16.m4s?token=s3cr%2Ft"` + "\n",
		"#EXTINF:1.000,\ncam/" + tok + "-4.m4s?token=s3cr%2Ft\n" +
			`#EXT-X-PART:DURATION=0.200,URI="cam/` + tok + `-part20.m4s?token=s3cr%2Ft",INDEPENDENT=YES` + "\n" +
			`#EXT-X-PART:DURATION=0.200,URI="cam/` + tok + `-part21.m4s?token=s3cr%2Ft"` + "\n" +
			`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="cam/` + tok + `-part22.m4s?token=s3cr%2Ft"` + "\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("playlist lacks %q:\n%s", want, text)
		}
	}
	// Parts are listed for the segment in progress and the two before it.
	if strings.Contains(text, "-part9.m4s") || !strings.Contains(text, "-part10.m4s") {
		t.Errorf("parts of the wrong segments listed:\n%s", text)
	}
	if got := resp.Header.Get("Cache-Control"); got != liveLLCacheControl {
		t.Errorf("plain playlist Cache-Control %q", got)
	}
	if resp.Header.Get("Set-Cookie") != "" {
		t.Errorf("a cookie was set")
	}
}

func TestLowLatencyDirectivesRefused(t *testing.T) {
	tm := startManager(t, llConfig())
	p := startSynthetic(t, tm)
	p.init()
	p.fullSegment(5)
	p.fullSegment(5) // the last segment is 2: msn 4 is its plus two
	for _, q := range []string{"_HLS_part=1", "_HLS_msn=x", "_HLS_msn=-1", "_HLS_msn=1&_HLS_part=y",
		"_HLS_msn=1&_HLS_msn=2", "_HLS_msn=5", "_HLS_msn=5&_HLS_part=0", "_HLS_skip=NO", "_HLS_msn=99999999999999999999"} {
		resp, body := tm.get(t, http.MethodGet, "/live/cam.m3u8?"+q)
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: %d %q %s", q, resp.StatusCode, resp.Header.Get("Cache-Control"), body)
		}
	}
	resp, body := tm.get(t, http.MethodGet, "/live/cam.m3u8?_HLS_msn=2&_HLS_part=4")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != blockingCacheControl {
		t.Errorf("a part that exists: %d %q %s", resp.StatusCode, resp.Header.Get("Cache-Control"), body)
	}
}

func TestLowLatencyBlockingReloadTimesOut(t *testing.T) {
	cfg := llConfig()
	cfg.BlockingTimeout = 300 * time.Millisecond
	tm := startManager(t, cfg)
	p := startSynthetic(t, tm)
	p.init()
	p.fullSegment(5)
	for _, q := range []string{"_HLS_msn=3", "_HLS_msn=2&_HLS_part=0"} {
		resp, body := tm.get(t, http.MethodGet, "/live/cam.m3u8?"+q)
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: %d %q %s", q, resp.StatusCode, resp.Header.Get("Cache-Control"), body)
		}
	}
	resp, body := tm.get(t, http.MethodGet, "/live/cam/"+partName(p.st.token, p.st.nextPart))
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("hinted part never made: %d %q %s", resp.StatusCode, resp.Header.Get("Cache-Control"), body)
	}
}

// answer is a response read in another goroutine.
type answer struct {
	status  int
	header  http.Header
	body    []byte
	err     error
	arrived time.Time
}

// getAsync fetches path in a goroutine whose answer the returned channel
// delivers.
func (tm *testManager) getAsync(path string) <-chan answer {
	out := make(chan answer, 1)
	go func() {
		resp, err := http.Get(tm.srv.URL + path)
		if err != nil {
			out <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		out <- answer{status: resp.StatusCode, header: resp.Header, body: body, err: err, arrived: time.Now()}
	}()
	return out
}

// waitWaiting waits until n requests wait on st.
func waitWaiting(t *testing.T, st *streamState, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d waiting requests", n), func() bool {
		st.mu.Lock()
		defer st.mu.Unlock()
		return st.waiting >= n
	})
}

func TestLowLatencyBlockingReloadAnswersOnceThePartExists(t *testing.T) {
	tm := startManager(t, llConfig())
	p := startSynthetic(t, tm)
	p.init()
	p.fullSegment(5)
	p.part(200 * time.Millisecond)
	tok := p.st.token
	// Part 1 of segment 2 (part 6 of the stream), segment 2 itself, and the
	// first part of segment 3 — the one after segment 2's last.
	partReq := tm.getAsync("/live/cam.m3u8?_HLS_msn=2&_HLS_part=1")
	segReq := tm.getAsync("/live/cam.m3u8?_HLS_msn=2")
	nextReq := tm.getAsync("/live/cam.m3u8?_HLS_msn=3&_HLS_part=0")
	hintReq := tm.getAsync("/live/cam/" + partName(tok, 6))
	waitWaiting(t, p.st, 4)
	created := time.Now()
	part6 := p.part(200 * time.Millisecond)
	a := <-partReq
	if a.err != nil || a.status != http.StatusOK || !bytes.Contains(a.body, []byte(partName(tok, 6))) {
		t.Fatalf("blocking reload for part 1: %d %v\n%s", a.status, a.err, a.body)
	}
	t.Logf("blocking reload answered %v after the part was made", a.arrived.Sub(created))
	h := <-hintReq
	if h.err != nil || h.status != http.StatusOK || !bytes.Equal(h.body, part6) {
		t.Fatalf("preload hint GET: %d %v, %d bytes, want %d", h.status, h.err, len(h.body), len(part6))
	}
	if cc := h.header.Get("Cache-Control"); cc != segmentCacheControl {
		t.Errorf("part Cache-Control %q", cc)
	}
	for range 3 {
		p.part(200 * time.Millisecond)
	}
	select {
	case a := <-segReq:
		t.Fatalf("blocking reload for segment 2 answered before it was finished: %d\n%s", a.status, a.body)
	case a := <-nextReq:
		t.Fatalf("blocking reload for segment 3 answered before its first part: %d\n%s", a.status, a.body)
	default:
	}
	p.segment()
	a = <-segReq
	if a.status != http.StatusOK || !bytes.Contains(a.body, []byte(tok+"-2.m4s")) {
		t.Fatalf("blocking reload for segment 2: %d\n%s", a.status, a.body)
	}
	p.part(200 * time.Millisecond)
	a = <-nextReq
	if a.status != http.StatusOK || !bytes.Contains(a.body, []byte(partName(tok, 10))) {
		t.Fatalf("blocking reload for segment 3's first part: %d\n%s", a.status, a.body)
	}
	// The part of a finished segment is a byte range of the stored segment,
	// byte-identical to what the preload hint GET returned.
	resp, body := tm.get(t, http.MethodGet, "/live/cam/"+partName(tok, 6))
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, part6) {
		t.Errorf("part 6 of the finished segment: %d, %d bytes, want %d", resp.StatusCode, len(body), len(part6))
	}
	resp, body = tm.get(t, http.MethodGet, "/live/cam/"+partName(tok, 12))
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("a future part: %d %q %s", resp.StatusCode, resp.Header.Get("Cache-Control"), body)
	}
}

func TestLowLatencyDeltaUpdate(t *testing.T) {
	tm := startManager(t, llConfig())
	p := startSynthetic(t, tm)
	p.init()
	for range 10 {
		p.fullSegment(5)
	}
	p.part(200 * time.Millisecond)
	resp, body := tm.get(t, http.MethodGet, "/live/cam.m3u8?_HLS_msn=10&_HLS_skip=YES")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("delta update: %d %s", resp.StatusCode, body)
	}
	// CAN-SKIP-UNTIL is 6 s: of 10 segments of 1 s and a part, the 4 that
	// end more than 6 s before the end are skipped.
	text := string(body)
	want := "#EXT-X-SKIP:SKIPPED-SEGMENTS=4\n#EXT-X-MAP:URI=\"cam/" + p.st.token + "-init1.mp4\"\n" +
		"#EXT-X-PROGRAM-DATE-TIME:2026-01-02T03:04:09.000Z\n#EXTINF:1.000,\ncam/" + p.st.token + "-5.m4s\n"
	if !strings.Contains(text, want) || !strings.Contains(text, "#EXT-X-MEDIA-SEQUENCE:1\n") {
		t.Errorf("delta update lacks %q:\n%s", want, text)
	}
	_, full := tm.get(t, http.MethodGet, "/live/cam.m3u8")
	if strings.Contains(string(full), "EXT-X-SKIP") || resp.Header.Get("ETag") == "" {
		t.Errorf("full playlist skips:\n%s", full)
	}
}

func TestMP4MediaServed(t *testing.T) {
	tm := startManager(t, llConfig())
	p := startSynthetic(t, tm)
	initData := p.init()
	p.fullSegment(5)
	tok := p.st.token
	resp, body := tm.get(t, http.MethodGet, "/live/cam/"+initName(tok, 1))
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, initData) ||
		resp.Header.Get("Cache-Control") != segmentCacheControl || resp.Header.Get("Content-Type") != contentTypeMP4 {
		t.Errorf("init: %d %q %q", resp.StatusCode, resp.Header.Get("Cache-Control"), body)
	}
	resp, body = tm.get(t, http.MethodGet, "/live/cam/"+tok+"-1.m4s")
	if resp.StatusCode != http.StatusOK || len(body) == 0 || resp.Header.Get("Cache-Control") != segmentCacheControl {
		t.Errorf("segment: %d %q, %d bytes", resp.StatusCode, resp.Header.Get("Cache-Control"), len(body))
	}
	for _, path := range []string{"/live/cam/" + initName(tok, 2), "/live/cam/" + tok + "-1.ts",
		"/live/cam/" + initName("othertoken", 1), "/live/cam/" + tok + "-init01.mp4", "/live/cam/" + tok + "-part01.m4s"} {
		if resp, _ := tm.get(t, http.MethodGet, path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
}

func TestLowLatencyPartsOfADiscontinuity(t *testing.T) {
	tm := startManager(t, llConfig())
	p := startSynthetic(t, tm)
	p.init()
	p.fullSegment(5)
	// A republish: the segment in progress starts a discontinuity that only
	// its Segment will report; its parts are listed after the tag already.
	p.st.mu.Lock()
	p.st.addPart(&Part{Data: []byte("first part"), Duration: 200 * time.Millisecond, Independent: true}, true, time.Now())
	p.st.mu.Unlock()
	_, body := tm.get(t, http.MethodGet, "/live/cam.m3u8")
	want := "-1.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-PART:DURATION=0.200,URI=\"cam/" + partName(p.st.token, 5) + "\",INDEPENDENT=YES\n"
	if !strings.Contains(string(body), want) {
		t.Errorf("playlist lacks %q:\n%s", want, body)
	}
}

func TestLowLatencyURIsAreAuthorizedWithThePlaylistQuery(t *testing.T) {
	cfg := llConfig()
	cfg.Authorizer = queryAuthorizer{}
	tm := startManager(t, cfg)
	p := startSynthetic(t, tm)
	p.init()
	p.fullSegment(5)
	p.part(200 * time.Millisecond)
	resp, body := tm.get(t, http.MethodGet, "/live/cam.m3u8?user=good")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("playlist: %d %s", resp.StatusCode, body)
	}
	uris := regexpURIs(string(body))
	if len(uris) != 1+5+1+1+1 { // init, parts, segment, the part in progress, the hint
		t.Fatalf("%d URIs %q in\n%s", len(uris), uris, body)
	}
	hinted := tm.getAsync("/live/" + uris[len(uris)-1])
	waitWaiting(t, p.st, 1)
	p.part(200 * time.Millisecond)
	if a := <-hinted; a.status != http.StatusOK {
		t.Errorf("hinted part with the playlist's query: %d %s", a.status, a.body)
	}
	for _, uri := range uris {
		if !strings.HasSuffix(uri, "?user=good") {
			t.Errorf("URI %q lacks the playlist's query", uri)
		}
		if resp, _ := tm.get(t, http.MethodGet, "/live/"+uri); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", uri, resp.StatusCode)
		}
		bare := strings.TrimSuffix(uri, "?user=good")
		if resp, _ := tm.get(t, http.MethodGet, "/live/"+bare); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s without the query: %d, want 403", bare, resp.StatusCode)
		}
	}
}

// regexpURIs returns the URIs a playlist lists: URI lines and URI="…"
// attributes, in order.
func regexpURIs(playlist string) []string {
	var out []string
	for _, line := range strings.Split(playlist, "\n") {
		switch {
		case line == "":
		case !strings.HasPrefix(line, "#"):
			out = append(out, line)
		default:
			if _, rest, ok := strings.Cut(line, `URI="`); ok {
				uri, _, _ := strings.Cut(rest, `"`)
				out = append(out, uri)
			}
		}
	}
	return out
}

func TestLowLatencyPartsFromDisk(t *testing.T) {
	cfg := llConfig()
	cfg.Storage, cfg.Dir = StorageDisk, t.TempDir()
	tm := startManager(t, cfg)
	p := startSynthetic(t, tm)
	p.init()
	var parts [][]byte
	for range 5 {
		parts = append(parts, p.part(200*time.Millisecond))
	}
	p.segment()
	for i, want := range parts {
		resp, body := tm.get(t, http.MethodGet, "/live/cam/"+partName(p.st.token, uint64(i)))
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, want) {
			t.Errorf("part %d from the stored file: %d, %d bytes, want %d", i, resp.StatusCode, len(body), len(want))
		}
	}
	resp, body := tm.get(t, http.MethodGet, "/live/cam/"+partName(p.st.token, 1), "Range", "bytes=2-5")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, parts[1][2:6]) {
		t.Errorf("range of a part: %d %q", resp.StatusCode, body)
	}
}

// countingAccount is a MemoryAccount that only counts.
type countingAccount struct {
	mu   sync.Mutex
	held int64
}

func (a *countingAccount) Add(n int64) {
	a.mu.Lock()
	a.held += n
	a.mu.Unlock()
}
func (a *countingAccount) Full() bool { return false }
func (a *countingAccount) Low() bool  { return false }
func (a *countingAccount) bytes() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.held
}

func TestLowLatencyMemoryIsAccounted(t *testing.T) {
	mem := &countingAccount{}
	cfg := llConfig()
	cfg.Memory = mem
	tm := startManager(t, cfg)
	p := startSynthetic(t, tm)
	initData := p.init()
	var partBytes int64
	for range 3 {
		partBytes += int64(len(p.part(200 * time.Millisecond)))
	}
	if got, want := mem.bytes(), int64(len(initData))+partBytes; got != want {
		t.Errorf("init and parts in progress: %d bytes held, want %d", got, want)
	}
	p.segment() // the parts become byte ranges of the stored segment: counted once
	if got, want := mem.bytes(), int64(len(initData))+partBytes; got != want {
		t.Errorf("after the segment: %d bytes held, want %d", got, want)
	}
	tm.m.Close()
	if got := mem.bytes(); got != 0 {
		t.Errorf("after Close: %d bytes still held", got)
	}
}

func TestLowLatencyShortLastPartIsListedWithItsSegment(t *testing.T) {
	tm := startManager(t, llConfig())
	p := startSynthetic(t, tm)
	p.init()
	p.fullSegment(5)
	p.part(200 * time.Millisecond)
	short := p.part(60 * time.Millisecond) // cut short: the segment ends with it
	tok := p.st.token
	_, body := tm.get(t, http.MethodGet, "/live/cam.m3u8")
	if strings.Contains(string(body), `#EXT-X-PART:DURATION=0.060`) ||
		!strings.Contains(string(body), `#EXT-X-PRELOAD-HINT:TYPE=PART,URI="cam/`+partName(tok, 6)+`"`) {
		t.Errorf("a short part listed before its segment ended, or not hinted:\n%s", body)
	}
	if resp, got := tm.get(t, http.MethodGet, "/live/cam/"+partName(tok, 6)); resp.StatusCode != http.StatusOK ||
		!bytes.Equal(got, short) {
		t.Errorf("the hinted short part: %d, %d bytes", resp.StatusCode, len(got))
	}
	blocked := tm.getAsync("/live/cam.m3u8?_HLS_msn=2&_HLS_part=1")
	waitWaiting(t, p.st, 1)
	p.segment()
	a := <-blocked
	if a.status != http.StatusOK || !bytes.Contains(a.body, []byte("#EXT-X-PART:DURATION=0.060,URI=\"cam/"+partName(tok, 6))) {
		t.Errorf("blocking reload for the short part: %d\n%s", a.status, a.body)
	}
}
