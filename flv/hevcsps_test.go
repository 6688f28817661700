package flv

import (
	"errors"
	"testing"
)

// hevcSPSWriter builds H.265 SPS NAL units bit by bit for tests.
type hevcSPSWriter struct{ spsWriter }

func (w *hevcSPSWriter) flag(b bool) {
	if b {
		w.put(1, 1)
	} else {
		w.put(0, 1)
	}
}

// nal appends the RBSP trailing bits, inserts emulation prevention bytes and
// puts the two-byte SPS NAL unit header in front.
func (w *hevcSPSWriter) nal() []byte {
	return cat(0x42, 0x01, w.finish()[1:])
}

// ptlGeneral writes the general part of profile_tier_level().
func (w *hevcSPSWriter) ptlGeneral(highTier bool, profile uint32, compat uint32, constraints uint64, level uint32) {
	w.put(0, 2) // profile space
	w.flag(highTier)
	w.put(profile, 5)
	w.put(compat, 32)
	w.put(uint32(constraints>>32), 16)
	w.put(uint32(constraints), 32)
	w.put(level, 8)
}

// craftedHEVCSPSRExt is an SPS that exercises most of the syntax: three
// temporal sub-layers (one with sub-layer profile and level, one with level
// only), 4:2:2 10-bit at 1936x1088 cropped by 2+2 chroma columns (8 luma
// pixels) and 4 rows (4 luma rows, 4:2:2 does not subsample vertically) to
// 1928x1084, sub-layer ordering info, explicit and predicted scaling lists
// (with DC coefficients), PCM, three short-term RPS (one explicit, two
// predicted from the previous one, dropping entries with use_delta_flag 0),
// two long-term pictures, and a VUI with extended SAR 4:3, colour
// description, chroma location, a default display window and 60000/1001
// timing. ffmpeg's trace_headers bitstream filter parses it identically, up
// to the RBSP trailing bits.
func craftedHEVCSPSRExt() []byte {
	var w hevcSPSWriter
	w.put(0, 4) // sps_video_parameter_set_id
	w.put(2, 3) // sps_max_sub_layers_minus1
	w.put(1, 1) // sps_temporal_id_nesting_flag
	w.ptlGeneral(true, 4, 0x08000000, 0x9d08_0000_0000, 153)
	w.put(0b11, 2) // sub_layer_profile/level_present_flag[0]
	w.put(0b01, 2) // sub_layer_profile/level_present_flag[1]
	for range 6 {
		w.put(0, 2) // reserved_zero_2bits
	}
	w.ptlGeneral(false, 4, 0x08000000, 0x9d08_0000_0000, 150) // sub-layer 0 profile and level
	w.put(120, 8)                                             // sub_layer_level_idc[1]
	w.ue(1)                                                   // sps_seq_parameter_set_id
	w.ue(2)                                                   // chroma_format_idc: 4:2:2
	w.ue(1936)                                                // pic_width_in_luma_samples
	w.ue(1088)                                                // pic_height_in_luma_samples
	w.flag(true)                                              // conformance_window_flag
	for _, v := range []uint32{2, 2, 0, 4} {
		w.ue(v)
	}
	w.ue(2)      // bit_depth_luma_minus8
	w.ue(2)      // bit_depth_chroma_minus8
	w.ue(4)      // log2_max_pic_order_cnt_lsb_minus4: 8 bits
	w.flag(true) // sps_sub_layer_ordering_info_present_flag
	for _, e := range [][3]uint32{{4, 2, 0}, {4, 2, 0}, {5, 3, 0}} {
		w.ue(e[0])
		w.ue(e[1])
		w.ue(e[2])
	}
	for _, v := range []uint32{0, 3, 0, 3, 1, 1} { // block sizes, transform depths
		w.ue(v)
	}
	w.flag(true) // scaling_list_enabled_flag
	w.flag(true) // sps_scaling_list_data_present_flag
	for sizeID := range 4 {
		step := 1
		if sizeID == 3 {
			step = 3
		}
		for m := 0; m < 6; m += step {
			if (m+sizeID)%2 == 0 {
				w.flag(false) // scaling_list_pred_mode_flag
				w.ue(uint32(min(m, 1)))
				continue
			}
			w.flag(true)
			n := 16
			if sizeID > 0 {
				n = 64
			}
			if sizeID > 1 {
				w.se(8) // scaling_list_dc_coef_minus8
			}
			for j := range n {
				w.se(int32(j%5) - 2)
			}
		}
	}
	w.put(0b11, 2) // amp_enabled_flag, sample_adaptive_offset_enabled_flag
	w.flag(true)   // pcm_enabled_flag
	w.put(7, 4)
	w.put(7, 4)
	w.ue(0)
	w.ue(1)
	w.flag(true) // pcm_loop_filter_disabled_flag
	w.ue(3)      // num_short_term_ref_pic_sets
	// Set 0, explicit: POCs -1, -3 (used) and +1 (not used).
	w.ue(2)
	w.ue(1)
	w.ue(0)
	w.flag(true)
	w.ue(1)
	w.flag(true)
	w.ue(0)
	w.flag(false)
	// Set 1, predicted from set 0 with deltaRps -1: keeps 3 of 4 entries.
	w.flag(true)  // inter_ref_pic_set_prediction_flag
	w.flag(true)  // delta_rps_sign
	w.ue(0)       // abs_delta_rps_minus1
	w.flag(true)  // used_by_curr_pic_flag[0]
	w.flag(false) // used_by_curr_pic_flag[1]
	w.flag(true)  // use_delta_flag[1]
	w.flag(false) // used_by_curr_pic_flag[2]
	w.flag(false) // use_delta_flag[2]
	w.flag(true)  // used_by_curr_pic_flag[3]
	// Set 2, predicted from set 1 (3 entries, so 4 flags) with deltaRps +2.
	w.flag(true)
	w.flag(false)
	w.ue(1)
	w.flag(true)
	w.flag(false)
	w.flag(false)
	w.flag(true)
	w.flag(true)
	w.flag(true) // long_term_ref_pics_present_flag
	w.ue(2)
	w.put(17, 8)
	w.flag(true)
	w.put(200, 8)
	w.flag(false)
	w.put(0b11, 2) // sps_temporal_mvp_enabled_flag, strong_intra_smoothing_enabled_flag
	w.flag(true)   // vui_parameters_present_flag
	w.flag(true)   // aspect_ratio_info_present_flag
	w.put(255, 8)
	w.put(4, 16)
	w.put(3, 16)
	w.flag(true) // overscan_info_present_flag
	w.flag(false)
	w.flag(true) // video_signal_type_present_flag
	w.put(5, 3)
	w.flag(false)
	w.flag(true)
	w.put(9, 8)
	w.put(16, 8)
	w.put(9, 8)
	w.flag(true) // chroma_loc_info_present_flag
	w.ue(1)
	w.ue(1)
	w.put(0, 3)  // neutral_chroma_indication_flag, field_seq_flag, frame_field_info_present_flag
	w.flag(true) // default_display_window_flag
	for _, v := range []uint32{2, 2, 0, 0} {
		w.ue(v)
	}
	w.flag(true) // vui_timing_info_present_flag
	w.put(1001, 32)
	w.put(60000, 32)
	w.put(0, 3) // poc proportional, hrd parameters, bitstream restriction
	w.flag(false)
	return w.nal()
}

