package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/mediaserver/mediaserver/flv"
)

// Limits on the input file.
const (
	// maxInputBytes caps the FLV file loaded into memory.
	maxInputBytes = 1 << 30
	// maxInputTags caps the number of tags kept.
	maxInputTags = 4 << 20
	// fallbackFrameInterval is used when the input's video frame interval
	// cannot be measured.
	fallbackFrameInterval = 33 * time.Millisecond
)

// inputSpec describes the synthetic input generated with ffmpeg.
type inputSpec struct {
	// Width and Height of the video. Default 1280x720.
	Width, Height int
	// FPS is the frame rate. Default 30.
	FPS int
	// VideoKbps is the (constant) video bit rate. Default 2500.
	VideoKbps int
	// AudioKbps is the AAC bit rate. Default 128.
	AudioKbps int
	// KeyInt is the keyframe interval in frames. Default 2 s worth.
	KeyInt int
	// Duration is the file's length; the publisher loops it. Default 30s.
	Duration time.Duration
	// Preset is the x264 preset. Default "veryfast".
	Preset string
}

// withDefaults returns s with defaults applied to zero fields.
func (s inputSpec) withDefaults() inputSpec {
	if s.Width == 0 || s.Height == 0 {
		s.Width, s.Height = 1280, 720
	}
	setDefault(&s.FPS, 30)
	setDefault(&s.VideoKbps, 2500)
	setDefault(&s.AudioKbps, 128)
	setDefault(&s.KeyInt, 2*s.FPS)
	setDefault(&s.Duration, 30*time.Second)
	setDefault(&s.Preset, "veryfast")
	return s
}

// fileName names the cached file of a spec; the name changes whenever an
// encoding parameter does.
func (s inputSpec) fileName() string {
	return fmt.Sprintf("mediabench-v1-%dx%dp%d-%dk-a%dk-g%d-%s-%s.flv",
		s.Width, s.Height, s.FPS, s.VideoKbps, s.AudioKbps, s.KeyInt, s.Duration, s.Preset)
}

// ffmpegArgs returns the ffmpeg arguments that encode the spec into out:
// H.264 High at a constant bit rate (HRD CBR, so filler keeps the rate even
// for an easy test pattern), fixed keyframe interval, AAC-LC stereo 48 kHz.
func (s inputSpec) ffmpegArgs(out string) []string {
	kbps := strconv.Itoa(s.VideoKbps) + "k"
	return []string{
		"-hide_banner", "-nostdin", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=%dx%d:rate=%d", s.Width, s.Height, s.FPS),
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", strconv.FormatFloat(s.Duration.Seconds(), 'f', 3, 64),
		"-c:v", "libx264", "-preset", s.Preset, "-profile:v", "high", "-pix_fmt", "yuv420p",
		"-g", strconv.Itoa(s.KeyInt), "-keyint_min", strconv.Itoa(s.KeyInt), "-sc_threshold", "0",
		"-b:v", kbps, "-minrate", kbps, "-maxrate", kbps, "-bufsize", kbps, "-x264-params", "nal-hrd=cbr",
		"-c:a", "aac", "-b:a", strconv.Itoa(s.AudioKbps) + "k", "-ac", "2",
		"-f", "flv", out,
	}
}

// ensureInput returns the path of the generated input for spec in dir,
// running ffmpeg when it is not cached yet.
func ensureInput(ctx context.Context, spec inputSpec, dir string) (string, error) {
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			base = os.TempDir()
		}
		dir = filepath.Join(base, "mediabench")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("input cache: %w", err)
	}
	path := filepath.Join(dir, spec.fileName())
	if st, err := os.Stat(path); err == nil && st.Size() > 0 {
		return path, nil
	}
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		return "", fmt.Errorf("generating the input needs ffmpeg (or pass -input FILE): %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".generating-*.flv")
	if err != nil {
		return "", fmt.Errorf("input cache: %w", err)
	}
	tmpName := tmp.Name()
	_ = tmp.Close()
	defer os.Remove(tmpName) // after a successful rename this fails harmlessly
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, ffmpeg, spec.ffmpegArgs(tmpName)...)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("ffmpeg generating %s: %w: %s", spec.fileName(), err, bytes.TrimSpace(stderr.Bytes()))
	}
	if err := os.Chmod(tmpName, 0o644); err != nil {
		return "", fmt.Errorf("input cache: %w", err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		return "", fmt.Errorf("input cache: %w", err)
	}
	return path, nil
}

// mediaTag is one tag of the input.
type mediaTag struct {
	typ flv.TagType
	// ts is the DTS in milliseconds, rebased so the first media tag is 0.
	ts   uint32
	data []byte
	// video is set for coded video frames (not sequence headers), key for
	// the keyframes among them.
	video bool
	key   bool
}

