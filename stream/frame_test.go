package stream

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/mediaserver/mediaserver/flv"
)

// amf0Str encodes an AMF0 short string.
func amf0Str(s string) []byte {
	b := []byte{0x02, byte(len(s) >> 8), byte(len(s))}
	return append(b, s...)
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func fourcc(s string) []byte { return []byte(s) }

type frameCase struct {
	name     string
	typ      flv.TagType
	payload  []byte
	keyframe bool
	header   bool
	seqEnd   bool
	codec    flv.FourCC
	cts      int32
}

var frameCases = []frameCase{
	{name: "legacy AVC keyframe", typ: flv.TagVideo, payload: []byte{0x17, 0x01, 0x00, 0x00, 0x21, 0, 0, 0, 1, 0x65},
		keyframe: true, codec: flv.FourCCAVC, cts: 33},
	{name: "legacy AVC inter frame, negative composition time", typ: flv.TagVideo,
		payload: []byte{0x27, 0x01, 0xff, 0xff, 0xf0, 0, 0, 0, 1, 0x41}, codec: flv.FourCCAVC, cts: -16},
	{name: "legacy AVC generated keyframe", typ: flv.TagVideo, payload: []byte{0x47, 0x01, 0, 0, 0, 0x65},
		keyframe: true, codec: flv.FourCCAVC},
	{name: "legacy AVC sequence header", typ: flv.TagVideo,
		payload: []byte{0x17, 0x00, 0, 0, 0, 0x01, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0x00, 0x00, 0x01, 0x00, 0x00},
		header:  true, codec: flv.FourCCAVC},
	{name: "legacy AVC sequence end is not a header", typ: flv.TagVideo, payload: []byte{0x17, 0x02, 0, 0, 0},
		seqEnd: true, codec: flv.FourCCAVC},
	{name: "legacy command frame", typ: flv.TagVideo, payload: []byte{0x52, 0x00}},
	{name: "legacy Sorenson keyframe", typ: flv.TagVideo, payload: []byte{0x12, 0x00, 0x00}, keyframe: true},
	{name: "AAC sequence header", typ: flv.TagAudio, payload: []byte{0xaf, 0x00, 0x12, 0x10},
		header: true, codec: flv.FourCCAAC},
	{name: "AAC raw frame", typ: flv.TagAudio, payload: []byte{0xaf, 0x01, 0x21, 0x10, 0x05},
		codec: flv.FourCCAAC},
	{name: "MP3 frame", typ: flv.TagAudio, payload: []byte{0x2f, 0xff, 0xfb}, codec: flv.FourCCMP3},
	{name: "enhanced hvc1 keyframe", typ: flv.TagVideo,
		payload:  cat([]byte{0x91}, fourcc("hvc1"), []byte{0x00, 0x00, 0x28}, []byte{0, 0, 0, 2, 0x26, 0x01}),
		keyframe: true, codec: flv.FourCCHEVC, cts: 40},
	{name: "enhanced hvc1 keyframe, CodedFramesX", typ: flv.TagVideo,
		payload: cat([]byte{0x93}, fourcc("hvc1"), []byte{0, 0, 0, 2, 0x26, 0x01}), keyframe: true, codec: flv.FourCCHEVC},
	{name: "enhanced hvc1 inter frame", typ: flv.TagVideo,
		payload: cat([]byte{0xa1}, fourcc("hvc1"), []byte{0x00, 0x00, 0x00, 0, 0, 0, 2, 0x02, 0x01}), codec: flv.FourCCHEVC},
	{name: "enhanced hvc1 sequence start", typ: flv.TagVideo,
		payload: cat([]byte{0x90}, fourcc("hvc1"), []byte{0x01, 0x01, 0x60}), header: true, codec: flv.FourCCHEVC},
	{name: "enhanced av01 sequence end", typ: flv.TagVideo, payload: cat([]byte{0x92}, fourcc("av01")),
		seqEnd: true, codec: flv.FourCCAV1},
	{name: "enhanced Opus sequence start", typ: flv.TagAudio, payload: cat([]byte{0x90}, fourcc("Opus"), []byte("OpusHead")),
		header: true, codec: flv.FourCCOpus},
	{name: "onMetaData", typ: flv.TagScript, payload: cat(amf0Str("onMetaData"), []byte{0x05}), header: true},
	{name: "@setDataFrame onMetaData", typ: flv.TagScript,
		payload: cat(amf0Str("@setDataFrame"), amf0Str("onMetaData"), []byte{0x05}), header: true},
	{name: "onCuePoint is a normal frame", typ: flv.TagScript, payload: cat(amf0Str("onCuePoint"), []byte{0x05})},
	{name: "@setDataFrame onTextData is a normal frame", typ: flv.TagScript,
		payload: cat(amf0Str("@setDataFrame"), amf0Str("onTextData"))},
	{name: "script data that is not AMF", typ: flv.TagScript, payload: []byte{0x00, 0x01, 0x02}},
	{name: "truncated script name", typ: flv.TagScript, payload: []byte{0x02, 0x00, 0x0a, 'o', 'n'}},
}

// TestNewFrame runs the table in both directions: NewFrame parses the tag
// body, and FLVTag serialises it back into a tag whose header and body match.
func TestNewFrame(t *testing.T) {
	for _, tc := range frameCases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := NewFrame(tc.typ, 0x01020304, tc.payload)
			if err != nil {
				t.Fatalf("NewFrame: %v", err)
			}
			if f.Keyframe != tc.keyframe || f.Header != tc.header || f.seqEnd != tc.seqEnd || f.Codec != tc.codec ||
				f.CompositionTime != tc.cts || f.Type != tc.typ || f.Time != 0x01020304 {
				t.Fatalf("got key=%v header=%v end=%v codec=%v cts=%d, want key=%v header=%v end=%v codec=%v cts=%d",
					f.Keyframe, f.Header, f.seqEnd, f.Codec, f.CompositionTime,
					tc.keyframe, tc.header, tc.seqEnd, tc.codec, tc.cts)
			}
			if &f.Payload[0] != &tc.payload[0] {
				t.Fatal("payload was copied")
			}
			tag := f.FLVTag()
			typ, size, ts, err := flv.ParseTagHeader(tag)
			if err != nil {
				t.Fatalf("ParseTagHeader: %v", err)
			}
			if typ != tc.typ || size != len(tc.payload) || ts != 0x01020304 {
				t.Fatalf("tag header: type %d size %d ts %#x", typ, size, ts)
			}
			if len(tag) != flv.TagHeaderSize+len(tc.payload)+4 ||
				string(tag[flv.TagHeaderSize:flv.TagHeaderSize+size]) != string(tc.payload) ||
				binary.BigEndian.Uint32(tag[len(tag)-4:]) != uint32(flv.TagHeaderSize+size) {
				t.Fatalf("tag bytes % x", tag)
			}
			if again := f.FLVTag(); &again[0] != &tag[0] {
				t.Fatal("FLVTag rebuilt")
			}
		})
	}
}

