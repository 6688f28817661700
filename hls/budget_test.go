package hls

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/stream"
)

// TestEndedStreamsFreedWhileMemoryBudgetIsFull pins the bug where the
// segments of thousands of abandoned streams stayed in memory for
// EndedRetention (60 s) however little memory was left: the segments kept
// in memory count against the budget the streams' caches share, and while
// it is full an ended stream's segments are freed at the next janitor
// pass.
func TestEndedStreamsFreedWhileMemoryBudgetIsFull(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub, err := stream.NewRegistry(stream.Config{MemoryBudget: 1}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	m, err := NewManager(Config{SegmentDuration: time.Second, EndedRetention: time.Hour, Memory: hub.Memory(),
		Variant: VariantMPEGTS}, hub, log)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	p, err := hub.Publish(camKey, stream.PublisherInfo{ID: "test", Protocol: stream.ProtocolRTMP})
	if err != nil {
		t.Fatal(err)
	}
	writeFrames(p, source{fps: 25, gop: 25, audio: true, keyBytes: 4000, videoBytes: 1000}.frames(t, 5000))
	waitFor(t, "segments", func() bool { return m.SegmentsProduced() >= 3 })
	m.mu.Lock()
	st := m.states[camKey]
	m.mu.Unlock()
	st.mu.Lock()
	var segBytes int64
	for _, e := range st.segs {
		segBytes += int64(e.body.size)
	}
	st.mu.Unlock()
	if used := hub.Memory().Used(); segBytes == 0 || used < segBytes {
		t.Fatalf("the budget counts %d bytes, less than the %d bytes of stored segments", used, segBytes)
	}
	p.End()
	waitFor(t, "the ended stream's data freed", func() bool { return m.existing(camKey) == nil })
	if used := hub.Memory().Used(); used != 0 {
		t.Fatalf("%d bytes still counted after the ended stream's cache and segments were freed", used)
	}
}

// TestPlaylistWhileMemoryFullIsServiceUnavailable: with segmenting
// started on request, a playlist request that would start a segmenter
// while the memory budget is full is answered 503 with the reason and
// starts nothing.
func TestPlaylistWhileMemoryFullIsServiceUnavailable(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub, err := stream.NewRegistry(stream.Config{MemoryBudget: 1}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	m, err := NewManager(Config{Start: StartOnRequest, Memory: hub.Memory(), Variant: VariantMPEGTS}, hub, log)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	p, err := hub.Publish(camKey, stream.PublisherInfo{ID: "test", Protocol: stream.ProtocolRTMP})
	if err != nil {
		t.Fatal(err)
	}
	writeFrames(p, source{fps: 25, gop: 25, keyBytes: 4000}.frames(t, 1000))
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/live/cam.m3u8", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "stream.memory_budget") ||
		rec.Header().Get("Retry-After") == "" {
		t.Fatalf("answer %d %q (Retry-After %q), want 503 naming stream.memory_budget", rec.Code, rec.Body.String(),
			rec.Header().Get("Retry-After"))
	}
	if m.existing(camKey) != nil {
		t.Fatal("a segmenter started with the memory budget full")
	}
	if got := m.LimitsHit()[LimitMemory]; got != 1 {
		t.Fatalf("LimitsHit[%s] = %d, want 1", LimitMemory, got)
	}
}

// TestUnwatchedEndedStreamFreedAtEndList pins the bug where the segments
// of every ended stream stayed for EndedRetention (60 s) even when no
// client had ever asked for them, so that streams published and ended in
// a loop held a minute of their data: a stream nobody requested is freed
// once its playlist would have ended, one with viewers is kept for them.
func TestUnwatchedEndedStreamFreedAtEndList(t *testing.T) {
	tm := startManager(t, Config{SegmentDuration: time.Second, EndListDelay: 100 * time.Millisecond,
		EndedRetention: time.Hour})
	watchedKey := stream.Key{App: "live", Name: "watched"}
	unwatched, watched := tm.publish(t, camKey), tm.publish(t, watchedKey)
	frames := source{fps: 25, gop: 25, keyBytes: 4000}.frames(t, 3000)
	writeFrames(unwatched, frames)
	writeFrames(watched, frames)
	tm.waitPlaylist(t, "/live/watched.m3u8", "a segment", func(p parsedPlaylist) bool { return len(p.segments) > 0 })
	waitFor(t, "segments of the unwatched stream", func() bool {
		st := tm.m.existing(camKey)
		st.mu.Lock()
		defer st.mu.Unlock()
		return len(st.segs) > 0
	})
	unwatched.End()
	watched.End()
	waitFor(t, "the unwatched ended stream freed", func() bool { return tm.m.existing(camKey) == nil })
	if tm.m.existing(watchedKey) == nil {
		t.Fatal("the ended stream a client watched was freed before hls.ended_retention")
	}
}
