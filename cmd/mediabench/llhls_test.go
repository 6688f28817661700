package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/fmp4"
)

// The fake LL-HLS server's stream: 30 fps video, parts of three frames
// (100 ms), segments of five parts starting with a keyframe.
const (
	fakeFramesPerPart   = 3
	fakePartsPerSegment = 5
	fakePartTarget      = 100 * time.Millisecond
	// fakeTimelineOffset is where the server's media timeline puts the
	// publisher's timestamp 0, as a real server chooses its own start.
	fakeTimelineOffset = 10_000
	// fakeListedSegments is the playlist window; parts are listed for the
	// last two segments.
	fakeListedSegments = 4
	// fakeBlockLimit bounds a blocking request.
	fakeBlockLimit = 3 * time.Second
)

// fakePart is one part the fake server produced.
type fakePart struct {
	data []byte
	// pdt is the wall time of its segment's first frame.
	pdt time.Time
}

// fakeLLServer is a low-latency HLS origin over a synthetic stream: it
// "publishes" each frame in real time into the viewer's send tables (as the
// load tool's publisher does), cuts parts and segments, answers blocking
// reloads and preload-hinted part requests once the part exists, and counts
// what clients ask for.
type fakeLLServer struct {
	clock clock
	sends *sendTable
	keys  *keyRing
	init  []byte
	// gone is a part the server lists but answers 404 for, as if it had
	// left the server's window before the client came for it.
	gone partID

	mu       sync.Mutex
	parts    [][]fakePart // by msn − 1, then index
	changed  chan struct{}
	requests map[string]int // by path
}

// newFakeLLServer starts producing; it stops when the test ends.
func newFakeLLServer(t *testing.T, gone partID) (*fakeLLServer, *httptest.Server) {
	s := &fakeLLServer{
		clock: clock{base: time.Now()}, sends: new(sendTable), keys: new(keyRing),
		init: testInitSection(t), gone: gone, changed: make(chan struct{}), requests: map[string]int{},
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { s.produce(ctx) })
	hs := httptest.NewServer(s)
	t.Cleanup(func() {
		hs.Close()
		cancel()
		wg.Wait()
	})
	return s, hs
}

// pubMs is the publisher's timestamp of frame k.
func pubMs(k int) uint32 { return uint32(k * 100 / 3) }

// produce sends frames in real time and cuts a part every three.
func (s *fakeLLServer) produce(ctx context.Context) {
	start := s.clock.since()
	var segPDT time.Time
	for k := 0; ; k++ {
		if sleepCtx(ctx, start+time.Duration(pubMs(k))*time.Millisecond-s.clock.since()) != nil {
			return
		}
		now := s.clock.since()
		s.sends.record(pubMs(k), now)
		framesPerSegment := fakeFramesPerPart * fakePartsPerSegment
		if k%framesPerSegment == 0 {
			s.keys.record(pubMs(k), now)
			segPDT = s.clock.base.Add(now)
		}
		if k%fakeFramesPerPart != fakeFramesPerPart-1 {
			continue
		}
		first := k - fakeFramesPerPart + 1
		f := fmp4.Fragment{SequenceNumber: uint32(k), Tracks: []fmp4.TrackFragment{{
			TrackID: testVideoTrack, BaseMediaDecodeTime: uint64(pubMs(first)+fakeTimelineOffset) * 90,
		}}}
		for j := first; j <= k; j++ {
			flags := fmp4.NonSyncSample
			if j%framesPerSegment == 0 {
				flags = fmp4.SyncSample
			}
			f.Tracks[0].Samples = append(f.Tracks[0].Samples, fmp4.Sample{
				Duration: (pubMs(j+1) - pubMs(j)) * 90, Flags: flags, Data: []byte{byte(j), 1, 2, 3},
			})
		}
		s.mu.Lock()
		if first%framesPerSegment == 0 {
			s.parts = append(s.parts, nil)
		}
		seg := len(s.parts) - 1
		s.parts[seg] = append(s.parts[seg], fakePart{data: f.Append(nil), pdt: segPDT})
		close(s.changed)
		s.changed = make(chan struct{})
		s.mu.Unlock()
	}
}

// exists reports whether part p was produced; s.mu is held.
func (s *fakeLLServer) exists(p partID) bool {
	return p.msn >= 1 && p.msn <= uint64(len(s.parts)) && p.index < len(s.parts[p.msn-1])
}

