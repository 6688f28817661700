package flv

import "fmt"

// AV1 OBU types (AV1 specification 6.2.2).
const (
	AV1OBUSequenceHeader       uint8 = 1
	AV1OBUTemporalDelimiter    uint8 = 2
	AV1OBUFrameHeader          uint8 = 3
	AV1OBUTileGroup            uint8 = 4
	AV1OBUMetadata             uint8 = 5
	AV1OBUFrame                uint8 = 6
	AV1OBURedundantFrameHeader uint8 = 7
	AV1OBUTileList             uint8 = 8
	AV1OBUPadding              uint8 = 15
)

// Limits of AV1 OBU parsing.
const (
	// maxLEB128Bytes is the longest leb128() the specification allows.
	maxLEB128Bytes = 8
	// maxAV1OperatingPoints is operating_points_cnt_minus_1 + 1 at most.
	maxAV1OperatingPoints = 32
	// maxAV1OBUs caps the OBUs ForEachAV1OBU visits.
	maxAV1OBUs = 4096
)

// AV1OBUHeader is a decoded obu_header().
type AV1OBUHeader struct {
	Type uint8
	// HasExtension is obu_extension_flag; TemporalID and SpatialID come from
	// the extension.
	HasExtension          bool
	TemporalID, SpatialID uint8
	// HasSize is obu_has_size_field.
	HasSize bool
}

// ForEachAV1OBU calls fn for every OBU in data (low-overhead bitstream
// format: OBUs with size fields; an OBU without one extends to the end of
// data). payload aliases data. It stops at the first error fn returns and
// fails on a forbidden bit, a bad leb128 or a size past the end.
func ForEachAV1OBU(data []byte, fn func(h AV1OBUHeader, payload []byte) error) error {
	for n, pos := 0, 0; pos < len(data); n++ {
		if n >= maxAV1OBUs {
			return fmt.Errorf("more than %d OBUs: %w", maxAV1OBUs, ErrInvalidConfig)
		}
		h, payload, next, err := nextAV1OBU(data, pos)
		if err != nil {
			return fmt.Errorf("OBU %d: %w", n, err)
		}
		if err := fn(h, payload); err != nil {
			return err
		}
		pos = next
	}
	return nil
}

// nextAV1OBU decodes the OBU starting at data[pos] and returns its header,
// payload and the offset after it.
func nextAV1OBU(data []byte, pos int) (AV1OBUHeader, []byte, int, error) {
	b := data[pos]
	if b&0x80 != 0 {
		return AV1OBUHeader{}, nil, 0, fmt.Errorf("obu_forbidden_bit set: %w", ErrInvalidConfig)
	}
	h := AV1OBUHeader{Type: b >> 3 & 0x0f, HasExtension: b&0x04 != 0, HasSize: b&0x02 != 0}
	pos++
	if h.HasExtension {
		if pos >= len(data) {
			return AV1OBUHeader{}, nil, 0, fmt.Errorf("OBU extension header: %w", ErrTruncated)
		}
		h.TemporalID, h.SpatialID = data[pos]>>5, data[pos]>>3&0x03
		pos++
	}
	end := len(data)
	if h.HasSize {
		size, n, err := readLEB128(data[pos:])
		if err != nil {
			return AV1OBUHeader{}, nil, 0, err
		}
		pos += n
		if size > uint64(len(data)-pos) {
			return AV1OBUHeader{}, nil, 0, fmt.Errorf("OBU of %d bytes with %d left: %w", size, len(data)-pos, ErrTruncated)
		}
		end = pos + int(size)
	}
	return h, data[pos:end:end], end, nil
}

