package flv

import (
	"errors"
	"testing"
)

func TestVPCodecConfigBothDirections(t *testing.T) {
	cases := []struct {
		name string
		wire string
		c    VPCodecConfig
	}{
		// vpcC boxes ffmpeg 5.1 wrote to MP4 for libvpx-vp9 streams.
		{"libvpx profile 0 (MP4 vpcC)", "01000000 00 1f 82 02 02 02 0000", VPCodecConfig{HasFullBoxHeader: true,
			Level: 31, BitDepth: 8, ChromaSubsampling: VPChroma420Colocated,
			ColourPrimaries: 2, TransferCharacteristics: 2, MatrixCoefficients: 2}},
		{"libvpx profile 1 4:4:4 (MP4 vpcC)", "01000000 01 15 86 02 02 02 0000", VPCodecConfig{HasFullBoxHeader: true,
			Profile: 1, Level: 21, BitDepth: 8, ChromaSubsampling: VPChroma444,
			ColourPrimaries: 2, TransferCharacteristics: 2, MatrixCoefficients: 2}},
		{"libvpx profile 1 RGB (MP4 vpcC)", "01000000 01 14 87 02 00 00 0000", VPCodecConfig{HasFullBoxHeader: true,
			Profile: 1, Level: 20, BitDepth: 8, ChromaSubsampling: VPChroma444, VideoFullRange: true,
			ColourPrimaries: 2}},
		{"libvpx profile 2 10-bit (MP4 vpcC)", "01000000 02 28 a2 02 02 02 0000", VPCodecConfig{HasFullBoxHeader: true,
			Profile: 2, Level: 40, BitDepth: 10, ChromaSubsampling: VPChroma420Colocated,
			ColourPrimaries: 2, TransferCharacteristics: 2, MatrixCoefficients: 2}},
		{"libvpx profile 3 4:2:2 12-bit (MP4 vpcC)", "01000000 03 15 c4 02 02 02 0000", VPCodecConfig{HasFullBoxHeader: true,
			Profile: 3, Level: 21, BitDepth: 12, ChromaSubsampling: VPChroma422,
			ColourPrimaries: 2, TransferCharacteristics: 2, MatrixCoefficients: 2}},
		// The bare record, as ffmpeg's FLV muxer writes it in Enhanced RTMP.
		{"bare record, BT.2020 PQ", "02 33 a0 09 10 09 0000", VPCodecConfig{
			Profile: 2, Level: 51, BitDepth: 10, ChromaSubsampling: VPChroma420Vertical,
			ColourPrimaries: 9, TransferCharacteristics: 16, MatrixCoefficients: 9}},
		{"bare record with initialization data", "00 0a 83 01 01 01 0003 aabbcc", VPCodecConfig{
			Level: 10, BitDepth: 8, ChromaSubsampling: VPChroma420Colocated, VideoFullRange: true,
			ColourPrimaries: 1, TransferCharacteristics: 1, MatrixCoefficients: 1,
			CodecInitializationData: []byte{0xaa, 0xbb, 0xcc}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkRecord(t, unhex(t, c.wire), c.c, ParseVPCodecConfig)
		})
	}
}

func TestVPCodecConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		wire string
		want error
	}{
		{"empty", "", ErrTruncated},
		{"short bare record", "00 0a 80 01 01 01 00", ErrTruncated},
		{"short box", "01000000 00 0a 80 01 01 01 00", ErrTruncated},
		{"box version 0", "00000000 00 0a 80 01 01 01 0000", ErrInvalidConfig},
		{"bit depth 0", "00 0a 02 01 01 01 0000", ErrInvalidConfig},
		{"initialization data past the end", "00 0a 80 01 01 01 0004 aabbcc", ErrTruncated},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got, err := ParseVPCodecConfig(unhex(t, c.wire)); !errors.Is(err, c.want) {
				t.Fatalf("got %+v, %v; want %v", got, err, c.want)
			}
		})
	}
}

