package flv

import (
	"fmt"
	"strconv"
	"strings"
)

// H.265 NAL unit types (ITU-T H.265 Table 7-1) that callers look for.
const (
	HEVCNALBLAWLP    uint8 = 16 // first IRAP type (BLA_W_LP)
	HEVCNALIDRWRADL  uint8 = 19 // IDR_W_RADL
	HEVCNALIDRNLP    uint8 = 20 // IDR_N_LP
	HEVCNALCRA       uint8 = 21 // CRA_NUT
	HEVCNALVPS       uint8 = 32 // video parameter set
	HEVCNALSPS       uint8 = 33 // sequence parameter set
	HEVCNALPPS       uint8 = 34 // picture parameter set
	HEVCNALAUD       uint8 = 35 // access unit delimiter
	HEVCNALEOS       uint8 = 36 // end of sequence
	HEVCNALEOB       uint8 = 37 // end of bitstream
	HEVCNALFD        uint8 = 38 // filler data
	HEVCNALSEIPrefix uint8 = 39 // prefix SEI
	HEVCNALSEISuffix uint8 = 40 // suffix SEI

	// HEVCNALInvalid is what HEVCNALUType returns for an empty slice; it
	// matches no NAL unit type (those are 6-bit).
	HEVCNALInvalid uint8 = 0xff
)

// HEVCNALUType returns nal_unit_type from the first byte of the two-byte
// NAL unit header, or HEVCNALInvalid for an empty slice.
func HEVCNALUType(nalu []byte) uint8 {
	if len(nalu) == 0 {
		return HEVCNALInvalid
	}
	return nalu[0] >> 1 & 0x3f
}

// IsHEVCIRAP reports whether a NAL unit type is an intra random access point
// picture (BLA, IDR, CRA and the reserved IRAP types 22 and 23): a decoder
// can start there.
func IsHEVCIRAP(t uint8) bool {
	return t >= HEVCNALBLAWLP && t <= 23
}

// HEVCDecoderConfig is an HEVCDecoderConfigurationRecord (hvcC, ISO/IEC
// 14496-15 8.3.3.1), the body of an hvc1 SequenceStart packet. The NAL unit
// slices alias the parsed data.
type HEVCDecoderConfig struct {
	ProfileSpace uint8 // general_profile_space (0..3)
	HighTier     bool  // general_tier_flag
	Profile      uint8 // general_profile_idc (0..31): 1 Main, 2 Main 10, 3 Main Still, 4 RExt ...
	// CompatibilityFlags holds general_profile_compatibility_flag[j] at bit
	// 31-j (the wire order).
	CompatibilityFlags uint32
	// ConstraintFlags is general_constraint_indicator_flags, 48 bits (the
	// progressive/interlaced/non-packed/frame-only flags are the top four).
	ConstraintFlags uint64
	// Level is general_level_idc: 30 × the level number (93 is level 3.1).
	Level uint8
	// MinSpatialSegmentation is min_spatial_segmentation_idc (0..4095).
	MinSpatialSegmentation uint16
	// ParallelismType is 0 unknown/mixed, 1 slices, 2 tiles, 3 wavefront.
	ParallelismType uint8
	// ChromaFormat is chroma_format_idc: 0 monochrome, 1 4:2:0, 2 4:2:2,
	// 3 4:4:4.
	ChromaFormat uint8
	// BitDepthLuma and BitDepthChroma are 8..15.
	BitDepthLuma, BitDepthChroma uint8
	// AvgFrameRate is in frames per 256 seconds (0: unspecified).
	AvgFrameRate uint16
	// ConstantFrameRate is 0 unknown, 1 constant, 2 constant per temporal
	// layer.
	ConstantFrameRate uint8
	// NumTemporalLayers is 0 unknown, 1 not scalable, or the layer count.
	NumTemporalLayers uint8
	// TemporalIDNested is temporalIdNested.
	TemporalIDNested bool
	// NALULengthSize is the size of the NALU length prefix in coded frames:
	// 1, 2 or 4.
	NALULengthSize int
	// Arrays are the NAL unit arrays in wire order (VPS, SPS, PPS, SEI ...).
	Arrays []HEVCNALUArray
}

