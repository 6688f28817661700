package flv

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// readTestdata returns a file under testdata/config.
func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "config", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// x265Records are hvcC boxes libx265 (via ffmpeg 5.1, testsrc2, MP4) wrote;
// the expectations are what ffprobe reported for the same files.
var x265Records = []struct {
	file                string
	width, height       int
	profile, level      uint8
	chroma, depth       int
	fps                 float64
	codec               string
	subLayers, temporal uint8
}{
	{"x265-1280x720-main.hvcC", 1280, 720, 1, 93, 1, 8, 30, "hvc1.1.6.L93.90", 1, 1},
	{"x265-1918x1078-main10.hvcC", 1918, 1078, 2, 120, 1, 10, 25, "hvc1.2.4.L120.90", 1, 1},
	{"x265-640x360-444.hvcC", 640, 360, 4, 90, 3, 8, 60, "hvc1.4.10.L90.9E.8", 1, 1},
	{"x265-642x362-422-10bit.hvcC", 642, 362, 4, 63, 2, 10, 24000.0 / 1001, "hvc1.4.10.L63.9D.8", 1, 1},
	{"x265-320x240-gray.hvcC", 320, 240, 4, 60, 0, 8, 30, "hvc1.4.10.L60.9F.C8", 1, 1},
	{"x265-320x240-temporal-layers.hvcC", 320, 240, 1, 60, 1, 8, 30, "hvc1.1.6.L60.90", 2, 2},
}

func TestHEVCRecordsMatchFFprobe(t *testing.T) {
	for _, x := range x265Records {
		t.Run(x.file, func(t *testing.T) {
			wire := readTestdata(t, x.file)
			c, err := ParseHEVCDecoderConfig(wire)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Validate(); err != nil {
				t.Fatalf("validate: %v", err)
			}
			if got := c.Append(nil); !bytes.Equal(got, wire) {
				t.Fatalf("re-encoded record differs:\n got %x\nwant %x", got, wire)
			}
			if c.Profile != x.profile || c.Level != x.level || int(c.ChromaFormat) != x.chroma ||
				int(c.BitDepthLuma) != x.depth || c.NALULengthSize != 4 || c.NumTemporalLayers != x.temporal {
				t.Fatalf("record %+v", c)
			}
			if got := c.CodecString(); got != x.codec {
				t.Fatalf("codec string %q, want %q", got, x.codec)
			}
			ps := c.ParameterSets()
			if len(ps) != 3 || HEVCNALUType(ps[0]) != HEVCNALVPS || HEVCNALUType(ps[1]) != HEVCNALSPS ||
				HEVCNALUType(ps[2]) != HEVCNALPPS {
				t.Fatalf("parameter sets %x", ps)
			}
			if len(c.NALUs(HEVCNALSEIPrefix)) != 1 {
				t.Fatalf("want the x265 info SEI")
			}
			s, err := ParseHEVCSPS(c.SPS())
			if err != nil {
				t.Fatalf("SPS: %v", err)
			}
			if s.Width != x.width || s.Height != x.height || s.Profile != x.profile || s.Level != x.level ||
				s.ChromaFormat != x.chroma || s.BitDepth != x.depth || s.BitDepthChroma != x.depth ||
				s.SARWidth != 1 || s.SARHeight != 1 || s.Interlaced {
				t.Fatalf("SPS %+v", s)
			}
			if d := s.FrameRate - x.fps; d > 1e-9 || d < -1e-9 {
				t.Fatalf("frame rate %v, want %v", s.FrameRate, x.fps)
			}
		})
	}
}

