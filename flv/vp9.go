package flv

import "fmt"

// VPCodecConfig is a VPCodecConfigurationRecord (VP Codec ISO Media File
// Format Binding, vpcC version 1), the body of a vp09 (or vp08)
// SequenceStart packet. CodecInitializationData aliases the parsed data.
//
// Enhanced RTMP carries the bare record (ffmpeg writes it so); the vpcC box
// content of an MP4 file also has the FullBox version (1) and flags (0) in
// front. ParseVPCodecConfig accepts both and HasFullBoxHeader remembers
// which, so Append writes the same form back.
type VPCodecConfig struct {
	// HasFullBoxHeader is set when the record was preceded by the vpcC
	// FullBox version 1 and flags 0.
	HasFullBoxHeader bool
	// Profile is the VP9 profile (0..3).
	Profile uint8
	// Level is the VP9 level × 10 (31 is level 3.1; 0 when unknown).
	Level uint8
	// BitDepth is 8, 10 or 12.
	BitDepth uint8
	// ChromaSubsampling is 0 4:2:0 vertical, 1 4:2:0 colocated with luma,
	// 2 4:2:2, 3 4:4:4.
	ChromaSubsampling uint8
	// VideoFullRange is videoFullRangeFlag.
	VideoFullRange bool
	// ColourPrimaries, TransferCharacteristics and MatrixCoefficients are
	// ISO/IEC 23091-4 code points.
	ColourPrimaries, TransferCharacteristics, MatrixCoefficients uint8
	// CodecInitializationData is empty for VP8 and VP9.
	CodecInitializationData []byte
}

// Sizes of the vpcC structure.
const (
	vpcRecordSize  = 8 // profile … matrixCoefficients and the data size
	vpcFullBoxSize = 4 // version and flags
)

// VP9 chroma subsampling values of VPCodecConfig.
const (
	VPChroma420Vertical    uint8 = 0
	VPChroma420Colocated   uint8 = 1
	VPChroma422            uint8 = 2
	VPChroma444            uint8 = 3
	maxVPChromaSubsampling       = 7 // 3-bit field
)

// ParseVPCodecConfig decodes a VPCodecConfigurationRecord, with or without
// the vpcC FullBox header (version 1, flags 0). A bare record never starts
// with three zero bytes after its first (its bit depth is not zero), which
// tells the forms apart.
func ParseVPCodecConfig(data []byte) (VPCodecConfig, error) {
	var c VPCodecConfig
	if len(data) >= vpcFullBoxSize && data[1] == 0 && data[2] == 0 && data[3] == 0 {
		if data[0] != 1 {
			return VPCodecConfig{}, fmt.Errorf("vpcC version %d: %w", data[0], ErrInvalidConfig)
		}
		c.HasFullBoxHeader = true
		data = data[vpcFullBoxSize:]
	}
	if len(data) < vpcRecordSize {
		return VPCodecConfig{}, fmt.Errorf("vpcC record of %d bytes: %w", len(data), ErrTruncated)
	}
	c.Profile = data[0]
	c.Level = data[1]
	c.BitDepth = data[2] >> 4
	c.ChromaSubsampling = data[2] >> 1 & 0x07
	c.VideoFullRange = data[2]&1 != 0
	c.ColourPrimaries, c.TransferCharacteristics, c.MatrixCoefficients = data[3], data[4], data[5]
	n := int(be16(data[6:]))
	if n > len(data)-vpcRecordSize {
		return VPCodecConfig{}, fmt.Errorf("vpcC initialization data of %d bytes with %d left: %w", n, len(data)-vpcRecordSize, ErrTruncated)
	}
	if c.BitDepth == 0 {
		return VPCodecConfig{}, fmt.Errorf("vpcC bit depth 0: %w", ErrInvalidConfig)
	}
	if n > 0 {
		c.CodecInitializationData = data[vpcRecordSize : vpcRecordSize+n : vpcRecordSize+n]
	}
	return c, nil
}

