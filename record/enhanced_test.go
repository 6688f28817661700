package record_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/record"
)

// TestEnhancedRTMPRecordings: an HEVC stream published over Enhanced RTMP
// (FFmpeg 8) is recorded both as FLV, which keeps its Enhanced RTMP tags
// and which FFmpeg 8 demuxes, and as fragmented MP4 (hvc1), which Debian's
// ffmpeg decodes without a word.
func TestEnhancedRTMPRecordings(t *testing.T) {
	hook := newHookSink(t)
	srv := startServer(t, record.Config{
		Dir:          t.TempDir(),
		Streams:      map[string]record.Rule{"live/flv": {Format: record.FormatFLV}, "live/mp4": {Format: record.FormatFMP4}},
		OnRecordDone: hook.url,
	})
	clip := testenv.EncodeClip(t, t.TempDir(), testenv.Clip{Video: "hevc"})
	pubs := []*testenv.Process{
		testenv.PublishEnhanced(t, clip, "rtmp://"+srv.RTMPAddr()+"/live/flv"),
		testenv.PublishEnhanced(t, clip, "rtmp://"+srv.RTMPAddr()+"/live/mp4"),
	}
	for _, p := range pubs {
		if exited, err := p.Wait(time.Minute); !exited || err != nil {
			t.Fatalf("publisher: exited %v, %v", exited, err)
		}
	}
	testenv.WaitFor(t, 20*time.Second, "both files", func() bool { return len(hook.Events()) == 2 })
	for _, ev := range hook.Events() {
		if ev.DurationSeconds < 3 {
			t.Errorf("%s: %.2f s of a 4 s clip", ev.ID, ev.DurationSeconds)
		}
		switch ev.Format {
		case record.FormatFLV:
			p, err := testenv.ProbeEnhanced(t, ev.Path, time.Minute)
			if err != nil || p.Video() == nil || p.Video().Codec != "hevc" || p.Video().Packets == 0 || p.Audio() == nil {
				t.Errorf("FFmpeg 8 reading %s: %v, %+v", ev.ID, err, p)
			}
		case record.FormatFMP4:
			if !strings.HasSuffix(ev.ID, ".mp4") {
				t.Errorf("MP4 file named %s", ev.ID)
			}
			p, err := testenv.FFprobe(t, ev.Path, time.Minute)
			if err != nil || p.Video() == nil || p.Video().CodecName != "hevc" || p.Audio() == nil {
				t.Errorf("ffprobe %s: %v, %+v", ev.ID, err, p.Streams)
			}
			checkDecodes(t, ev.Path)
		}
	}
}