func TestHEVCDecoderConfigBothDirections(t *testing.T) {
	cases := []struct {
		name string
		wire string
		c    HEVCDecoderConfig
	}{
		{"main 10 high tier with VPS, SPS, two PPS", "01 22 40000000 900000000000 5d f000 fc fd f8 f8 0000 0f 03" +
			" a0 0001 0004 40010c01  a1 0001 0003 420101  22 0002 0001 44 0002 4401",
			HEVCDecoderConfig{HighTier: true, Profile: 2, CompatibilityFlags: 0x40000000, ConstraintFlags: 0x900000000000,
				Level: 93, ChromaFormat: 1, BitDepthLuma: 8, BitDepthChroma: 8, NumTemporalLayers: 1,
				TemporalIDNested: true, NALULengthSize: 4, Arrays: []HEVCNALUArray{
					{Complete: true, Type: HEVCNALVPS, NALUs: [][]byte{{0x40, 1, 0x0c, 1}}},
					{Complete: true, Type: HEVCNALSPS, NALUs: [][]byte{{0x42, 1, 1}}},
					{Type: HEVCNALPPS, NALUs: [][]byte{{0x44}, {0x44, 1}}},
				}}},
		{"every field set, empty array, length size 2", "01 84 ffffffff ffffffffffff ff f123 ff ff fc fa 1e00 99 02" +
			" 28 0000  a7 0001 0000",
			HEVCDecoderConfig{ProfileSpace: 2, Profile: 4, CompatibilityFlags: 0xffffffff, ConstraintFlags: 0xffffffffffff,
				Level: 255, MinSpatialSegmentation: 0x123, ParallelismType: 3, ChromaFormat: 3, BitDepthLuma: 12,
				BitDepthChroma: 10, AvgFrameRate: 0x1e00, ConstantFrameRate: 2, NumTemporalLayers: 3, NALULengthSize: 2,
				Arrays: []HEVCNALUArray{{Type: HEVCNALSEISuffix}, {Complete: true, Type: 39, NALUs: [][]byte{{}}}}}},
		{"no arrays, length size 1", "01 01 60000000 000000000000 00 f000 fc fc f8 f8 0000 00 00",
			HEVCDecoderConfig{Profile: 1, CompatibilityFlags: 0x60000000, BitDepthLuma: 8, BitDepthChroma: 8, NALULengthSize: 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkRecord(t, unhex(t, c.wire), c.c, ParseHEVCDecoderConfig)
		})
	}
}

func TestHEVCDecoderConfigErrors(t *testing.T) {
	header := "01 01 60000000 900000000000 5d f000 fc fd f8 f8 0000 0f"
	manyArrays := unhex(t, header+"41")
	for range 65 {
		manyArrays = append(manyArrays, 0x20, 0, 0)
	}
	manyNALUs := unhex(t, header+"02 22 0400")
	manyNALUs = append(manyNALUs, bytes.Repeat([]byte{0, 0}, maxHEVCNALUs)...)
	manyNALUs = append(manyNALUs, 0x22, 0, 1, 0, 0)
	cases := []struct {
		name string
		wire []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"22 bytes", unhex(t, header), ErrTruncated},
		{"version 0", unhex(t, "00"+header[2:]+"00"), ErrInvalidConfig},
		{"Annex-B start code", unhex(t, "00000001 4001 0c01 ffff 0160 0000 0300 9000 0003 0000 0300 5d95 9809"), ErrInvalidConfig},
		{"length size 3", unhex(t, "01 01 60000000 900000000000 5d f000 fc fd f8 f8 0000 0e 00"), ErrInvalidConfig},
		{"array count past the end", unhex(t, header+"02 a0 0000"), ErrTruncated},
		{"NAL unit count past the end", unhex(t, header+"01 a0 0002 0001 40"), ErrTruncated},
		{"NAL unit past the end", unhex(t, header+"01 a0 0001 0005 4001"), ErrTruncated},
		{"65 arrays", manyArrays, ErrInvalidConfig},
		{"1025 NAL units", manyNALUs, ErrInvalidConfig},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got, err := ParseHEVCDecoderConfig(c.wire); !errors.Is(err, c.want) {
				t.Fatalf("got %+v, %v; want %v", got, err, c.want)
			}
		})
	}
}

