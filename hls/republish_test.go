package hls

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/stream"
)

// TestManagerRepublishIsDiscontinuity: a publisher that continues a waiting
// stream (seamless republish) starts a discontinuity in the same playlist,
// whose media sequence goes on, and no EXT-X-ENDLIST appears in between.
func TestManagerRepublishIsDiscontinuity(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub, err := stream.NewRegistry(stream.Config{RepublishWindow: time.Minute}, log)
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewManager(Config{EndListDelay: 50 * time.Millisecond, Variant: VariantMPEGTS}, hub, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m)
	t.Cleanup(func() {
		srv.Close()
		hub.Close()
		m.Close()
	})
	tm := &testManager{m: m, hub: hub, srv: srv}
	c := newPlaylistChecker()

	pub := tm.publish(t, camKey)
	writeFrames(pub, source{fps: 30, gop: 30, audio: true, start: 1000}.frames(t, 4500))
	tm.waitPlaylist(t, "/live/cam.m3u8", "2 segments", func(p parsedPlaylist) bool { return len(p.segments) == 2 })
	pub.Close() // the connection dropped: the stream waits
	time.Sleep(200 * time.Millisecond)
	_, body := tm.get(t, http.MethodGet, "/live/cam.m3u8")
	if p, err := c.check(body); err != nil || p.ended {
		t.Fatalf("playlist while the stream waits for its publisher (ended %v, %v):\n%s", p.ended, err, body)
	}

	pub = tm.publish(t, camKey) // back, with its clock restarted at 0
	defer pub.Close()
	writeFrames(pub, source{fps: 30, gop: 30, audio: true}.frames(t, 4500))
	again := tm.waitPlaylist(t, "/live/cam.m3u8", "segments of the new publisher", func(p parsedPlaylist) bool {
		return len(p.segments) >= 5
	})
	_, body = tm.get(t, http.MethodGet, "/live/cam.m3u8")
	if _, err := c.check(body); err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	discs := 0
	for i, s := range again.segments {
		if s.seq != again.mediaSeq+uint64(i) {
			t.Errorf("segment %d has sequence %d", i, s.seq)
		}
		if s.disc {
			discs++
			if i < 2 {
				t.Errorf("discontinuity at segment %d, before the republish", i)
			}
		}
	}
	if discs != 1 || again.ended {
		t.Errorf("%d discontinuities (ended %v), want exactly one at the republish:\n%s", discs, again.ended, body)
	}
}