// input is an FLV file held in memory, split into the decoder
// configuration sent once and the media looped.
type input struct {
	path string
	// headers: metadata and sequence headers, in file order.
	headers []mediaTag
	// media: coded audio and video frames, timestamps from 0.
	media []mediaTag
	// loopSpan is the timestamp advance of one loop: the media's span plus
	// one video frame interval, so looped timestamps continue evenly.
	loopSpan uint32
	// frameInterval is the median step between video DTSs.
	frameInterval time.Duration
	// bytes is the sum of media payload sizes (one loop).
	bytes int64
}

// bitrate returns the media bit rate in bits per second.
func (in *input) bitrate() float64 {
	if in.loopSpan == 0 {
		return 0
	}
	return float64(in.bytes) * 8 / (float64(in.loopSpan) / 1000)
}

// loadInput reads an FLV file into memory.
func loadInput(path string) (*input, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	if st.Size() > maxInputBytes {
		return nil, fmt.Errorf("input %s: %d bytes, above the %d-byte cap", path, st.Size(), maxInputBytes)
	}
	in, err := parseInput(f)
	if err != nil {
		return nil, fmt.Errorf("input %s: %w", path, err)
	}
	in.path = path
	return in, nil
}

// parseInput reads FLV tags from r and classifies them.
func parseInput(r io.Reader) (*input, error) {
	fr := flv.NewReader(r)
	if _, err := fr.ReadHeader(); err != nil {
		return nil, err
	}
	in := &input{}
	var videoTS []uint32
	haveKey := false
	for {
		tag, err := fr.ReadTag()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(in.headers)+len(in.media) >= maxInputTags {
			return nil, fmt.Errorf("more than %d tags", maxInputTags)
		}
		mt := mediaTag{typ: tag.Type, ts: tag.Timestamp, data: tag.Data}
		switch tag.Type {
		case flv.TagScript:
			in.headers = append(in.headers, mt)
			continue
		case flv.TagVideo:
			h, err := flv.ParseVideoTagHeader(tag.Data)
			if err != nil {
				return nil, fmt.Errorf("video tag at %d ms: %w", tag.Timestamp, err)
			}
			if h.IsSequenceHeader() || h.IsCommand() {
				in.headers = append(in.headers, mt)
				continue
			}
			if !haveKey && !h.Keyframe() {
				continue // start looping at a keyframe
			}
			haveKey = true
			mt.video, mt.key = true, h.Keyframe()
			videoTS = append(videoTS, tag.Timestamp)
		case flv.TagAudio:
			h, err := flv.ParseAudioTagHeader(tag.Data)
			if err != nil {
				return nil, fmt.Errorf("audio tag at %d ms: %w", tag.Timestamp, err)
			}
			if h.IsSequenceHeader() {
				in.headers = append(in.headers, mt)
				continue
			}
			if !haveKey {
				continue
			}
		default:
			continue
		}
		in.media = append(in.media, mt)
		in.bytes += int64(len(tag.Data))
	}
	if len(videoTS) < 2 {
		return nil, errors.New("no video keyframe followed by video: the load tool needs a video track")
	}
	// Rebase to the first media tag; keep order by timestamp for pacing (the
	// file is interleaved already, a stable sort only fixes small skews).
	first := in.media[0].ts
	for _, m := range in.media {
		first = min(first, m.ts)
	}
	for i := range in.media {
		in.media[i].ts -= first
	}
	slices.SortStableFunc(in.media, func(a, b mediaTag) int { return int(a.ts) - int(b.ts) })
	in.frameInterval = medianStep(videoTS)
	in.trimLoop()
	return in, nil
}

// trimLoop sets the loop span so that the video continues evenly across
// loops (the next loop's first frame one frame interval after the last),
// and drops the audio that would overlap the next loop's audio (encoders
// often end the audio after the video).
func (in *input) trimLoop() {
	firstVideo, lastVideo := uint32(0), uint32(0)
	firstAudio, haveAudio, haveVideo := uint32(0), false, false
	for _, m := range in.media {
		switch {
		case m.video && !haveVideo:
			firstVideo, lastVideo, haveVideo = m.ts, m.ts, true
		case m.video:
			lastVideo = max(lastVideo, m.ts)
		case !haveAudio:
			firstAudio, haveAudio = m.ts, true
		}
	}
	in.loopSpan = lastVideo + uint32(in.frameInterval/time.Millisecond) - firstVideo
	in.media = slices.DeleteFunc(in.media, func(m mediaTag) bool {
		if !m.video && m.ts >= in.loopSpan+firstAudio {
			in.bytes -= int64(len(m.data))
			return true
		}
		return false
	})
}

// medianStep returns the median positive step between consecutive
// timestamps.
func medianStep(ts []uint32) time.Duration {
	steps := make([]uint32, 0, len(ts))
	for i := 1; i < len(ts); i++ {
		if ts[i] > ts[i-1] {
			steps = append(steps, ts[i]-ts[i-1])
		}
	}
	if len(steps) == 0 {
		return fallbackFrameInterval
	}
	slices.Sort(steps)
	return time.Duration(steps[len(steps)/2]) * time.Millisecond
}