func TestHEVCDecoderConfigAppendClips(t *testing.T) {
	c := HEVCDecoderConfig{Profile: 1, BitDepthLuma: 8, BitDepthChroma: 8, NALULengthSize: 3,
		Arrays: []HEVCNALUArray{{Type: HEVCNALSPS, NALUs: [][]byte{make([]byte, maxHEVCNALUSize+1), {0x42, 1}}}}}
	if err := c.Validate(); !errors.Is(err, ErrLengthSize) {
		t.Fatalf("validate: %v", err)
	}
	got, err := ParseHEVCDecoderConfig(c.Append(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got.NALULengthSize != 4 || len(got.Arrays) != 1 || len(got.Arrays[0].NALUs) != 1 ||
		!bytes.Equal(got.Arrays[0].NALUs[0], []byte{0x42, 1}) {
		t.Fatalf("clipped record %+v", got)
	}
}

func TestHEVCCodecString(t *testing.T) {
	cases := []struct {
		c    HEVCDecoderConfig
		want string
	}{
		{HEVCDecoderConfig{Profile: 1, CompatibilityFlags: 0x60000000, ConstraintFlags: 0xb00000000000, Level: 93}, "hvc1.1.6.L93.B0"},
		{HEVCDecoderConfig{Profile: 2, CompatibilityFlags: 0x20000000, ConstraintFlags: 0xb00000000000, Level: 120, HighTier: true}, "hvc1.2.4.H120.B0"},
		{HEVCDecoderConfig{ProfileSpace: 1, Profile: 4, CompatibilityFlags: 0x08000000, ConstraintFlags: 0x900000000001, Level: 153}, "hvc1.A4.10.L153.90.0.0.0.0.1"},
		{HEVCDecoderConfig{ProfileSpace: 3, Profile: 31, CompatibilityFlags: 0x80000001, Level: 0}, "hvc1.C31.80000001.L0"},
	}
	for _, c := range cases {
		if got := c.c.CodecString(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.c, got, c.want)
		}
	}
}

func TestHEVCNALUHelpers(t *testing.T) {
	cases := []struct {
		nalu []byte
		typ  uint8
		irap bool
	}{
		{nil, HEVCNALInvalid, false},
		{[]byte{0x40, 0x01}, HEVCNALVPS, false},
		{[]byte{0x42, 0x01}, HEVCNALSPS, false},
		{[]byte{0x44, 0x01}, HEVCNALPPS, false},
		{[]byte{0x4e, 0x01}, HEVCNALSEIPrefix, false},
		{[]byte{0x26, 0x01}, HEVCNALIDRWRADL, true},
		{[]byte{0x28, 0x01}, HEVCNALIDRNLP, true},
		{[]byte{0x2a, 0x01}, HEVCNALCRA, true},
		{[]byte{0x20, 0x01}, HEVCNALBLAWLP, true},
		{[]byte{0x2e, 0x01}, 23, true},
		{[]byte{0x30, 0x01}, 24, false},
		{[]byte{0x1e, 0x01}, 15, false},
		{[]byte{0x02, 0x01}, 1, false},
	}
	for _, c := range cases {
		if got := HEVCNALUType(c.nalu); got != c.typ || IsHEVCIRAP(got) != c.irap {
			t.Errorf("%x: type %d irap %v, want %d %v", c.nalu, got, IsHEVCIRAP(got), c.typ, c.irap)
		}
	}
}

func TestHEVCParameterSetsOrder(t *testing.T) {
	// PPS filed first and an SPS in the VPS array: the NAL headers decide.
	c := HEVCDecoderConfig{Arrays: []HEVCNALUArray{
		{Type: HEVCNALPPS, NALUs: [][]byte{{0x44, 1, 0xaa}, {}}},
		{Type: HEVCNALVPS, NALUs: [][]byte{{0x40, 1}, {0x42, 1, 0xbb}}},
		{Type: HEVCNALSEIPrefix, NALUs: [][]byte{{0x4e, 1}}},
		{Type: HEVCNALSPS, NALUs: [][]byte{{0x42, 1, 0xcc}}},
	}}
	want := [][]byte{{0x40, 1}, {0x42, 1, 0xbb}, {0x42, 1, 0xcc}, {0x44, 1, 0xaa}}
	if got := c.ParameterSets(); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %x, want %x", got, want)
	}
	if got := c.SPS(); !bytes.Equal(got, []byte{0x42, 1, 0xbb}) {
		t.Fatalf("SPS %x", got)
	}
	if (HEVCDecoderConfig{}).SPS() != nil || (HEVCDecoderConfig{}).ParameterSets() != nil {
		t.Fatal("empty record has parameter sets")
	}
}
