package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/flv"
)

// avcSeqHeader returns a legacy AVC sequence header body.
func avcSeqHeader() []byte { return []byte{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f} }

// avcEnd returns a legacy AVC end-of-sequence body.
func avcEnd() []byte { return []byte{0x17, 2, 0, 0, 0} }

// aacFrame returns a legacy AAC raw frame body.
func aacFrame() []byte { return []byte{0xaf, 1, 0x21, 0x10} }

// avcFrame returns a coded AVC frame body.
func avcFrame(key bool) []byte {
	b := []byte{0x27, 1, 0, 0, 0x21, 0, 0, 0, 2, 0x41, 0x9a}
	if key {
		b[0] = 0x17
	}
	return b
}

// hevcExFrame returns an Enhanced RTMP HEVC coded frame body.
func hevcExFrame(key bool) []byte {
	ft := byte(2)
	if key {
		ft = 1
	}
	return []byte{0x80 | ft<<4 | 1, 'h', 'v', 'c', '1', 0, 0, 0x21, 0, 0, 0, 2, 0x26, 0x01}
}

func TestVideoKind(t *testing.T) {
	cases := []struct {
		name       string
		body       []byte
		coded, key bool
	}{
		{"avc keyframe", avcFrame(true), true, true},
		{"avc inter", avcFrame(false), true, false},
		{"avc sequence header", avcSeqHeader(), false, false},
		{"avc end of sequence", avcEnd(), false, false},
		{"enhanced hevc keyframe", hevcExFrame(true), true, true},
		{"enhanced hevc inter", hevcExFrame(false), true, false},
		{"enhanced sequence start", []byte{0x90, 'h', 'v', 'c', '1', 1}, false, false},
		{"command frame", []byte{0x57, 0}, false, false},
		{"truncated keyframe judged by its frame type", []byte{0x17}, true, true},
		{"empty", nil, false, false},
	}
	for _, tc := range cases {
		coded, key := videoKind(tc.body)
		if coded != tc.coded || key != tc.key {
			t.Errorf("%s: coded %v key %v, want %v %v", tc.name, coded, key, tc.coded, tc.key)
		}
	}
}

// testTag is one tag to encode into a test FLV stream.
type testTag struct {
	typ  flv.TagType
	ts   uint32
	body []byte
}

// encodeFLV builds an FLV stream.
func encodeFLV(tags []testTag) []byte {
	b := flv.AppendHeader(nil, flv.Header{HasAudio: true, HasVideo: true})
	for _, t := range tags {
		b = flv.AppendTag(b, t.typ, t.ts, t.body)
	}
	return b
}

// newTestViewer returns a viewer with a fresh clock and a latency
// histogram.
func newTestViewer(sends *sendTable) *viewer {
	return &viewer{clock: clock{base: time.Now().Add(-time.Hour)}, interval: 33 * time.Millisecond,
		stallAfter: 2 * time.Second, sends: sends, lat: new(histogram)}
}

func TestScanFLV(t *testing.T) {
	v := func(ts uint32, key bool) testTag { return testTag{flv.TagVideo, ts, avcFrame(key)} }
	cases := []struct {
		name              string
		tags              []testTag
		frames, gaps, bwd uint64
		first             bool
	}{
		{"clean", []testTag{{flv.TagVideo, 0, avcSeqHeader()}, v(0, true), {flv.TagAudio, 10, aacFrame()}, v(33, false), v(67, false)}, 3, 0, 0, true},
		{"waits for a keyframe", []testTag{v(0, false), v(33, false), v(67, true), v(100, false)}, 2, 0, 0, true},
		{"no keyframe", []testTag{v(0, false), v(33, false)}, 0, 0, 0, false},
		{"gap", []testTag{v(0, true), v(33, false), v(2000, true), v(2033, false)}, 4, 1, 0, true},
		{"step back", []testTag{v(1000, true), v(1033, false), v(500, true)}, 3, 0, 1, true},
		{"two intervals is not a gap", []testTag{v(0, true), v(66, false)}, 2, 0, 0, true},
	}
	for _, tc := range cases {
		data := encodeFLV(tc.tags)
		vw := newTestViewer(nil)
		err := vw.scanFLV(bytes.NewReader(data), bufio.NewReaderSize(nil, viewerBufferSize))
		if !errors.Is(err, io.EOF) {
			t.Errorf("%s: end %v, want EOF", tc.name, err)
		}
		_, first := vw.ttff()
		if vw.videoFrames != tc.frames || vw.gaps != tc.gaps || vw.backwards != tc.bwd || first != tc.first {
			t.Errorf("%s: frames %d gaps %d back %d first %v; want %d %d %d %v", tc.name,
				vw.videoFrames, vw.gaps, vw.backwards, first, tc.frames, tc.gaps, tc.bwd, tc.first)
		}
		if got := vw.bytes.Load(); got != uint64(len(data)) {
			t.Errorf("%s: %d bytes counted, stream has %d", tc.name, got, len(data))
		}
	}
}

