package flv

import (
	"fmt"
	"strconv"
)

// AACConfig is an MPEG-4 AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1), the
// body of an AAC SequenceStart packet.
type AACConfig struct {
	// ObjectType is the signalled audio object type (2 AAC-LC, 5 SBR/HE-AAC,
	// 29 PS/HE-AACv2, up to 95 via the escape value 31).
	ObjectType uint8
	// SampleRateIndex is samplingFrequencyIndex; 15 means SampleRate is
	// given explicitly.
	SampleRateIndex uint8
	// SampleRate is the (core) sampling frequency in Hz.
	SampleRate int
	// ChannelConfig is channelConfiguration (0 = defined in a program config
	// element).
	ChannelConfig uint8
	// Channels is the channel count ChannelConfig implies (0 when unknown).
	Channels int
	// CoreObjectType is the object type underneath explicit SBR/PS
	// signalling (ObjectType 5 or 29). ParseAACConfig sets it equal to
	// ObjectType otherwise; encoders only read it for 5 and 29.
	CoreObjectType uint8
	// ExtensionSampleRateIndex and ExtensionSampleRate give the SBR output
	// rate for ObjectType 5 or 29 (zero otherwise).
	ExtensionSampleRateIndex uint8
	ExtensionSampleRate      int
}

// aacSampleRates is the samplingFrequencyIndex table (indices 13 and 14 are
// reserved, 15 is the explicit escape).
var aacSampleRates = [13]int{96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350}

// aacChannels maps channelConfiguration to a channel count.
var aacChannels = [16]int{0, 1, 2, 3, 4, 5, 6, 8, 0, 0, 0, 7, 8, 24, 0, 0}

// Audio object types with special meaning.
const (
	AACObjectMain   uint8 = 1
	AACObjectLC     uint8 = 2
	AACObjectSSR    uint8 = 3
	AACObjectLTP    uint8 = 4
	AACObjectSBR    uint8 = 5
	AACObjectPS     uint8 = 29
	aacObjectEscape uint8 = 31
	aacObjectBSAC   uint8 = 22
	maxAACObject    uint8 = 32 + 63
)

// ADTSHeaderSize is the size of an ADTS header without CRC.
const ADTSHeaderSize = 7

// ParseAACConfig decodes an AudioSpecificConfig: object type (with the
// escape to 6 more bits), sampling frequency (table index or explicit 24-bit
// value), channel configuration and explicit SBR/PS signalling. The
// codec-specific configuration that follows is not interpreted.
func ParseAACConfig(data []byte) (AACConfig, error) {
	r := bitReader{b: data}
	var c AACConfig
	c.ObjectType = readAACObjectType(&r)
	c.SampleRateIndex, c.SampleRate = readAACSampleRate(&r)
	c.ChannelConfig = uint8(r.u(4))
	c.CoreObjectType = c.ObjectType
	if c.ObjectType == AACObjectSBR || c.ObjectType == AACObjectPS {
		c.ExtensionSampleRateIndex, c.ExtensionSampleRate = readAACSampleRate(&r)
		c.CoreObjectType = readAACObjectType(&r)
		if c.CoreObjectType == aacObjectBSAC {
			r.skip(4) // extensionChannelConfiguration
		}
	}
	if r.err != nil {
		return AACConfig{}, fmt.Errorf("AAC config: %w", r.err)
	}
	if c.ObjectType == 0 || c.CoreObjectType == 0 {
		return AACConfig{}, fmt.Errorf("AAC object type 0: %w", ErrInvalidConfig)
	}
	sbr := c.ObjectType == AACObjectSBR || c.ObjectType == AACObjectPS
	if c.SampleRate == 0 || sbr && c.ExtensionSampleRate == 0 {
		return AACConfig{}, fmt.Errorf("AAC sample rate index %d/%d: %w", c.SampleRateIndex, c.ExtensionSampleRateIndex, ErrInvalidConfig)
	}
	c.Channels = aacChannels[c.ChannelConfig]
	return c, nil
}

func readAACObjectType(r *bitReader) uint8 {
	t := uint8(r.u(5))
	if t == aacObjectEscape {
		t = 32 + uint8(r.u(6))
	}
	return t
}

// readAACSampleRate returns the index and the rate; the rate is 0 for a
// reserved index.
func readAACSampleRate(r *bitReader) (uint8, int) {
	i := uint8(r.u(4))
	if i == 15 {
		return i, int(r.u(24))
	}
	if int(i) < len(aacSampleRates) {
		return i, aacSampleRates[i]
	}
	return i, 0
}

// Validate reports whether Append can encode c faithfully.
func (c AACConfig) Validate() error {
	switch {
	case c.ObjectType == 0 || c.ObjectType == aacObjectEscape || c.ObjectType > maxAACObject:
		return fmt.Errorf("AAC object type %d: %w", c.ObjectType, ErrInvalidConfig)
	case c.ChannelConfig > 15:
		return fmt.Errorf("AAC channel config %d: %w", c.ChannelConfig, ErrInvalidConfig)
	case !validAACRate(c.SampleRateIndex, c.SampleRate):
		return fmt.Errorf("AAC sample rate %d (index %d): %w", c.SampleRate, c.SampleRateIndex, ErrInvalidConfig)
	}
	if c.ObjectType == AACObjectSBR || c.ObjectType == AACObjectPS {
		if c.CoreObjectType == 0 || c.CoreObjectType == aacObjectEscape || c.CoreObjectType > maxAACObject ||
			!validAACRate(c.ExtensionSampleRateIndex, c.ExtensionSampleRate) {
			return fmt.Errorf("AAC SBR core type %d, rate %d: %w", c.CoreObjectType, c.ExtensionSampleRate, ErrInvalidConfig)
		}
	}
	return nil
}

