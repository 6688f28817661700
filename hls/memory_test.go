package hls

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A stored segment used to keep the capacity its buffer was given (the size
// of the segment before plus an eighth) or grew to while it was written.
func TestRegressionSegmentsHoldGrowthSlack(t *testing.T) {
	s := newTestSegmenter(time.Second)
	// Frames grow from segment to segment, so a buffer sized from the
	// segment before is too small and grows while written.
	var segs []*Segment
	var kept [][]byte
	for i := range 6 {
		src := source{fps: 30, gop: 30, audio: true, start: uint32(i * 3000), keyBytes: 2000 * (i + 1), videoBytes: 500 * (i + 1)}
		frames := src.frames(t, 3000)
		if i > 0 {
			frames = frames[2:] // the sequence headers only once
		}
		for _, seg := range feed(t, s, frames) {
			segs = append(segs, seg)
			kept = append(kept, bytes.Clone(seg.Data))
		}
	}
	if len(segs) < 12 {
		t.Fatalf("got %d segments, want at least 12", len(segs))
	}
	for i, seg := range segs {
		if cap(seg.Data) != len(seg.Data) {
			t.Errorf("segment %d: %d bytes held in a buffer of %d", i, len(seg.Data), cap(seg.Data))
		}
		if !bytes.Equal(seg.Data, kept[i]) {
			t.Errorf("segment %d changed after later segments were written", i)
		}
	}
	for i := 1; i < len(segs); i++ {
		if &segs[i].Data[0] == &segs[i-1].Data[0] {
			t.Errorf("segments %d and %d share their bytes", i-1, i)
		}
	}
}

// The segmenter lets its scratch buffer go when the publisher leaves: an
// idle stream holds no segment-sized buffer.
func TestSegmenterFlushReleasesScratch(t *testing.T) {
	s := newTestSegmenter(time.Second)
	feed(t, s, source{fps: 30, gop: 30, audio: true}.frames(t, 2500))
	if s.scratch == nil {
		t.Fatal("no scratch buffer while segmenting")
	}
	if seg, err := s.Flush(); err != nil || seg == nil {
		t.Fatalf("Flush = %v, %v", seg, err)
	}
	if s.scratch != nil {
		t.Errorf("scratch buffer of %d bytes kept after Flush", cap(s.scratch))
	}
}

// Retained segments: while the stream is live, at most retain of them stay
// after the window and each new segment pushes the oldest out; once the
// publisher left, each goes retain target durations after it left the
// window. The window itself stays.
func TestPlaylistRetainedSegmentsExpire(t *testing.T) {
	st := testState(3, 2, 0) // target duration 2 s: kept 4 s after leaving
	st.live = true
	t0 := fixedNow()
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	fetchable := func() []uint64 {
		st.mu.Lock()
		defer st.mu.Unlock()
		var seqs []uint64
		for _, e := range st.segs {
			seqs = append(seqs, e.seq)
		}
		return seqs
	}
	for i := range 6 { // segments 0..5 at 0, 2, … 10 s; 0, 1, 2 leave at 6, 8, 10 s
		addTestSegment(st, 2*time.Second, false, true, at(float64(2*i)))
	}
	if got := fetchable(); !slices.Equal(got, []uint64{1, 2, 3, 4, 5}) {
		t.Fatalf("live: fetchable %v, want window 3..5 and 2 retained", got)
	}
	expireAt := func(s float64) []uint64 {
		st.mu.Lock()
		defer st.mu.Unlock()
		var seqs []uint64
		for _, e := range st.expire(at(s)) {
			seqs = append(seqs, e.seq)
		}
		return seqs
	}
	if got := expireAt(60); got != nil {
		t.Errorf("live, no new segment: expired %v; retained segments go when new ones push them out", got)
	}
	st.live = false // the publisher left
	if got := expireAt(11.9); got != nil {
		t.Errorf("at 11.9 s expired %v, want none (segment 1 left at 8 s)", got)
	}
	if got := expireAt(12); !slices.Equal(got, []uint64{1}) {
		t.Errorf("at 12 s expired %v, want [1]", got)
	}
	if got := expireAt(14); !slices.Equal(got, []uint64{2}) {
		t.Errorf("at 14 s expired %v, want [2]", got)
	}
	if got := expireAt(1000); got != nil {
		t.Errorf("expired %v of the window", got)
	}
	if got := fetchable(); !slices.Equal(got, []uint64{3, 4, 5}) {
		t.Errorf("fetchable %v, want the window 3..5", got)
	}
}

// A segment kept fetchable after it left the playlist used to stay in memory
// until the stream's whole data was freed, Config.EndedRetention (a minute)
// after the publisher left, though no player could ask for it after about
// one target duration.
func TestRegressionRetainedSegmentsOutliveTheirPlayers(t *testing.T) {
	tm := startManager(t, Config{SegmentDuration: time.Second, PlaylistLength: 2, RetainAfterWindow: 1, EndListDelay: -1})
	pub := tm.publish(t, camKey)
	writeFrames(pub, source{fps: 30, gop: 30, audio: true}.frames(t, 6100))
	listed := tm.waitPlaylist(t, "/live/cam.m3u8", "4 segments", func(p parsedPlaylist) bool { return p.mediaSeq >= 3 })
	pub.Close()
	ended := tm.waitPlaylist(t, "/live/cam.m3u8", "EXT-X-ENDLIST", func(p parsedPlaylist) bool { return p.ended })
	left := listed.segments[0] // out of the window once the last segment was flushed
	if ended.segments[0].seq <= left.seq {
		t.Fatalf("segment %d still in the ended playlist (from %d)", left.seq, ended.segments[0].seq)
	}
	waitFor(t, "the retained segment to be freed", func() bool {
		resp, _ := tm.get(t, http.MethodGet, "/live/"+left.uri)
		return resp.StatusCode == http.StatusNotFound
	})
	for _, s := range ended.segments {
		if resp, _ := tm.get(t, http.MethodGet, "/live/"+s.uri); resp.StatusCode != http.StatusOK {
			t.Errorf("segment %s of the ended playlist: %d", s.uri, resp.StatusCode)
		}
	}
}

// A memory store segment stays readable by the readers that opened it
// after it was removed; it cannot be opened once removed; its memory is
// freed after the last reader closed.
func TestSegmentMemoryOutlivesRemovalUntilReadersClose(t *testing.T) {
	var store memoryStore
	want := bytes.Repeat([]byte{0x47, 1, 2, 3}, 47*100)
	body, err := store.put(camKey, "x-1.ts", bytes.Clone(want))
	if err != nil {
		t.Fatal(err)
	}
	r1, err := body.open()
	if err != nil {
		t.Fatal(err)
	}
	r2, err := body.open()
	if err != nil {
		t.Fatal(err)
	}
	store.remove(camKey, "x-1.ts", body)
	if _, err := body.open(); !errors.Is(err, errSegmentRemoved) {
		t.Errorf("open after remove: %v, want errSegmentRemoved", err)
	}
	got, err := io.ReadAll(r1)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("reader opened before removal read %d bytes, %v", len(got), err)
	}
	_ = r1.Close()
	_ = r1.Close() // twice: counted once
	if body.mem.data == nil {
		t.Fatal("freed while a reader still has it open")
	}
	if _, err := r2.Seek(-4, io.SeekEnd); err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(r2); !bytes.Equal(got, want[len(want)-4:]) {
		t.Errorf("second reader read %x", got)
	}
	_ = r2.Close()
	if body.mem.data != nil {
		t.Error("not freed after the last reader closed")
	}
	store.remove(camKey, "x-1.ts", body) // twice: harmless
}

// Readers opening, reading and closing while the segment is removed either
// read it whole or are refused; the memory is freed once, after the last.
func TestSegmentMemoryConcurrentReadersAndRemoval(t *testing.T) {
	var store memoryStore
	want := bytes.Repeat([]byte{0x47, 9, 8, 7}, 47*1000)
	for range 20 {
		body, err := store.put(camKey, "x-1.ts", want)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var refused atomic.Int64
		for range 8 {
			wg.Go(func() {
				for range 50 {
					r, err := body.open()
					if err != nil {
						refused.Add(1)
						return
					}
					got, err := io.ReadAll(r)
					_ = r.Close()
					if err != nil || !bytes.Equal(got, want) {
						t.Errorf("read %d bytes, %v", len(got), err)
						return
					}
				}
			})
		}
		store.remove(camKey, "x-1.ts", body)
		wg.Wait()
		if body.mem.state.Load() != removedBit || body.mem.data != nil {
			t.Fatalf("after every reader closed: state %d, freed %v", body.mem.state.Load(), body.mem.data == nil)
		}
	}
}
