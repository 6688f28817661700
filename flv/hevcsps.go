package flv

import "fmt"

// Limits applied by ParseHEVCSPS.
const (
	// maxHEVCPictureSize caps pic_width/height_in_luma_samples (the same
	// 65536 pixels ParseSPS allows for H.264).
	maxHEVCPictureSize = 1 << 16
	// maxHEVCSubLayers is the number of temporal sub-layers
	// (sps_max_sub_layers_minus1 ≤ 6).
	maxHEVCSubLayers = 7
	// maxHEVCShortTermRPS is the largest num_short_term_ref_pic_sets.
	maxHEVCShortTermRPS = 64
	// maxHEVCLongTermRefs is the largest num_long_term_ref_pics_sps.
	maxHEVCLongTermRefs = 32
	// maxHEVCRPSPics caps num_negative_pics and num_positive_pics of an
	// explicit short-term RPS (the DPB holds at most 16 pictures).
	maxHEVCRPSPics = 16
	// maxHEVCDeltaPocs caps the pictures of a predicted short-term RPS.
	maxHEVCDeltaPocs = 32
	// maxHEVCPOCLSBBits is the largest log2_max_pic_order_cnt_lsb.
	maxHEVCPOCLSBBits = 16
)

// hevcProfileTierLevel is the general part of profile_tier_level().
type hevcProfileTierLevel struct {
	profileSpace uint8
	highTier     bool
	profile      uint8
	compat       uint32
	constraints  uint64 // 48 bits
	level        uint8
}

// ParseHEVCSPS decodes an H.265 sequence parameter set NAL unit (starting
// with its two-byte NAL unit header, type 33) as found in hvcC or an Annex-B
// stream. It reads up to the VUI timing information.
//
// SPSInfo is shared with ParseSPS: Profile and Level are general_profile_idc
// and general_level_idc (30 × the level number), Constraints is the first
// byte of the general constraint flags, Interlaced is the VUI field_seq_flag
// (every picture is one field; Height is then the field height), and
// FrameRate is vui_time_scale / vui_num_units_in_tick.
func ParseHEVCSPS(nalu []byte) (SPSInfo, error) {
	if len(nalu) < 4 || len(nalu) > MaxSPSSize {
		return SPSInfo{}, fmt.Errorf("H.265 SPS of %d bytes: %w", len(nalu), ErrInvalidSPS)
	}
	if nalu[0]&0x80 != 0 || HEVCNALUType(nalu) != HEVCNALSPS {
		return SPSInfo{}, fmt.Errorf("NAL header %#x is not an H.265 SPS: %w", nalu[:2], ErrInvalidSPS)
	}
	if layer := (nalu[0]&1)<<5 | nalu[1]>>3; layer != 0 {
		return SPSInfo{}, fmt.Errorf("H.265 SPS of layer %d (multi-layer extension): %w", layer, ErrInvalidSPS)
	}
	var buf [256]byte
	r := bitReader{b: unescapeRBSP(buf[:0], nalu[2:])}
	r.skip(4) // sps_video_parameter_set_id
	maxSubLayersMinus1 := int(r.u(3))
	r.skip(1) // sps_temporal_id_nesting_flag
	if maxSubLayersMinus1 >= maxHEVCSubLayers {
		return SPSInfo{}, fmt.Errorf("H.265 SPS with %d sub-layers: %w", maxSubLayersMinus1+1, ErrInvalidSPS)
	}
	ptl := parseHEVCProfileTierLevel(&r, maxSubLayersMinus1)
	s := SPSInfo{
		Profile:     ptl.profile,
		Constraints: uint8(ptl.constraints >> 40),
		Level:       ptl.level,
		ID:          r.ue(),
	}
	s.ChromaFormat = int(r.ue())
	if s.ChromaFormat > 3 {
		return SPSInfo{}, fmt.Errorf("H.265 chroma_format_idc %d: %w", s.ChromaFormat, ErrInvalidSPS)
	}
	separateColourPlane := s.ChromaFormat == 3 && r.flag()
	width, height := r.ue(), r.ue()
	var cropLeft, cropRight, cropTop, cropBottom uint32
	if r.flag() { // conformance_window_flag
		cropLeft, cropRight, cropTop, cropBottom = r.ue(), r.ue(), r.ue(), r.ue()
	}
	luma, chroma := r.ue(), r.ue()
	pocLSBBits := r.ue() + 4
	if r.err != nil {
		return SPSInfo{}, fmt.Errorf("H.265 SPS: %w", r.err)
	}
	if luma > 8 || chroma > 8 {
		return SPSInfo{}, fmt.Errorf("H.265 bit depth %d/%d: %w", luma+8, chroma+8, ErrInvalidSPS)
	}
	s.BitDepth, s.BitDepthChroma = int(luma)+8, int(chroma)+8
	if width == 0 || height == 0 || width > maxHEVCPictureSize || height > maxHEVCPictureSize {
		return SPSInfo{}, fmt.Errorf("H.265 picture %dx%d: %w", width, height, ErrInvalidSPS)
	}
	if pocLSBBits > maxHEVCPOCLSBBits {
		return SPSInfo{}, fmt.Errorf("H.265 log2_max_pic_order_cnt_lsb %d: %w", pocLSBBits, ErrInvalidSPS)
	}
	// Conformance window offsets count chroma samples (Table 6-1).
	subWidth, subHeight := chromaSubsampling(s.ChromaFormat, separateColourPlane)
	w := int64(width) - int64(subWidth)*(int64(cropLeft)+int64(cropRight))
	h := int64(height) - int64(subHeight)*(int64(cropTop)+int64(cropBottom))
	if w <= 0 || h <= 0 {
		return SPSInfo{}, fmt.Errorf("H.265 conformance window leaves %dx%d: %w", w, h, ErrInvalidSPS)
	}
	s.Width, s.Height = int(w), int(h)
	if err := skipHEVCSPSCoding(&r, maxSubLayersMinus1, int(pocLSBBits)); err != nil {
		return SPSInfo{}, err
	}
	if r.err != nil {
		return SPSInfo{}, fmt.Errorf("H.265 SPS: %w", r.err)
	}
	if r.flag() { // vui_parameters_present_flag
		parseHEVCVUI(&r, &s)
	}
	// A VUI cut short leaves what was read, as for H.264.
	return s, nil
}

