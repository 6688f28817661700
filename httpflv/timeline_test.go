package httpflv

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/rtmp"
	"github.com/mediaserver/mediaserver/rtmp/chunk"
	"github.com/mediaserver/mediaserver/stream"
)

// The tests here publish with ffmpeg and let ffmpeg and ffprobe judge what
// every FLV output (HTTP-FLV, WebSocket-FLV, RTMP play) makes of the
// stream's timeline: after a republish, across a jump of the publisher's
// clock, and for a viewer joining mid-stream.

// rtmpURL returns the RTMP play URL of a stream.
func (s *liveServer) rtmpURL(name string) string { return s.publishURL(name) }

// saveFLV writes what a viewer received as an FLV file for ffmpeg to read
// and returns its path.
func saveFLV(t *testing.T, name string, h flv.Header, tags []flv.Tag) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".flv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := flv.NewWriter(f, h)
	if err := w.WriteHeader(); err != nil {
		t.Fatal(err)
	}
	for _, tag := range tags {
		if err := w.WriteTag(tag); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// ffmpegComplaints reads an FLV file with ffmpeg (-c copy) and returns
// what it printed at warning level and above: nothing for a clean stream.
func ffmpegComplaints(t *testing.T, path string) string {
	t.Helper()
	out, err := testenv.Decode(t, path, time.Minute)
	if err != nil {
		t.Errorf("ffmpeg reading %s: %v", filepath.Base(path), err)
	}
	return strings.TrimSpace(out)
}

// rtmpLateJoin plays name over RTMP and returns the audio, video and data
// messages up to and including the first video keyframe, as FLV tags.
func rtmpLateJoin(t *testing.T, url, name string) []flv.Tag {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	c, err := rtmp.Dial(ctx, url, rtmp.ClientConfig{})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	if err := c.Play(name); err != nil {
		t.Fatalf("play: %v", err)
	}
	_ = c.Conn().SetReadDeadline(time.Now().Add(waitTimeout))
	var tags []flv.Tag
	for {
		m, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("RTMP player after %s: %v", describeTags(tags), err)
		}
		switch m.Type {
		case chunk.TypeAudio, chunk.TypeVideo, chunk.TypeDataAMF0:
		default:
			continue
		}
		if m.Type == chunk.TypeDataAMF0 && !flv.IsMetadata(m.Payload) {
			continue // |RtmpSampleAccess
		}
		tag := flv.Tag{Type: flv.TagType(m.Type), Timestamp: m.Timestamp, Data: m.Payload}
		tags = append(tags, tag)
		if strings.HasPrefix(describeTag(tag), "vK") {
			return tags
		}
	}
}

// watch starts the FLV viewers that stay on a stream until it ends:
// HTTP-FLV and WebSocket-FLV, read in Go, and RTMP, read by ffmpeg itself.
func (s *liveServer) watch(t *testing.T, name string) (httpTags, wsTags *tagReader, rtmpPlayer *testenv.Process) {
	t.Helper()
	httpTags = readTags(get(t, s.flvURL(name)).Body)
	wsTags = readTags(newWSReader(wsDial(t, s.wsURL(name), nil)))
	rtmpPlayer = testenv.Start(t, "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning",
		"-i", s.rtmpURL(name), "-c", "copy", "-f", "null", "-")
	return httpTags, wsTags, rtmpPlayer
}

// complaints waits for a player started by watch to finish with its
// stream and returns what it printed: nothing for a clean stream.
func complaints(t *testing.T, p *testenv.Process) string {
	t.Helper()
	if exited, err := p.Wait(waitTimeout); !exited {
		t.Error("ffmpeg playing RTMP did not stop at the end of the stream")
	} else if err != nil {
		t.Errorf("ffmpeg playing RTMP: %v", err)
	}
	return strings.TrimSpace(p.Output())
}

