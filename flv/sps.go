package flv

import "fmt"

// SPSInfo is what ParseSPS extracts from an H.264 sequence parameter set.
type SPSInfo struct {
	// Width and Height are the displayed size in pixels, cropping applied.
	Width, Height int
	Profile       uint8 // profile_idc
	Constraints   uint8 // constraint_set flags byte
	Level         uint8 // level_idc
	ID            uint32
	// ChromaFormat is chroma_format_idc: 0 monochrome, 1 4:2:0, 2 4:2:2,
	// 3 4:4:4.
	ChromaFormat int
	// BitDepth is the luma bit depth; BitDepthChroma the chroma one.
	BitDepth, BitDepthChroma int
	// Interlaced is set when frame_mbs_only_flag is 0 (field coding allowed).
	Interlaced bool
	// SARWidth and SARHeight are the sample aspect ratio (0 when not
	// signalled).
	SARWidth, SARHeight int
	// FrameRate is time_scale / (2 × num_units_in_tick) from the VUI timing
	// info, 0 when not signalled.
	FrameRate float64
}

// Limits applied by ParseSPS.
const (
	// MaxSPSSize caps the SPS NAL unit size ParseSPS accepts.
	MaxSPSSize = 1 << 16
	// maxMacroblocks caps the picture width and height in macroblocks
	// (65536 pixels).
	maxMacroblocks = 4096
	// maxPOCCycle is the largest num_ref_frames_in_pic_order_cnt_cycle.
	maxPOCCycle = 255
)

// sarTable is Table E-1: aspect_ratio_idc 1..16.
var sarTable = [17][2]uint8{
	{0, 0}, {1, 1}, {12, 11}, {10, 11}, {16, 11}, {40, 33}, {24, 11}, {20, 11}, {32, 11},
	{80, 33}, {18, 11}, {15, 11}, {64, 33}, {160, 99}, {4, 3}, {3, 2}, {2, 1},
}

// spsHighProfile reports whether the SPS of this profile carries the
// chroma_format_idc / bit depth / scaling matrix fields.
func spsHighProfile(p uint8) bool {
	switch p {
	case 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135:
		return true
	}
	return false
}

// ParseSPS decodes an H.264 sequence parameter set NAL unit (starting with
// its NAL header byte, type 7) as found in avcC or an Annex-B stream.
func ParseSPS(nalu []byte) (SPSInfo, error) {
	if len(nalu) < 4 {
		return SPSInfo{}, fmt.Errorf("SPS of %d bytes: %w", len(nalu), ErrInvalidSPS)
	}
	if len(nalu) > MaxSPSSize {
		return SPSInfo{}, fmt.Errorf("SPS of %d bytes: %w", len(nalu), ErrInvalidSPS)
	}
	if nalu[0]&0x1f != 7 {
		return SPSInfo{}, fmt.Errorf("NAL type %d is not an SPS: %w", nalu[0]&0x1f, ErrInvalidSPS)
	}
	var buf [256]byte
	r := bitReader{b: unescapeRBSP(buf[:0], nalu[1:])}
	s := SPSInfo{ChromaFormat: 1, BitDepth: 8, BitDepthChroma: 8}
	s.Profile = uint8(r.u(8))
	s.Constraints = uint8(r.u(8))
	s.Level = uint8(r.u(8))
	s.ID = r.ue()
	separateColourPlane := false
	if spsHighProfile(s.Profile) {
		s.ChromaFormat = int(r.ue())
		if s.ChromaFormat > 3 {
			return SPSInfo{}, fmt.Errorf("chroma_format_idc %d: %w", s.ChromaFormat, ErrInvalidSPS)
		}
		if s.ChromaFormat == 3 {
			separateColourPlane = r.flag()
		}
		luma, chroma := r.ue(), r.ue()
		if luma > 6 || chroma > 6 {
			return SPSInfo{}, fmt.Errorf("bit depth %d/%d: %w", luma+8, chroma+8, ErrInvalidSPS)
		}
		s.BitDepth, s.BitDepthChroma = int(luma)+8, int(chroma)+8
		r.skip(1)     // qpprime_y_zero_transform_bypass_flag
		if r.flag() { // seq_scaling_matrix_present_flag
			lists := 8
			if s.ChromaFormat == 3 {
				lists = 12
			}
			for i := range lists {
				if r.flag() {
					size := 16
					if i >= 6 {
						size = 64
					}
					skipScalingList(&r, size)
				}
			}
		}
	}
	r.ue() // log2_max_frame_num_minus4
	switch pocType := r.ue(); pocType {
	case 0:
		r.ue() // log2_max_pic_order_cnt_lsb_minus4
	case 1:
		r.skip(1) // delta_pic_order_always_zero_flag
		r.se()    // offset_for_non_ref_pic
		r.se()    // offset_for_top_to_bottom_field
		n := r.ue()
		if n > maxPOCCycle {
			return SPSInfo{}, fmt.Errorf("poc cycle of %d: %w", n, ErrInvalidSPS)
		}
		for range n {
			r.se()
		}
	case 2:
	default:
		return SPSInfo{}, fmt.Errorf("pic_order_cnt_type %d: %w", pocType, ErrInvalidSPS)
	}
	r.ue()    // max_num_ref_frames
	r.skip(1) // gaps_in_frame_num_value_allowed_flag
	widthMBs, heightMapUnits := r.ue()+1, r.ue()+1
	frameMBsOnly := r.flag()
	if !frameMBsOnly {
		r.skip(1) // mb_adaptive_frame_field_flag
	}
	r.skip(1) // direct_8x8_inference_flag
	var cropLeft, cropRight, cropTop, cropBottom uint32
	if r.flag() {
		cropLeft, cropRight, cropTop, cropBottom = r.ue(), r.ue(), r.ue(), r.ue()
	}
	if r.err != nil {
		return SPSInfo{}, fmt.Errorf("SPS: %w", r.err)
	}
	if widthMBs > maxMacroblocks || heightMapUnits > maxMacroblocks {
		return SPSInfo{}, fmt.Errorf("SPS size %dx%d macroblocks: %w", widthMBs, heightMapUnits, ErrInvalidSPS)
	}
	s.Interlaced = !frameMBsOnly
	fieldFactor := 1
	if s.Interlaced {
		fieldFactor = 2
	}
	subWidth, subHeight := chromaSubsampling(s.ChromaFormat, separateColourPlane)
	cropUnitX, cropUnitY := subWidth, subHeight*fieldFactor
	width := int64(widthMBs) * 16
	height := int64(heightMapUnits) * 16 * int64(fieldFactor)
	width -= int64(cropUnitX) * (int64(cropLeft) + int64(cropRight))
	height -= int64(cropUnitY) * (int64(cropTop) + int64(cropBottom))
	if width <= 0 || height <= 0 {
		return SPSInfo{}, fmt.Errorf("SPS cropping leaves %dx%d: %w", width, height, ErrInvalidSPS)
	}
	s.Width, s.Height = int(width), int(height)
	if r.flag() { // vui_parameters_present_flag
		parseVUI(&r, &s)
	}
	// A VUI cut short leaves what was read; the picture size is already
	// known, and many encoders truncate trailing VUI fields.
	return s, nil
}

