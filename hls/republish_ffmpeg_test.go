package hls

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

// TestRepublishAfterDropDecodesCleanly: a publisher (H.264 with
// B-frames) whose connection drops mid-GOP and that returns within the
// republish window continues the playlist after a discontinuity; ffmpeg
// decodes the whole playlist without a timestamp warning and ffprobe finds
// every stream's DTS increasing, as on a fresh stream. (Where the drop
// lands varies; TestRegressionRepublishedHLSTimestampsOffFrameGrid pins
// the worst case.)
func TestRepublishAfterDropDecodesCleanly(t *testing.T) {
	s := startStackWithHub(t, Config{EndListDelay: 3 * time.Second, PlaylistLength: 20},
		stream.Config{RepublishWindow: 10 * time.Second})
	url := s.playlistURL("again")
	w := watch(t, url, 500*time.Millisecond)
	bframes := []string{"-bf", "3"}
	first := testenv.Publish(t, s.rtmpURL("again"), testenv.Source{Extra: bframes})
	w.waitUntil(t, "the first segments", 30*time.Second, func(p parsedPlaylist, _ []playlistSegment) bool {
		return len(p.segments) >= 2
	})
	first.Kill() // the connection drops mid-GOP
	second := testenv.Publish(t, s.rtmpURL("again"), testenv.Source{Duration: 6 * time.Second, Extra: bframes})
	if exited, err := second.Wait(40 * time.Second); !exited || err != nil {
		t.Fatalf("second publisher: exited %v, %v", exited, err)
	}
	w.waitUntil(t, "EXT-X-ENDLIST", 30*time.Second, func(p parsedPlaylist, _ []playlistSegment) bool { return p.ended })
	if p, _ := w.snapshot(); !slicesContainDisc(p.segments) {
		t.Errorf("no discontinuity at the republish")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, testenv.Tool(t, "ffmpeg"), "-hide_banner", "-nostdin", "-v", "warning",
		"-i", url, "-f", "null", "-").CombinedOutput()
	if err != nil || strings.Contains(strings.ToLower(string(out)), "monoton") {
		t.Errorf("ffmpeg -i playlist -f null -: %v\n%s", err, out)
	}
	packets, err := exec.CommandContext(ctx, testenv.Tool(t, "ffprobe"), "-v", "error",
		"-show_entries", "packet=stream_index,dts", "-of", "csv=p=0", url).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	last := map[string]int64{}
	for line := range strings.Lines(string(packets)) {
		index, dtsText, ok := strings.Cut(strings.Trim(strings.TrimSpace(line), ","), ",")
		dts, err := strconv.ParseInt(dtsText, 10, 64)
		if !ok || err != nil {
			continue // a packet without DTS
		}
		if prev, seen := last[index]; seen && dts <= prev {
			t.Errorf("stream %s: DTS %d after %d", index, dts, prev)
		}
		last[index] = dts
	}
	if len(last) != 2 {
		t.Errorf("ffprobe found %d streams with timestamps", len(last))
	}
}

// slicesContainDisc reports whether a segment starts a discontinuity.
func slicesContainDisc(segs []playlistSegment) bool {
	for _, s := range segs {
		if s.disc {
			return true
		}
	}
	return false
}
