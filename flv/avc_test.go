package flv

import (
	"errors"
	"testing"
)

// Real avcC records and SPS written by ffmpeg/libx264 (testsrc2, one frame):
// ffprobe reports the dimensions, profiles and rates checked below.
const (
	avcC720p  = "0164001fffe1001a6764001facd9405005bb0110000003001000000303c0f183196001000668ebe3cb22c0fdf8f800"
	sps720p   = "6764001facd9405005bb0110000003001000000303c0f1831960"
	avcC1080p = "014d4028ffe1001a674d4028eca03c0113f2e022000003000200000300641e30632c01000568ebe3cb20"
	sps1080p  = "674d4028eca03c0113f2e022000003000200000300641e30632c"
	avcCBase  = "0142c01effe100186742c01ed900d83de6f01100000303e90000bb800f162e4801000568cb83cb20"
	spsBase   = "6742c01ed900d83de6f01100000303e90000bb800f162e48"
	avcCHi10  = "016e001fffe1001a676e001fa6cd940a02ff970110000003001000000640f183196001000668ebe3cb22c0fdfafa00"
	spsHi10   = "676e001fa6cd940a02ff970110000003001000000640f1831960"
	avcCGray  = "0164000dffe100196764000df3650507ec05b2000003000200000300781e28532c01000668ebe3cb22c0fcf8f800"
	spsGray   = "6764000df3650507ec05b2000003000200000300781e28532c"
	spsHi422  = "677a001ebcd940a02ff89c0440000003004000000f03c58b6580"
	spsHi444  = "67f4000d919b282a10f1f1f80880000003008000001e078a14cb"
	avcCHi444 = "01f4000dffe1001a" + spsHi444 + "01000668ebe3c44844fff8f800"
	spsInterl = "6764001eacd940b424d8088000000300800000190f8a14cb"
	spsSAR    = "6764001eacd940b43db0510000030001000003003c0f162d96"
)

func TestAVCDecoderConfigBothDirections(t *testing.T) {
	pps := unhex(t, "68ebe3cb22c0")
	cases := []struct {
		name string
		wire string
		c    AVCDecoderConfig
	}{
		{"x264 high 720p with extension", avcC720p, AVCDecoderConfig{
			Profile: 100, Compatibility: 0, Level: 31, NALULengthSize: 4,
			SPS: [][]byte{unhex(t, sps720p)}, PPS: [][]byte{pps},
			HasExtension: true, ChromaFormat: 1, BitDepthLuma: 8, BitDepthChroma: 8}},
		{"x264 main 1080p", avcC1080p, AVCDecoderConfig{
			Profile: 77, Compatibility: 0x40, Level: 40, NALULengthSize: 4,
			SPS: [][]byte{unhex(t, sps1080p)}, PPS: [][]byte{unhex(t, "68ebe3cb20")}}},
		{"x264 constrained baseline", avcCBase, AVCDecoderConfig{
			Profile: 66, Compatibility: 0xc0, Level: 30, NALULengthSize: 4,
			SPS: [][]byte{unhex(t, spsBase)}, PPS: [][]byte{unhex(t, "68cb83cb20")}}},
		{"x264 high 10", avcCHi10, AVCDecoderConfig{
			Profile: 110, Level: 31, NALULengthSize: 4,
			SPS: [][]byte{unhex(t, spsHi10)}, PPS: [][]byte{pps},
			HasExtension: true, ChromaFormat: 1, BitDepthLuma: 10, BitDepthChroma: 10}},
		{"x264 monochrome", avcCGray, AVCDecoderConfig{
			Profile: 100, Level: 13, NALULengthSize: 4,
			SPS: [][]byte{unhex(t, spsGray)}, PPS: [][]byte{pps},
			HasExtension: true, ChromaFormat: 0, BitDepthLuma: 8, BitDepthChroma: 8}},
		{"x264 high 4:4:4 predictive", avcCHi444, AVCDecoderConfig{
			Profile: 244, Level: 13, NALULengthSize: 4,
			SPS: [][]byte{unhex(t, spsHi444)}, PPS: [][]byte{unhex(t, "68ebe3c44844")},
			HasExtension: true, ChromaFormat: 3, BitDepthLuma: 8, BitDepthChroma: 8}},
		{"high without extension", avcC720p[:len(avcC720p)-8], AVCDecoderConfig{
			Profile: 100, Level: 31, NALULengthSize: 4,
			SPS: [][]byte{unhex(t, sps720p)}, PPS: [][]byte{pps}}},
		{"two sps, two pps, sps ext, length size 2", "017a0028fd e2 0002 6701 0003 670203 02 0001 68 0002 6869 fe f9 fa 01 0002 6d01",
			AVCDecoderConfig{Profile: 122, Level: 40, NALULengthSize: 2,
				SPS: [][]byte{{0x67, 1}, {0x67, 2, 3}}, PPS: [][]byte{{0x68}, {0x68, 0x69}},
				HasExtension: true, ChromaFormat: 2, BitDepthLuma: 9, BitDepthChroma: 10, SPSExt: [][]byte{{0x6d, 1}}}},
		{"no parameter sets, length size 1", "01420015fc e0 00", AVCDecoderConfig{Profile: 66, Level: 21, NALULengthSize: 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkRecord(t, unhex(t, c.wire), c.c, ParseAVCDecoderConfig)
		})
	}
}