// HEVCNALUArray is one array of an hvcC: NAL units of one type.
type HEVCNALUArray struct {
	// Complete is array_completeness: every NAL unit of this type is in the
	// record (none in band).
	Complete bool
	// Type is NAL_unit_type (HEVCNALVPS, HEVCNALSPS, HEVCNALPPS,
	// HEVCNALSEIPrefix, HEVCNALSEISuffix).
	Type  uint8
	NALUs [][]byte
}

// Limits of the hvcC structure.
const (
	// hevcConfigHeaderSize is the fixed part before the first array.
	hevcConfigHeaderSize = 23
	// maxHEVCArrays caps numOfArrays (one per NAL type is the norm; the
	// type field has 6 bits).
	maxHEVCArrays = 64
	// maxHEVCNALUs caps the NAL units of all arrays together.
	maxHEVCNALUs = 1024
	// maxHEVCNALUSize is the largest NAL unit the 16-bit length expresses.
	maxHEVCNALUSize = 1<<16 - 1
)

// ParseHEVCDecoderConfig decodes an HEVCDecoderConfigurationRecord. Reserved
// bits are not checked; bytes after the last array are ignored.
func ParseHEVCDecoderConfig(data []byte) (HEVCDecoderConfig, error) {
	if len(data) < hevcConfigHeaderSize {
		return HEVCDecoderConfig{}, fmt.Errorf("hvcC: %d bytes: %w", len(data), ErrTruncated)
	}
	if data[0] != 1 {
		return HEVCDecoderConfig{}, fmt.Errorf("hvcC version %d: %w", data[0], ErrInvalidConfig)
	}
	c := HEVCDecoderConfig{
		ProfileSpace:       data[1] >> 6,
		HighTier:           data[1]&0x20 != 0,
		Profile:            data[1] & 0x1f,
		CompatibilityFlags: be32(data[2:]),
		ConstraintFlags:    uint64(be16(data[6:]))<<32 | uint64(be32(data[8:])),
		Level:              data[12],

		MinSpatialSegmentation: be16(data[13:]) & 0x0fff,
		ParallelismType:        data[15] & 0x03,
		ChromaFormat:           data[16] & 0x03,
		BitDepthLuma:           data[17]&0x07 + 8,
		BitDepthChroma:         data[18]&0x07 + 8,
		AvgFrameRate:           be16(data[19:]),
		ConstantFrameRate:      data[21] >> 6,
		NumTemporalLayers:      data[21] >> 3 & 0x07,
		TemporalIDNested:       data[21]&0x04 != 0,
		NALULengthSize:         int(data[21]&0x03) + 1,
	}
	if c.NALULengthSize == 3 {
		return HEVCDecoderConfig{}, fmt.Errorf("hvcC length size 3: %w", ErrInvalidConfig)
	}
	numArrays := int(data[22])
	pos := hevcConfigHeaderSize
	if numArrays > maxHEVCArrays {
		return HEVCDecoderConfig{}, fmt.Errorf("hvcC with %d arrays: %w", numArrays, ErrInvalidConfig)
	}
	// Every array takes at least 3 bytes.
	if numArrays > (len(data)-pos)/3 {
		return HEVCDecoderConfig{}, fmt.Errorf("hvcC: %d arrays in %d bytes: %w", numArrays, len(data)-pos, ErrTruncated)
	}
	if numArrays > 0 {
		c.Arrays = make([]HEVCNALUArray, 0, numArrays)
	}
	total := 0
	for i := range numArrays {
		if pos+3 > len(data) {
			return HEVCDecoderConfig{}, fmt.Errorf("hvcC array %d: %w", i, ErrTruncated)
		}
		a := HEVCNALUArray{Complete: data[pos]&0x80 != 0, Type: data[pos] & 0x3f}
		count := int(be16(data[pos+1:]))
		total += count
		if total > maxHEVCNALUs {
			return HEVCDecoderConfig{}, fmt.Errorf("hvcC with more than %d NAL units: %w", maxHEVCNALUs, ErrInvalidConfig)
		}
		var err error
		if a.NALUs, pos, err = parseParamSets(data, pos+1, count, 2); err != nil {
			return HEVCDecoderConfig{}, fmt.Errorf("hvcC array %d (type %d): %w", i, a.Type, err)
		}
		c.Arrays = append(c.Arrays, a)
	}
	return c, nil
}

