package fmp4_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/fmp4"
	"github.com/mediaserver/mediaserver/internal/testenv"
)

// judgeCase is a video and an audio stream written together as fMP4, with
// what the third-party readers must report.
type judgeCase struct {
	name         string
	streams      func(t *testing.T) (video, audio media)
	video, audio string // ffprobe codec names
	videoEntry   string // mp4box codec string prefix
	audioEntry   string
	// browser is the audio codecs parameter of the MIME type for
	// Chromium's Media Source Extensions; "" for the pairs Debian's
	// Chromium does not take in MSE at all (HEVC without a hardware
	// decoder, AC-3, E-AC-3, and MP3 in MP4 under any spelling: mp3,
	// mp4a.6B, mp4a.69, mp4a.40.34).
	browser string
}

func judgeCases() []judgeCase {
	aac := func(t *testing.T) media {
		_, a := flvMedia(t, "-map", "1:a", "-c:a", "aac", "-b:a", "96k")
		return a
	}
	return []judgeCase{
		{"H.264+AAC", func(t *testing.T) (media, media) { return flvMedia(t, "-c:a", "aac", "-b:a", "96k") },
			"h264", "aac", "avc1", "mp4a.40.2", "mp4a.40.2"},
		{"HEVC+AAC", func(t *testing.T) (media, media) { return hevcMedia(t), aac(t) }, "hevc", "aac", "hvc1", "mp4a.40.2", ""},
		{"AV1+Opus", func(t *testing.T) (media, media) { return av1Media(t), opusMedia(t) }, "av1", "opus", "av01", "Opus", "opus"},
		{"VP9+Opus", func(t *testing.T) (media, media) { return vp9Media(t), opusMedia(t) }, "vp9", "opus", "vp09", "Opus", "opus"},
		{"H.264+FLAC", func(t *testing.T) (media, media) {
			v, _ := flvMedia(t, "-an")
			return v, flacMedia(t)
		}, "h264", "flac", "avc1", "fLaC", "flac"},
		{"H.264+AC-3", func(t *testing.T) (media, media) {
			v, _ := flvMedia(t, "-an")
			return v, ac3Media(t, false)
		}, "h264", "ac3", "avc1", "ac-3", ""},
		{"H.264+E-AC-3", func(t *testing.T) (media, media) {
			v, _ := flvMedia(t, "-an")
			return v, ac3Media(t, true)
		}, "h264", "eac3", "avc1", "ec-3", ""},
		{"H.264+MP3", func(t *testing.T) (media, media) {
			return flvMedia(t, "-c:a", "libmp3lame", "-b:a", "128k", "-ar", "44100")
		},
			"h264", "mp3", "avc1", "mp4a.6b", ""},
	}
}

// partTicks is the length of a fragment in the test files: 200 ms, an
// LL-HLS part, so only every fifth fragment starts on a key frame.
const partTicks = videoTimescale / 5

// writeFMP4 writes the init section and the fragments of video and audio
// into dir: init.mp4, frag-NNN.m4s and, all of them in a row, all.mp4.
func writeFMP4(t *testing.T, dir string, video, audio media) {
	t.Helper()
	in, err := fmp4.NewInit([]fmp4.Track{video.track, audio.track})
	if err != nil {
		t.Fatal(err)
	}
	initBytes := in.Append(nil)
	if len(initBytes) != in.Size() {
		t.Fatalf("init section of %d bytes, Size %d", len(initBytes), in.Size())
	}
	all, err := os.Create(filepath.Join(dir, "all.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	defer all.Close()
	if _, err := all.Write(initBytes); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "init.mp4"), initBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	audioRate := uint64(audio.track.SampleRate)
	if audio.track.Codec == fmp4.CodecOpus {
		audioRate = 48000
	}
	fw := fmp4.NewFragmentWriter(all)
	var v, a int
	for seq := uint32(1); v < len(video.samples) || a < len(audio.samples); seq++ {
		end := uint64(seq) * partTicks // in the video timescale
		f := fmp4.Fragment{SequenceNumber: seq}
		vt := fmp4.TrackFragment{TrackID: video.track.ID}
		if v < len(video.samples) {
			vt.BaseMediaDecodeTime = video.samples[v].dts
		}
		for ; v < len(video.samples) && video.samples[v].dts < end; v++ {
			vt.Samples = append(vt.Samples, video.samples[v].Sample)
		}
		at := fmp4.TrackFragment{TrackID: audio.track.ID}
		if a < len(audio.samples) {
			at.BaseMediaDecodeTime = audio.samples[a].dts
		}
		for ; a < len(audio.samples) && (audio.samples[a].dts*videoTimescale < end*audioRate || v == len(video.samples)); a++ {
			at.Samples = append(at.Samples, audio.samples[a].Sample)
		}
		for _, tf := range []fmp4.TrackFragment{vt, at} {
			if len(tf.Samples) > 0 {
				f.Tracks = append(f.Tracks, tf)
			}
		}
		frag := f.Append(nil)
		if len(frag) != f.Size() {
			t.Fatalf("fragment %d of %d bytes, Size %d", seq, len(frag), f.Size())
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("frag-%03d.m4s", seq)), frag, 0o644); err != nil {
			t.Fatal(err)
		}
		n, err := fw.WriteFragment(&f)
		if err != nil || n != int64(len(frag)) {
			t.Fatalf("WriteFragment %d: %d bytes, %v; Append gave %d", seq, n, err, len(frag))
		}
	}
}