// readLEB128 decodes leb128() (4.10.5): at most 8 bytes, value below 2^32.
func readLEB128(b []byte) (uint64, int, error) {
	var v uint64
	for i := range maxLEB128Bytes {
		if i >= len(b) {
			return 0, 0, fmt.Errorf("leb128: %w", ErrTruncated)
		}
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			if v > 1<<32-1 {
				return 0, 0, fmt.Errorf("leb128 value %d: %w", v, ErrInvalidConfig)
			}
			return v, i + 1, nil
		}
	}
	return 0, 0, fmt.Errorf("leb128 longer than %d bytes: %w", maxLEB128Bytes, ErrInvalidConfig)
}

// AV1SequenceHeader is what ParseAV1SequenceHeader extracts from a
// sequence_header_obu() (AV1 specification 5.5). The operating point fields
// describe operating point 0, the one decoders choose by default.
type AV1SequenceHeader struct {
	Profile                   uint8 // seq_profile
	StillPicture              bool
	ReducedStillPictureHeader bool
	// OperatingPoints is operating_points_cnt_minus_1 + 1.
	OperatingPoints int
	// OperatingPointIdc, Level (seq_level_idx) and Tier (seq_tier) of
	// operating point 0.
	OperatingPointIdc uint16
	Level, Tier       uint8
	// TimingInfoPresent reports timing_info(); the timing fields are zero
	// otherwise. NumTicksPerPicture is num_ticks_per_picture_minus_1 + 1 when
	// EqualPictureInterval, else 0.
	TimingInfoPresent       bool
	NumUnitsInDisplayTick   uint32
	TimeScale               uint32
	EqualPictureInterval    bool
	NumTicksPerPicture      uint64
	DecoderModelInfoPresent bool
	// FrameWidthBits and FrameHeightBits are frame_width_bits_minus_1 + 1
	// and frame_height_bits_minus_1 + 1; MaxFrameWidth and MaxFrameHeight
	// are max_frame_width_minus_1 + 1 and max_frame_height_minus_1 + 1.
	FrameWidthBits, FrameHeightBits int
	MaxFrameWidth, MaxFrameHeight   int
	// BitDepth is 8, 10 or 12.
	BitDepth   int
	Monochrome bool
	// SubsamplingX and SubsamplingY are subsampling_x/y (both set for
	// 4:2:0, X only for 4:2:2, neither for 4:4:4).
	SubsamplingX, SubsamplingY bool
	ChromaSamplePosition       uint8
	// ColorPrimaries, TransferCharacteristics and MatrixCoefficients are
	// the ISO/IEC 23091-4 code points (2, unspecified, when absent).
	ColorPrimaries, TransferCharacteristics, MatrixCoefficients uint8
	// FullRange is color_range.
	FullRange              bool
	FilmGrainParamsPresent bool
}

// ChromaFormat returns 0 monochrome, 1 4:2:0, 2 4:2:2 or 3 4:4:4.
func (s AV1SequenceHeader) ChromaFormat() int {
	switch {
	case s.Monochrome:
		return 0
	case s.SubsamplingX && s.SubsamplingY:
		return 1
	case s.SubsamplingX:
		return 2
	}
	return 3
}

// FrameRate returns time_scale / (num_units_in_display_tick ×
// num_ticks_per_picture) when the timing info signals an equal picture
// interval, otherwise 0.
func (s AV1SequenceHeader) FrameRate() float64 {
	if !s.EqualPictureInterval || s.NumUnitsInDisplayTick == 0 || s.TimeScale == 0 {
		return 0
	}
	return float64(s.TimeScale) / (float64(s.NumUnitsInDisplayTick) * float64(s.NumTicksPerPicture))
}

// CodecString returns the short RFC 6381 codec string ("av01.0.04M.08").
func (s AV1SequenceHeader) CodecString() string {
	return av1CodecString(s.Profile, s.Level, s.Tier == 1, s.BitDepth)
}