// craftedHEVCSPS444Planes is a 4:4:4 12-bit SPS with separate colour planes
// (conformance window in luma units: 1+3 columns, 2+1 rows off 504x304),
// two sub-layers without sub-layer profile or level, no sub-layer ordering
// info, scaling lists enabled but inferred, 16-bit POC LSBs with long-term
// pictures, no short-term RPS, and a VUI with a table SAR and field_seq_flag
// but no timing. ffmpeg's trace_headers parses it identically.
func craftedHEVCSPS444Planes() []byte {
	var w hevcSPSWriter
	w.put(0, 4)
	w.put(1, 3) // sps_max_sub_layers_minus1
	w.put(1, 1)
	w.ptlGeneral(false, 4, 0x08000000, 0x0000_0000_0000, 123)
	w.put(0, 2) // no sub-layer profile or level
	for range 7 {
		w.put(0, 2)
	}
	w.ue(2)      // sps_seq_parameter_set_id
	w.ue(3)      // chroma_format_idc
	w.flag(true) // separate_colour_plane_flag
	w.ue(504)
	w.ue(304)
	w.flag(true)
	for _, v := range []uint32{1, 3, 2, 1} {
		w.ue(v)
	}
	w.ue(4)       // bit_depth_luma_minus8
	w.ue(4)       // bit_depth_chroma_minus8
	w.ue(12)      // log2_max_pic_order_cnt_lsb_minus4: 16 bits
	w.flag(false) // sps_sub_layer_ordering_info_present_flag: one entry
	w.ue(3)
	w.ue(1)
	w.ue(0)
	for _, v := range []uint32{0, 2, 0, 2, 0, 0} {
		w.ue(v)
	}
	w.flag(true)  // scaling_list_enabled_flag
	w.flag(false) // sps_scaling_list_data_present_flag
	w.put(0, 3)   // amp, sao, pcm
	w.ue(0)       // num_short_term_ref_pic_sets
	w.flag(true)  // long_term_ref_pics_present_flag
	w.ue(1)
	w.put(0xbeef, 16)
	w.flag(true)
	w.put(0, 2)
	w.flag(true)  // vui_parameters_present_flag
	w.flag(true)  // aspect_ratio_info_present_flag
	w.put(2, 8)   // 12:11
	w.put(0, 3)   // overscan, video signal type, chroma loc
	w.put(0, 1)   // neutral_chroma_indication_flag
	w.flag(true)  // field_seq_flag
	w.flag(true)  // frame_field_info_present_flag
	w.flag(false) // default_display_window_flag
	w.flag(false) // vui_timing_info_present_flag
	w.flag(false) // bitstream_restriction_flag
	w.flag(false) // sps_extension_present_flag
	return w.nal()
}