// Regression (republish adds a phantom subtitle stream): after a publisher
// dropped and came back within the republish window, ffprobe listed a
// text/subtitle stream besides h264 and aac on every FLV output, and
// `ffmpeg -t 3 -c copy out.mkv` never finished: the stored onMetaData was
// sent again at the continued, non-zero time, which ffmpeg takes for a data
// stream. Viewers joining after the republish probe like a fresh stream,
// and ffmpeg reads the viewers that stayed across it without a word.
func TestRepublishAddsNoPhantomSubtitleStream(t *testing.T) {
	s := startLiveStreams(t, Config{}, stream.Config{RepublishWindow: 5 * time.Second}, nil)
	src := testenv.Source{FPS: 25, GOP: 25}
	pub := testenv.Publish(t, s.publishURL("x"), src)
	st := s.waitStream(t, "x", true)
	httpTags, wsTags, rtmpPlayer := s.watch(t, "x")
	httpTags.waitHeader(t)
	wsTags.waitHeader(t)
	testenv.WaitFor(t, waitTimeout, "three keyframes", func() bool { return st.Stats().Keyframes >= 3 })

	pub.Kill() // the connection drops: no FCUnpublish, no deleteStream
	testenv.WaitFor(t, waitTimeout, "the stream to wait for its publisher", func() bool { return st.State() == stream.StateWaiting })
	second := src
	second.Duration = 6 * time.Second
	pub = testenv.Publish(t, s.publishURL("x"), second)
	keys := st.Stats().Keyframes
	testenv.WaitFor(t, waitTimeout, "the second publisher's keyframes", func() bool {
		return st.Republishes() == 1 && st.Stats().Keyframes >= keys+2
	})

	t.Run("joining after the republish", func(t *testing.T) {
		relay := wsRelay(t, s.wsURL("x"))
		for _, tc := range []struct{ name, url string }{{"HTTP", s.flvURL("x")}, {"WS", relay}, {"RTMP", s.rtmpURL("x")}} {
			t.Run("ffprobe "+tc.name, func(t *testing.T) {
				t.Parallel()
				p, err := testenv.FFprobe(t, tc.url, 20*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				checkTracks(t, p, "h264", "aac")
			})
		}
		t.Run("ffmpeg -t 3 to mkv", func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, testenv.Tool(t, "ffmpeg"), "-hide_banner", "-nostdin", "-v", "warning",
				"-i", s.flvURL("x"), "-t", "3", "-c", "copy", filepath.Join(t.TempDir(), "out.mkv")).CombinedOutput()
			if err != nil || ctx.Err() != nil {
				t.Fatalf("ffmpeg -t 3 -c copy out.mkv did not finish: %v\n%s", err, out)
			}
		})
	})

	if exited, err := pub.Wait(30 * time.Second); !exited || err != nil {
		t.Fatalf("second publisher: exited %v, %v", exited, err)
	}
	for name, tr := range map[string]*tagReader{"HTTP": httpTags, "WS": wsTags} {
		tags, _ := tr.waitEnd(t)
		if n := slices.IndexFunc(tags, func(tag flv.Tag) bool { return tag.Type == flv.TagScript && tag.Timestamp != 0 }); n >= 0 {
			t.Errorf("%s viewer got script data at %d ms", name, tags[n].Timestamp)
		}
		if out := ffmpegComplaints(t, saveFLV(t, name, flv.Header{HasAudio: true, HasVideo: true}, tags)); out != "" {
			t.Errorf("ffmpeg reading what the %s viewer got across the republish:\n%s", name, out)
		}
	}
	if out := complaints(t, rtmpPlayer); out != "" {
		t.Errorf("ffmpeg playing RTMP across the republish:\n%s", out)
	}
}