func validAACRate(i uint8, rate int) bool {
	if i == 15 {
		return rate > 0 && rate < 1<<24
	}
	return int(i) < len(aacSampleRates) && aacSampleRates[i] == rate
}

// Append appends the encoded AudioSpecificConfig with a plain
// GASpecificConfig (frameLengthFlag, dependsOnCoreCoder and extensionFlag
// all zero). Fields outside their ranges (see Validate) are masked.
func (c AACConfig) Append(dst []byte) []byte {
	w := bitWriter{b: dst}
	writeAACObjectType(&w, c.ObjectType)
	writeAACSampleRate(&w, c.SampleRateIndex, c.SampleRate)
	w.put(uint32(c.ChannelConfig), 4)
	if c.ObjectType == AACObjectSBR || c.ObjectType == AACObjectPS {
		writeAACSampleRate(&w, c.ExtensionSampleRateIndex, c.ExtensionSampleRate)
		writeAACObjectType(&w, c.CoreObjectType)
		if c.CoreObjectType == aacObjectBSAC {
			w.put(uint32(c.ChannelConfig), 4)
		}
	}
	w.put(0, 3) // GASpecificConfig: frameLengthFlag, dependsOnCoreCoder, extensionFlag
	return w.b
}

func writeAACObjectType(w *bitWriter, t uint8) {
	if t >= aacObjectEscape {
		w.put(uint32(aacObjectEscape), 5)
		w.put(uint32(t-32), 6)
		return
	}
	w.put(uint32(t), 5)
}

func writeAACSampleRate(w *bitWriter, i uint8, rate int) {
	w.put(uint32(i), 4)
	if i == 15 {
		w.put(uint32(rate), 24)
	}
}

// core returns the object type underneath explicit SBR/PS signalling.
func (c AACConfig) core() uint8 {
	if c.ObjectType == AACObjectSBR || c.ObjectType == AACObjectPS {
		return c.CoreObjectType
	}
	return c.ObjectType
}

// adtsSampleRateIndex returns the table index for the core sample rate, or
// -1 when ADTS cannot express it.
func (c AACConfig) adtsSampleRateIndex() int {
	if c.SampleRateIndex < 13 {
		return int(c.SampleRateIndex)
	}
	for i, r := range aacSampleRates {
		if r == c.SampleRate {
			return i
		}
	}
	return -1
}

// ADTSSupported reports whether AppendADTSHeader can describe this
// configuration: core object type 1..4, a tabled sample rate and channel
// configuration 1..7 (0, which needs an in-band PCE, is allowed too).
func (c AACConfig) ADTSSupported() error {
	switch {
	case c.core() == 0 || c.core() > 4:
		return fmt.Errorf("ADTS cannot carry object type %d: %w", c.core(), ErrInvalidConfig)
	case c.adtsSampleRateIndex() < 0:
		return fmt.Errorf("ADTS cannot carry sample rate %d: %w", c.SampleRate, ErrInvalidConfig)
	case c.ChannelConfig > 7:
		return fmt.Errorf("ADTS cannot carry channel config %d: %w", c.ChannelConfig, ErrInvalidConfig)
	}
	return nil
}

// MaxADTSPayload is the largest raw AAC frame an ADTS header can describe.
const MaxADTSPayload = 1<<13 - 1 - ADTSHeaderSize

// AppendADTSHeader appends a 7-byte ADTS header (MPEG-4, no CRC, one raw data
// block) for a raw AAC frame of payloadLen bytes. It describes the core
// object type and sample rate (HE-AAC decoders find SBR implicitly).
// Configurations ADTSSupported rejects and payloads above MaxADTSPayload are
// masked into the fields; check first when that matters.
func (c AACConfig) AppendADTSHeader(dst []byte, payloadLen int) []byte {
	profile := uint32(c.core()-1) & 0x03
	freq := uint32(c.adtsSampleRateIndex()) & 0x0f
	ch := uint32(c.ChannelConfig) & 0x07
	frameLen := uint32(payloadLen+ADTSHeaderSize) & 0x1fff
	w := bitWriter{b: dst}
	w.put(0xfff, 12)  // syncword
	w.put(0, 1)       // ID: MPEG-4
	w.put(0, 2)       // layer
	w.put(1, 1)       // protection_absent
	w.put(profile, 2) // profile_ObjectType
	w.put(freq, 4)    // sampling_frequency_index
	w.put(0, 1)       // private_bit
	w.put(ch, 3)      // channel_configuration
	w.put(0, 4)       // original_copy, home, copyright id bit, copyright id start
	w.put(frameLen, 13)
	w.put(0x7ff, 11) // adts_buffer_fullness: VBR
	w.put(0, 2)      // number_of_raw_data_blocks_in_frame - 1
	return w.b
}

// CodecString returns the RFC 6381 codec string ("mp4a.40.2").
func (c AACConfig) CodecString() string {
	return "mp4a.40." + strconv.Itoa(int(c.ObjectType))
}
