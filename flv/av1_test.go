package flv

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

// av1C records written by ffmpeg 5.1 (testsrc2, MP4) with libaom-av1,
// libsvtav1 and librav1e; the expectations are what ffprobe reported.
const (
	av1CAom720p   = "81050c000a0b0000002d4cffb3cdaf9004"
	av1CAomOdd10  = "81084c000a0b00000042abbec3576be501"
	av1CAom444    = "812100000a0b2000000cc4ff6736be4080"
	av1CAom422p12 = "814168000a0b4000000cc5036936be5888"
	av1CAomGray   = "81001c000a0a000000043cffbcdaf92a"
	av1CAomStill  = "81000c000a071821e975ed0040"
	av1CSvt1080p  = "81080c000a0b00000042abbfc3700be001"
	av1CRav1e     = "811f0c000a0e000000fa22bf1f10854408080850"
)

func TestAV1CodecConfigBothDirections(t *testing.T) {
	cases := []struct {
		name string
		wire string
		c    AV1CodecConfig
	}{
		{"libaom main 720p", av1CAom720p, AV1CodecConfig{SeqLevelIdx0: 5, ChromaSubsamplingX: true, ChromaSubsamplingY: true}},
		{"libaom main 10-bit", av1CAomOdd10, AV1CodecConfig{SeqLevelIdx0: 8, HighBitdepth: true, ChromaSubsamplingX: true, ChromaSubsamplingY: true}},
		{"libaom high 4:4:4", av1CAom444, AV1CodecConfig{SeqProfile: 1, SeqLevelIdx0: 1}},
		{"libaom professional 4:2:2 12-bit", av1CAom422p12, AV1CodecConfig{SeqProfile: 2, SeqLevelIdx0: 1,
			HighBitdepth: true, TwelveBit: true, ChromaSubsamplingX: true}},
		{"libaom monochrome", av1CAomGray, AV1CodecConfig{Monochrome: true, ChromaSubsamplingX: true, ChromaSubsamplingY: true}},
		{"libaom still picture", av1CAomStill, AV1CodecConfig{ChromaSubsamplingX: true, ChromaSubsamplingY: true}},
		{"svt-av1 1080p", av1CSvt1080p, AV1CodecConfig{SeqLevelIdx0: 8, ChromaSubsamplingX: true, ChromaSubsamplingY: true}},
		{"rav1e max level", av1CRav1e, AV1CodecConfig{SeqLevelIdx0: 31, ChromaSubsamplingX: true, ChromaSubsamplingY: true}},
		{"high tier, sample position, presentation delay, no OBUs", "81 2a d6 1c",
			AV1CodecConfig{SeqProfile: 1, SeqLevelIdx0: 10, SeqTier0: 1, HighBitdepth: true, Monochrome: true,
				ChromaSubsamplingY: true, ChromaSamplePosition: 2, InitialPresentationDelayPresent: true,
				InitialPresentationDelayMinusOne: 12}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wire := unhex(t, c.wire)
			want := c.c
			if len(wire) > av1ConfigHeaderSize {
				want.ConfigOBUs = wire[av1ConfigHeaderSize:]
			}
			checkRecord(t, wire, want, ParseAV1CodecConfig)
		})
	}
}