// parseHEVCProfileTierLevel reads profile_tier_level(1, maxSubLayersMinus1)
// (7.3.3) and returns its general part; the sub-layer parts are skipped.
func parseHEVCProfileTierLevel(r *bitReader, maxSubLayersMinus1 int) hevcProfileTierLevel {
	var p hevcProfileTierLevel
	p.profileSpace = uint8(r.u(2))
	p.highTier = r.flag()
	p.profile = uint8(r.u(5))
	p.compat = r.u(32)
	p.constraints = uint64(r.u(16))<<32 | uint64(r.u(32))
	p.level = uint8(r.u(8))
	var profilePresent, levelPresent [maxHEVCSubLayers]bool
	for i := range maxSubLayersMinus1 {
		profilePresent[i] = r.flag()
		levelPresent[i] = r.flag()
	}
	if maxSubLayersMinus1 > 0 {
		r.skip(2 * (8 - maxSubLayersMinus1)) // reserved_zero_2bits
	}
	for i := range maxSubLayersMinus1 {
		if profilePresent[i] {
			r.skip(88) // sub_layer profile space … inbld/reserved flag
		}
		if levelPresent[i] {
			r.skip(8) // sub_layer_level_idc
		}
	}
	return p
}

// skipHEVCSPSCoding consumes the SPS from sps_sub_layer_ordering_info_present_flag
// to just before vui_parameters_present_flag (7.3.2.2.1).
func skipHEVCSPSCoding(r *bitReader, maxSubLayersMinus1, pocLSBBits int) error {
	first := maxSubLayersMinus1
	if r.flag() { // sps_sub_layer_ordering_info_present_flag
		first = 0
	}
	for i := first; i <= maxSubLayersMinus1; i++ {
		r.ue() // sps_max_dec_pic_buffering_minus1
		r.ue() // sps_max_num_reorder_pics
		r.ue() // sps_max_latency_increase_plus1
	}
	for range 6 {
		// log2_min_luma_coding_block_size_minus3 … max_transform_hierarchy_depth_intra
		r.ue()
	}
	if scalingListEnabled := r.flag(); scalingListEnabled {
		if scalingListDataPresent := r.flag(); scalingListDataPresent {
			skipHEVCScalingListData(r)
		}
	}
	r.skip(2)     // amp_enabled_flag, sample_adaptive_offset_enabled_flag
	if r.flag() { // pcm_enabled_flag
		r.skip(8) // pcm_sample_bit_depth_luma/chroma_minus1
		r.ue()    // log2_min_pcm_luma_coding_block_size_minus3
		r.ue()    // log2_diff_max_min_pcm_luma_coding_block_size
		r.skip(1) // pcm_loop_filter_disabled_flag
	}
	numSets := r.ue()
	if r.err != nil {
		return fmt.Errorf("H.265 SPS: %w", r.err)
	}
	if numSets > maxHEVCShortTermRPS {
		return fmt.Errorf("H.265 SPS with %d short-term RPS: %w", numSets, ErrInvalidSPS)
	}
	var numDeltaPocs [maxHEVCShortTermRPS]int
	for i := range int(numSets) {
		if err := skipHEVCShortTermRPS(r, i, numDeltaPocs[:]); err != nil {
			return err
		}
	}
	if r.flag() { // long_term_ref_pics_present_flag
		n := r.ue()
		if r.err == nil && n > maxHEVCLongTermRefs {
			return fmt.Errorf("H.265 SPS with %d long-term pictures: %w", n, ErrInvalidSPS)
		}
		for range n {
			r.skip(pocLSBBits + 1) // lt_ref_pic_poc_lsb_sps, used_by_curr_pic_lt_sps_flag
		}
	}
	r.skip(2) // sps_temporal_mvp_enabled_flag, strong_intra_smoothing_enabled_flag
	return nil
}