func TestAVCDecoderConfigCodecString(t *testing.T) {
	c, err := ParseAVCDecoderConfig(unhex(t, avcC1080p))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.CodecString(); got != "avc1.4d4028" {
		t.Fatalf("CodecString = %q", got)
	}
}

// Regression: a high-profile record whose extension is cut short must still
// parse (decoders ignore it) and must not report the extension.
func TestAVCDecoderConfigTruncatedExtensionIgnored(t *testing.T) {
	wire := unhex(t, avcC720p[:len(avcC720p)-2]+"01 0005 6d")
	c, err := ParseAVCDecoderConfig(wire)
	if err != nil {
		t.Fatal(err)
	}
	if c.HasExtension || c.SPSExt != nil {
		t.Fatalf("extension reported: %+v", c)
	}
}

func TestAVCDecoderConfigErrors(t *testing.T) {
	cases := []struct {
		name, wire string
		want       error
	}{
		{"short", "01640028ff", ErrTruncated},
		{"version 0", "00640028ffe100", ErrInvalidConfig},
		{"length size 3", "01640028fee000 00", ErrInvalidConfig},
		{"sps count past end", "01640028ffe3 0001 67", ErrTruncated},
		{"sps length past end", "01640028ffe1 0009 6764", ErrTruncated},
		{"no pps count", "01640028ffe1 0001 67", ErrTruncated},
		{"pps length past end", "01640028ffe1 0001 67 01 0004 68", ErrTruncated},
		{"pps count past end", "01640028ffe1 0001 67 05 0001 68", ErrTruncated},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := ParseAVCDecoderConfig(unhex(t, c.wire)); !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

func TestAVCDecoderConfigValidateAndClip(t *testing.T) {
	tooMany := make([][]byte, 33)
	for i := range tooMany {
		tooMany[i] = []byte{0x67, byte(i)}
	}
	cases := []struct {
		name string
		c    AVCDecoderConfig
	}{
		{"length size 3", AVCDecoderConfig{NALULengthSize: 3}},
		{"too many sps", AVCDecoderConfig{NALULengthSize: 4, SPS: tooMany}},
		{"huge pps", AVCDecoderConfig{NALULengthSize: 4, PPS: [][]byte{make([]byte, 1<<16)}}},
		{"extension on main", AVCDecoderConfig{Profile: 77, NALULengthSize: 4, HasExtension: true, BitDepthLuma: 8, BitDepthChroma: 8}},
		{"extension depth 7", AVCDecoderConfig{Profile: 100, NALULengthSize: 4, HasExtension: true, BitDepthLuma: 7, BitDepthChroma: 8}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.c.Validate(); err == nil {
				t.Fatal("Validate accepted an unencodable record")
			}
			// Append still produces a record that parses.
			if _, err := ParseAVCDecoderConfig(c.c.Append(nil)); err != nil {
				t.Fatalf("clipped record does not parse: %v", err)
			}
		})
	}
	c, err := ParseAVCDecoderConfig(AVCDecoderConfig{NALULengthSize: 4, SPS: tooMany}.Append(nil))
	if err != nil || len(c.SPS) != 31 {
		t.Fatalf("clipped to %d SPS, %v", len(c.SPS), err)
	}
}