func TestNewFrameErrors(t *testing.T) {
	cases := []struct {
		name    string
		typ     flv.TagType
		payload []byte
		want    error
	}{
		{"empty video", flv.TagVideo, nil, nil},
		{"empty audio", flv.TagAudio, []byte{}, nil},
		{"truncated AVC header", flv.TagVideo, []byte{0x17, 0x01}, nil},
		{"truncated enhanced FourCC", flv.TagVideo, []byte{0x91, 'h', 'v'}, nil},
		{"truncated AAC header", flv.TagAudio, []byte{0xaf}, nil},
		{"unsupported tag type", flv.TagType(7), []byte{1}, ErrUnsupportedTag},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := NewFrame(tc.typ, 0, tc.payload)
			if err == nil {
				t.Fatalf("NewFrame = %+v, want an error", f)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("NewFrame error %v, want %v", err, tc.want)
			}
		})
	}
}

func TestEncodedBuildsOncePerKey(t *testing.T) {
	f := aud(0, 10)
	var builds atomic.Int32
	build := func(key int) func(*Frame) []byte {
		return func(g *Frame) []byte {
			if g != f {
				t.Error("build got another frame")
			}
			builds.Add(1)
			return []byte(fmt.Sprint("chunked at ", key))
		}
	}
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for _, key := range []int{128, 4096} {
				if got, want := string(f.Encoded(key, build(key))), fmt.Sprint("chunked at ", key); got != want {
					t.Errorf("Encoded(%d) = %q", key, got)
				}
			}
		})
	}
	wg.Wait()
	if n := builds.Load(); n != 2 {
		t.Fatalf("build ran %d times, want 2", n)
	}
	// Beyond maxEncodings keys results are still right, just not cached.
	for key := range 3 * maxEncodings {
		if got, want := string(f.Encoded(key, build(key))), fmt.Sprint("chunked at ", key); got != want {
			t.Fatalf("Encoded(%d) = %q", key, got)
		}
	}
}

// FuzzNewFrame: parsing never panics; a parsed frame serialises to a tag
// that parses back to an equal frame.
func FuzzNewFrame(f *testing.F) {
	for _, tc := range frameCases {
		f.Add(uint8(tc.typ), uint32(1000), tc.payload)
	}
	for _, tc := range enhancedFrameCases(f) {
		f.Add(uint8(tc.typ), uint32(1000), tc.payload)
	}
	f.Fuzz(func(t *testing.T, typ uint8, ts uint32, payload []byte) {
		fr, err := NewFrame(flv.TagType(typ), ts, payload)
		if err != nil {
			return
		}
		tag := fr.FLVTag()
		gotType, size, gotTS, err := flv.ParseTagHeader(tag)
		if err != nil {
			t.Fatalf("ParseTagHeader of FLVTag: %v", err)
		}
		if flv.TagHeaderSize+size+4 > len(tag) {
			t.Fatalf("tag of %d bytes declares %d", len(tag), size)
		}
		again, err := NewFrame(gotType, gotTS, tag[flv.TagHeaderSize:flv.TagHeaderSize+size])
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if again.Type != fr.Type || again.Time != fr.Time || again.Keyframe != fr.Keyframe || again.Header != fr.Header ||
			again.Codec != fr.Codec || again.CompositionTime != fr.CompositionTime || again.seqEnd != fr.seqEnd ||
			again.Packet != fr.Packet || again.Multitrack != fr.Multitrack || again.Track != fr.Track ||
			string(again.Payload) != string(fr.Payload) {
			t.Fatalf("round trip changed the frame: %+v vs %+v", again, fr)
		}
	})
}

func TestFLVTagPartsAroundPayloadEqualFLVTag(t *testing.T) {
	for _, f := range []*Frame{vidKey(0x01020304, 700), aud(70000, 9), metaFrame(0x0b)} {
		head, tail := f.FLVTagParts()
		got := append(append(append([]byte(nil), head...), f.Payload...), tail...)
		if !bytes.Equal(got, f.FLVTag()) {
			t.Errorf("%s at %d: parts %x, tag %x", f.Type, f.Time, got, f.FLVTag())
		}
	}
}