func TestAV1SequenceHeadersMatchFFprobe(t *testing.T) {
	cases := []struct {
		name          string
		wire          string
		width, height int
		profile       uint8
		level         uint8
		depth, chroma int
		still         bool
		codec         string
	}{
		{"libaom main 720p", av1CAom720p, 1280, 720, 0, 5, 8, 1, false, "av01.0.05M.08"},
		{"libaom main 10-bit 1918x1078", av1CAomOdd10, 1918, 1078, 0, 8, 10, 1, false, "av01.0.08M.10"},
		{"libaom high 4:4:4", av1CAom444, 640, 360, 1, 1, 8, 3, false, "av01.1.01M.08"},
		{"libaom professional 4:2:2 12-bit", av1CAom422p12, 642, 362, 2, 1, 12, 2, false, "av01.2.01M.12"},
		{"libaom monochrome", av1CAomGray, 320, 240, 0, 0, 8, 0, false, "av01.0.00M.08"},
		{"libaom reduced still picture header", av1CAomStill, 332, 176, 0, 0, 8, 1, true, "av01.0.00M.08"},
		{"svt-av1 1080p", av1CSvt1080p, 1920, 1080, 0, 8, 8, 1, false, "av01.0.08M.08"},
		{"rav1e 352x288", av1CRav1e, 352, 288, 0, 31, 8, 1, false, "av01.0.31M.08"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec, err := ParseAV1CodecConfig(unhex(t, c.wire))
			if err != nil {
				t.Fatal(err)
			}
			s, err := rec.SequenceHeader()
			if err != nil {
				t.Fatalf("sequence header: %v", err)
			}
			if s.MaxFrameWidth != c.width || s.MaxFrameHeight != c.height || s.Profile != c.profile ||
				s.Level != c.level || s.BitDepth != c.depth || s.ChromaFormat() != c.chroma ||
				s.StillPicture != c.still || s.ReducedStillPictureHeader != c.still || s.OperatingPoints != 1 {
				t.Fatalf("sequence header %+v", s)
			}
			// The record repeats the sequence header's fields.
			if rec.SeqProfile != s.Profile || rec.SeqLevelIdx0 != s.Level || rec.BitDepth() != s.BitDepth ||
				rec.Monochrome != s.Monochrome || rec.ChromaSubsamplingX != s.SubsamplingX ||
				rec.ChromaSubsamplingY != s.SubsamplingY {
				t.Fatalf("record %+v disagrees with sequence header %+v", rec, s)
			}
			if got := s.CodecString(); got != c.codec || rec.CodecString() != c.codec {
				t.Fatalf("codec string %q / %q, want %q", got, rec.CodecString(), c.codec)
			}
		})
	}
}

// av1SeqWriter builds sequence header OBUs bit by bit for tests.
type av1SeqWriter struct{ bitWriter }

func (w *av1SeqWriter) flag(b bool) {
	if b {
		w.put(1, 1)
	} else {
		w.put(0, 1)
	}
}

func (w *av1SeqWriter) uvlc(v uint32) {
	x := uint64(v) + 1
	n := 0
	for t := x; t > 1; t >>= 1 {
		n++
	}
	w.put(0, n)
	w.put(1, 1)
	w.put(uint32(x), n) // the bits below the leading one
}

// obu wraps the written payload (with trailing bits) in an OBU with the
// given extension byte (0: none) and size field.
func (w *av1SeqWriter) obu(ext byte) []byte {
	w.put(1, 1) // trailing_one_bit
	for w.nbits != 0 {
		w.put(0, 1)
	}
	payload := w.b
	hdr := []byte{AV1OBUSequenceHeader<<3 | 0x02}
	if ext != 0 {
		hdr[0] |= 0x04
		hdr = append(hdr, ext)
	}
	// A non-minimal two-byte leb128 size, which decoders must accept.
	hdr = append(hdr, byte(len(payload))|0x80, 0)
	return append(hdr, payload...)
}