func TestScanFLVErrors(t *testing.T) {
	good := encodeFLV([]testTag{{flv.TagVideo, 0, avcFrame(true)}})
	notFLV := append([]byte("GIF89a"), good[6:]...)
	badOffset := bytes.Clone(good)
	badOffset[8] = 3
	cases := []struct {
		name   string
		data   []byte
		target error
	}{
		{"not flv", notFLV, errNoFLV},
		{"short file header", good[:5], io.EOF},
		{"bad data offset", badOffset, nil},
		{"truncated tag", good[:len(good)-3], io.EOF},
	}
	for _, tc := range cases {
		vw := newTestViewer(nil)
		err := vw.scanFLV(bytes.NewReader(tc.data), bufio.NewReaderSize(nil, viewerBufferSize))
		if err == nil || (tc.target != nil && !errors.Is(err, tc.target)) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.target)
		}
		if vw.videoFrames != 0 {
			t.Errorf("%s: %d frames counted from a broken stream", tc.name, vw.videoFrames)
		}
	}
}

func TestFrameLatency(t *testing.T) {
	var sends sendTable
	vw := newTestViewer(&sends)
	vw.connectStart = 10 * time.Second
	sends.record(100, 9*time.Second) // sent before the viewer came: cached, not live
	sends.record(133, 11*time.Second)
	vw.video(100, true, 12*time.Second)
	vw.frameLatency(100, 12*time.Second)
	vw.video(133, false, 11*time.Second+5*time.Millisecond)
	vw.frameLatency(133, 11*time.Second+5*time.Millisecond)
	vw.frameLatency(166, 12*time.Second) // never sent
	if vw.lat.n != 1 || vw.lat.max != 5*time.Millisecond {
		t.Errorf("latency samples %d max %v; want 1 of 5ms", vw.lat.n, vw.lat.max)
	}
}

func TestAudioLatency(t *testing.T) {
	var sends, audio sendTable
	vw := newTestViewer(&sends)
	vw.audioSends, vw.audioLat = &audio, new(histogram)
	vw.connectStart = 10 * time.Second
	audio.record(21, 11*time.Second)
	vw.audioLatency(21, 11*time.Second+time.Millisecond) // before the first keyframe: not playing yet
	vw.video(33, true, 11*time.Second+2*time.Millisecond)
	audio.record(42, 11*time.Second+10*time.Millisecond)
	vw.audioLatency(42, 11*time.Second+40*time.Millisecond)
	vw.audioLatency(64, 12*time.Second) // never sent
	if vw.audioLat.n != 1 || vw.audioLat.max != 30*time.Millisecond {
		t.Errorf("audio latency samples %d max %v; want 1 of 30ms", vw.audioLat.n, vw.audioLat.max)
	}
}

// FuzzReadFLV: never a panic; the tags read, encoded again with their
// bodies, read back the same.
func FuzzReadFLV(f *testing.F) {
	f.Add(encodeFLV([]testTag{{flv.TagVideo, 0, avcSeqHeader()}, {flv.TagVideo, 0, avcFrame(true)},
		{flv.TagAudio, 21, aacFrame()}, {flv.TagVideo, 33, hevcExFrame(false)}}))
	f.Add(encodeFLV(nil))
	f.Fuzz(func(t *testing.T, data []byte) {
		type got struct {
			tag  flvTag
			body []byte
		}
		read := func(data []byte) ([]got, error) {
			var out []got
			pos, header := 0, true
			err := readFLV(bufio.NewReaderSize(bytes.NewReader(data), viewerBufferSize), func(tag flvTag, wire int) {
				if header {
					header = false
				} else {
					body := data[pos+flv.TagHeaderSize : pos+flv.TagHeaderSize+tag.size]
					out = append(out, got{tag, body})
				}
				pos += wire
			})
			return out, err
		}
		tags, _ := read(data)
		var enc []testTag
		for _, g := range tags {
			enc = append(enc, testTag{g.tag.typ, g.tag.ts, g.body})
		}
		again, err := read(encodeFLV(enc))
		if !errors.Is(err, io.EOF) || len(again) != len(tags) {
			t.Fatalf("re-read %d tags (%v), want %d", len(again), err, len(tags))
		}
		for i := range tags {
			if again[i].tag != tags[i].tag {
				t.Fatalf("tag %d: %+v, want %+v", i, again[i].tag, tags[i].tag)
			}
		}
	})
}

// BenchmarkScanFLV measures a viewer's cost per byte of HTTP-FLV: one
// second of a 2.5 Mbit/s 30 fps stream with audio, read from memory.
func BenchmarkScanFLV(b *testing.B) {
	var tags []testTag
	for i := range 30 {
		body := make([]byte, 10_000)
		copy(body, avcFrame(i == 0))
		tags = append(tags, testTag{flv.TagVideo, uint32(i * 33), body})
		tags = append(tags, testTag{flv.TagAudio, uint32(i*33 + 10), append(aacFrame(), make([]byte, 300)...)})
	}
	data := encodeFLV(tags)
	var sends sendTable
	for i := range 30 {
		sends.record(uint32(i*33), time.Millisecond)
	}
	br := bufio.NewReaderSize(nil, viewerBufferSize)
	r := bytes.NewReader(data)
	vw := newTestViewer(&sends)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(data)
		vw.haveDTS = false
		if err := vw.scanFLV(r, br); !errors.Is(err, io.EOF) {
			b.Fatal(err)
		}
	}
}