// skipHEVCScalingListData consumes scaling_list_data() (7.3.4).
func skipHEVCScalingListData(r *bitReader) {
	for sizeID := range 4 {
		step := 1
		if sizeID == 3 {
			step = 3
		}
		for matrixID := 0; matrixID < 6; matrixID += step {
			if !r.flag() { // scaling_list_pred_mode_flag
				r.ue() // scaling_list_pred_matrix_id_delta
				continue
			}
			coefs := min(64, 1<<(4+(sizeID<<1)))
			if sizeID > 1 {
				r.se() // scaling_list_dc_coef_minus8
			}
			for range coefs {
				r.se() // scaling_list_delta_coef
			}
			if r.err != nil {
				return
			}
		}
	}
}

// skipHEVCShortTermRPS consumes st_ref_pic_set(idx) of an SPS (7.3.7) and
// records its NumDeltaPocs, which a later predicted set needs. Like common
// decoders it counts every entry a predicted set keeps.
func skipHEVCShortTermRPS(r *bitReader, idx int, numDeltaPocs []int) error {
	if idx != 0 && r.flag() { // inter_ref_pic_set_prediction_flag
		r.skip(1) // delta_rps_sign
		r.ue()    // abs_delta_rps_minus1
		n := 0
		for range numDeltaPocs[idx-1] + 1 {
			used := r.flag()
			if used || r.flag() { // use_delta_flag when not used_by_curr_pic_flag
				n++
			}
		}
		if n > maxHEVCDeltaPocs {
			return fmt.Errorf("H.265 short-term RPS %d with %d pictures: %w", idx, n, ErrInvalidSPS)
		}
		numDeltaPocs[idx] = n
		return nil
	}
	negative, positive := r.ue(), r.ue()
	if r.err != nil {
		return fmt.Errorf("H.265 short-term RPS %d: %w", idx, r.err)
	}
	if negative > maxHEVCRPSPics || positive > maxHEVCRPSPics {
		return fmt.Errorf("H.265 short-term RPS %d with %d+%d pictures: %w", idx, negative, positive, ErrInvalidSPS)
	}
	for range negative + positive {
		r.ue()    // delta_poc_s0/s1_minus1
		r.skip(1) // used_by_curr_pic_s0/s1_flag
	}
	numDeltaPocs[idx] = int(negative + positive)
	return nil
}

// parseHEVCVUI reads vui_parameters() (E.2.1) up to the timing information.
func parseHEVCVUI(r *bitReader, s *SPSInfo) {
	parseVUIHead(r, s)
	r.skip(1) // neutral_chroma_indication_flag
	fieldSeq := r.flag()
	r.skip(1)     // frame_field_info_present_flag
	if r.flag() { // default_display_window_flag
		for range 4 {
			r.ue()
		}
	}
	if r.err != nil {
		return
	}
	s.Interlaced = fieldSeq
	if r.flag() { // vui_timing_info_present_flag
		units, scale := r.u(32), r.u(32)
		if r.err == nil && units > 0 && scale > 0 {
			s.FrameRate = float64(scale) / float64(units)
		}
	}
}
