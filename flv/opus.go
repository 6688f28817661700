package flv

import "fmt"

// OpusHead is the Opus identification header (RFC 7845 5.1), the body of an
// Opus SequenceStart packet. ChannelMapping aliases the parsed data.
type OpusHead struct {
	// Version is 1 for RFC 7845; versions 0..15 share its layout.
	Version uint8
	// Channels is the output channel count (1..255).
	Channels uint8
	// PreSkip is the number of 48 kHz samples to drop at the start.
	PreSkip uint16
	// InputSampleRate is the encoder's input rate in Hz (informational;
	// Opus always decodes at 48 kHz).
	InputSampleRate uint32
	// OutputGain is the gain to apply, in Q7.8 dB.
	OutputGain int16
	// MappingFamily is the channel mapping family (0 mono/stereo, 1 Vorbis
	// order surround, 255 unordered ...).
	MappingFamily uint8
	// StreamCount, CoupledCount and ChannelMapping (Channels entries) form
	// the channel mapping table, present when MappingFamily is not 0.
	StreamCount, CoupledCount uint8
	ChannelMapping            []byte
}

// Sizes of the Opus headers.
const (
	opusHeadMagic = "OpusHead"
	opusTagsMagic = "OpusTags"
	opusHeadSize  = 19 // without the channel mapping table
	// OpusSampleRate is the rate every Opus decoder outputs.
	OpusSampleRate = 48000
	// opusMaxVersion is the last version with the RFC 7845 layout.
	opusMaxVersion = 15
)

// ParseOpusHead decodes an Opus identification header. Bytes after the
// header are ignored.
func ParseOpusHead(data []byte) (OpusHead, error) {
	if len(data) < opusHeadSize {
		return OpusHead{}, fmt.Errorf("opus head of %d bytes: %w", len(data), ErrTruncated)
	}
	if string(data[:8]) != opusHeadMagic {
		return OpusHead{}, fmt.Errorf("opus header magic %q: %w", data[:8], ErrInvalidConfig)
	}
	h := OpusHead{
		Version:         data[8],
		Channels:        data[9],
		PreSkip:         uint16(data[10]) | uint16(data[11])<<8,
		InputSampleRate: uint32(data[12]) | uint32(data[13])<<8 | uint32(data[14])<<16 | uint32(data[15])<<24,
		OutputGain:      int16(uint16(data[16]) | uint16(data[17])<<8),
		MappingFamily:   data[18],
	}
	if err := h.check(); err != nil {
		return OpusHead{}, err
	}
	if h.MappingFamily != 0 {
		end := opusHeadSize + 2 + int(h.Channels)
		if len(data) < end {
			return OpusHead{}, fmt.Errorf("opus channel mapping table for %d channels: %w", h.Channels, ErrTruncated)
		}
		h.StreamCount, h.CoupledCount = data[opusHeadSize], data[opusHeadSize+1]
		h.ChannelMapping = data[opusHeadSize+2 : end : end]
		if h.StreamCount == 0 || h.CoupledCount > h.StreamCount || int(h.StreamCount)+int(h.CoupledCount) > 255 {
			return OpusHead{}, fmt.Errorf("opus %d streams, %d coupled: %w", h.StreamCount, h.CoupledCount, ErrInvalidConfig)
		}
	}
	return h, nil
}

// check validates the fixed fields.
func (h OpusHead) check() error {
	switch {
	case h.Version > opusMaxVersion:
		return fmt.Errorf("opus head version %d: %w", h.Version, ErrInvalidConfig)
	case h.Channels == 0 || h.MappingFamily == 0 && h.Channels > 2:
		return fmt.Errorf("opus %d channels with mapping family %d: %w", h.Channels, h.MappingFamily, ErrInvalidConfig)
	}
	return nil
}

// Validate reports whether Append can encode h faithfully.
func (h OpusHead) Validate() error {
	if err := h.check(); err != nil {
		return err
	}
	if h.MappingFamily != 0 && len(h.ChannelMapping) != int(h.Channels) {
		return fmt.Errorf("opus channel mapping of %d entries for %d channels: %w", len(h.ChannelMapping), h.Channels, ErrInvalidConfig)
	}
	return nil
}

// Append appends the encoded header. For a non-zero mapping family the
// mapping table is written with exactly Channels entries (padded with 255,
// "silent", or cut).
func (h OpusHead) Append(dst []byte) []byte {
	dst = append(dst, opusHeadMagic...)
	dst = append(dst, h.Version, h.Channels, byte(h.PreSkip), byte(h.PreSkip>>8),
		byte(h.InputSampleRate), byte(h.InputSampleRate>>8), byte(h.InputSampleRate>>16), byte(h.InputSampleRate>>24),
		byte(h.OutputGain), byte(uint16(h.OutputGain)>>8), h.MappingFamily)
	if h.MappingFamily == 0 {
		return dst
	}
	dst = append(dst, h.StreamCount, h.CoupledCount)
	for i := range int(h.Channels) {
		c := byte(255)
		if i < len(h.ChannelMapping) {
			c = h.ChannelMapping[i]
		}
		dst = append(dst, c)
	}
	return dst
}

// isOpusTags reports whether data is an Opus comment header, which the
// Enhanced RTMP specification also allows in a SequenceStart packet.
func isOpusTags(data []byte) bool {
	return len(data) >= len(opusTagsMagic) && string(data[:len(opusTagsMagic)]) == opusTagsMagic
}