// waitFor waits until part p exists; it returns with s.mu held and
// whether the part exists.
func (s *fakeLLServer) waitFor(ctx context.Context, p partID) bool {
	deadline := time.NewTimer(fakeBlockLimit)
	defer deadline.Stop()
	s.mu.Lock()
	for !s.exists(p) {
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			s.mu.Lock()
			return false
		case <-ctx.Done():
			s.mu.Lock()
			return false
		}
		s.mu.Lock()
	}
	return true
}

// ServeHTTP implements http.Handler.
func (s *fakeLLServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests[r.URL.Path]++
	s.mu.Unlock()
	var msn uint64
	var index int
	switch path := r.URL.Path; {
	case path == "/live/s.m3u8":
		s.playlist(w, r)
	case path == "/live/init.mp4":
		_, _ = w.Write(s.init)
	case strings.HasPrefix(path, "/live/seg"):
		http.Error(w, "the client fetched a whole segment", http.StatusTeapot)
	default:
		if _, err := fmt.Sscanf(path, "/live/p%d.%d.mp4", &msn, &index); err != nil {
			http.NotFound(w, r)
			return
		}
		p := partID{msn: msn, index: index}
		ok := s.waitFor(r.Context(), p) // a hinted part is answered when complete
		defer s.mu.Unlock()
		if !ok || p == s.gone {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(s.parts[msn-1][index].data)
	}
}

// playlist answers a (blocking) playlist request.
func (s *fakeLLServer) playlist(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	want := partID{msn: 1}
	if v := q.Get("_HLS_msn"); v != "" {
		msn, err1 := strconv.ParseUint(v, 10, 63)
		part, err2 := strconv.Atoi(q.Get("_HLS_part"))
		if err1 != nil || err2 != nil {
			http.Error(w, "bad _HLS_ parameters", http.StatusBadRequest)
			return
		}
		want = partID{msn: msn, index: part}
	}
	ok := s.waitFor(r.Context(), want)
	defer s.mu.Unlock()
	if !ok {
		http.Error(w, "part not ready", http.StatusServiceUnavailable)
		return
	}
	last := uint64(len(s.parts)) // msn of the segment being cut
	first := uint64(1)
	if last > fakeListedSegments {
		first = last - fakeListedSegments + 1
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:1\n")
	fmt.Fprintf(&b, "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.3\n#EXT-X-PART-INF:PART-TARGET=0.1\n")
	fmt.Fprintf(&b, "#EXT-X-MEDIA-SEQUENCE:%d\n#EXT-X-MAP:URI=\"init.mp4\"\n", first)
	for msn := first; msn <= last; msn++ {
		parts := s.parts[msn-1]
		fmt.Fprintf(&b, "#EXT-X-PROGRAM-DATE-TIME:%s\n", parts[0].pdt.UTC().Format("2006-01-02T15:04:05.000Z"))
		if msn+1 >= last {
			for i := range parts {
				fmt.Fprintf(&b, "#EXT-X-PART:DURATION=0.1,URI=\"p%d.%d.mp4\"", msn, i)
				if i == 0 {
					b.WriteString(",INDEPENDENT=YES")
				}
				b.WriteString("\n")
			}
		}
		if len(parts) == fakePartsPerSegment {
			fmt.Fprintf(&b, "#EXTINF:0.5,\nseg%d.mp4\n", msn)
		}
	}
	next := partID{msn: last, index: len(s.parts[last-1])}
	if next.index == fakePartsPerSegment {
		next = partID{msn: last + 1}
	}
	fmt.Fprintf(&b, "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"p%d.%d.mp4\"\n", next.msn, next.index)
	w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
	_, _ = w.Write([]byte(b.String()))
}

// runFakeClient plays the fake server for d with one LL-HLS client.
func runFakeClient(t *testing.T, s *fakeLLServer, hs *httptest.Server, d time.Duration, probe bool) *viewer {
	t.Helper()
	// Let the stream cut its first segments, as the load tool's warm-up does.
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		n := len(s.parts)
		s.mu.Unlock()
		if n >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	v := &viewer{
		url: hs.URL + "/live/s.m3u8", sends: s.sends, keys: s.keys, clock: s.clock,
		interval: 33 * time.Millisecond, stallAfter: 2 * time.Second, lat: new(histogram),
	}
	if probe {
		v.avail = new(histogram)
	}
	v.connectStart = s.clock.since()
	client := &http.Client{Transport: &http.Transport{DialContext: dialStamped(&net.Dialer{})}}
	defer client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	err := v.runLLHLS(ctx, client, bufio.NewReader(nil), 5*time.Second, probe)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("client ended with %v before the run did", err)
	}
	t.Logf("counters %+v, freshness p50 %v p95 %v (%d), availability p95 %v, gaps %d",
		v.ll, v.lat.quantile(0.5), v.lat.quantile(0.95), v.lat.n, v.avail.quantileOrZero(0.95), v.gaps)
	return v
}

// quantileOrZero is quantile on a histogram that may be nil.
func (h *histogram) quantileOrZero(q float64) time.Duration {
	if h == nil {
		return 0
	}
	return h.quantile(q)
}

// checkFetchedOnce fails when a part was requested more than once or a
// whole segment at all.
func checkFetchedOnce(t *testing.T, s *fakeLLServer) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for path, n := range s.requests {
		switch {
		case strings.HasPrefix(path, "/live/seg"):
			t.Errorf("whole segment %s fetched", path)
		case strings.HasPrefix(path, "/live/p") && n > 1:
			t.Errorf("part %s fetched %d times", path, n)
		}
	}
}

