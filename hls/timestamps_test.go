package hls

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

// encodeBFrames has ffmpeg encode 5 s of H.264 with B-frames and AAC to
// FLV and returns its tags as frames.
func encodeBFrames(t *testing.T, dir string) []*stream.Frame {
	t.Helper()
	clip := filepath.Join(dir, "bframes.flv")
	enc := exec.Command(testenv.Tool(t, "ffmpeg"), "-hide_banner", "-nostdin", "-v", "error",
		"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", "5", "-c:v", "libx264", "-preset", "ultrafast", "-bf", "2", "-g", "60", "-keyint_min", "60",
		"-sc_threshold", "0", "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "flv", clip)
	if out, err := enc.CombinedOutput(); err != nil {
		t.Fatalf("encode: %v\n%s", err, out)
	}
	return readFLVFile(t, clip)
}

// writeTS feeds frames to s, flushes it and writes every segment, one
// after the other as a player reads them, to a file in dir.
func writeTS(t *testing.T, dir string, s *Segmenter, frames ...[]*stream.Frame) string {
	t.Helper()
	var ts []byte
	for i, part := range frames {
		if i > 0 {
			if seg, err := s.Restart(); err != nil {
				t.Fatal(err)
			} else if seg != nil {
				ts = append(ts, seg.Data...)
			}
		}
		for _, seg := range feed(t, s, part) {
			ts = append(ts, seg.Data...)
		}
	}
	if last, err := s.Flush(); err != nil || last == nil {
		t.Fatalf("flush: %v, %v", last, err)
	} else {
		ts = append(ts, last.Data...)
	}
	out := filepath.Join(dir, "out.ts")
	if err := os.WriteFile(out, ts, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// readFLVFile returns the tags of an FLV file as frames.
func readFLVFile(t *testing.T, path string) []*stream.Frame {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 13 || string(data[:3]) != "FLV" {
		t.Fatalf("%s is not FLV", path)
	}
	var out []*stream.Frame
	for pos := int(binary.BigEndian.Uint32(data[5:9])) + 4; pos+11 <= len(data); {
		typ := flv.TagType(data[pos])
		size := int(data[pos+1])<<16 | int(data[pos+2])<<8 | int(data[pos+3])
		ts := uint32(data[pos+4])<<16 | uint32(data[pos+5])<<8 | uint32(data[pos+6]) | uint32(data[pos+7])<<24
		if pos+11+size > len(data) {
			break
		}
		out = append(out, frame(t, typ, ts, bytes.Clone(data[pos+11:pos+11+size])))
		pos += 11 + size + 4
	}
	return out
}

// withNegativeCompositionTimes rewrites the coded H.264 frames of frames as
// the encoders that shift their composition times do: each frame's
// timestamp later by shiftMs and its composition time lower by as much, so
// the presentation times stay and B-frames get negative composition times.
func withNegativeCompositionTimes(t *testing.T, frames []*stream.Frame, shiftMs int32) []*stream.Frame {
	t.Helper()
	out := make([]*stream.Frame, 0, len(frames))
	negative := 0
	for _, f := range frames {
		if f.Type != flv.TagVideo || f.Header || len(f.Payload) < 5 || f.Payload[1] != 1 {
			out = append(out, f)
			continue
		}
		p := bytes.Clone(f.Payload)
		cts := int32(uint32(p[2])<<24|uint32(p[3])<<16|uint32(p[4])<<8) >> 8
		cts -= shiftMs
		if cts < 0 {
			negative++
		}
		p[2], p[3], p[4] = byte(cts>>16), byte(cts>>8), byte(cts)
		out = append(out, frame(t, flv.TagVideo, f.Time+uint32(shiftMs), p))
	}
	if negative == 0 {
		t.Fatal("the clip has no frame with a negative composition time")
	}
	return out
}

// TestRegressionNegativeCompositionTimesShareTimestamps: H.264 with B-frames
// whose composition times are negative (as some encoders send) keeps every
// frame's presentation time in the TS: DTS is lowered, never PTS raised
// (about 14 of 60 frames per segment shared a PTS). ffprobe judges.
func TestRegressionNegativeCompositionTimesShareTimestamps(t *testing.T) {
	dir := t.TempDir()
	frames := withNegativeCompositionTimes(t, encodeBFrames(t, dir), 67)
	s := NewSegmenter(SegmenterConfig{TargetDuration: 2 * time.Second, Now: fixedNow})
	out := writeTS(t, dir, s, frames)
	probe, err := exec.Command(testenv.Tool(t, "ffprobe"), "-v", "error", "-select_streams", "v",
		"-show_entries", "packet=pts,dts", "-of", "csv=p=0", out).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	seen := map[int64]int{}
	var packets, shared, late, backwards int
	lastDTS := int64(-1)
	for line := range strings.Lines(string(probe)) {
		line = strings.Trim(strings.TrimSpace(line), ",")
		if line == "" {
			continue
		}
		ptsText, dtsText, ok := strings.Cut(line, ",")
		pts, err1 := strconv.ParseInt(ptsText, 10, 64)
		dts, err2 := strconv.ParseInt(dtsText, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			t.Fatalf("ffprobe line %q", line)
		}
		packets++
		if seen[pts]++; seen[pts] > 1 {
			shared++
		}
		if dts > pts {
			late++
		}
		if dts <= lastDTS {
			backwards++
		}
		lastDTS = dts
	}
	if packets < 140 || shared > 0 || late > 0 || backwards > 0 {
		t.Errorf("%d video packets: %d share a PTS with an earlier one, %d have DTS after PTS, %d DTS not increasing",
			packets, shared, late, backwards)
	}
}

// TestRegressionRepublishedHLSTimestampsOffFrameGrid: a publisher
// of H.264 with B-frames that stops right after a frame presented later
// than it is decoded, followed by a new publisher (Restart): output time
// continues after the last frame presented, so ffmpeg decoding the
// segments in a row finds every picture after the one before ("non
// monotonically increasing dts" when the new publisher's first pictures
// were presented before the old one's last).
func TestRegressionRepublishedHLSTimestampsOffFrameGrid(t *testing.T) {
	dir := t.TempDir()
	frames := encodeBFrames(t, dir)
	cut := -1 // just after the first video frame past 2.5 s presented 2 frames or more after its DTS
	for i, f := range frames {
		if f.Type == flv.TagVideo && !f.Header && f.Time > 2500 && f.CompositionTime >= 66 {
			cut = i + 1
			break
		}
	}
	if cut < 0 {
		t.Fatal("no B-frame reordering in the clip")
	}
	s := NewSegmenter(SegmenterConfig{TargetDuration: 2 * time.Second, Now: fixedNow})
	out := writeTS(t, dir, s, frames[:cut], frames)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	msg, err := exec.CommandContext(ctx, testenv.Tool(t, "ffmpeg"), "-hide_banner", "-nostdin", "-v", "warning",
		"-i", out, "-f", "null", "-").CombinedOutput()
	if err != nil || strings.Contains(strings.ToLower(string(msg)), "monoton") {
		t.Errorf("ffmpeg -i segments -f null -: %v\n%s", err, msg)
	}
}
