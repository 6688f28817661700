package flv

import (
	"bytes"
	"reflect"
	"testing"
)

// hevcSeeds returns the real and crafted hvcC records.
func hevcSeeds(t testing.TB) [][]byte {
	var out [][]byte
	for _, x := range x265Records {
		out = append(out, readTestdata(t, x.file))
	}
	return append(out,
		unhex(t, "01 22 40000000 900000000000 5d f000 fc fd f8 f8 0000 0f 03 a0 0001 0004 40010c01 a1 0001 0003 420101 22 0002 0001 44 0002 4401"),
		unhex(t, "01 84 ffffffff ffffffffffff ff f123 ff ff fc fa 1e00 99 02 28 0000 a7 0001 0000"),
		cat(unhex(t, "01 04 08000000 9d0800000000 99 f000 fc fe fa fa 0000 0f 01 a1 0001"),
			byte(len(craftedHEVCSPSRExt())>>8), byte(len(craftedHEVCSPSRExt())), craftedHEVCSPSRExt()))
}

func FuzzHEVCDecoderConfig(f *testing.F) {
	for _, s := range hevcSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseHEVCDecoderConfig(data)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("parsed record invalid: %v", err)
		}
		_, _ = c.CodecString(), c.ParameterSets()
		for _, sps := range c.NALUs(HEVCNALSPS) {
			_, _ = ParseHEVCSPS(sps)
		}
		c2, err := ParseHEVCDecoderConfig(c.Append(nil))
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if !reflect.DeepEqual(c, c2) {
			t.Fatalf("round trip\n got %+v\nwant %+v", c2, c)
		}
	})
}

func FuzzHEVCSPS(f *testing.F) {
	for _, s := range hevcSeeds(f) {
		if c, err := ParseHEVCDecoderConfig(s); err == nil && c.SPS() != nil {
			f.Add(c.SPS())
		}
	}
	f.Add(craftedHEVCSPSRExt())
	f.Add(craftedHEVCSPS444Planes())
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseHEVCSPS(data)
		if err != nil {
			return
		}
		if s.Width <= 0 || s.Height <= 0 || s.Width > maxHEVCPictureSize || s.Height > maxHEVCPictureSize ||
			s.ChromaFormat > 3 || s.BitDepth < 8 || s.BitDepth > 16 || s.BitDepthChroma < 8 || s.BitDepthChroma > 16 ||
			s.FrameRate < 0 || s.SARWidth < 0 || s.SARHeight < 0 {
			t.Fatalf("implausible SPS %+v", s)
		}
	})
}

// av1Seeds returns real and crafted av1C records.
func av1Seeds(t testing.TB) [][]byte {
	out := [][]byte{cat(0x81, 0x4d, 0x60, 0, craftedAV1SequenceHeader()), unhex(t, "81 2a d6 1c")}
	for _, s := range []string{av1CAom720p, av1CAomOdd10, av1CAom444, av1CAom422p12, av1CAomGray, av1CAomStill, av1CSvt1080p, av1CRav1e} {
		out = append(out, unhex(t, s))
	}
	return out
}

func FuzzAV1CodecConfig(f *testing.F) {
	for _, s := range av1Seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseAV1CodecConfig(data)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("parsed record invalid: %v", err)
		}
		_, _ = c.SequenceHeader()
		_ = c.CodecString()
		c2, err := ParseAV1CodecConfig(c.Append(nil))
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if !reflect.DeepEqual(c, c2) {
			t.Fatalf("round trip\n got %+v\nwant %+v", c2, c)
		}
	})
}

func FuzzAV1SequenceHeader(f *testing.F) {
	for _, s := range av1Seeds(f) {
		f.Add(s[av1ConfigHeaderSize:])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseAV1SequenceHeader(data)
		if err != nil {
			return
		}
		if s.MaxFrameWidth < 1 || s.MaxFrameWidth > 1<<16 || s.MaxFrameHeight < 1 || s.MaxFrameHeight > 1<<16 ||
			s.Profile > 2 || s.OperatingPoints < 1 || s.OperatingPoints > maxAV1OperatingPoints ||
			(s.BitDepth != 8 && s.BitDepth != 10 && s.BitDepth != 12) || s.ChromaFormat() > 3 || s.FrameRate() < 0 {
			t.Fatalf("implausible sequence header %+v", s)
		}
		_ = s.CodecString()
	})
}

