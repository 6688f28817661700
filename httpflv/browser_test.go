package httpflv

import (
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/browsertest"
	"github.com/mediaserver/mediaserver/internal/testenv"
)

// TestBrowserPlays: mpegts.js in headless Chromium plays HTTP-FLV and
// WebSocket-FLV from the server, on a page of another origin (CORS), and
// plays audio-only and video-only streams, whose FLV headers announce only
// their track: video.currentTime advances at least 5 s in 7 s without an
// error event.
func TestBrowserPlays(t *testing.T) {
	browsertest.RequireTools(t)
	for _, tc := range []struct {
		name string
		ws   bool
		src  testenv.Source
	}{
		{"HTTP-FLV", false, testenv.Source{}},
		{"WS-FLV", true, testenv.Source{}},
		{"HTTP-FLV audio only", false, testenv.Source{NoVideo: true}},
		{"WS-FLV video only", true, testenv.Source{NoAudio: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startLive(t, Config{}, nil)
			// The publisher runs until the subtest ends, however long the
			// browser takes to start.
			testenv.Publish(t, s.publishURL("cam"), tc.src)
			s.waitStream(t, "cam", true)
			url := s.flvURL("cam")
			if tc.ws {
				url = s.wsURL("cam")
			}
			r := browsertest.Play(t, browsertest.MPEGTS, url, 7*time.Second)
			if len(r.Errors) != 0 {
				t.Fatalf("player errors: %v (console: %v)", r.Errors, r.Console)
			}
			start := 0.0
			if len(r.Samples) > 0 {
				start = r.Samples[0][1]
			}
			if advance := r.CurrentTime - start; advance < 5 {
				t.Fatalf("currentTime advanced %.2f s in 7 s, want at least 5 (samples %v, console %v)",
					advance, r.Samples, r.Console)
			}
			wantW, wantH := 640, 360
			if tc.src.NoVideo {
				wantW, wantH = 0, 0
			}
			if r.VideoWidth != wantW || r.VideoHeight != wantH {
				t.Fatalf("video %dx%d, want %dx%d", r.VideoWidth, r.VideoHeight, wantW, wantH)
			}
		})
	}
}