// Regression (timestamp jumps backwards): ffmpeg's FLV muxer masks
// timestamps to 31 bits, so a publisher running at 2^31 ms jumped back to 0;
// HTTP-FLV passed the jump on and ffmpeg reading it printed thousands of
// "invalid dropping" lines. Every FLV output keeps its timestamps
// monotonic across the jump, and ffmpeg reads each without a word.
func TestTimestampJumpBackwardsKeepsFLVOutputsMonotonic(t *testing.T) {
	s := startLive(t, Config{}, nil)
	src := testenv.Source{FPS: 25, GOP: 25, Duration: 9 * time.Second}
	// The publisher's clock starts 5 s before 2^31 ms.
	args := src.Args(t, s.publishURL("wrap"))
	args = slices.Insert(args, len(args)-1, "-output_ts_offset", "2147478.648")
	pub := testenv.Start(t, "ffmpeg", args...)
	st := s.waitStream(t, "wrap", true)
	httpTags, wsTags, rtmpPlayer := s.watch(t, "wrap")

	if exited, err := pub.Wait(30 * time.Second); !exited || err != nil {
		t.Fatalf("publisher: exited %v, %v", exited, err)
	}
	if n := st.Stats().TimestampRegressions; n == 0 {
		t.Fatal("the publisher's clock did not jump back: the test did not exercise the jump")
	}
	const before = 1<<31 - 5000 // a media timestamp the viewers got before the jump
	for name, tr := range map[string]*tagReader{"HTTP": httpTags, "WS": wsTags} {
		tags, _ := tr.waitEnd(t)
		first := slices.IndexFunc(tags, func(tag flv.Tag) bool { return tag.Type == flv.TagVideo && tag.Timestamp >= before })
		if first < 0 || len(tags) < 300 {
			t.Fatalf("%s viewer got %d tags, none from before the jump: %s", name, len(tags), describeTags(tags[:min(len(tags), 8)]))
		}
		if out := ffmpegComplaints(t, saveFLV(t, name, flv.Header{HasAudio: true, HasVideo: true}, tags)); out != "" {
			t.Errorf("ffmpeg reading what the %s viewer got across the jump (%d lines):\n%.2000s", name, strings.Count(out, "\n")+1, out)
		}
		checkTimeline(t, tags, 100)
	}
	if out := complaints(t, rtmpPlayer); out != "" {
		t.Errorf("ffmpeg playing RTMP across the jump (%d lines):\n%.2000s", strings.Count(out, "\n")+1, out)
	}
}

// Regression (late joiners' header tags carry their original timestamps):
// a viewer joining a running stream got onMetaData and the sequence headers
// at the times the publisher once sent them (0), then media seconds later.
// On every FLV output it gets onMetaData at 0, the sequence headers at the
// time of its first media frame, then that keyframe; ffprobe and ffmpeg
// read it as a stream starting there.
func TestLateJoinerHeaderTagsAtFirstMediaTime(t *testing.T) {
	s := startLive(t, Config{}, nil)
	testenv.Publish(t, s.publishURL("late"), testenv.Source{FPS: 25, GOP: 25, Duration: 10 * time.Second})
	st := s.waitStream(t, "late", true)
	testenv.WaitFor(t, waitTimeout, "a third keyframe", func() bool { return st.Stats().Keyframes >= 3 })

	httpTags := readTags(get(t, s.flvURL("late")).Body)
	wsTags := readTags(newWSReader(wsDial(t, s.wsURL("late"), nil)))
	joined := map[string][]flv.Tag{
		"HTTP": httpTags.waitTags(t, 4),
		"WS":   wsTags.waitTags(t, 4),
		"RTMP": rtmpLateJoin(t, s.rtmpURL("late"), "late"),
	}
	for name, tags := range joined {
		got := describeTags(tags[:min(len(tags), 4)])
		key := slices.IndexFunc(tags, func(tag flv.Tag) bool { return strings.HasPrefix(describeTag(tag), "vK") })
		if key != 3 || tags[key].Timestamp < 1000 {
			t.Fatalf("%s viewer got %s, want metadata, two sequence headers, then a keyframe of a running stream", name, got)
		}
		at := tags[key].Timestamp
		if want := strings.NewReplacer("T", strconv.FormatUint(uint64(at), 10)).Replace("[d0 vHT aHT vKT]"); got != want {
			t.Errorf("%s viewer got %s, want %s", name, got, want)
		}
	}

	p, err := testenv.FFprobe(t, s.flvURL("late"), 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	checkTracks(t, p, "h264", "aac")
	tags := httpTags.waitTags(t, 100)
	if out := ffmpegComplaints(t, saveFLV(t, "late", flv.Header{HasAudio: true, HasVideo: true}, tags)); out != "" {
		t.Errorf("ffmpeg reading the late joiner's stream:\n%s", out)
	}
}
