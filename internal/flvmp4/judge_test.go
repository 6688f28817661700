package flvmp4

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/fmp4"
	"github.com/mediaserver/mediaserver/internal/cliptest"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

// clipFrames encodes a 4 s clip into FLV with ffmpeg and returns its frames
// as the hub would hold them.
func clipFrames(t *testing.T, audioArgs ...string) []*stream.Frame {
	t.Helper()
	return cliptest.Frames(t, append([]string{"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi",
		"-i", "sine=frequency=440:sample_rate=44100", "-t", "4", "-c:v", "libx264", "-preset", "veryfast", "-bf", "2",
		"-g", "25", "-pix_fmt", "yuv420p"}, audioArgs...)...)
}

// mux writes frames as an fMP4 file, one fragment per video keyframe, the
// way the package's users do: Track from the sequence starts (the first
// frame for MP3), SampleOf for the data, queues for the durations and an
// AudioClock for exact audio times.
func mux(t *testing.T, frames []*stream.Frame) []byte {
	t.Helper()
	var video, audio fmp4.Track
	var vq, aq SampleQueue
	var clock AudioClock
	var body []byte
	seq := uint32(0)
	flush := func(all bool) {
		if all {
			vq.Finish(0)
			aq.Finish(0)
		}
		vb, vs := vq.Complete()
		ab, as := aq.Complete()
		if len(vs) == 0 {
			return
		}
		seq++
		fr := fmp4.Fragment{SequenceNumber: seq, Tracks: []fmp4.TrackFragment{
			{TrackID: 1, BaseMediaDecodeTime: vb, Samples: vs}, {TrackID: 2, BaseMediaDecodeTime: ab, Samples: as}}}
		body = fr.Append(body)
		vq.Take(len(vs))
		aq.Take(len(as))
	}
	for _, f := range frames {
		if f.Type == flv.TagScript {
			continue
		}
		data, sync, err := SampleOf(f)
		if errors.Is(err, ErrNoSample) {
			if f.IsSequenceStart() {
				h, _ := flv.ParseVideoTagHeader(f.Payload)
				tr := &video
				if f.Type == flv.TagAudio {
					a, _ := flv.ParseAudioTagHeader(f.Payload)
					h.HeaderLen, tr = a.HeaderLen, &audio
				}
				id := uint32(1)
				if f.Type == flv.TagAudio {
					id = 2
				}
				if *tr, err = Track(id, f.Codec, f.Payload[h.HeaderLen:], nil); err != nil {
					t.Fatal(err)
				}
				if f.Type == flv.TagAudio {
					clock = NewAudioClock(audio.Timescale)
				}
			}
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		if f.Type == flv.TagVideo {
			if sync {
				flush(false)
			}
			vq.Push(uint64(f.Time)*90, fmp4.Sample{CompositionOffset: f.CompositionTime * 90, Flags: Flags(sync), Data: data})
			continue
		}
		if audio.Codec == 0 { // MP3: the first frame describes the track
			if audio, err = Track(2, f.Codec, data, nil); err != nil {
				t.Fatal(err)
			}
			clock = NewAudioClock(audio.Timescale)
		}
		d, _ := fmp4.SampleDuration(audio, data)
		aq.Push(clock.Time(int64(f.Time), d), fmp4.Sample{Flags: fmp4.SyncSample, Data: data})
	}
	flush(true)
	in, err := fmp4.NewInit([]fmp4.Track{video, audio})
	if err != nil {
		t.Fatal(err)
	}
	return append(in.Append(nil), body...)
}

func TestFramesBecomeAnMP4ThatFFmpegDecodes(t *testing.T) {
	for _, c := range []struct {
		name, codec string
		args        []string
	}{
		{"h264+aac", "aac", []string{"-c:a", "aac"}},
		{"h264+mp3", "mp3", []string{"-c:a", "libmp3lame"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out.mp4")
			if err := os.WriteFile(path, mux(t, clipFrames(t, c.args...)), 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(testenv.Tool(t, "ffmpeg"), "-v", "error", "-i", path, "-f", "null", "-").CombinedOutput()
			if err != nil || len(bytes.TrimSpace(out)) > 0 {
				t.Fatalf("ffmpeg decode: %v\n%s", err, out)
			}
			out, err = exec.Command(testenv.Tool(t, "ffprobe"), "-v", "error", "-show_entries",
				"stream=codec_name,duration", "-of", "csv=p=0", path).Output()
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Fields(strings.TrimSpace(string(out)))
			if len(lines) != 2 || !strings.HasPrefix(lines[0], "h264,") || !strings.HasPrefix(lines[1], c.codec+",") {
				t.Fatalf("ffprobe streams: %q", lines)
			}
			for _, l := range lines {
				d, err := strconv.ParseFloat(l[strings.IndexByte(l, ',')+1:], 64)
				if err != nil || d < 3.8 || d > 4.2 {
					t.Errorf("stream %q: duration %v, want 4 s", l, d)
				}
			}
		})
	}
}