// ffprobeStream is what the judge reads of a stream, packets counted.
type ffprobeStream struct {
	CodecName     string `json:"codec_name"`
	CodecType     string `json:"codec_type"`
	Width         int    `json:"width"`
	Height        int    `json:"height"`
	SampleRate    string `json:"sample_rate"`
	Channels      int    `json:"channels"`
	Duration      string `json:"duration"`
	NbReadPackets string `json:"nb_read_packets"`
}

// probeStreams runs ffprobe on path, counting packets.
func probeStreams(t *testing.T, path string) []ffprobeStream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, testenv.Tool(t, "ffprobe"), "-v", "error", "-count_packets",
		"-show_entries", "stream=codec_name,codec_type,width,height,sample_rate,channels,duration,nb_read_packets",
		"-of", "json", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe: %v\n%s", err, out)
	}
	var probe struct {
		Streams []ffprobeStream `json:"streams"`
	}
	if err := json.Unmarshal(out, &probe); err != nil {
		t.Fatalf("ffprobe output %s: %v", out, err)
	}
	return probe.Streams
}

// checkProbe compares what ffprobe read of one stream with what was written.
func checkProbe(t *testing.T, s ffprobeStream, codec string, m media) {
	t.Helper()
	if s.CodecName != codec {
		t.Errorf("%s stream: codec %q, want %q", s.CodecType, s.CodecName, codec)
	}
	if s.NbReadPackets != strconv.Itoa(len(m.samples)) {
		t.Errorf("%s stream: %s packets, wrote %d", codec, s.NbReadPackets, len(m.samples))
	}
	want := m.seconds()
	if got, err := strconv.ParseFloat(s.Duration, 64); err != nil || got < want-0.05 || got > want+0.05 {
		t.Errorf("%s stream: duration %q s, wrote %.3f s", codec, s.Duration, want)
	}
	if m.track.Codec.IsVideo() {
		if s.Width != m.track.Width || s.Height != m.track.Height || s.Width != clipWidth || s.Height != clipHeight {
			t.Errorf("%s stream: %dx%d, track %dx%d", codec, s.Width, s.Height, m.track.Width, m.track.Height)
		}
		return
	}
	if s.Channels != 2 || (s.SampleRate != "48000" && s.SampleRate != "44100") {
		t.Errorf("%s stream: %s Hz, %d channels", codec, s.SampleRate, s.Channels)
	}
}

// mp4boxReport is what testdata/mp4box.mjs prints for one directory.
type mp4boxReport struct {
	Dir    string `json:"dir"`
	Tracks []struct {
		ID    uint32 `json:"id"`
		Codec string `json:"codec"`
	} `json:"tracks"`
	Samples map[string]struct {
		Count, Bytes, Sync int
	} `json:"samples"`
	Moofs  int      `json:"moofs"`
	Errors []string `json:"errors"`
}

// runMP4Box parses the init section and fragments of each directory with
// the npm package mp4box.
func runMP4Box(t *testing.T, dirs []string) map[string]mp4boxReport {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "testdata", "mp4box.mjs")
	if _, err := os.Stat(filepath.Join(filepath.Dir(file), "..", "node_modules", "mp4box", "package.json")); err != nil {
		t.Fatalf("the npm package mp4box is required (make test runs npm ci): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, testenv.Tool(t, "node"), append([]string{script}, dirs...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node mp4box.mjs: %v\n%s", err, stderr.String())
	}
	reports := map[string]mp4boxReport{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r mp4boxReport
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("mp4box.mjs output %q: %v", sc.Text(), err)
		}
		reports[r.Dir] = r
	}
	return reports
}