// craftedAV1SequenceHeader is a Professional-profile sequence header with
// timing info (equal picture interval, 30000/1001 fps), decoder model info,
// three operating points (the first at level 5.1 high tier with a decoder
// model and an initial display delay), frame id numbers, order hints, a
// 4:4:4 12-bit color config with a colour description and film grain:
// 3840x2160 maximum, 12 and 13 bits for the size fields. ffmpeg's
// trace_headers bitstream filter parses it to the same values.
func craftedAV1SequenceHeader() []byte {
	var w av1SeqWriter
	w.put(2, 3)      // seq_profile
	w.flag(false)    // still_picture
	w.flag(false)    // reduced_still_picture_header
	w.flag(true)     // timing_info_present_flag
	w.put(1001, 32)  // num_units_in_display_tick
	w.put(30000, 32) // time_scale
	w.flag(true)     // equal_picture_interval
	w.uvlc(0)        // num_ticks_per_picture_minus_1
	w.flag(true)     // decoder_model_info_present_flag
	w.put(9, 5)      // buffer_delay_length_minus_1: 10-bit delays
	w.put(90000, 32) // num_units_in_decoding_tick
	w.put(3, 5)      // buffer_removal_time_length_minus_1
	w.put(4, 5)      // frame_presentation_time_length_minus_1
	w.flag(true)     // initial_display_delay_present_flag
	w.put(2, 5)      // operating_points_cnt_minus_1
	for i, op := range []struct {
		idc   uint32
		level uint32
		model bool
		delay bool
	}{{0x103, 13, true, true}, {0x101, 5, false, true}, {0x001, 9, true, false}} {
		w.put(op.idc, 12)
		w.put(op.level, 5)
		if op.level > 7 {
			w.put(uint32(1-i/2), 1) // seq_tier: high for the first, main for the last
		}
		w.flag(op.model)
		if op.model {
			w.put(500, 10) // decoder_buffer_delay
			w.put(300, 10) // encoder_buffer_delay
			w.flag(true)   // low_delay_mode_flag
		}
		w.flag(op.delay)
		if op.delay {
			w.put(9, 4)
		}
	}
	w.put(11, 4)       // frame_width_bits_minus_1
	w.put(12, 4)       // frame_height_bits_minus_1
	w.put(3839, 12)    // max_frame_width_minus_1
	w.put(2159, 13)    // max_frame_height_minus_1
	w.flag(true)       // frame_id_numbers_present_flag
	w.put(5, 4)        // delta_frame_id_length_minus_2
	w.put(2, 3)        // additional_frame_id_length_minus_1
	w.put(0b101, 3)    // use_128x128_superblock, enable_filter_intra, enable_intra_edge_filter
	w.put(0b1010, 4)   // interintra, masked compound, warped motion, dual filter
	w.flag(true)       // enable_order_hint
	w.put(0b11, 2)     // enable_jnt_comp, enable_ref_frame_mvs
	w.flag(false)      // seq_choose_screen_content_tools
	w.flag(true)       // seq_force_screen_content_tools
	w.flag(false)      // seq_choose_integer_mv
	w.flag(true)       // seq_force_integer_mv
	w.put(6, 3)        // order_hint_bits_minus_1
	w.put(0b011, 3)    // enable_superres, enable_cdef, enable_restoration
	w.flag(true)       // high_bitdepth
	w.flag(true)       // twelve_bit
	w.flag(false)      // mono_chrome
	w.flag(true)       // color_description_present_flag
	w.put(9, 8)        // BT.2020
	w.put(16, 8)       // PQ
	w.put(9, 8)        // BT.2020 NCL
	w.flag(true)       // color_range
	w.flag(false)      // subsampling_x: 4:4:4
	w.flag(true)       // separate_uv_delta_q
	w.flag(true)       // film_grain_params_present
	return w.obu(0x20) // temporal_id 1
}

func TestAV1SequenceHeaderOperatingPointsAndTiming(t *testing.T) {
	// The sequence header follows other OBUs, as in a temporal unit.
	td := []byte{AV1OBUTemporalDelimiter<<3 | 0x02, 0}
	meta := []byte{AV1OBUMetadata<<3 | 0x02, 3, 1, 2, 3}
	data := cat(td, meta, craftedAV1SequenceHeader())
	s, err := ParseAV1SequenceHeader(data)
	if err != nil {
		t.Fatal(err)
	}
	want := AV1SequenceHeader{
		Profile: 2, OperatingPoints: 3, OperatingPointIdc: 0x103, Level: 13, Tier: 1,
		TimingInfoPresent: true, NumUnitsInDisplayTick: 1001, TimeScale: 30000, EqualPictureInterval: true,
		NumTicksPerPicture: 1, DecoderModelInfoPresent: true,
		FrameWidthBits: 12, FrameHeightBits: 13, MaxFrameWidth: 3840, MaxFrameHeight: 2160,
		BitDepth: 12, ColorPrimaries: 9, TransferCharacteristics: 16, MatrixCoefficients: 9, FullRange: true,
		FilmGrainParamsPresent: true,
	}
	if s != want {
		t.Fatalf("sequence header\n got %+v\nwant %+v", s, want)
	}
	if fps := s.FrameRate(); fps < 29.97 || fps > 29.971 {
		t.Fatalf("frame rate %v", fps)
	}
	if s.ChromaFormat() != 3 || s.CodecString() != "av01.2.13H.12" {
		t.Fatalf("chroma %d codec %q", s.ChromaFormat(), s.CodecString())
	}
}