func TestVPCodecConfigCodecString(t *testing.T) {
	c := VPCodecConfig{Profile: 2, Level: 41, BitDepth: 10}
	if got := c.CodecString(); got != "vp09.02.41.10" {
		t.Fatalf("got %q", got)
	}
	if got := (VPCodecConfig{BitDepth: 8}).CodecString(); got != "vp09.00.00.08" {
		t.Fatalf("got %q", got)
	}
}

// vp9Frames are the first bytes of frames libvpx-vp9 (ffmpeg 5.1, testsrc2)
// wrote; the sizes are what ffprobe reported. VP9 codes the exact size, so
// odd sizes need no cropping.
var vp9Frames = []struct {
	name          string
	frame         string
	width, height int
	ok            bool
}{
	{"profile 0 1280x720 key frame", "82498342004ff02cf60638241c184a18", 1280, 720, true},
	{"profile 0 inter frame", "86004092f121400600c67f91f8bffa3f", 0, 0, false},
	{"profile 1 4:4:4 640x360", "a24983420004fe02cec0c7048383094201565fcd", 640, 360, true},
	{"profile 1 RGB 320x240", "a2498342e013f00ef60638241c184a0011e05f7e", 320, 240, true},
	{"profile 1 4:4:0 322x242", "a249834204028201e2c0c70483830940017e5fcd", 322, 242, true},
	{"profile 2 10-bit 1918x1078", "92498342003be821ab031c120e0c2c0c030c5fc9", 1918, 1078, true},
	{"profile 3 4:2:2 12-bit 642x362", "b124c1a142014080b4b031c120e0c2e08040c05f", 642, 362, true},
	{"show existing frame", "88", 0, 0, false},
	{"bad frame marker", "c2498342004ff02cf60638241c184a18", 0, 0, false},
	{"bad sync code", "82498343004ff02cf60638241c184a18", 0, 0, false},
	{"key frame cut in the size", "82498342004ff02c", 0, 0, false},
	{"empty", "", 0, 0, false},
}

func TestParseVP9FrameSize(t *testing.T) {
	for _, c := range vp9Frames {
		t.Run(c.name, func(t *testing.T) {
			w, h, ok := ParseVP9FrameSize(unhex(t, c.frame))
			if w != c.width || h != c.height || ok != c.ok {
				t.Fatalf("got %dx%d %v, want %dx%d %v", w, h, ok, c.width, c.height, c.ok)
			}
		})
	}
}

// vp9KeyFrameHeader writes an uncompressed key frame header prefix.
func vp9KeyFrameHeader(profile uint32, colorSpace uint32, w, h uint32) []byte {
	var b bitWriter
	b.put(2, 2)
	b.put(profile&1, 1)
	b.put(profile>>1, 1)
	if profile == 3 {
		b.put(0, 1)
	}
	b.put(0, 1) // show_existing_frame
	b.put(0, 1) // frame_type: key
	b.put(1, 1) // show_frame
	b.put(0, 1) // error_resilient_mode
	b.put(vp9SyncCode, 24)
	if profile >= 2 {
		b.put(1, 1) // ten_or_twelve_bit
	}
	b.put(colorSpace, 3)
	if colorSpace != vp9ColorSpaceRGB {
		b.put(1, 1) // color_range
		if profile == 1 || profile == 3 {
			b.put(0b100, 3) // subsampling_x, subsampling_y, reserved_zero
		}
	} else if profile == 1 || profile == 3 {
		b.put(0, 1)
	}
	b.put(w-1, 16)
	b.put(h-1, 16)
	return b.b
}

func TestParseVP9FrameSizeEveryProfileAndColorSpace(t *testing.T) {
	for profile := range uint32(4) {
		for _, cs := range []uint32{0, 1, 2, vp9ColorSpaceRGB} {
			w, h, ok := ParseVP9FrameSize(vp9KeyFrameHeader(profile, cs, 65536, 1+profile*cs))
			if !ok || w != 65536 || h != int(1+profile*cs) {
				t.Errorf("profile %d color space %d: %dx%d %v", profile, cs, w, h, ok)
			}
		}
	}
}