// mp4boxDfLaDefect is what mp4box 2.4.1 reports for every dfLa box that
// follows the specification (ffmpeg's included): its parser loops while the
// last-metadata-block flag is set instead of until it is, so it reads past
// the single STREAMINFO block, then seeks back and goes on correctly.
const mp4boxDfLaDefect = "Parsing of box 'dfLa' read 38 more bytes than the indicated box data size, seeking backwards"

// mp4boxErrors returns the messages that are not the known dfLa defect.
func mp4boxErrors(messages []string) []string {
	var errs []string
	for _, m := range messages {
		if !strings.HasSuffix(m, mp4boxDfLaDefect) {
			errs = append(errs, m)
		}
	}
	return errs
}

// checkMP4Box compares what mp4box extracted of one track with what was
// written.
func checkMP4Box(t *testing.T, r mp4boxReport, m media, entry string) {
	t.Helper()
	var codec string
	for _, tr := range r.Tracks {
		if tr.ID == m.track.ID {
			codec = tr.Codec
		}
	}
	if !strings.HasPrefix(strings.ToLower(codec), strings.ToLower(entry)) {
		t.Errorf("mp4box: track %d codec %q, want %s…", m.track.ID, codec, entry)
	}
	var bytes, sync int
	for _, s := range m.samples {
		bytes += len(s.Data)
		if s.Flags.IsSync() {
			sync++
		}
	}
	got := r.Samples[strconv.Itoa(int(m.track.ID))]
	if got.Count != len(m.samples) || got.Bytes != bytes || got.Sync != sync {
		t.Errorf("mp4box: track %d (%s): %d samples, %d bytes, %d sync; wrote %d, %d, %d",
			m.track.ID, entry, got.Count, got.Bytes, got.Sync, len(m.samples), bytes, sync)
	}
}

// TestThirdPartyReadersReadFragments writes an init section and 200 ms
// fragments (both tracks in each) for every pair of codecs the ingest
// carries and has them read by ffprobe, decoded by ffmpeg without a
// message, parsed by mp4box without an error and, for the codecs a browser
// plays, appended fragment by fragment to a Media Source Extensions
// SourceBuffer in headless Chromium and played to the end.
func TestThirdPartyReadersReadFragments(t *testing.T) {
	type written struct {
		c            judgeCase
		video, audio media
	}
	byDir := map[string]written{}
	var dirs []string
	root := t.TempDir()
	for i, c := range judgeCases() {
		t.Run(c.name, func(t *testing.T) {
			video, audio := c.streams(t)
			dir := filepath.Join(root, strconv.Itoa(i))
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			writeFMP4(t, dir, video, audio)
			path := filepath.Join(dir, "all.mp4")
			out, err := exec.Command(testenv.Tool(t, "ffmpeg"), "-hide_banner", "-nostdin", "-v", "error",
				"-i", path, "-f", "null", "-").CombinedOutput()
			if err != nil || len(out) > 0 {
				t.Errorf("ffmpeg decoding: %v\n%s", err, out)
			}
			streams := probeStreams(t, path)
			if len(streams) != 2 {
				t.Fatalf("ffprobe found %d streams: %+v", len(streams), streams)
			}
			checkProbe(t, streams[0], c.video, video)
			checkProbe(t, streams[1], c.audio, audio)
			byDir[dir] = written{c, video, audio}
			dirs = append(dirs, dir)
		})
	}
	if len(dirs) == 0 {
		return
	}
	reports := runMP4Box(t, dirs)
	for _, dir := range dirs {
		w := byDir[dir]
		r, ok := reports[dir]
		if !ok {
			t.Errorf("%s: no mp4box report", w.c.name)
			continue
		}
		if errs := mp4boxErrors(r.Errors); len(errs) > 0 {
			t.Errorf("%s: mp4box errors: %q", w.c.name, errs)
		}
		if r.Moofs == 0 {
			t.Errorf("%s: mp4box found no moof", w.c.name)
		}
		checkMP4Box(t, r, w.video, w.c.videoEntry)
		checkMP4Box(t, r, w.audio, w.c.audioEntry)
	}
	var browser []mseCase
	for _, dir := range dirs {
		if w := byDir[dir]; w.c.browser != "" {
			browser = append(browser, mseCase{Dir: dir, Mime: mseMime(t, w.video, w.c.browser)})
		}
	}
	results := runMSE(t, browser)
	for _, c := range browser {
		w := byDir[c.Dir]
		checkMSE(t, w.c.name, results[c.Dir], min(w.video.seconds(), w.audio.seconds()))
	}
}
