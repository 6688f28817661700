package flv

import (
	"fmt"
	"strconv"
)

// AV1CodecConfig is an AV1CodecConfigurationRecord (av1C, AV1 Codec ISO
// Media File Format Binding 2.3.3), the body of an av01 SequenceStart
// packet. ConfigOBUs aliases the parsed data.
type AV1CodecConfig struct {
	// SeqProfile is seq_profile: 0 Main, 1 High, 2 Professional.
	SeqProfile uint8
	// SeqLevelIdx0 is seq_level_idx[0] (0..31; level 2.0 + idx/4 … and 31
	// for "maximum parameters").
	SeqLevelIdx0 uint8
	// SeqTier0 is seq_tier[0]: 0 Main, 1 High.
	SeqTier0 uint8
	// HighBitdepth and TwelveBit select 8, 10 or 12 bits.
	HighBitdepth, TwelveBit bool
	// Monochrome is mono_chrome.
	Monochrome bool
	// ChromaSubsamplingX and ChromaSubsamplingY are subsampling_x/y.
	ChromaSubsamplingX, ChromaSubsamplingY bool
	// ChromaSamplePosition is chroma_sample_position (0..3).
	ChromaSamplePosition uint8
	// InitialPresentationDelayPresent tells whether
	// InitialPresentationDelayMinusOne (0..15) is meaningful.
	InitialPresentationDelayPresent  bool
	InitialPresentationDelayMinusOne uint8
	// ConfigOBUs holds the configuration OBUs (a sequence header and
	// possibly metadata OBUs), low-overhead format.
	ConfigOBUs []byte
}

// av1ConfigHeaderSize is the fixed part of av1C before configOBUs.
const av1ConfigHeaderSize = 4

// ParseAV1CodecConfig decodes an AV1CodecConfigurationRecord: marker 1,
// version 1, the four header bytes and the configuration OBUs (not parsed
// here; see SequenceHeader).
func ParseAV1CodecConfig(data []byte) (AV1CodecConfig, error) {
	if len(data) < av1ConfigHeaderSize {
		return AV1CodecConfig{}, fmt.Errorf("av1C: %d bytes: %w", len(data), ErrTruncated)
	}
	if data[0] != 0x81 {
		return AV1CodecConfig{}, fmt.Errorf("av1C marker/version %#02x: %w", data[0], ErrInvalidConfig)
	}
	c := AV1CodecConfig{
		SeqProfile:           data[1] >> 5,
		SeqLevelIdx0:         data[1] & 0x1f,
		SeqTier0:             data[2] >> 7,
		HighBitdepth:         data[2]&0x40 != 0,
		TwelveBit:            data[2]&0x20 != 0,
		Monochrome:           data[2]&0x10 != 0,
		ChromaSubsamplingX:   data[2]&0x08 != 0,
		ChromaSubsamplingY:   data[2]&0x04 != 0,
		ChromaSamplePosition: data[2] & 0x03,

		InitialPresentationDelayPresent: data[3]&0x10 != 0,
	}
	if c.InitialPresentationDelayPresent {
		c.InitialPresentationDelayMinusOne = data[3] & 0x0f
	}
	if len(data) > av1ConfigHeaderSize {
		c.ConfigOBUs = data[av1ConfigHeaderSize:len(data):len(data)]
	}
	return c, nil
}

// Validate reports whether Append can encode c faithfully.
func (c AV1CodecConfig) Validate() error {
	if c.SeqProfile > 7 || c.SeqLevelIdx0 > 31 || c.SeqTier0 > 1 || c.ChromaSamplePosition > 3 ||
		c.InitialPresentationDelayMinusOne > 15 {
		return fmt.Errorf("av1C profile %d level %d tier %d position %d delay %d: %w", c.SeqProfile, c.SeqLevelIdx0,
			c.SeqTier0, c.ChromaSamplePosition, c.InitialPresentationDelayMinusOne, ErrInvalidConfig)
	}
	return nil
}

// Append appends the encoded record; out-of-range fields are masked.
func (c AV1CodecConfig) Append(dst []byte) []byte {
	b2 := c.SeqTier0&1<<7 | c.ChromaSamplePosition&0x03
	for i, f := range [...]bool{c.HighBitdepth, c.TwelveBit, c.Monochrome, c.ChromaSubsamplingX, c.ChromaSubsamplingY} {
		if f {
			b2 |= 0x40 >> i
		}
	}
	b3 := byte(0)
	if c.InitialPresentationDelayPresent {
		b3 = 0x10 | c.InitialPresentationDelayMinusOne&0x0f
	}
	dst = append(dst, 0x81, c.SeqProfile<<5|c.SeqLevelIdx0&0x1f, b2, b3)
	return append(dst, c.ConfigOBUs...)
}

// BitDepth returns 8, 10 or 12 from HighBitdepth and TwelveBit.
func (c AV1CodecConfig) BitDepth() int {
	switch {
	case c.HighBitdepth && c.TwelveBit:
		return 12
	case c.HighBitdepth:
		return 10
	}
	return 8
}

// SequenceHeader parses the sequence header OBU among ConfigOBUs.
func (c AV1CodecConfig) SequenceHeader() (AV1SequenceHeader, error) {
	return ParseAV1SequenceHeader(c.ConfigOBUs)
}

// CodecString returns the RFC 6381 codec string in its short form
// ("av01.0.04M.08": profile, two-digit level with tier, bit depth), built
// from the record's own fields.
func (c AV1CodecConfig) CodecString() string {
	return av1CodecString(c.SeqProfile, c.SeqLevelIdx0, c.SeqTier0 == 1, c.BitDepth())
}

func av1CodecString(profile, level uint8, highTier bool, depth int) string {
	b := make([]byte, 0, 16)
	b = append(b, "av01."...)
	b = strconv.AppendUint(b, uint64(profile), 10)
	b = append(b, '.', '0'+level/10%10, '0'+level%10)
	if highTier {
		b = append(b, 'H')
	} else {
		b = append(b, 'M')
	}
	b = append(b, '.', '0'+byte(depth/10%10), '0'+byte(depth%10))
	return string(b)
}

// av1ProfileName names seq_profile values.
func av1ProfileName(p uint8) string {
	switch p {
	case 0:
		return "Main"
	case 1:
		return "High"
	case 2:
		return "Professional"
	}
	return ""
}
