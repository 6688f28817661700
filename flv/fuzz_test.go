package flv

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/mediaserver/mediaserver/amf"
)

// sampleStream is a small FLV file used to seed FuzzTagReader.
func sampleStream(t testing.TB) []byte {
	b := AppendHeader(nil, Header{HasAudio: true, HasVideo: true})
	b = AppendTag(b, TagScript, 0, unhex(t, ffmpegMetadata))
	b = AppendTag(b, TagVideo, 0, cat(0x17, 0, 0, 0, 0, unhex(t, avcC720p)))
	b = AppendTag(b, TagAudio, 0, unhex(t, "af00121056e500"))
	b = AppendTag(b, TagVideo, 33, cat(0x17, 1, 0, 0, 0x42, 0, 0, 0, 2, 0x65, 0x88))
	return AppendTag(b, TagAudio, 0x01000000, unhex(t, "af012100"))
}

func FuzzTagReader(f *testing.F) {
	stream := sampleStream(f)
	f.Add(stream, true)
	f.Add(stream[HeaderSize+PreviousTagSizeLen:], false)
	f.Add(stream[:40], true)
	f.Fuzz(func(t *testing.T, data []byte, withHeader bool) {
		r := NewReaderConfig(bytes.NewReader(data), ReaderConfig{MaxTagDataSize: 1 << 20})
		var h Header
		if withHeader {
			var err error
			if h, err = r.ReadHeader(); err != nil {
				return
			}
		}
		var tags []Tag
		for len(tags) < 1000 {
			tag, err := r.ReadTag()
			if err != nil {
				break
			}
			tags = append(tags, tag)
		}
		// Encode what was read and read it back.
		var enc []byte
		if withHeader {
			enc = AppendHeader(enc, h)
		}
		for _, tag := range tags {
			enc = AppendTag(enc, tag.Type, tag.Timestamp, tag.Data)
		}
		r2 := NewReader(bytes.NewReader(enc))
		if withHeader {
			h2, err := r2.ReadHeader()
			if err != nil || h2 != h {
				t.Fatalf("header %+v → %+v, %v", h, h2, err)
			}
		}
		for i, want := range tags {
			got, err := r2.ReadTag()
			if err != nil || got.Type != want.Type || got.Timestamp != want.Timestamp || !bytes.Equal(got.Data, want.Data) {
				t.Fatalf("tag %d: %+v → %+v, %v", i, want, got, err)
			}
		}
		if _, err := r2.ReadTag(); err != io.EOF {
			t.Fatalf("after re-encoded tags: %v", err)
		}
	})
}

func FuzzVideoTagHeader(f *testing.F) {
	for _, c := range videoCases(f) {
		f.Add(c.wire)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ParseVideoTagHeader(data)
		if err != nil {
			return
		}
		if h.HeaderLen < 1 || h.HeaderLen > len(data) {
			t.Fatalf("HeaderLen %d of %d", h.HeaderLen, len(data))
		}
		_, _, _ = h.Keyframe(), h.IsSequenceHeader(), h.TrackList(data)
		var body []byte
		if !h.Multitrack {
			body = data[h.HeaderLen:]
		}
		enc, err := AppendVideoTag(nil, h, body)
		if err != nil {
			t.Fatalf("encode %+v: %v", h, err)
		}
		h2, err := ParseVideoTagHeader(enc)
		if err != nil {
			t.Fatalf("decode %x: %v", enc, err)
		}
		if !h.Multitrack && !bytes.Equal(enc[h2.HeaderLen:], body) {
			t.Fatalf("body %x → %x", body, enc[h2.HeaderLen:])
		}
		h.HeaderLen, h2.HeaderLen = 0, 0 // non-canonical ModEx sizes re-encode shorter
		if !reflect.DeepEqual(h, h2) {
			t.Fatalf("round trip\n got %+v\nwant %+v", h2, h)
		}
	})
}

func FuzzAudioTagHeader(f *testing.F) {
	for _, c := range audioCases(f) {
		f.Add(c.wire)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ParseAudioTagHeader(data)
		if err != nil {
			return
		}
		if h.HeaderLen < 1 || h.HeaderLen > len(data) {
			t.Fatalf("HeaderLen %d of %d", h.HeaderLen, len(data))
		}
		_, _ = h.IsSequenceHeader(), h.TrackList(data)
		var body []byte
		if !h.Multitrack {
			body = data[h.HeaderLen:]
		}
		enc, err := AppendAudioTag(nil, h, body)
		if err != nil {
			t.Fatalf("encode %+v: %v", h, err)
		}
		h2, err := ParseAudioTagHeader(enc)
		if err != nil {
			t.Fatalf("decode %x: %v", enc, err)
		}
		if !h.Multitrack && !bytes.Equal(enc[h2.HeaderLen:], body) {
			t.Fatalf("body %x → %x", body, enc[h2.HeaderLen:])
		}
		h.HeaderLen, h2.HeaderLen = 0, 0
		if !reflect.DeepEqual(h, h2) {
			t.Fatalf("round trip\n got %+v\nwant %+v", h2, h)
		}
		if h.PacketType == PacketMultichannelConfig && !h.Multitrack {
			if mc, err := ParseMultichannelConfig(body); err == nil {
				if enc, err := mc.Append(nil); err != nil || !bytes.HasPrefix(body, enc) {
					t.Fatalf("multichannel config %x → %x, %v", body, enc, err)
				}
			}
		}
	})
}

