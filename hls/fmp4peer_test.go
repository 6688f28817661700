package hls

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/rtmp"
	"github.com/mediaserver/mediaserver/stream"
)

// The fMP4 segments and parts of streams published by real encoders
// (ffmpeg for H.264+AAC, the FFmpeg 8 Enhanced RTMP peer for HEVC+AAC,
// AV1+Opus and VP9+Opus), read back by ffprobe, ffmpeg and the npm package
// mp4box.

// captureFrames receives one RTMP publish of name from publish and returns
// the frames an HLS reader gets, from the sequence headers to the end.
func captureFrames(t *testing.T, name string, publish func(url string) *testenv.Process) []*stream.Frame {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub, err := stream.NewRegistry(stream.Config{}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := rtmp.NewServer(rtmp.ServerConfig{}, hub, log)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		_ = srv.Close()
		<-served
	}()
	p := publish("rtmp://" + ln.Addr().String() + "/live/" + name)
	var s *stream.Stream
	testenv.WaitFor(t, 30*time.Second, "the publisher", func() bool {
		s, _ = hub.Lookup(stream.Key{App: "live", Name: name})
		return s != nil
	})
	r := s.NewReader(stream.ReaderInfo{ID: "test", Protocol: stream.ProtocolHLS})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var frames []*stream.Frame
	buf := make([]*stream.Frame, 64)
	for {
		n, err := r.Read(ctx, buf)
		frames = append(frames, buf[:n]...)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, stream.ErrClosed) {
				t.Fatalf("reading %s: %v\n%s", name, err, p.Output())
			}
			break
		}
	}
	if rs := r.Stats(); rs.Dropped > 0 || rs.Resyncs > 0 {
		t.Fatalf("the reader lost frames: %+v", rs)
	}
	return frames
}

// publishH264 publishes 4 s of H.264 (with B-frames) and AAC with ffmpeg.
func publishH264(t *testing.T) func(string) *testenv.Process {
	return func(url string) *testenv.Process {
		return testenv.Publish(t, url, testenv.Source{Width: 320, Height: 240, FPS: 25, Duration: 4 * time.Second,
			Extra: []string{"-bf", "2"}})
	}
}

// publishClip publishes 4 s of an Enhanced RTMP clip.
func publishClip(t *testing.T, video, audio string) func(string) *testenv.Process {
	file := testenv.EncodeClip(t, t.TempDir(), testenv.Clip{Video: video, Audio: audio})
	return func(url string) *testenv.Process { return testenv.PublishEnhanced(t, file, url) }
}

// lowLatencyConfig cuts 1 s segments of 200 ms parts.
var lowLatencyConfig = SegmenterConfig{Variant: VariantLowLatency, TargetDuration: time.Second,
	PartDuration: 200 * time.Millisecond}

// segmentAll feeds frames (then Flush) into a new low-latency segmenter.
func segmentAll(t *testing.T, frames []*stream.Frame) (*Segmenter, *mp4Output) {
	t.Helper()
	s := NewSegmenter(lowLatencyConfig)
	o := &mp4Output{}
	o.feed(t, s, frames)
	seg, err := s.Flush()
	o.collect(t, s, seg, err)
	if len(o.segments) < 3 {
		t.Fatalf("%d segments from %d frames (stats %+v)", len(o.segments), len(frames), s.Stats())
	}
	return s, o
}

