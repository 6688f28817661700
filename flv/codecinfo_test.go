package flv

import (
	"errors"
	"math"
	"testing"
)

func TestParseVideoConfig(t *testing.T) {
	cases := []struct {
		name   string
		codec  FourCC
		config []byte
		want   VideoConfigInfo
	}{
		{"x264 high 720p", FourCCAVC, unhex(t, avcC720p), VideoConfigInfo{Codec: FourCCAVC, Profile: 100,
			ProfileName: "High", Level: 31, LevelName: "3.1", Width: 1280, Height: 720, BitDepth: 8, ChromaFormat: 1,
			FrameRate: 30, CodecString: "avc1.64001f"}},
		{"x264 constrained baseline", FourCCAVC, unhex(t, avcCBase), VideoConfigInfo{Codec: FourCCAVC, Profile: 66,
			ProfileName: "Constrained Baseline", Level: 30, LevelName: "3.0", Width: 854, Height: 480, BitDepth: 8,
			ChromaFormat: 1, FrameRate: 24000.0 / 1001, CodecString: "avc1.42c01e"}},
		{"avcC without SPS, level 1b", FourCCAVC, unhex(t, "01 42 d0 0b ff e0 00"), VideoConfigInfo{Codec: FourCCAVC,
			Profile: 66, ProfileName: "Constrained Baseline", Level: 11, LevelName: "1b", BitDepth: 8, ChromaFormat: 1,
			CodecString: "avc1.42d00b"}},
		{"x265 main 10 1918x1078", FourCCHEVC, readTestdata(t, "x265-1918x1078-main10.hvcC"), VideoConfigInfo{
			Codec: FourCCHEVC, Profile: 2, ProfileName: "Main 10", Level: 120, LevelName: "4.0", Width: 1918,
			Height: 1078, BitDepth: 10, ChromaFormat: 1, FrameRate: 25, CodecString: "hvc1.2.4.L120.90"}},
		{"x265 4:2:2 10-bit", FourCCHEVC, readTestdata(t, "x265-642x362-422-10bit.hvcC"), VideoConfigInfo{
			Codec: FourCCHEVC, Profile: 4, ProfileName: "Format Range Extensions", Level: 63, LevelName: "2.1",
			Width: 642, Height: 362, BitDepth: 10, ChromaFormat: 2, FrameRate: 24000.0 / 1001,
			CodecString: "hvc1.4.10.L63.9D.8"}},
		{"hvcC without arrays", FourCCHEVC, unhex(t, "01 21 40000000 900000000000 5d f000 fc fd f8 f8 1e00 0f 00"),
			VideoConfigInfo{Codec: FourCCHEVC, Profile: 1, ProfileName: "Main", Level: 93, LevelName: "3.1",
				HighTier: true, BitDepth: 8, ChromaFormat: 1, FrameRate: 30, CodecString: "hvc1.1.2.H93.90"}},
		{"libaom 10-bit 1918x1078", FourCCAV1, unhex(t, av1CAomOdd10), VideoConfigInfo{Codec: FourCCAV1,
			ProfileName: "Main", Level: 8, LevelName: "4.0", Width: 1918, Height: 1078, BitDepth: 10, ChromaFormat: 1,
			CodecString: "av01.0.08M.10"}},
		{"libaom professional 4:2:2 12-bit", FourCCAV1, unhex(t, av1CAom422p12), VideoConfigInfo{Codec: FourCCAV1,
			Profile: 2, ProfileName: "Professional", Level: 1, LevelName: "2.1", Width: 642, Height: 362,
			BitDepth: 12, ChromaFormat: 2, CodecString: "av01.2.01M.12"}},
		{"rav1e max level", FourCCAV1, unhex(t, av1CRav1e), VideoConfigInfo{Codec: FourCCAV1, ProfileName: "Main",
			Level: 31, LevelName: "max", Width: 352, Height: 288, BitDepth: 8, ChromaFormat: 1, CodecString: "av01.0.31M.08"}},
		{"crafted sequence header with timing", FourCCAV1, cat(0x81, 0x4d, 0x60, 0, craftedAV1SequenceHeader()),
			VideoConfigInfo{Codec: FourCCAV1, Profile: 2, ProfileName: "Professional", Level: 13, LevelName: "5.1",
				HighTier: true, Width: 3840, Height: 2160, BitDepth: 12, ChromaFormat: 3, FrameRate: 30000.0 / 1001,
				CodecString: "av01.2.13H.12"}},
		{"av1C without OBUs, monochrome", FourCCAV1, unhex(t, "81 04 1c 00"), VideoConfigInfo{Codec: FourCCAV1,
			ProfileName: "Main", Level: 4, LevelName: "3.0", BitDepth: 8, CodecString: "av01.0.04M.08"}},
		{"av1C without OBUs, 4:2:2", FourCCAV1, unhex(t, "81 44 e8 00"), VideoConfigInfo{Codec: FourCCAV1,
			Profile: 2, ProfileName: "Professional", Level: 4, LevelName: "3.0", HighTier: true, BitDepth: 12,
			ChromaFormat: 2, CodecString: "av01.2.04H.12"}},
		{"av1C without OBUs, 4:4:4", FourCCAV1, unhex(t, "81 24 00 00"), VideoConfigInfo{Codec: FourCCAV1,
			Profile: 1, ProfileName: "High", Level: 4, LevelName: "3.0", BitDepth: 8, ChromaFormat: 3,
			CodecString: "av01.1.04M.08"}},
		{"libvpx profile 2 (MP4 vpcC)", FourCCVP9, unhex(t, "01000000 02 28 a2 02 02 02 0000"), VideoConfigInfo{
			Codec: FourCCVP9, Profile: 2, ProfileName: "Profile 2", Level: 40, LevelName: "4.0", BitDepth: 10,
			ChromaFormat: 1, CodecString: "vp09.02.40.10"}},
		{"bare VP9 record 4:4:4", FourCCVP9, unhex(t, "01 00 86 02 02 02 0000"), VideoConfigInfo{
			Codec: FourCCVP9, Profile: 1, ProfileName: "Profile 1", BitDepth: 8, ChromaFormat: 3,
			CodecString: "vp09.01.00.08"}},
		{"VP8 record", FourCCVP8, unhex(t, "00 00 82 02 02 02 0000"), VideoConfigInfo{
			Codec: FourCCVP8, BitDepth: 8, ChromaFormat: 1, CodecString: "vp8"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseVideoConfig(c.codec, c.config)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got.FrameRate-c.want.FrameRate) < 1e-9 {
				got.FrameRate = c.want.FrameRate
			}
			if got != c.want {
				t.Fatalf("\n got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestParseVideoConfigErrors(t *testing.T) {
	cases := []struct {
		name   string
		codec  FourCC
		config []byte
		want   error
	}{
		{"unknown FourCC", MakeFourCC("mp4v"), nil, ErrUnsupportedCodec},
		{"no FourCC", 0, unhex(t, avcC720p), ErrUnsupportedCodec},
		{"audio FourCC", FourCCAAC, unhex(t, "1210"), ErrUnsupportedCodec},
		{"empty avcC", FourCCAVC, nil, ErrTruncated},
		{"avcC with an SPS that is not one", FourCCAVC, unhex(t, "01640028ffe1000268ee01000268ee"), ErrInvalidSPS},
		{"hvcC as avcC", FourCCAVC, readTestdata(t, "x265-1280x720-main.hvcC"), ErrTruncated},
		{"avcC as hvcC", FourCCHEVC, unhex(t, avcC720p), ErrInvalidConfig},
		{"hvcC with a broken SPS", FourCCHEVC, unhex(t, "01 01 60000000 900000000000 5d f000 fc fd f8 f8 0000 0f 01 a1 0001 0004 42010160"), ErrTruncated},
		{"av1C with a broken OBU", FourCCAV1, unhex(t, "81000c00 0a20"), ErrTruncated},
		{"av1C without sequence header", FourCCAV1, unhex(t, "81000c00 1200"), ErrInvalidConfig},
		{"bad vpcC", FourCCVP9, unhex(t, "00000000 00"), ErrInvalidConfig},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got, err := ParseVideoConfig(c.codec, c.config); !errors.Is(err, c.want) {
				t.Fatalf("got %+v, %v; want %v", got, err, c.want)
			}
		})
	}
}

func TestParseAudioConfig(t *testing.T) {
	cases := []struct {
		name   string
		codec  FourCC
		config []byte
		want   AudioConfigInfo
	}{
		{"AAC-LC 44.1 kHz stereo", FourCCAAC, unhex(t, "1210"), AudioConfigInfo{Codec: FourCCAAC, SampleRate: 44100,
			Channels: 2, CodecString: "mp4a.40.2"}},
		{"HE-AAC explicit SBR 24→48 kHz", FourCCAAC, unhex(t, "2b118800"), AudioConfigInfo{Codec: FourCCAAC,
			SampleRate: 48000, Channels: 2, CodecString: "mp4a.40.5"}},
		{"HE-AACv2 mono core, stereo output", FourCCAAC, unhex(t, "eb098800"), AudioConfigInfo{Codec: FourCCAAC,
			SampleRate: 48000, Channels: 2, CodecString: "mp4a.40.29"}},
		{"libopus stereo", FourCCOpus, unhex(t, opusHeadStereo), AudioConfigInfo{Codec: FourCCOpus, SampleRate: 48000,
			Channels: 2, CodecString: "Opus"}},
		{"libopus 5.1", FourCCOpus, unhex(t, opusHead51), AudioConfigInfo{Codec: FourCCOpus, SampleRate: 48000,
			Channels: 6, CodecString: "Opus"}},
		{"Opus comment header", FourCCOpus, []byte("OpusTags\x05\x00\x00\x00vendor"), AudioConfigInfo{Codec: FourCCOpus,
			CodecString: "Opus"}},
		{"FLAC stereo 16-bit", FourCCFLAC, unhex(t, flacStreamInfoStereo), AudioConfigInfo{Codec: FourCCFLAC,
			SampleRate: 44100, Channels: 2, BitsPerSample: 16, CodecString: "fLaC"}},
		{"FLAC stream header 5.1 24-bit", FourCCFLAC, unhex(t, flacFile51), AudioConfigInfo{Codec: FourCCFLAC,
			SampleRate: 96000, Channels: 6, BitsPerSample: 24, CodecString: "fLaC"}},
		{"AC-3 with no config", FourCCAC3, nil, AudioConfigInfo{Codec: FourCCAC3, CodecString: "ac-3"}},
		{"E-AC-3 with bytes", FourCCEAC3, []byte{1, 2, 3}, AudioConfigInfo{Codec: FourCCEAC3, CodecString: "ec-3"}},
		{"MP3", FourCCMP3, nil, AudioConfigInfo{Codec: FourCCMP3, CodecString: "mp4a.40.34"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseAudioConfig(c.codec, c.config)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Fatalf("\n got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestParseAudioConfigErrors(t *testing.T) {
	cases := []struct {
		name   string
		codec  FourCC
		config []byte
		want   error
	}{
		{"unknown FourCC", MakeFourCC("vorb"), nil, ErrUnsupportedCodec},
		{"video FourCC", FourCCAVC, unhex(t, avcC720p), ErrUnsupportedCodec},
		{"empty AAC", FourCCAAC, nil, ErrTruncated},
		{"empty Opus", FourCCOpus, nil, ErrTruncated},
		{"Opus dOps box content", FourCCOpus, unhex(t, "00 02 0138 0000bb80 0000 00 0000000000000000"), ErrInvalidConfig},
		{"short FLAC", FourCCFLAC, unhex(t, "1200"), ErrTruncated},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got, err := ParseAudioConfig(c.codec, c.config); !errors.Is(err, c.want) {
				t.Fatalf("got %+v, %v; want %v", got, err, c.want)
			}
		})
	}
}

func BenchmarkParseVideoConfig(b *testing.B) {
	cases := []struct {
		name   string
		codec  FourCC
		config []byte
	}{
		{"avc1", FourCCAVC, unhex(b, avcC720p)},
		{"hvc1", FourCCHEVC, readTestdata(b, "x265-1280x720-main.hvcC")},
		{"av01", FourCCAV1, unhex(b, av1CAom720p)},
		{"vp09", FourCCVP9, unhex(b, "01000000 00 1f 82 02 02 02 0000")},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.config)))
			for b.Loop() {
				if _, err := ParseVideoConfig(c.codec, c.config); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
