package flv

import (
	"errors"
	"testing"
)

func TestParseSPS(t *testing.T) {
	cases := []struct {
		name string
		nalu []byte
		want SPSInfo
	}{
		{"x264 high 1280x720 30fps", unhex(t, sps720p), SPSInfo{Width: 1280, Height: 720, Profile: 100, Level: 31,
			ChromaFormat: 1, BitDepth: 8, BitDepthChroma: 8, SARWidth: 1, SARHeight: 1, FrameRate: 30}},
		{"x264 main 1920x1080 cropped from 1088", unhex(t, sps1080p), SPSInfo{Width: 1920, Height: 1080, Profile: 77,
			Constraints: 0x40, Level: 40, ChromaFormat: 1, BitDepth: 8, BitDepthChroma: 8, SARWidth: 1, SARHeight: 1, FrameRate: 25}},
		{"x264 baseline 854x480 23.976fps", unhex(t, spsBase), SPSInfo{Width: 854, Height: 480, Profile: 66,
			Constraints: 0xc0, Level: 30, ChromaFormat: 1, BitDepth: 8, BitDepthChroma: 8, SARWidth: 1, SARHeight: 1,
			FrameRate: 24000.0 / 1001}},
		{"x264 high 10 640x360 50fps", unhex(t, spsHi10), SPSInfo{Width: 640, Height: 360, Profile: 110, Level: 31,
			ChromaFormat: 1, BitDepth: 10, BitDepthChroma: 10, SARWidth: 1, SARHeight: 1, FrameRate: 50}},
		{"x264 high 4:2:2", unhex(t, spsHi422), SPSInfo{Width: 640, Height: 360, Profile: 122, Level: 30,
			ChromaFormat: 2, BitDepth: 8, BitDepthChroma: 8, SARWidth: 1, SARHeight: 1, FrameRate: 30}},
		{"x264 high 4:4:4 odd size crop unit 1", unhex(t, spsHi444), SPSInfo{Width: 322, Height: 242, Profile: 244, Level: 13,
			ChromaFormat: 3, BitDepth: 8, BitDepthChroma: 8, SARWidth: 1, SARHeight: 1, FrameRate: 30}},
		{"x264 monochrome", unhex(t, spsGray), SPSInfo{Width: 320, Height: 240, Profile: 100, Level: 13,
			ChromaFormat: 0, BitDepth: 8, BitDepthChroma: 8, SARWidth: 1, SARHeight: 1, FrameRate: 30}},
		{"x264 interlaced 720x576", unhex(t, spsInterl), SPSInfo{Width: 720, Height: 576, Profile: 100, Level: 30,
			ChromaFormat: 1, BitDepth: 8, BitDepthChroma: 8, Interlaced: true, SARWidth: 1, SARHeight: 1, FrameRate: 25}},
		{"x264 sar 40:33", unhex(t, spsSAR), SPSInfo{Width: 720, Height: 480, Profile: 100, Level: 30,
			ChromaFormat: 1, BitDepth: 8, BitDepthChroma: 8, SARWidth: 40, SARHeight: 33, FrameRate: 30}},
		// Checked with ffprobe (1920x1080, SAR 4:3, 30000/1001).
		{"scaling lists, poc type 1, extended sar", craftedSPSScalingPOC1(), SPSInfo{Width: 1920, Height: 1080, Profile: 100,
			Level: 40, ChromaFormat: 1, BitDepth: 8, BitDepthChroma: 8, SARWidth: 4, SARHeight: 3, FrameRate: 30000.0 / 1001}},
		// Field values checked with ffmpeg's trace_headers.
		{"4:4:4 twelve scaling lists, fields, cropping", craftedSPS444(false), SPSInfo{Width: 318, Height: 476, Profile: 244,
			Level: 30, ID: 1, ChromaFormat: 3, BitDepth: 10, BitDepthChroma: 10, Interlaced: true}},
		{"4:4:4 separate colour planes", craftedSPS444(true), SPSInfo{Width: 318, Height: 476, Profile: 244,
			Level: 30, ID: 1, ChromaFormat: 3, BitDepth: 10, BitDepthChroma: 10, Interlaced: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseSPS(c.nalu)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Fatalf("\n got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

// Regression: encoders that cut the VUI short (or that we read short) must
// still yield the picture size, only without the frame rate.
func TestParseSPSTruncatedVUIKeepsSize(t *testing.T) {
	sps := unhex(t, sps720p)
	got, err := ParseSPS(sps[:len(sps)-5])
	if err != nil {
		t.Fatal(err)
	}
	if got.Width != 1280 || got.Height != 720 || got.FrameRate != 0 {
		t.Fatalf("got %+v", got)
	}
}

func TestParseSPSErrors(t *testing.T) {
	var poc3 spsWriter
	poc3.put(66, 8)
	poc3.put(0, 8)
	poc3.put(30, 8)
	poc3.ue(0)
	poc3.ue(0)
	poc3.ue(3) // pic_order_cnt_type 3
	var crop spsWriter
	crop.put(66, 8)
	crop.put(0, 8)
	crop.put(30, 8)
	for _, v := range []uint32{0, 0, 2, 1} { // id, frame num, poc type 2, refs
		crop.ue(v)
	}
	crop.put(0, 1)
	crop.ue(0) // 16 wide
	crop.ue(0) // 16 high
	crop.put(1, 1)
	crop.put(1, 1)
	crop.put(1, 1)
	crop.ue(4) // left 8 pixels
	crop.ue(4) // right 8 pixels: nothing left
	crop.ue(0)
	crop.ue(0)
	crop.put(0, 1)
	var huge spsWriter
	huge.put(66, 8)
	huge.put(0, 8)
	huge.put(30, 8)
	for _, v := range []uint32{0, 0, 2, 1} {
		huge.ue(v)
	}
	huge.put(0, 1)
	huge.ue(1 << 20)
	huge.ue(0)
	huge.put(1, 1)
	huge.put(1, 1)
	huge.put(0, 1)
	huge.put(0, 1)
	var chroma4 spsWriter
	chroma4.put(100, 8)
	chroma4.put(0, 8)
	chroma4.put(30, 8)
	chroma4.ue(0)
	chroma4.ue(4)

	cases := []struct {
		name string
		nalu []byte
		want error
	}{
		{"short", unhex(t, "6764"), ErrInvalidSPS},
		{"pps not sps", unhex(t, "68ebe3cb22c0"), ErrInvalidSPS},
		{"truncated before size", unhex(t, sps720p)[:6], ErrTruncated},
		{"poc type 3", poc3.finish(), ErrInvalidSPS},
		{"cropped to nothing", crop.finish(), ErrInvalidSPS},
		{"too wide", huge.finish(), ErrInvalidSPS},
		{"chroma format 4", chroma4.finish(), ErrInvalidSPS},
		{"golomb run too long", unhex(t, "6742c01e 00000000 00"), ErrInvalidSPS},
		{"too large", append([]byte{0x67}, make([]byte, MaxSPSSize)...), ErrInvalidSPS},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := ParseSPS(c.nalu); !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

func TestUnescapeRBSP(t *testing.T) {
	cases := []struct{ in, want string }{
		{"000003 01", "0000 01"},
		{"000003 00 0003 03", "0000 00 00 03"},
		{"00000303", "000003"},
		{"0003", "0003"},
		{"", ""},
	}
	for _, c := range cases {
		if got := unescapeRBSP(nil, unhex(t, c.in)); string(got) != string(unhex(t, c.want)) {
			t.Errorf("unescape(%s) = %x, want %s", c.in, got, c.want)
		}
	}
}