// ParseAV1SequenceHeader finds the first sequence header OBU in data (a
// sequence of OBUs, such as av1C configOBUs or a temporal unit) and decodes
// it. It fails with ErrInvalidConfig when there is none.
func ParseAV1SequenceHeader(data []byte) (AV1SequenceHeader, error) {
	for n, pos := 0, 0; pos < len(data); n++ {
		if n >= maxAV1OBUs {
			return AV1SequenceHeader{}, fmt.Errorf("AV1 sequence header: more than %d OBUs: %w", maxAV1OBUs, ErrInvalidConfig)
		}
		h, payload, next, err := nextAV1OBU(data, pos)
		if err != nil {
			return AV1SequenceHeader{}, fmt.Errorf("AV1 sequence header: OBU %d: %w", n, err)
		}
		if h.Type == AV1OBUSequenceHeader {
			return parseAV1SequenceHeaderOBU(payload)
		}
		pos = next
	}
	return AV1SequenceHeader{}, fmt.Errorf("no AV1 sequence header OBU: %w", ErrInvalidConfig)
}

// parseAV1SequenceHeaderOBU decodes sequence_header_obu() (5.5.1) up to
// film_grain_params_present.
func parseAV1SequenceHeaderOBU(payload []byte) (AV1SequenceHeader, error) {
	r := bitReader{b: payload}
	s := AV1SequenceHeader{Profile: uint8(r.u(3)), OperatingPoints: 1}
	s.StillPicture = r.flag()
	s.ReducedStillPictureHeader = r.flag()
	if s.Profile > 2 {
		return AV1SequenceHeader{}, fmt.Errorf("AV1 seq_profile %d: %w", s.Profile, ErrInvalidConfig)
	}
	if s.ReducedStillPictureHeader {
		s.Level = uint8(r.u(5))
	} else if err := parseAV1OperatingPoints(&r, &s); err != nil {
		return AV1SequenceHeader{}, err
	}
	s.FrameWidthBits = int(r.u(4)) + 1
	s.FrameHeightBits = int(r.u(4)) + 1
	s.MaxFrameWidth = int(r.u(s.FrameWidthBits)) + 1
	s.MaxFrameHeight = int(r.u(s.FrameHeightBits)) + 1
	frameIDNumbers := !s.ReducedStillPictureHeader && r.flag()
	if frameIDNumbers {
		r.skip(7) // delta_frame_id_length_minus_2, additional_frame_id_length_minus_1
	}
	r.skip(3) // use_128x128_superblock, enable_filter_intra, enable_intra_edge_filter
	if !s.ReducedStillPictureHeader {
		r.skip(4) // enable_interintra_compound, masked_compound, warped_motion, dual_filter
		orderHint := r.flag()
		if orderHint {
			r.skip(2) // enable_jnt_comp, enable_ref_frame_mvs
		}
		forceScreenContent := true // SELECT_SCREEN_CONTENT_TOOLS
		if !r.flag() {             // seq_choose_screen_content_tools
			forceScreenContent = r.flag()
		}
		if forceScreenContent && !r.flag() { // seq_choose_integer_mv
			r.skip(1) // seq_force_integer_mv
		}
		if orderHint {
			r.skip(3) // order_hint_bits_minus_1
		}
	}
	r.skip(3) // enable_superres, enable_cdef, enable_restoration
	parseAV1ColorConfig(&r, &s)
	s.FilmGrainParamsPresent = r.flag()
	if r.err != nil {
		return AV1SequenceHeader{}, fmt.Errorf("AV1 sequence header: %w", r.err)
	}
	return s, nil
}