func FuzzVPCodecConfig(f *testing.F) {
	for _, s := range []string{"01000000 00 1f 82 02 02 02 0000", "01000000 03 15 c4 02 02 02 0000",
		"01000000 01 14 87 02 00 00 0000", "02 33 a0 09 10 09 0000", "00 0a 83 01 01 01 0003 aabbcc"} {
		f.Add(unhex(f, s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseVPCodecConfig(data)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("parsed record invalid: %v", err)
		}
		_, _ = c.CodecString(), c.ChromaFormat()
		enc := c.Append(nil)
		c2, err := ParseVPCodecConfig(enc)
		if err != nil {
			t.Fatalf("re-parse %x: %v", enc, err)
		}
		if !reflect.DeepEqual(c, c2) {
			t.Fatalf("round trip\n got %+v\nwant %+v", c2, c)
		}
	})
}

func FuzzVP9FrameSize(f *testing.F) {
	for _, c := range vp9Frames {
		f.Add(unhex(f, c.frame))
	}
	f.Add(vp9KeyFrameHeader(3, vp9ColorSpaceRGB, 65536, 1))
	f.Fuzz(func(t *testing.T, data []byte) {
		w, h, ok := ParseVP9FrameSize(data)
		if !ok {
			if w != 0 || h != 0 {
				t.Fatalf("%dx%d without ok", w, h)
			}
			return
		}
		if w < 1 || w > 1<<16 || h < 1 || h > 1<<16 {
			t.Fatalf("implausible size %dx%d", w, h)
		}
		// Re-encode a key frame header of the same profile and size.
		profile := uint32(data[0]>>5&1 | data[0]>>3&2)
		w2, h2, ok2 := ParseVP9FrameSize(vp9KeyFrameHeader(profile, 1, uint32(w), uint32(h)))
		if !ok2 || w2 != w || h2 != h {
			t.Fatalf("re-encoded %dx%d → %dx%d %v", w, h, w2, h2, ok2)
		}
	})
}

func FuzzOpusHead(f *testing.F) {
	for _, s := range []string{opusHeadStereo, opusHeadMono, opusHead51, "4f70757348656164 01 03 0000 00000000 0000 ff 0201 00ff01"} {
		f.Add(unhex(f, s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ParseOpusHead(data)
		if err != nil {
			return
		}
		if err := h.Validate(); err != nil {
			t.Fatalf("parsed header invalid: %v", err)
		}
		enc := h.Append(nil)
		if !bytes.HasPrefix(data, enc) {
			t.Fatalf("re-encoded %x is not a prefix of %x", enc, data)
		}
		h2, err := ParseOpusHead(enc)
		if err != nil || !reflect.DeepEqual(h, h2) {
			t.Fatalf("round trip %+v → %+v, %v", h, h2, err)
		}
	})
}

func FuzzFLACStreamInfo(f *testing.F) {
	for _, s := range []string{flacStreamInfoStereo, flacFile51, "80000022" + flacStreamInfoStereo} {
		f.Add(unhex(f, s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseFLACStreamInfo(data)
		if err != nil {
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("parsed STREAMINFO invalid: %v", err)
		}
		s2, err := ParseFLACStreamInfo(s.Append(nil))
		if err != nil || s2 != s {
			t.Fatalf("round trip %+v → %+v, %v", s, s2, err)
		}
	})
}

// configFourCCs indexes the codecs the aggregate fuzz targets pick from.
var configFourCCs = []FourCC{FourCCAVC, FourCCHEVC, FourCCAV1, FourCCVP9, FourCCVP8, FourCCAAC, FourCCOpus,
	FourCCFLAC, FourCCAC3, FourCCEAC3, FourCCMP3, 0}

func FuzzCodecConfigInfo(f *testing.F) {
	f.Add(uint8(0), unhex(f, avcC720p))
	for _, s := range hevcSeeds(f)[:2] {
		f.Add(uint8(1), s)
	}
	for _, s := range av1Seeds(f)[:3] {
		f.Add(uint8(2), s)
	}
	f.Add(uint8(3), unhex(f, "01000000 02 28 a2 02 02 02 0000"))
	f.Add(uint8(5), unhex(f, "2b118800"))
	f.Add(uint8(6), unhex(f, opusHead51))
	f.Add(uint8(7), unhex(f, flacFile51))
	f.Fuzz(func(t *testing.T, pick uint8, data []byte) {
		codec := configFourCCs[int(pick)%len(configFourCCs)]
		if v, err := ParseVideoConfig(codec, data); err == nil {
			if v.Codec != codec || v.CodecString == "" || v.Width < 0 || v.Height < 0 || v.ChromaFormat > 3 ||
				v.FrameRate < 0 {
				t.Fatalf("implausible video info %+v", v)
			}
		}
		if a, err := ParseAudioConfig(codec, data); err == nil {
			if a.Codec != codec || a.CodecString == "" || a.SampleRate < 0 || a.Channels < 0 {
				t.Fatalf("implausible audio info %+v", a)
			}
		}
	})
}