// TestLLHLSClient: against a low-latency origin, the client follows the
// preload hints, fetches every part once and no segment, misses none,
// reloads the playlist about once per part, and maps each part's last
// frame to its send time despite the server's own timeline.
func TestLLHLSClient(t *testing.T) {
	s, hs := newFakeLLServer(t, partID{})
	v := runFakeClient(t, s, hs, 3*time.Second, false)
	checkFetchedOnce(t, s)
	if v.ll.Parts < 5 || v.ll.Missed != 0 || v.ll.Status4xx+v.ll.Status5xx != 0 {
		t.Errorf("counters %+v: want parts, none missed, no error status", v.ll)
	}
	if v.ll.Playlists > 2*v.ll.Parts+3 {
		t.Errorf("%d playlist requests for %d parts: the reloads do not block", v.ll.Playlists, v.ll.Parts)
	}
	if v.lat.n == 0 || v.ll.Unmapped > 1 {
		t.Errorf("%d freshness samples, %d parts not matched to a send", v.lat.n, v.ll.Unmapped)
	}
	if v.gaps+v.backwards != 0 || v.firstFrame.Load() == 0 {
		t.Errorf("%d gaps, %d steps back, first frame %v", v.gaps, v.backwards, v.firstFrame.Load())
	}
}

// TestLLHLSClientProbe: without hints, each part is fetched once a
// blocking reload lists it, and its availability is measured.
func TestLLHLSClientProbe(t *testing.T) {
	s, hs := newFakeLLServer(t, partID{})
	v := runFakeClient(t, s, hs, 3*time.Second, true)
	checkFetchedOnce(t, s)
	if v.ll.Parts < 5 || v.ll.Missed != 0 || v.avail.n == 0 || v.lat.n == 0 {
		t.Errorf("counters %+v, %d availability samples, %d freshness samples", v.ll, v.avail.n, v.lat.n)
	}
}

// TestLLHLSClientCountsMissedPart: a part listed and then gone when
// fetched is counted as missed, with hints and without.
func TestLLHLSClientCountsMissedPart(t *testing.T) {
	for _, probe := range []bool{false, true} {
		t.Run(fmt.Sprintf("probe=%v", probe), func(t *testing.T) {
			// Part 2 of the fourth segment: the client starts in the second
			// or third, so it reaches it within the run.
			s, hs := newFakeLLServer(t, partID{msn: 4, index: 2})
			v := runFakeClient(t, s, hs, 3*time.Second, probe)
			if v.ll.Missed != 1 || v.ll.Status4xx == 0 {
				t.Errorf("counters %+v: want the part that was gone missed", v.ll)
			}
		})
	}
}