func FuzzAVCDecoderConfig(f *testing.F) {
	for _, s := range []string{avcC720p, avcC1080p, avcCBase, avcCHi10, avcCGray,
		"017a0028fde2000267010003670203020001680002686902fef9fa0100026d01"} {
		f.Add(unhex(f, s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseAVCDecoderConfig(data)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("parsed record invalid: %v", err)
		}
		for _, sps := range c.SPS {
			_, _ = ParseSPS(sps)
		}
		c2, err := ParseAVCDecoderConfig(c.Append(nil))
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if !reflect.DeepEqual(c, c2) {
			t.Fatalf("round trip\n got %+v\nwant %+v", c2, c)
		}
	})
}

func FuzzSPS(f *testing.F) {
	for _, s := range []string{sps720p, sps1080p, spsBase, spsHi10, spsGray, spsHi422, spsHi444, spsInterl, spsSAR} {
		f.Add(unhex(f, s))
	}
	f.Add(craftedSPSScalingPOC1())
	f.Add(craftedSPS444(true))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSPS(data)
		if err != nil {
			return
		}
		if s.Width <= 0 || s.Height <= 0 || s.Width > 16*maxMacroblocks || s.Height > 32*maxMacroblocks ||
			s.ChromaFormat > 3 || s.BitDepth < 8 || s.BitDepth > 14 || s.FrameRate < 0 {
			t.Fatalf("implausible SPS %+v", s)
		}
	})
}

func FuzzAACConfig(f *testing.F) {
	for _, s := range []string{"1210", "121056e500", "11b0", "0d80", "1780562210", "f94640", "2b118800", "eb098800", "2b11d880"} {
		f.Add(unhex(f, s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseAACConfig(data)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("parsed config invalid: %v", err)
		}
		c2, err := ParseAACConfig(c.Append(nil))
		if err != nil || c2 != c {
			t.Fatalf("round trip %+v → %+v, %v", c, c2, err)
		}
		if c.ADTSSupported() == nil {
			a := parseADTSForTest(t, c.AppendADTSHeader(nil, 100))
			if a.profile != c.core()-1 || a.channels != c.ChannelConfig || aacSampleRates[a.freq] != c.SampleRate || a.frameLen != 107 {
				t.Fatalf("ADTS %+v for %+v", a, c)
			}
		}
	})
}

func FuzzMetadata(f *testing.F) {
	f.Add(unhex(f, ffmpegMetadata))
	for _, vals := range [][]any{
		{"@setDataFrame", "onMetaData", amf.ECMAArray{{Key: "videocodecid", Value: 7.0}, {Key: "stereo", Value: true}}},
		{"onMetaData", amf.Object{{Key: "videocodecid", Value: float64(FourCCAV1)}, {Key: "width", Value: "1920"}}},
		{"onMetaData", amf.TypedObject{Class: "c", Object: amf.Object{{Key: "encoder", Value: "x"}}}},
	} {
		b, err := amf.Append0(nil, vals...)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = StripSetDataFrame(data)
		m, err := ParseMetadata(data)
		if err != nil {
			return
		}
		enc, err := m.Append(nil)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		m2, err := ParseMetadata(enc)
		if err != nil {
			t.Fatalf("decode %x: %v", enc, err)
		}
		enc2, err := m2.Append(nil)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("re-encode differs: %v", err)
		}
		if !reflect.DeepEqual(typed(m), typed(m2)) {
			t.Fatalf("fields\n got %+v\nwant %+v", typed(m2), typed(m))
		}
	})
}

func FuzzAVCCToAnnexB(f *testing.F) {
	f.Add(cat(0, 0, 0, 2, 0x65, 0x88, 0, 0, 0, 1, 0x41), 4)
	f.Add(cat(0, 2, 0x65, 0x88, 0, 0), 2)
	f.Add(cat(2, 0x65, 0x88, 5), 1)
	f.Fuzz(func(t *testing.T, data []byte, lengthSize int) {
		var units [][]byte
		err := ForEachNALU(data, lengthSize, func(n []byte) error { units = append(units, n); return nil })
		annexB, err2 := AVCCToAnnexB(nil, data, lengthSize)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("ForEachNALU %v, AVCCToAnnexB %v", err, err2)
		}
		if err != nil {
			if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrLengthSize) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		// Units that look like start codes or end in zeros cannot survive
		// Annex-B framing; the rest must come back unchanged.
		for _, u := range units {
			if bytes.Contains(u, []byte{0, 0, 1}) || u[len(u)-1] == 0 {
				return
			}
		}
		var back [][]byte
		_ = ForEachAnnexBNALU(annexB, func(n []byte) error { back = append(back, n); return nil })
		if len(back) != len(units) {
			t.Fatalf("%d units → %d", len(units), len(back))
		}
		for i := range units {
			if !bytes.Equal(units[i], back[i]) {
				t.Fatalf("unit %d: %x → %x", i, units[i], back[i])
			}
		}
	})
}
