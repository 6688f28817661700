package hls

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/testenv"
)

// TestGStreamerPlaysFMP4Playlists: GStreamer's HLS demuxer reads the
// lowlatency and fmp4 playlists and decodes them (playbin into fake sinks):
// the pipeline reaches PLAYING and reports no error while the stream runs.
func TestGStreamerPlaysFMP4Playlists(t *testing.T) {
	gst := testenv.Tool(t, "gst-launch-1.0")
	for _, v := range []Variant{VariantLowLatency, VariantFMP4} {
		t.Run(string(v), func(t *testing.T) {
			s := startStack(t, Config{Variant: v, SegmentDuration: time.Second, EndListDelay: 3 * time.Second})
			pub := testenv.Publish(t, s.rtmpURL("g"), testenv.Source{Width: 320, Height: 240, FPS: 25,
				Duration: 30 * time.Second})
			defer pub.Kill()
			url := s.playlistURL("g")
			waitSegments(t, url, 3)
			ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
			defer cancel()
			// -m prints the bus messages: state changes and errors.
			out, _ := exec.CommandContext(ctx, gst, "-m", "playbin", "uri="+url,
				"video-sink=fakesink", "audio-sink=fakesink").CombinedOutput()
			log := string(out)
			if strings.Contains(log, "ERROR") || strings.Contains(log, "error message") {
				t.Fatalf("GStreamer reported an error:\n%s", tail(log, 3000))
			}
			if !strings.Contains(log, `from element "playbin0" (state-changed): GstMessageStateChanged, old-state=(GstState)paused, new-state=(GstState)playing`) {
				t.Fatalf("GStreamer never played:\n%s", tail(log, 3000))
			}
			if !strings.Contains(log, "hlsdemux") || !strings.Contains(log, ".m4s") {
				t.Errorf("GStreamer did not read fMP4 segments through its HLS demuxer:\n%s", tail(log, 3000))
			}
		})
	}
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