func TestParseHEVCSPSCrafted(t *testing.T) {
	cases := []struct {
		name string
		nalu []byte
		want SPSInfo
	}{
		{"RExt 4:2:2 with sub-layers, scaling lists, PCM, RPS prediction, long-term, VUI", craftedHEVCSPSRExt(), SPSInfo{
			Width: 1928, Height: 1084, Profile: 4, Constraints: 0x9d, Level: 153, ID: 1, ChromaFormat: 2,
			BitDepth: 10, BitDepthChroma: 10, SARWidth: 4, SARHeight: 3, FrameRate: 60000.0 / 1001}},
		{"4:4:4 separate planes, field sequence", craftedHEVCSPS444Planes(), SPSInfo{
			Width: 500, Height: 301, Profile: 4, Level: 123, ID: 2, ChromaFormat: 3,
			BitDepth: 12, BitDepthChroma: 12, SARWidth: 12, SARHeight: 11, Interlaced: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseHEVCSPS(c.nalu)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Fatalf("\n got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestParseHEVCSPSErrors(t *testing.T) {
	good := craftedHEVCSPS444Planes()
	build := func(f func(w *hevcSPSWriter)) []byte {
		var w hevcSPSWriter
		w.put(0, 4)
		w.put(0, 3)
		w.put(1, 1)
		w.ptlGeneral(false, 1, 0x60000000, 0, 93)
		f(&w)
		return w.nal()
	}
	// prefix writes a 1280x720 4:2:0 8-bit SPS up to
	// log2_max_pic_order_cnt_lsb_minus4.
	prefix := func(w *hevcSPSWriter) {
		w.ue(0)
		w.ue(1)
		w.ue(1280)
		w.ue(720)
		w.flag(false)
		w.ue(0)
		w.ue(0)
		w.ue(4)
	}
	// coding writes the fields after the POC LSB length up to the RPS count.
	coding := func(w *hevcSPSWriter) {
		w.flag(true)
		w.ue(4)
		w.ue(2)
		w.ue(0)
		for _, v := range []uint32{0, 3, 0, 3, 1, 1} {
			w.ue(v)
		}
		w.put(0, 4) // scaling lists off, amp, sao, pcm
	}
	cases := []struct {
		name string
		nalu []byte
		want error
	}{
		{"short", []byte{0x42, 0x01, 0x01}, ErrInvalidSPS},
		{"H.264 SPS", unhex(t, sps720p), ErrInvalidSPS},
		{"PPS", cat(0x44, 0x01, good[2:]), ErrInvalidSPS},
		{"forbidden zero bit", cat(0xc2, 0x01, good[2:]), ErrInvalidSPS},
		{"layer 1", cat(0x42, 0x09, good[2:]), ErrInvalidSPS},
		{"eight sub-layers", cat(0x42, 0x01, 0x0f, good[3:]), ErrInvalidSPS},
		{"truncated profile_tier_level", good[:10], ErrTruncated},
		{"truncated after size", good[:24], ErrTruncated},
		{"chroma_format_idc 4", build(func(w *hevcSPSWriter) { w.ue(0); w.ue(4); w.ue(64); w.ue(64); w.put(0xff, 8) }), ErrInvalidSPS},
		{"zero width", build(func(w *hevcSPSWriter) {
			w.ue(0)
			w.ue(1)
			w.ue(0)
			w.ue(64)
			w.flag(false)
			w.ue(0)
			w.ue(0)
			w.ue(0)
		}), ErrInvalidSPS},
		{"width above the cap", build(func(w *hevcSPSWriter) {
			w.ue(0)
			w.ue(1)
			w.ue(maxHEVCPictureSize + 8)
			w.ue(64)
			w.flag(false)
			w.ue(0)
			w.ue(0)
			w.ue(0)
		}), ErrInvalidSPS},
		{"crop the whole picture", build(func(w *hevcSPSWriter) {
			w.ue(0)
			w.ue(1)
			w.ue(64)
			w.ue(64)
			w.flag(true)
			w.ue(16)
			w.ue(16)
			w.ue(0)
			w.ue(0)
			w.ue(0)
			w.ue(0)
			w.ue(0)
		}), ErrInvalidSPS},
		{"bit depth 17", build(func(w *hevcSPSWriter) {
			w.ue(0)
			w.ue(1)
			w.ue(64)
			w.ue(64)
			w.flag(false)
			w.ue(9)
			w.ue(0)
			w.ue(0)
		}), ErrInvalidSPS},
		{"POC LSB of 17 bits", build(func(w *hevcSPSWriter) {
			w.ue(0)
			w.ue(1)
			w.ue(64)
			w.ue(64)
			w.flag(false)
			w.ue(0)
			w.ue(0)
			w.ue(13)
		}), ErrInvalidSPS},
		{"65 short-term RPS", build(func(w *hevcSPSWriter) { prefix(w); coding(w); w.ue(65) }), ErrInvalidSPS},
		{"17 negative pictures", build(func(w *hevcSPSWriter) { prefix(w); coding(w); w.ue(1); w.ue(17); w.ue(0) }), ErrInvalidSPS},
		{"33 long-term pictures", build(func(w *hevcSPSWriter) {
			prefix(w)
			coding(w)
			w.ue(0)
			w.flag(true)
			w.ue(33)
		}), ErrInvalidSPS},
		{"RPS cut short", build(func(w *hevcSPSWriter) { prefix(w); coding(w); w.ue(1) }), ErrTruncated},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if s, err := ParseHEVCSPS(c.nalu); !errors.Is(err, c.want) {
				t.Fatalf("got %+v, %v; want %v", s, err, c.want)
			}
		})
	}
}

// TestParseHEVCSPSPredictedRPSGrows pins the NumDeltaPocs bookkeeping of
// predicted short-term RPS: each set predicted from the previous one may
// keep one entry more, and the flag count of the next set follows.
func TestParseHEVCSPSPredictedRPSGrows(t *testing.T) {
	var w hevcSPSWriter
	w.put(0, 4)
	w.put(0, 3)
	w.put(1, 1)
	w.ptlGeneral(false, 1, 0x60000000, 0x9000_0000_0000, 93)
	w.ue(0)
	w.ue(1)
	w.ue(640)
	w.ue(480)
	w.flag(false)
	w.ue(0)
	w.ue(0)
	w.ue(4)
	w.flag(true)
	w.ue(4)
	w.ue(2)
	w.ue(0)
	for _, v := range []uint32{0, 3, 0, 3, 1, 1} {
		w.ue(v)
	}
	w.put(0, 4)
	const sets = 20
	w.ue(sets)
	w.ue(1) // set 0: one negative picture
	w.ue(0)
	w.ue(0)
	w.flag(true)
	for i := 1; i < sets; i++ {
		w.flag(true) // predicted
		w.flag(true)
		w.ue(0)
		for range i + 1 { // NumDeltaPocs[i-1] = i, so i+1 flags, all kept
			w.flag(true)
		}
	}
	w.flag(false) // long_term_ref_pics_present_flag
	w.put(0, 2)
	w.flag(true) // VUI with only timing
	w.put(0, 8)
	w.flag(true)
	w.put(1, 32)
	w.put(50, 32)
	s, err := ParseHEVCSPS(w.nal())
	if err != nil || s.Width != 640 || s.Height != 480 || s.FrameRate != 50 {
		t.Fatalf("got %+v, %v", s, err)
	}
}
