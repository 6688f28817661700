package flv

import "fmt"

// AVCDecoderConfig is an AVCDecoderConfigurationRecord (avcC, ISO/IEC
// 14496-15 5.3.3.1), the body of an AVC SequenceStart packet. The parameter
// set slices alias the parsed data.
type AVCDecoderConfig struct {
	Profile       uint8 // AVCProfileIndication
	Compatibility uint8 // profile_compatibility (constraint flags)
	Level         uint8 // AVCLevelIndication
	// NALULengthSize is the size of the NALU length prefix in coded frames:
	// 1, 2 or 4.
	NALULengthSize int
	SPS            [][]byte // sequence parameter sets (at most 31)
	PPS            [][]byte // picture parameter sets (at most 255)

	// HasExtension is set when the record carries the high-profile extension
	// (ChromaFormat, bit depths and SPSExt), which profiles other than
	// Baseline (66), Main (77) and Extended (88) may append. Many encoders
	// omit it.
	HasExtension   bool
	ChromaFormat   uint8    // chroma_format_idc (0..3)
	BitDepthLuma   uint8    // bit_depth_luma (8..15)
	BitDepthChroma uint8    // bit_depth_chroma (8..15)
	SPSExt         [][]byte // sequence parameter set extensions (at most 255)
}

// Limits of the avcC structure.
const (
	maxAVCSPS      = 31
	maxAVCPPS      = 255
	maxAVCSPSExt   = 255
	maxAVCNALUSize = 1<<16 - 1
)

// avcHighProfile reports whether an avcC of this profile may carry the
// chroma/bit-depth extension. ISO/IEC 14496-15 lists 100, 110, 122 and 144;
// ffmpeg writes it for every profile but 66, 77 and 88 (4:4:4 Predictive,
// 244, included), so that is what is accepted.
func avcHighProfile(p uint8) bool {
	return p != 66 && p != 77 && p != 88
}

// ParseAVCDecoderConfig decodes an AVCDecoderConfigurationRecord. The
// high-profile extension is decoded when present and well-formed; trailing
// bytes that do not form one are ignored, as decoders do.
func ParseAVCDecoderConfig(data []byte) (AVCDecoderConfig, error) {
	if len(data) < 7 {
		return AVCDecoderConfig{}, fmt.Errorf("avcC: %d bytes: %w", len(data), ErrTruncated)
	}
	if data[0] != 1 {
		return AVCDecoderConfig{}, fmt.Errorf("avcC version %d: %w", data[0], ErrInvalidConfig)
	}
	c := AVCDecoderConfig{
		Profile:        data[1],
		Compatibility:  data[2],
		Level:          data[3],
		NALULengthSize: int(data[4]&0x03) + 1,
	}
	if c.NALULengthSize == 3 {
		return AVCDecoderConfig{}, fmt.Errorf("avcC length size 3: %w", ErrInvalidConfig)
	}
	pos := 5
	var err error
	if c.SPS, pos, err = parseParamSets(data, pos, int(data[5]&0x1f), 1); err != nil {
		return AVCDecoderConfig{}, fmt.Errorf("avcC SPS: %w", err)
	}
	if pos >= len(data) {
		return AVCDecoderConfig{}, fmt.Errorf("avcC PPS count: %w", ErrTruncated)
	}
	if c.PPS, pos, err = parseParamSets(data, pos, int(data[pos]), 1); err != nil {
		return AVCDecoderConfig{}, fmt.Errorf("avcC PPS: %w", err)
	}
	if avcHighProfile(c.Profile) && len(data)-pos >= 4 {
		ext := AVCDecoderConfig{
			HasExtension:   true,
			ChromaFormat:   data[pos] & 0x03,
			BitDepthLuma:   data[pos+1]&0x07 + 8,
			BitDepthChroma: data[pos+2]&0x07 + 8,
		}
		if ext.SPSExt, _, err = parseParamSets(data, pos+3, int(data[pos+3]), 1); err == nil {
			c.HasExtension, c.ChromaFormat = true, ext.ChromaFormat
			c.BitDepthLuma, c.BitDepthChroma, c.SPSExt = ext.BitDepthLuma, ext.BitDepthChroma, ext.SPSExt
		}
	}
	return c, nil
}