// TestLLHLSClientCountsSkippedParts: parts that left the playlist before
// the client asked for them are counted as missed, in the same segment and
// across segments.
func TestLLHLSClientCountsSkippedParts(t *testing.T) {
	frag := testFragment(1, 900_000, 3, true)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(frag) }))
	defer hs.Close()
	cases := []struct {
		name     string
		pos      partID
		playlist string
		missed   uint64
	}{
		{"next part", partID{msn: 7, index: 1}, "#EXT-X-MEDIA-SEQUENCE:7\n" +
			"#EXT-X-PART:DURATION=0.2,URI=\"a\"\n#EXT-X-PART:DURATION=0.2,URI=\"b\"\n#EXT-X-PART:DURATION=0.2,URI=\"c\"\n", 0},
		{"segment boundary", partID{msn: 6, index: 4}, "#EXT-X-MEDIA-SEQUENCE:6\n#EXTINF:1,\ns6.mp4\n" +
			"#EXT-X-PART:DURATION=0.2,URI=\"a\"\n#EXT-X-PART:DURATION=0.2,URI=\"b\"\n", 0},
		{"two segments passed", partID{msn: 4, index: 4}, "#EXT-X-MEDIA-SEQUENCE:6\n#EXTINF:1,\ns6.mp4\n" +
			"#EXT-X-PART:DURATION=0.2,URI=\"a\"\n#EXT-X-PART:DURATION=0.2,URI=\"b\"\n", 2},
		{"open segment left behind", partID{msn: 5, index: 2}, "#EXT-X-MEDIA-SEQUENCE:7\n" +
			"#EXT-X-PART:DURATION=0.2,URI=\"a\"\n#EXT-X-PART:DURATION=0.2,URI=\"b\"\n", 1},
	}
	for _, tc := range cases {
		v := &viewer{url: hs.URL + "/live/s.m3u8", clock: clock{base: time.Now()}}
		c, err := newLLClient(context.Background(), v, hs.Client(), bufio.NewReader(nil), false)
		if err != nil {
			t.Fatal(err)
		}
		c.pos, c.started = tc.pos, true
		c.scan.video = fmp4Video{trackID: testVideoTrack, timescale: 90000}
		if err := c.pl.parse([]byte("#EXTM3U\n#EXT-X-TARGETDURATION:1\n" + tc.playlist)); err != nil {
			t.Fatal(err)
		}
		if err := c.fetchListed(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if v.ll.Missed != tc.missed || c.pos != c.lastListed() {
			t.Errorf("%s: %d missed, at %+v; want %d, at the last part", tc.name, v.ll.Missed, c.pos, tc.missed)
		}
	}
}

// BenchmarkLLHLSClientPart is the client's cost per part in the steady
// state: a playlist reload and a part fetch over a kept-alive connection
// to a server that answers at once (the server's own cost included).
func BenchmarkLLHLSClientPart(b *testing.B) {
	part := testFragment(1, 900_000, 6, true)
	playlist := []byte(appleLLPlaylist)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".m3u8") {
			_, _ = w.Write(playlist)
			return
		}
		_, _ = w.Write(part)
	}))
	defer hs.Close()
	v := &viewer{url: hs.URL + "/live/s.m3u8", clock: clock{base: time.Now()}}
	c, err := newLLClient(context.Background(), v, hs.Client(), bufio.NewReader(nil), false)
	if err != nil {
		b.Fatal(err)
	}
	c.scan.video = fmp4Video{trackID: testVideoTrack, timescale: 90000}
	uri := []byte("filePart269.1.mp4")
	b.ReportAllocs()
	b.SetBytes(int64(len(part) + len(playlist)))
	for b.Loop() {
		if err := c.reload(partID{msn: 269, index: 1}); err != nil {
			b.Fatal(err)
		}
		if ok, err := c.fetchPart(uri, partID{msn: 269, index: 1}, time.Time{}, 0); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// TestLLHLSClientDoesNotSpin: a server that answers blocking reloads at
// once without the part asked for, and refuses the hinted part, gets a
// paced client rather than a busy loop.
func TestLLHLSClientDoesNotSpin(t *testing.T) {
	initSection := testInitSection(t)
	part := testFragment(1, 900_000, 3, true)
	const playlist = "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES\n" +
		"#EXT-X-PART-INF:PART-TARGET=0.1\n#EXT-X-MEDIA-SEQUENCE:1\n#EXT-X-MAP:URI=\"init.mp4\"\n" +
		"#EXT-X-PART:DURATION=0.1,URI=\"p1.0.mp4\",INDEPENDENT=YES\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"p1.1.mp4\"\n"
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/live/s.m3u8":
			_, _ = w.Write([]byte(playlist))
		case "/live/init.mp4":
			_, _ = w.Write(initSection)
		case "/live/p1.0.mp4":
			_, _ = w.Write(part)
		default:
			http.NotFound(w, r)
		}
	}))
	defer hs.Close()
	v := &viewer{url: hs.URL + "/live/s.m3u8", clock: clock{base: time.Now()}, interval: 33 * time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := v.runLLHLS(ctx, hs.Client(), bufio.NewReader(nil), 5*time.Second, false)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("client ended with %v", err)
	}
	// Paced at half a part target after the second empty round: about 20
	// rounds in the second; a busy loop makes thousands.
	if v.ll.Parts != 1 || v.ll.Playlists > 100 {
		t.Errorf("counters %+v: want the one part and paced reloads", v.ll)
	}
}