func TestAV1SequenceHeaderErrors(t *testing.T) {
	seq := craftedAV1SequenceHeader()
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"no sequence header", []byte{AV1OBUTemporalDelimiter<<3 | 0x02, 0}, ErrInvalidConfig},
		{"empty", nil, ErrInvalidConfig},
		{"forbidden bit", []byte{0x80 | AV1OBUSequenceHeader<<3, 0}, ErrInvalidConfig},
		{"size past the end", []byte{AV1OBUSequenceHeader<<3 | 0x02, 9, 0}, ErrTruncated},
		{"leb128 of nine bytes", cat(AV1OBUSequenceHeader<<3|0x02, bytes.Repeat([]byte{0x80}, 8), 0), ErrInvalidConfig},
		{"leb128 above 2^32-1", cat(AV1OBUSequenceHeader<<3|0x02, 0xff, 0xff, 0xff, 0xff, 0x7f), ErrInvalidConfig},
		{"leb128 cut", []byte{AV1OBUSequenceHeader<<3 | 0x02, 0x80}, ErrTruncated},
		{"extension cut", []byte{AV1OBUSequenceHeader<<3 | 0x06}, ErrTruncated},
		{"header cut", cat(seq[0], seq[1], 8, seq[4:12]), ErrTruncated}, // seq: header, extension, 2-byte size, payload
		{"reserved profile", []byte{AV1OBUSequenceHeader<<3 | 0x02, 1, 0xe0}, ErrInvalidConfig},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := ParseAV1SequenceHeader(c.data); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestAV1SequenceHeaderWithoutSizeField(t *testing.T) {
	obu := craftedAV1SequenceHeader()
	// The last OBU may omit its size field: header and extension bytes,
	// then the payload without the two size bytes.
	bare := cat(obu[0]&^0x02, obu[1], obu[4:])
	s, err := ParseAV1SequenceHeader(bare)
	if err != nil || s.MaxFrameWidth != 3840 || s.MaxFrameHeight != 2160 {
		t.Fatalf("got %+v, %v", s, err)
	}
}

func TestAV1CodecConfigErrors(t *testing.T) {
	for _, wire := range []string{"", "810000", "01000000", "82000000", "00000000"} {
		if _, err := ParseAV1CodecConfig(unhex(t, wire)); err == nil {
			t.Errorf("%q: no error", wire)
		}
	}
}

func TestForEachAV1OBU(t *testing.T) {
	data := cat([]byte{AV1OBUTemporalDelimiter<<3 | 0x02, 0}, []byte{AV1OBUMetadata<<3 | 0x02, 3, 1, 2, 3},
		craftedAV1SequenceHeader(), []byte{AV1OBUPadding << 3, 9, 9})
	type obu struct {
		h    AV1OBUHeader
		size int
	}
	var got []obu
	err := ForEachAV1OBU(data, func(h AV1OBUHeader, payload []byte) error {
		got = append(got, obu{h, len(payload)})
		return nil
	})
	want := []obu{
		{AV1OBUHeader{Type: AV1OBUTemporalDelimiter, HasSize: true}, 0},
		{AV1OBUHeader{Type: AV1OBUMetadata, HasSize: true}, 3},
		{AV1OBUHeader{Type: AV1OBUSequenceHeader, HasExtension: true, TemporalID: 1, HasSize: true}, len(craftedAV1SequenceHeader()) - 4},
		{AV1OBUHeader{Type: AV1OBUPadding}, 2}, // no size field: runs to the end
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, %v\nwant %+v", got, err, want)
	}
	stop := errors.New("stop")
	calls := 0
	if err := ForEachAV1OBU(data, func(AV1OBUHeader, []byte) error { calls++; return stop }); err != stop || calls != 1 {
		t.Fatalf("callback error: %v after %d calls", err, calls)
	}
	many := bytes.Repeat([]byte{AV1OBUPadding<<3 | 0x02, 0}, maxAV1OBUs+1)
	if err := ForEachAV1OBU(many, func(AV1OBUHeader, []byte) error { return nil }); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("%d OBUs: %v", maxAV1OBUs+1, err)
	}
	if _, err := ParseAV1SequenceHeader(many); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("sequence header search over %d OBUs: %v", maxAV1OBUs+1, err)
	}
}
