package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/flv"
)

func TestParseInput(t *testing.T) {
	aacConfig := []byte{0xaf, 0, 0x11, 0x90}
	meta := []byte{2, 0, 10, 'o', 'n', 'M', 'e', 't', 'a', 'D', 'a', 't', 'a', 3, 0, 0, 9}
	data := encodeFLV([]testTag{
		{flv.TagScript, 0, meta},
		{flv.TagVideo, 0, avcSeqHeader()},
		{flv.TagAudio, 0, aacConfig},
		{flv.TagVideo, 1000, avcFrame(false)}, // before the first keyframe: dropped
		{flv.TagAudio, 1010, aacFrame()},      // likewise
		{flv.TagVideo, 1033, avcFrame(true)},
		{flv.TagAudio, 1040, aacFrame()},
		{flv.TagVideo, 1066, avcFrame(false)},
		{flv.TagVideo, 1099, avcFrame(false)},
		{flv.TagAudio, 1061, aacFrame()}, // slightly out of order: sorted
	})
	in, err := parseInput(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(in.headers) != 3 {
		t.Errorf("%d headers, want 3", len(in.headers))
	}
	var got []uint32
	for _, m := range in.media {
		got = append(got, m.ts)
	}
	want := []uint32{0, 7, 28, 33, 66}
	if !slices.Equal(got, want) {
		t.Errorf("media timestamps %v, want %v", got, want)
	}
	if in.frameInterval != 33*time.Millisecond || in.loopSpan != 66+33 {
		t.Errorf("interval %v span %d", in.frameInterval, in.loopSpan)
	}
	if !in.media[0].video || in.media[1].video {
		t.Error("video flags wrong")
	}
}

func TestParseInputLoopsEvenly(t *testing.T) {
	// Audio runs on after the last video frame: it is trimmed so that the
	// next loop's audio does not go back in time.
	data := encodeFLV([]testTag{
		{flv.TagVideo, 0, avcFrame(true)},
		{flv.TagAudio, 46, aacFrame()},
		{flv.TagVideo, 33, avcFrame(false)},
		{flv.TagVideo, 67, avcFrame(false)},
		{flv.TagAudio, 67, aacFrame()},
		{flv.TagAudio, 90, aacFrame()},
		{flv.TagVideo, 100, avcFrame(false)},
		{flv.TagAudio, 150, aacFrame()}, // below span 133 + first audio 46: kept
		{flv.TagAudio, 180, aacFrame()}, // from 179 on: dropped
	})
	in, err := parseInput(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if in.loopSpan != 133 {
		t.Errorf("loop span %d, want 133 (last video 100 + 33)", in.loopSpan)
	}
	last := in.media[len(in.media)-1]
	if last.ts != 150 || len(in.media) != 8 {
		t.Errorf("%d tags, last at %d; want 8, 150", len(in.media), last.ts)
	}
}

func TestParseInputErrors(t *testing.T) {
	cases := map[string][]byte{
		"not flv":    []byte("nope"),
		"audio only": encodeFLV([]testTag{{flv.TagAudio, 0, aacFrame()}, {flv.TagAudio, 21, aacFrame()}}),
		"one frame":  encodeFLV([]testTag{{flv.TagVideo, 0, avcFrame(true)}}),
		"bad video":  encodeFLV([]testTag{{flv.TagVideo, 0, nil}}),
		"truncated":  encodeFLV([]testTag{{flv.TagVideo, 0, avcFrame(true)}, {flv.TagVideo, 33, avcFrame(false)}})[:30],
	}
	for name, data := range cases {
		if _, err := parseInput(bytes.NewReader(data)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestLoadInputFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.flv")
	data := encodeFLV([]testTag{{flv.TagVideo, 0, avcFrame(true)}, {flv.TagVideo, 40, avcFrame(false)}})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	in, err := loadInput(path)
	if err != nil || in.path != path || in.frameInterval != 40*time.Millisecond || in.bitrate() <= 0 {
		t.Fatalf("%+v %v", in, err)
	}
	if _, err := loadInput(filepath.Join(t.TempDir(), "missing.flv")); err == nil {
		t.Error("missing file loaded")
	}
}

func TestInputSpec(t *testing.T) {
	s := inputSpec{}.withDefaults()
	if s.Width != 1280 || s.Height != 720 || s.FPS != 30 || s.VideoKbps != 2500 || s.KeyInt != 60 || s.Duration != 30*time.Second {
		t.Errorf("defaults %+v", s)
	}
	other := s
	other.VideoKbps = 5000
	if s.fileName() == other.fileName() {
		t.Error("cache name does not follow the bit rate")
	}
	args := s.ffmpegArgs("out.flv")
	if args[len(args)-1] != "out.flv" {
		t.Errorf("args %v", args)
	}
}