// skipScalingList consumes a scaling_list() of the given size (7.3.2.1.1.1).
func skipScalingList(r *bitReader, size int) {
	last, next := int32(8), int32(8)
	for range size {
		if next != 0 {
			delta := r.se()
			if r.err != nil {
				return
			}
			next = ((last+delta)%256 + 256) % 256
		}
		if next != 0 {
			last = next
		}
	}
}

// chromaSubsampling returns SubWidthC and SubHeightC (Table 6-1 of both
// H.264 and H.265): the luma samples per chroma sample across and down, 1 and
// 1 for monochrome, 4:4:4 and separately coded colour planes. Cropping and
// conformance window offsets count in these units.
func chromaSubsampling(chromaFormat int, separateColourPlane bool) (subWidth, subHeight int) {
	if separateColourPlane {
		return 1, 1
	}
	switch chromaFormat {
	case 1: // 4:2:0
		return 2, 2
	case 2: // 4:2:2
		return 2, 1
	}
	return 1, 1
}

// parseVUIHead reads the fields H.264 (E.1.1) and H.265 (E.2.1)
// vui_parameters() share ahead of where they part: the aspect ratio
// (recorded in s), overscan, video signal type and chroma location.
func parseVUIHead(r *bitReader, s *SPSInfo) {
	if r.flag() { // aspect_ratio_info_present_flag
		idc := r.u(8)
		switch {
		case idc == 255: // Extended_SAR
			w, h := r.u(16), r.u(16)
			if r.err == nil {
				s.SARWidth, s.SARHeight = int(w), int(h)
			}
		case idc > 0 && idc < uint32(len(sarTable)) && r.err == nil:
			s.SARWidth, s.SARHeight = int(sarTable[idc][0]), int(sarTable[idc][1])
		}
	}
	if r.flag() { // overscan_info_present_flag
		r.skip(1)
	}
	if r.flag() { // video_signal_type_present_flag
		r.skip(4)     // video_format, video_full_range_flag
		if r.flag() { // colour_description_present_flag
			r.skip(24) // colour_primaries, transfer_characteristics, matrix_coefficients
		}
	}
	if r.flag() { // chroma_loc_info_present_flag
		r.ue()
		r.ue()
	}
}

// parseVUI reads the VUI up to the timing info (E.1.1).
func parseVUI(r *bitReader, s *SPSInfo) {
	parseVUIHead(r, s)
	if r.flag() { // timing_info_present_flag
		units, scale := r.u(32), r.u(32)
		if r.err == nil && units > 0 && scale > 0 {
			s.FrameRate = float64(scale) / (2 * float64(units))
		}
	}
}