// writeParts writes the init section of generation gen and the parts of
// the segments that need it into dir (init.mp4, frag-NNNNN.m4s, as
// mp4box.mjs reads them) and the whole stream into dir/all.mp4; it
// returns the number of parts.
func (o *mp4Output) writeParts(t *testing.T, dir string, gen int) int {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	all := bytes.Clone(o.inits[gen])
	n := 0
	for i, seg := range o.segments {
		if seg.Init != gen {
			continue
		}
		all = append(all, seg.Data...)
		for _, p := range o.parts[i] {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("frag-%05d.m4s", n)), p.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	for name, data := range map[string][]byte{"init.mp4": o.inits[gen], "all.mp4": all} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// end returns when the segments of init generation gen end on the
// output clock: the first one's start plus their durations.
func (o *mp4Output) end(gen int) time.Duration {
	var d time.Duration
	started := false
	for _, seg := range o.segments {
		if seg.Init == gen {
			if !started {
				d, started = time.Duration(seg.Start)*time.Second/clockRate, true
			}
			d += seg.Duration
		}
	}
	return d
}

// probeFile runs ffprobe on an MP4 file and returns its streams' codec
// names in order and its duration.
func probeFile(t *testing.T, path string) ([]string, time.Duration) {
	t.Helper()
	out, err := exec.Command(testenv.Tool(t, "ffprobe"), "-v", "error", "-show_entries",
		"stream=codec_name:format=duration", "-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var doc struct {
		Streams []struct {
			CodecName string `json:"codec_name"`
		} `json:"streams"`
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("ffprobe output %s: %v", out, err)
	}
	var codecs []string
	for _, s := range doc.Streams {
		codecs = append(codecs, s.CodecName)
	}
	secs, err := strconv.ParseFloat(doc.Format.Duration, 64)
	if err != nil {
		t.Fatalf("ffprobe duration %q: %v", doc.Format.Duration, err)
	}
	return codecs, time.Duration(secs * float64(time.Second))
}

// decodeFile decodes an MP4 file with ffmpeg and returns what it printed
// at level error (nothing for a clean stream).
func decodeFile(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command(testenv.Tool(t, "ffmpeg"), "-hide_banner", "-nostdin", "-v", "error",
		"-i", path, "-f", "null", "-").CombinedOutput()
	if err != nil {
		return fmt.Sprintf("%v: %s", err, out)
	}
	return string(out)
}

// mp4boxResult is the part of fmp4/testdata/mp4box.mjs's report the tests
// read.
type mp4boxResult struct {
	Dir    string `json:"dir"`
	Tracks []struct {
		Codec string `json:"codec"`
	} `json:"tracks"`
	Moofs  int      `json:"moofs"`
	Errors []string `json:"errors"`
}

// parseWithMP4Box has the npm package mp4box parse the init section and
// fragments of dir, with the fmp4 package's script.
func parseWithMP4Box(t *testing.T, dir string) mp4boxResult {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..")
	if _, err := os.Stat(filepath.Join(root, "node_modules", "mp4box", "package.json")); err != nil {
		t.Fatalf("the npm package mp4box is required (make test runs npm ci): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, testenv.Tool(t, "node"),
		filepath.Join(root, "fmp4", "testdata", "mp4box.mjs"), dir).Output()
	if err != nil {
		t.Fatalf("node mp4box.mjs: %v", err)
	}
	var r mp4boxResult
	if err := json.Unmarshal(bytes.TrimSpace(out), &r); err != nil {
		t.Fatalf("mp4box.mjs output %q: %v", out, err)
	}
	return r
}

func TestFMP4PartsOfRealEncodersAreReadByThirdParties(t *testing.T) {
	for _, c := range []struct {
		name    string
		publish func(*testing.T) func(string) *testenv.Process
		probe   []string // ffprobe codec names
		entries []string // mp4box codec prefixes
		codecs  []string // Codecs() prefixes
	}{
		{"H.264+AAC", publishH264, []string{"h264", "aac"}, []string{"avc1", "mp4a.40.2"}, []string{"avc1.", "mp4a.40.2"}},
		{"HEVC+AAC", func(t *testing.T) func(string) *testenv.Process { return publishClip(t, "hevc", "aac") },
			[]string{"hevc", "aac"}, []string{"hvc1", "mp4a.40.2"}, []string{"hvc1.", "mp4a.40.2"}},
		{"AV1+Opus", func(t *testing.T) func(string) *testenv.Process { return publishClip(t, "av1", "opus") },
			[]string{"av1", "opus"}, []string{"av01", "Opus"}, []string{"av01.", "opus"}},
		{"VP9+Opus", func(t *testing.T) func(string) *testenv.Process { return publishClip(t, "vp9", "opus") },
			[]string{"vp9", "opus"}, []string{"vp09", "Opus"}, []string{"vp09.", "opus"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			frames := captureFrames(t, "fmp4", c.publish(t))
			s, o := segmentAll(t, frames)
			o.checkParts(t, lowLatencyConfig.PartDuration)
			codecs := s.Codecs()
			if len(codecs) != len(c.codecs) {
				t.Errorf("Codecs() = %q, want %q…", codecs, c.codecs)
			}
			for i := range min(len(codecs), len(c.codecs)) {
				if !strings.HasPrefix(codecs[i], c.codecs[i]) {
					t.Errorf("Codecs() = %q, want %q…", codecs, c.codecs)
				}
			}
			// Every track's fragments follow on from one another: a part's
			// samples last until the next part's first one of their track.
			last := map[uint32]uint64{}
			for i, seg := range o.segments {
				for id, frags := range fragmentTimes(t, seg.Data) {
					for j, f := range frags {
						if end, ok := last[id]; ok && f[0] != end {
							t.Errorf("segment %d fragment %d: track %d starts at %d, the one before ended at %d",
								i, j, id, f[0], end)
						}
						last[id] = f[0] + f[1]
					}
				}
			}
			dir := filepath.Join(t.TempDir(), "gen1")
			parts := o.writeParts(t, dir, 1)
			all := filepath.Join(dir, "all.mp4")
			if msg := decodeFile(t, all); msg != "" {
				t.Errorf("ffmpeg -v error -i init+segments -f null -:\n%s", msg)
			}
			probed, d := probeFile(t, all)
			if strings.Join(probed, ",") != strings.Join(c.probe, ",") {
				t.Errorf("ffprobe finds %q, want %q", probed, c.probe)
			}
			// ffprobe's duration is where the samples' decode times end (they
			// start at the output clock's start); the last segment lasts until
			// the last frame's presentation ends, up to a few B-frames later.
			if want := o.end(1); d < want-200*time.Millisecond || d > want+50*time.Millisecond {
				t.Errorf("ffprobe duration %v, the segments end at %v", d, want)
			}
			r := parseWithMP4Box(t, dir)
			if len(r.Errors) > 0 {
				t.Errorf("mp4box errors: %q", r.Errors)
			}
			if r.Moofs != parts {
				t.Errorf("mp4box found %d moof boxes in %d parts", r.Moofs, parts)
			}
			if len(r.Tracks) != len(c.entries) {
				t.Fatalf("mp4box tracks %+v, want %q", r.Tracks, c.entries)
			}
			for i, tr := range r.Tracks {
				if !strings.HasPrefix(tr.Codec, c.entries[i]) {
					t.Errorf("mp4box track %d codec %q, want %s…", i, tr.Codec, c.entries[i])
				}
			}
		})
	}
}

// fragmentTimes returns, per track ID, the base media decode time of
// each fragment of a segment and the sum of its sample durations.
func fragmentTimes(t *testing.T, data []byte) map[uint32][][2]uint64 {
	t.Helper()
	times := map[uint32][][2]uint64{}
	children := func(b []byte, fn func(typ string, body []byte)) {
		for len(b) >= 8 {
			n := int(binary.BigEndian.Uint32(b))
			if n < 8 || n > len(b) {
				t.Fatalf("box of %d bytes with %d left", n, len(b))
			}
			fn(string(b[4:8]), b[8:n])
			b = b[n:]
		}
	}
	children(data, func(typ string, moof []byte) {
		if typ != "moof" {
			return
		}
		children(moof, func(typ string, traf []byte) {
			if typ != "traf" {
				return
			}
			var id uint32
			var base, total uint64
			children(traf, func(typ string, b []byte) {
				switch typ {
				case "tfhd":
					id = binary.BigEndian.Uint32(b[4:])
				case "tfdt":
					base = binary.BigEndian.Uint64(b[4:]) // version 1
				case "trun":
					total = trunDuration(t, b)
				}
			})
			times[id] = append(times[id], [2]uint64{base, total})
		})
	})
	return times
}

// trunDuration sums the sample durations of a trun box body.
func trunDuration(t *testing.T, b []byte) uint64 {
	t.Helper()
	flags := binary.BigEndian.Uint32(b) & 0xffffff
	count := int(binary.BigEndian.Uint32(b[4:]))
	pos := 8
	for _, f := range []uint32{0x1, 0x4} {
		if flags&f != 0 {
			pos += 4
		}
	}
	if flags&0x100 == 0 {
		t.Fatalf("trun without sample durations")
	}
	per := 0
	for _, f := range []uint32{0x100, 0x200, 0x400, 0x800} {
		if flags&f != 0 {
			per += 4
		}
	}
	var sum uint64
	for i := range count {
		sum += uint64(binary.BigEndian.Uint32(b[pos+i*per:]))
	}
	return sum
}

func TestFMP4RepublishContinuesDecodeTimeAndChangesInitWithTheCodec(t *testing.T) {
	h264 := captureFrames(t, "first", publishH264(t))
	hevc := captureFrames(t, "second", publishClip(t, "hevc", "aac"))
	s := NewSegmenter(lowLatencyConfig)
	o := &mp4Output{}
	o.feed(t, s, h264)
	restart := func() {
		seg, err := s.Restart()
		o.collect(t, s, seg, err)
	}
	restart()
	firstRun := len(o.segments)
	o.feed(t, s, h264) // the same publisher again: same codec configuration
	restart()
	secondRun := len(o.segments)
	o.feed(t, s, hevc)
	seg, err := s.Flush()
	o.collect(t, s, seg, err)
	o.checkParts(t, lowLatencyConfig.PartDuration)

	if len(o.initGens) != 2 || o.initGens[0] != 1 || o.initGens[1] != 2 {
		t.Fatalf("init generations %v, want [1 2]", o.initGens)
	}
	for i, seg := range o.segments {
		want := 1
		if i >= secondRun {
			want = 2
		}
		if seg.Init != want {
			t.Errorf("segment %d needs init %d, want %d", i, seg.Init, want)
		}
		if disc := i == firstRun || i == secondRun; seg.Discontinuity != disc {
			t.Errorf("segment %d: discontinuity %v, want %v", i, seg.Discontinuity, disc)
		}
	}
	// Decode times run on: each segment's video starts where the one
	// before ended, or later after a republish.
	var end uint64
	for i, seg := range o.segments {
		for j, f := range fragmentTimes(t, seg.Data)[mp4VideoTrackID] {
			if f[0] < end || (f[0] != end && i != firstRun && i != secondRun && (i > 0 || j > 0)) {
				t.Errorf("segment %d fragment %d: video tfdt %d after the previous ended at %d", i, j, f[0], end)
			}
			end = f[0] + f[1]
		}
	}
	dir := filepath.Join(t.TempDir(), "gen2")
	o.writeParts(t, dir, 2)
	if msg := decodeFile(t, filepath.Join(dir, "all.mp4")); msg != "" {
		t.Errorf("ffmpeg -v error -i init 2 + its segments -f null -:\n%s", msg)
	}
	if probed, _ := probeFile(t, filepath.Join(dir, "all.mp4")); strings.Join(probed, ",") != "hevc,aac" {
		t.Errorf("after the republish ffprobe finds %q", probed)
	}
}

// ac3Frames encodes 3 s of a tone as AC-3 or E-AC-3 at 192 kbit/s, 48 kHz
// with ffmpeg and returns its syncframes as Enhanced RTMP audio frames
// (these codecs have no sequence start: the first frame configures the
// track).
func ac3Frames(t *testing.T, codec flv.FourCC) []*stream.Frame {
	t.Helper()
	format := map[flv.FourCC]string{flv.FourCCAC3: "ac3", flv.FourCCEAC3: "eac3"}[codec]
	out, err := exec.Command(testenv.Tool(t, "ffmpeg"), "-hide_banner", "-nostdin", "-v", "error",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=3", "-ac", "2",
		"-c:a", format, "-b:a", "192k", "-f", format, "-").Output()
	if err != nil {
		t.Fatalf("ffmpeg %s: %v", format, err)
	}
	var frames []*stream.Frame
	for pos, ms := 0, 0; pos < len(out); {
		if len(out)-pos < 6 || out[pos] != 0x0b || out[pos+1] != 0x77 {
			t.Fatalf("%s: no syncframe at %d", format, pos)
		}
		size := 768 // 192 kbit/s × 32 ms
		if codec == flv.FourCCEAC3 {
			size = (int(binary.BigEndian.Uint16(out[pos+2:])&0x7ff) + 1) * 2
		}
		payload, err := flv.AppendAudioTag(nil, flv.AudioTagHeader{Enhanced: true, Codec: codec,
			PacketType: flv.PacketCodedFrames}, out[pos:pos+size])
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, frame(t, flv.TagAudio, uint32(ms), payload))
		pos += size
		ms += 32 // 1536 samples at 48 kHz
	}
	return frames
}

func TestFMP4AC3AndEAC3AreConfiguredByTheirFrames(t *testing.T) {
	for _, c := range []struct {
		codec        flv.FourCC
		probe, entry string
	}{{flv.FourCCAC3, "ac3", "ac-3"}, {flv.FourCCEAC3, "eac3", "ec-3"}} {
		t.Run(c.probe, func(t *testing.T) {
			s, o := segmentAll(t, ac3Frames(t, c.codec))
			o.checkParts(t, lowLatencyConfig.PartDuration)
			if got := s.Codecs(); len(got) != 1 || got[0] != c.entry {
				t.Errorf("Codecs() = %q, want [%s]", got, c.entry)
			}
			if st := s.Stats(); !st.Audio.Included || st.Dropped > 0 {
				t.Errorf("stats %+v", st)
			}
			dir := filepath.Join(t.TempDir(), c.probe)
			parts := o.writeParts(t, dir, 1)
			all := filepath.Join(dir, "all.mp4")
			if msg := decodeFile(t, all); msg != "" {
				t.Errorf("ffmpeg -v error -i init+segments -f null -:\n%s", msg)
			}
			if probed, _ := probeFile(t, all); strings.Join(probed, ",") != c.probe {
				t.Errorf("ffprobe finds %q, want %s", probed, c.probe)
			}
			r := parseWithMP4Box(t, dir)
			if len(r.Errors) > 0 || r.Moofs != parts || len(r.Tracks) != 1 || r.Tracks[0].Codec != c.entry {
				t.Errorf("mp4box: %+v for %d parts", r, parts)
			}
		})
	}
}