// parseAV1OperatingPoints reads timing_info, decoder_model_info and the
// operating point loop of a full sequence header.
func parseAV1OperatingPoints(r *bitReader, s *AV1SequenceHeader) error {
	bufferDelayBits := 0
	if s.TimingInfoPresent = r.flag(); s.TimingInfoPresent {
		s.NumUnitsInDisplayTick, s.TimeScale = r.u(32), r.u(32)
		if s.EqualPictureInterval = r.flag(); s.EqualPictureInterval {
			s.NumTicksPerPicture = readAV1UVLC(r) + 1
		}
		if s.DecoderModelInfoPresent = r.flag(); s.DecoderModelInfoPresent {
			bufferDelayBits = int(r.u(5)) + 1 // buffer_delay_length_minus_1
			r.skip(32 + 5 + 5)                // num_units_in_decoding_tick, two length fields
		}
	}
	initialDisplayDelay := r.flag()
	s.OperatingPoints = int(r.u(5)) + 1
	for i := range s.OperatingPoints {
		idc, level := uint16(r.u(12)), uint8(r.u(5))
		tier := uint8(0)
		if level > 7 {
			tier = uint8(r.u(1))
		}
		if i == 0 {
			s.OperatingPointIdc, s.Level, s.Tier = idc, level, tier
		}
		if s.DecoderModelInfoPresent && r.flag() { // decoder_model_present_for_this_op
			// decoder_buffer_delay, encoder_buffer_delay, low_delay_mode_flag
			r.skip(2*bufferDelayBits + 1)
		}
		if initialDisplayDelay && r.flag() { // initial_display_delay_present_for_this_op
			r.skip(4)
		}
		if r.err != nil {
			return fmt.Errorf("AV1 operating point %d: %w", i, r.err)
		}
	}
	return nil
}

// readAV1UVLC decodes uvlc() (4.10.3).
func readAV1UVLC(r *bitReader) uint64 {
	zeros := 0
	for r.err == nil && !r.flag() {
		zeros++
	}
	if r.err != nil {
		return 0
	}
	if zeros >= 32 {
		return 1<<32 - 1
	}
	return uint64(r.u(zeros)) + (1 << zeros) - 1
}

// AV1 profiles, bit depths and colour code points that steer
// color_config() parsing.
const (
	av1CPBT709             = 1
	av1TCSRGB              = 13
	av1MCIdentity          = 0
	av1Unspecified         = 2
	av1CSPUnknown          = 0
	av1ProfileProfessional = 2
	av1ProfileHigh         = 1
	av1BitDepth12          = 12
)

// parseAV1ColorConfig reads color_config() (5.5.2).
func parseAV1ColorConfig(r *bitReader, s *AV1SequenceHeader) {
	s.BitDepth = 8
	if r.flag() { // high_bitdepth
		s.BitDepth = 10
		if s.Profile == av1ProfileProfessional && r.flag() { // twelve_bit
			s.BitDepth = av1BitDepth12
		}
	}
	s.Monochrome = s.Profile != av1ProfileHigh && r.flag()
	s.ColorPrimaries, s.TransferCharacteristics, s.MatrixCoefficients = av1Unspecified, av1Unspecified, av1Unspecified
	if r.flag() { // color_description_present_flag
		s.ColorPrimaries, s.TransferCharacteristics, s.MatrixCoefficients = uint8(r.u(8)), uint8(r.u(8)), uint8(r.u(8))
	}
	switch {
	case s.Monochrome:
		s.FullRange = r.flag()
		s.SubsamplingX, s.SubsamplingY = true, true
		s.ChromaSamplePosition = av1CSPUnknown
		return // no separate_uv_delta_q
	case s.ColorPrimaries == av1CPBT709 && s.TransferCharacteristics == av1TCSRGB && s.MatrixCoefficients == av1MCIdentity:
		s.FullRange = true
	default:
		s.FullRange = r.flag()
		switch {
		case s.Profile == 0:
			s.SubsamplingX, s.SubsamplingY = true, true
		case s.Profile == av1ProfileHigh:
		case s.BitDepth == av1BitDepth12:
			if s.SubsamplingX = r.flag(); s.SubsamplingX {
				s.SubsamplingY = r.flag()
			}
		default:
			s.SubsamplingX = true
		}
		if s.SubsamplingX && s.SubsamplingY {
			s.ChromaSamplePosition = uint8(r.u(2))
		}
	}
	r.skip(1) // separate_uv_delta_q
}