// Validate reports whether Append can encode c faithfully.
func (c HEVCDecoderConfig) Validate() error {
	switch {
	case c.NALULengthSize != 1 && c.NALULengthSize != 2 && c.NALULengthSize != 4:
		return fmt.Errorf("hvcC length size %d: %w", c.NALULengthSize, ErrLengthSize)
	case c.ProfileSpace > 3 || c.Profile > 31 || c.ConstraintFlags >= 1<<48:
		return fmt.Errorf("hvcC profile space %d, profile %d, constraints %#x: %w", c.ProfileSpace, c.Profile, c.ConstraintFlags, ErrInvalidConfig)
	case c.MinSpatialSegmentation > 0x0fff || c.ParallelismType > 3 || c.ChromaFormat > 3:
		return fmt.Errorf("hvcC segmentation %d, parallelism %d, chroma %d: %w", c.MinSpatialSegmentation, c.ParallelismType, c.ChromaFormat, ErrInvalidConfig)
	case c.BitDepthLuma < 8 || c.BitDepthLuma > 15 || c.BitDepthChroma < 8 || c.BitDepthChroma > 15:
		return fmt.Errorf("hvcC bit depth %d/%d: %w", c.BitDepthLuma, c.BitDepthChroma, ErrInvalidConfig)
	case c.ConstantFrameRate > 3 || c.NumTemporalLayers > 7:
		return fmt.Errorf("hvcC constant frame rate %d, temporal layers %d: %w", c.ConstantFrameRate, c.NumTemporalLayers, ErrInvalidConfig)
	case len(c.Arrays) > maxHEVCArrays:
		return fmt.Errorf("hvcC with %d arrays: %w", len(c.Arrays), ErrInvalidConfig)
	}
	total := 0
	for i, a := range c.Arrays {
		total += len(a.NALUs)
		if a.Type > 0x3f {
			return fmt.Errorf("hvcC array %d type %d: %w", i, a.Type, ErrInvalidConfig)
		}
		for _, n := range a.NALUs {
			if len(n) > maxHEVCNALUSize {
				return fmt.Errorf("hvcC NAL unit of %d bytes: %w", len(n), ErrInvalidConfig)
			}
		}
	}
	if total > maxHEVCNALUs {
		return fmt.Errorf("hvcC with %d NAL units: %w", total, ErrInvalidConfig)
	}
	return nil
}

// Append appends the encoded record, reserved bits set to one as the
// standard asks. Fields beyond what the record can express (see Validate)
// are masked or clipped: surplus arrays and NAL units are dropped, over-long
// NAL units skipped, an invalid length size written as 4.
func (c HEVCDecoderConfig) Append(dst []byte) []byte {
	lengthSize := c.NALULengthSize
	if lengthSize != 1 && lengthSize != 2 && lengthSize != 4 {
		lengthSize = 4
	}
	tier := byte(0)
	if c.HighTier {
		tier = 0x20
	}
	nested := byte(0)
	if c.TemporalIDNested {
		nested = 0x04
	}
	cf := c.ConstraintFlags
	dst = append(dst, 1, c.ProfileSpace<<6|tier|c.Profile&0x1f,
		byte(c.CompatibilityFlags>>24), byte(c.CompatibilityFlags>>16), byte(c.CompatibilityFlags>>8), byte(c.CompatibilityFlags),
		byte(cf>>40), byte(cf>>32), byte(cf>>24), byte(cf>>16), byte(cf>>8), byte(cf),
		c.Level,
		0xf0|byte(c.MinSpatialSegmentation>>8)&0x0f, byte(c.MinSpatialSegmentation),
		0xfc|c.ParallelismType&0x03,
		0xfc|c.ChromaFormat&0x03,
		0xf8|(c.BitDepthLuma-8)&0x07,
		0xf8|(c.BitDepthChroma-8)&0x07,
		byte(c.AvgFrameRate>>8), byte(c.AvgFrameRate),
		c.ConstantFrameRate<<6|(c.NumTemporalLayers&0x07)<<3|nested|byte(lengthSize-1))
	arrays := c.Arrays[:min(len(c.Arrays), maxHEVCArrays)]
	dst = append(dst, byte(len(arrays)))
	budget := maxHEVCNALUs
	for _, a := range arrays {
		complete := byte(0)
		if a.Complete {
			complete = 0x80
		}
		dst = append(dst, complete|a.Type&0x3f)
		countAt := len(dst)
		dst = append(dst, 0, 0)
		n := 0
		for _, nalu := range a.NALUs {
			if len(nalu) > maxHEVCNALUSize || budget == 0 {
				continue
			}
			dst = append(dst, byte(len(nalu)>>8), byte(len(nalu)))
			dst = append(dst, nalu...)
			n++
			budget--
		}
		dst[countAt], dst[countAt+1] = byte(n>>8), byte(n)
	}
	return dst
}

