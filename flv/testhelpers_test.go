package flv

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/mediaserver/mediaserver/internal/testenv"
)

// unhex decodes a hex fixture that may contain spaces and newlines.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	return testenv.Hex(t, s)
}

// cat concatenates byte slices, strings (taken as raw bytes) and single
// bytes.
func cat(parts ...any) []byte { return testenv.Cat(parts...) }

// spsWriter builds SPS NAL units bit by bit for tests.
type spsWriter struct{ bitWriter }

func (w *spsWriter) ue(v uint32) {
	x := uint64(v) + 1
	n := 0
	for t := x; t > 1; t >>= 1 {
		n++
	}
	w.put(0, n)
	for i := n; i >= 0; i-- {
		w.put(uint32(x>>i&1), 1)
	}
}

func (w *spsWriter) se(v int32) {
	if v > 0 {
		w.ue(uint32(2*v - 1))
	} else {
		w.ue(uint32(-2 * v))
	}
}

// finish appends rbsp trailing bits and inserts emulation prevention bytes.
func (w *spsWriter) finish() []byte {
	w.put(1, 1)
	for w.nbits != 0 {
		w.put(0, 1)
	}
	out := []byte{0x67}
	zeros := 0
	for _, c := range w.b {
		if zeros >= 2 && c <= 3 {
			out = append(out, 3)
			zeros = 0
		}
		out = append(out, c)
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
	}
	return out
}

// craftedSPSScalingPOC1 is a High profile 1920x1080 SPS with explicit
// scaling lists (4x4 and 8x8, one "use default"), pic_order_cnt_type 1,
// cropping, an extended SAR and 30000/1001 timing.
func craftedSPSScalingPOC1() []byte {
	var w spsWriter
	w.put(100, 8) // profile_idc
	w.put(0, 8)   // constraint flags
	w.put(40, 8)  // level_idc
	w.ue(0)       // seq_parameter_set_id
	w.ue(1)       // chroma_format_idc
	w.ue(0)       // bit_depth_luma_minus8
	w.ue(0)       // bit_depth_chroma_minus8
	w.put(0, 1)   // qpprime_y_zero_transform_bypass_flag
	w.put(1, 1)   // seq_scaling_matrix_present_flag
	for i := range 8 {
		switch i {
		case 0: // explicit 4x4 list
			w.put(1, 1)
			for j := range 16 {
				w.se(int32(j%5) - 2)
			}
		case 2: // "use default": first delta makes nextScale 0
			w.put(1, 1)
			w.se(-8)
		case 6, 7: // explicit 8x8 lists, ending in a repeated run
			w.put(1, 1)
			last := int32(8)
			for j := range 40 {
				d := int32(j%7) - 3
				w.se(d)
				last = ((last+d)%256 + 256) % 256
			}
			w.se(-last) // nextScale 0: the remaining entries repeat the last one
		default:
			w.put(0, 1)
		}
	}
	w.ue(0) // log2_max_frame_num_minus4
	w.ue(1) // pic_order_cnt_type
	w.put(0, 1)
	w.se(-2) // offset_for_non_ref_pic
	w.se(0)  // offset_for_top_to_bottom_field
	w.ue(3)  // num_ref_frames_in_pic_order_cnt_cycle
	w.se(1)
	w.se(-1)
	w.se(2)
	w.ue(4)     // max_num_ref_frames
	w.put(0, 1) // gaps_in_frame_num_value_allowed_flag
	w.ue(119)   // pic_width_in_mbs_minus1
	w.ue(67)    // pic_height_in_map_units_minus1
	w.put(1, 1) // frame_mbs_only_flag
	w.put(1, 1) // direct_8x8_inference_flag
	w.put(1, 1) // frame_cropping_flag
	w.ue(0)
	w.ue(0)
	w.ue(0)
	w.ue(4)
	w.put(1, 1)   // vui_parameters_present_flag
	w.put(1, 1)   // aspect_ratio_info_present_flag
	w.put(255, 8) // Extended_SAR
	w.put(4, 16)
	w.put(3, 16)
	w.put(0, 1) // overscan_info_present_flag
	w.put(1, 1) // video_signal_type_present_flag
	w.put(5, 3)
	w.put(0, 1)
	w.put(1, 1) // colour_description_present_flag
	w.put(1, 8)
	w.put(1, 8)
	w.put(1, 8)
	w.put(1, 1) // chroma_loc_info_present_flag
	w.ue(0)
	w.ue(0)
	w.put(1, 1) // timing_info_present_flag
	w.put(1001, 32)
	w.put(60000, 32)
	w.put(1, 1) // fixed_frame_rate_flag
	w.put(0, 1) // nal_hrd_parameters_present_flag
	w.put(0, 1) // vcl_hrd_parameters_present_flag
	w.put(0, 1) // pic_struct_present_flag
	w.put(0, 1) // bitstream_restriction_flag
	return w.finish()
}

// craftedSPS444 is a High 4:4:4 SPS, 10-bit, optionally with separate
// colour planes, all twelve scaling lists, field coding and no VUI: 320x480
// coded, cropped by 1 column each side and 2 rows (one field row) top and
// bottom to 318x476 (the crop units are 1 and 2 with or without separate
// planes).
func craftedSPS444(separate bool) []byte {
	var w spsWriter
	w.put(244, 8)
	w.put(0, 8)
	w.put(30, 8)
	w.ue(1) // seq_parameter_set_id
	w.ue(3) // chroma_format_idc
	if separate {
		w.put(1, 1) // separate_colour_plane_flag
	} else {
		w.put(0, 1)
	}
	w.ue(2) // bit_depth_luma_minus8
	w.ue(2) // bit_depth_chroma_minus8
	w.put(0, 1)
	w.put(1, 1) // seq_scaling_matrix_present_flag
	for i := range 12 {
		w.put(1, 1)
		n := 16
		if i >= 6 {
			n = 64
		}
		for j := range n {
			w.se(int32((i+j)%3) - 1)
		}
	}
	w.ue(2) // log2_max_frame_num_minus4
	w.ue(2) // pic_order_cnt_type
	w.ue(1) // max_num_ref_frames
	w.put(0, 1)
	w.ue(19)    // pic_width_in_mbs_minus1: 320
	w.ue(14)    // pic_height_in_map_units_minus1: 15 field MB rows = 480
	w.put(0, 1) // frame_mbs_only_flag
	w.put(1, 1) // mb_adaptive_frame_field_flag
	w.put(1, 1) // direct_8x8_inference_flag
	w.put(1, 1) // frame_cropping_flag
	w.ue(1)
	w.ue(1)
	w.ue(1)
	w.ue(1)
	w.put(0, 1) // vui_parameters_present_flag
	return w.finish()
}

// record is what every codec configuration record type offers.
type record interface {
	Validate() error
	Append(dst []byte) []byte
}

// checkRecord parses wire and checks that it gives want, that want
// validates, and that want appends (after a byte already in dst) back to
// exactly wire: the case table runs in both directions.
func checkRecord[R record](t *testing.T, wire []byte, want R, parse func([]byte) (R, error)) {
	t.Helper()
	got, err := parse(wire)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parse:\n got %+v\nwant %+v", got, want)
	}
	if err := want.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	if enc := want.Append([]byte{0xee}); enc[0] != 0xee || !bytes.Equal(enc[1:], wire) {
		t.Fatalf("append:\n got %x\nwant ee%x", enc, wire)
	}
}