// parseParamSets reads count 16-bit-length-prefixed units; the count field
// itself (countLen bytes) is at data[pos].
func parseParamSets(data []byte, pos, count, countLen int) ([][]byte, int, error) {
	pos += countLen
	if count == 0 {
		return nil, pos, nil
	}
	if count > (len(data)-pos)/2 {
		return nil, 0, fmt.Errorf("%d entries in %d bytes: %w", count, len(data)-pos, ErrTruncated)
	}
	sets := make([][]byte, 0, count)
	for i := range count {
		if pos+2 > len(data) {
			return nil, 0, fmt.Errorf("entry %d length: %w", i, ErrTruncated)
		}
		n := int(data[pos])<<8 | int(data[pos+1])
		pos += 2
		if pos+n > len(data) {
			return nil, 0, fmt.Errorf("entry %d of %d bytes: %w", i, n, ErrTruncated)
		}
		sets = append(sets, data[pos:pos+n:pos+n])
		pos += n
	}
	return sets, pos, nil
}

// Validate reports whether Append can encode c faithfully.
func (c AVCDecoderConfig) Validate() error {
	switch {
	case c.NALULengthSize != 1 && c.NALULengthSize != 2 && c.NALULengthSize != 4:
		return fmt.Errorf("avcC length size %d: %w", c.NALULengthSize, ErrLengthSize)
	case len(c.SPS) > maxAVCSPS || len(c.PPS) > maxAVCPPS || len(c.SPSExt) > maxAVCSPSExt:
		return fmt.Errorf("avcC with %d SPS, %d PPS, %d SPSExt: %w", len(c.SPS), len(c.PPS), len(c.SPSExt), ErrInvalidConfig)
	case c.HasExtension && !avcHighProfile(c.Profile):
		return fmt.Errorf("avcC extension with profile %d: %w", c.Profile, ErrInvalidConfig)
	case c.HasExtension && (c.ChromaFormat > 3 || c.BitDepthLuma < 8 || c.BitDepthLuma > 15 ||
		c.BitDepthChroma < 8 || c.BitDepthChroma > 15):
		return fmt.Errorf("avcC extension chroma %d depth %d/%d: %w", c.ChromaFormat, c.BitDepthLuma, c.BitDepthChroma, ErrInvalidConfig)
	}
	for _, sets := range [][][]byte{c.SPS, c.PPS, c.SPSExt} {
		for _, s := range sets {
			if len(s) > maxAVCNALUSize {
				return fmt.Errorf("avcC parameter set of %d bytes: %w", len(s), ErrInvalidConfig)
			}
		}
	}
	return nil
}

// Append appends the encoded record. Fields beyond what the record can
// express (see Validate) are clipped: surplus parameter sets are dropped,
// over-long ones skipped, an invalid length size written as 4.
func (c AVCDecoderConfig) Append(dst []byte) []byte {
	lengthSize := c.NALULengthSize
	if lengthSize != 1 && lengthSize != 2 && lengthSize != 4 {
		lengthSize = 4
	}
	dst = append(dst, 1, c.Profile, c.Compatibility, c.Level, 0xfc|byte(lengthSize-1))
	dst = appendParamSets(dst, c.SPS, maxAVCSPS, 0xe0)
	dst = appendParamSets(dst, c.PPS, maxAVCPPS, 0)
	if c.HasExtension {
		dst = append(dst, 0xfc|c.ChromaFormat&0x03, 0xf8|(c.BitDepthLuma-8)&0x07, 0xf8|(c.BitDepthChroma-8)&0x07)
		dst = appendParamSets(dst, c.SPSExt, maxAVCSPSExt, 0)
	}
	return dst
}

func appendParamSets(dst []byte, sets [][]byte, limit int, countBits byte) []byte {
	n := 0
	for _, s := range sets {
		if len(s) <= maxAVCNALUSize && n < limit {
			n++
		}
	}
	dst = append(dst, countBits|byte(n))
	for _, s := range sets {
		if len(s) > maxAVCNALUSize || n == 0 {
			continue
		}
		dst = append(dst, byte(len(s)>>8), byte(len(s)))
		dst = append(dst, s...)
		n--
	}
	return dst
}

// CodecString returns the RFC 6381 codec string ("avc1.64001f") used in
// HLS CODECS attributes and MSE.
func (c AVCDecoderConfig) CodecString() string {
	const hex = "0123456789abcdef"
	b := []byte("avc1.000000")
	for i, v := range [3]byte{c.Profile, c.Compatibility, c.Level} {
		b[5+2*i] = hex[v>>4]
		b[6+2*i] = hex[v&0x0f]
	}
	return string(b)
}