// Validate reports whether Append can encode c faithfully.
func (c VPCodecConfig) Validate() error {
	if c.BitDepth == 0 || c.BitDepth > 15 || c.ChromaSubsampling > maxVPChromaSubsampling ||
		len(c.CodecInitializationData) > 1<<16-1 {
		return fmt.Errorf("vpcC bit depth %d, chroma %d, %d bytes of initialization data: %w",
			c.BitDepth, c.ChromaSubsampling, len(c.CodecInitializationData), ErrInvalidConfig)
	}
	return nil
}

// Append appends the encoded record (behind the FullBox header when
// HasFullBoxHeader). Out-of-range fields are masked; initialization data
// longer than 65535 bytes is left out.
func (c VPCodecConfig) Append(dst []byte) []byte {
	if c.HasFullBoxHeader {
		dst = append(dst, 1, 0, 0, 0)
	}
	full := byte(0)
	if c.VideoFullRange {
		full = 1
	}
	init := c.CodecInitializationData
	if len(init) > 1<<16-1 {
		init = nil
	}
	dst = append(dst, c.Profile, c.Level, c.BitDepth<<4|(c.ChromaSubsampling&0x07)<<1|full,
		c.ColourPrimaries, c.TransferCharacteristics, c.MatrixCoefficients, byte(len(init)>>8), byte(len(init)))
	return append(dst, init...)
}

// ChromaFormat returns 1 4:2:0, 2 4:2:2 or 3 4:4:4 (0 for an unknown
// value).
func (c VPCodecConfig) ChromaFormat() int {
	switch c.ChromaSubsampling {
	case VPChroma420Vertical, VPChroma420Colocated:
		return 1
	case VPChroma422:
		return 2
	case VPChroma444:
		return 3
	}
	return 0
}

// CodecString returns the short RFC 6381 codec string "vp09.PP.LL.DD"
// (profile, level, bit depth, two digits each).
func (c VPCodecConfig) CodecString() string {
	b := []byte("vp09.00.00.00")
	for i, v := range [3]uint8{c.Profile, c.Level, c.BitDepth} {
		b[5+3*i] = '0' + v/10%10
		b[6+3*i] = '0' + v%10
	}
	return string(b)
}

// VP9 uncompressed header constants (VP9 bitstream specification 6.2).
const (
	vp9FrameMarker   = 2
	vp9SyncCode      = 0x498342
	vp9ColorSpaceRGB = 7
)

// ParseVP9FrameSize reads the frame size from the uncompressed header of a
// VP9 key frame (the start of a frame or superframe): frame marker, profile,
// show_existing_frame, frame type, sync code, color config and
// frame_width_minus_1 / frame_height_minus_1. ok is false for anything that
// is not a well-formed key frame header.
func ParseVP9FrameSize(frame []byte) (width, height int, ok bool) {
	r := bitReader{b: frame}
	if r.u(2) != vp9FrameMarker {
		return 0, 0, false
	}
	profile := r.u(1)
	profile |= r.u(1) << 1
	if profile == 3 {
		r.skip(1) // reserved_zero
	}
	if r.flag() { // show_existing_frame
		return 0, 0, false
	}
	if r.flag() { // frame_type: 0 is KEY_FRAME
		return 0, 0, false
	}
	r.skip(2) // show_frame, error_resilient_mode
	if r.u(24) != vp9SyncCode {
		return 0, 0, false
	}
	if profile >= 2 {
		r.skip(1) // ten_or_twelve_bit
	}
	if r.u(3) != vp9ColorSpaceRGB {
		r.skip(1) // color_range
		if profile == 1 || profile == 3 {
			r.skip(3) // subsampling_x, subsampling_y, reserved_zero
		}
	} else if profile == 1 || profile == 3 {
		r.skip(1) // reserved_zero
	}
	w, h := r.u(16), r.u(16)
	if r.err != nil {
		return 0, 0, false
	}
	return int(w) + 1, int(h) + 1, true
}