// NALUs returns the NAL units whose header says type t, from every array in
// record order. The slices alias the record's data.
func (c HEVCDecoderConfig) NALUs(t uint8) [][]byte {
	var out [][]byte
	for _, a := range c.Arrays {
		for _, n := range a.NALUs {
			if len(n) > 0 && HEVCNALUType(n) == t {
				out = append(out, n)
			}
		}
	}
	return out
}

// ParameterSets returns the VPS, then SPS, then PPS NAL units of the record
// (the order a decoder needs them in front of an IRAP picture). The type is
// read from each NAL unit header, so a unit filed in the wrong array still
// lands in its place; empty units are left out.
func (c HEVCDecoderConfig) ParameterSets() [][]byte {
	var out [][]byte
	for _, t := range [...]uint8{HEVCNALVPS, HEVCNALSPS, HEVCNALPPS} {
		for _, a := range c.Arrays {
			for _, n := range a.NALUs {
				if len(n) > 0 && HEVCNALUType(n) == t {
					out = append(out, n)
				}
			}
		}
	}
	return out
}

// SPS returns the first sequence parameter set NAL unit, or nil.
func (c HEVCDecoderConfig) SPS() []byte {
	for _, a := range c.Arrays {
		for _, n := range a.NALUs {
			if len(n) > 0 && HEVCNALUType(n) == HEVCNALSPS {
				return n
			}
		}
	}
	return nil
}

// CodecString returns the RFC 6381 codec string of ISO/IEC 14496-15 Annex E
// ("hvc1.1.6.L93.B0"): profile space letter and profile, the compatibility
// flags bit-reversed in hex, tier and level, and the constraint bytes with
// trailing zero bytes left out.
func (c HEVCDecoderConfig) CodecString() string {
	var b strings.Builder
	b.WriteString("hvc1.")
	if c.ProfileSpace > 0 && c.ProfileSpace <= 3 {
		b.WriteByte("ABC"[c.ProfileSpace-1])
	}
	b.WriteString(strconv.Itoa(int(c.Profile)))
	b.WriteByte('.')
	var rev uint32
	for i := range 32 {
		rev |= (c.CompatibilityFlags >> i & 1) << (31 - i)
	}
	b.WriteString(strings.ToUpper(strconv.FormatUint(uint64(rev), 16)))
	b.WriteByte('.')
	if c.HighTier {
		b.WriteByte('H')
	} else {
		b.WriteByte('L')
	}
	b.WriteString(strconv.Itoa(int(c.Level)))
	var cb [6]byte
	last := -1
	for i := range cb {
		cb[i] = byte(c.ConstraintFlags >> (40 - 8*i))
		if cb[i] != 0 {
			last = i
		}
	}
	for i := 0; i <= last; i++ {
		b.WriteByte('.')
		b.WriteString(strings.ToUpper(strconv.FormatUint(uint64(cb[i]), 16)))
	}
	return b.String()
}

// hevcProfileName names general_profile_idc values (Annex A).
func hevcProfileName(p uint8) string {
	switch p {
	case 1:
		return "Main"
	case 2:
		return "Main 10"
	case 3:
		return "Main Still Picture"
	case 4:
		return "Format Range Extensions"
	case 5:
		return "High Throughput"
	case 6:
		return "Multiview Main"
	case 7:
		return "Scalable Main"
	case 8:
		return "3D Main"
	case 9:
		return "Screen Content Coding Extensions"
	case 10:
		return "Scalable Format Range Extensions"
	case 11:
		return "High Throughput Screen Content Coding Extensions"
	}
	return ""
}

func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
