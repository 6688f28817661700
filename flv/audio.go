package flv

import "fmt"

// AudioTagHeader is the decoded header of an FLV audio tag (the payload of an
// RTMP audio message), legacy or Enhanced RTMP (SoundFormat 9).
//
// For a single-track message the codec data is data[HeaderLen:]. For a
// multitrack message (Multitrack true) every track is in Tracks, and Codec
// and HeaderLen describe the first track; TrackList returns the tracks of
// either kind.
type AudioTagHeader struct {
	// SoundFormat is the legacy sound format; SoundFormatExHeader (9) for an
	// Enhanced RTMP header.
	SoundFormat uint8
	// Enhanced is set for an Enhanced RTMP header.
	Enhanced bool
	// Codec is the FourCC (for legacy headers mapped from SoundFormat; 0 when
	// the legacy format has no FourCC).
	Codec FourCC
	// PacketType is the normalised packet type: legacy AAC maps
	// 0 → SequenceStart and 1 → CodedFrames; other legacy formats report
	// CodedFrames. Enhanced headers may also report SequenceEnd and
	// MultichannelConfig (body: see ParseMultichannelConfig).
	PacketType PacketType
	// SoundRate (0 5.5 kHz, 1 11 kHz, 2 22 kHz, 3 44 kHz), SoundSize (0 8-bit,
	// 1 16-bit) and SoundType (0 mono, 1 stereo) are the legacy bits; zero
	// for enhanced headers.
	SoundRate, SoundSize, SoundType uint8
	// ModEx lists the ModEx entries in wire order (nil when there are none).
	ModEx []ModEx
	// Multitrack is set for an Enhanced RTMP multitrack message.
	Multitrack bool
	// MultitrackType is the AvMultitrackType of a multitrack message.
	MultitrackType MultitrackType
	// Tracks lists the tracks of a multitrack message (nil otherwise).
	Tracks []Track
	// HeaderLen is the number of bytes before the codec data of the first
	// track.
	HeaderLen int
}

// IsSequenceHeader reports whether the tag carries the decoder
// configuration (AAC AudioSpecificConfig, Opus ID header, FLAC STREAMINFO).
func (h AudioTagHeader) IsSequenceHeader() bool {
	return h.PacketType == PacketSequenceStart
}

// TimestampNanoOffset returns the TimestampOffsetNano ModEx value, if any.
func (h AudioTagHeader) TimestampNanoOffset() (uint32, bool) {
	return timestampNanoOffset(h.ModEx)
}

// TrackList returns the tracks of the tag whose payload is data: Tracks for
// a multitrack tag, otherwise one track with ID 0 holding data[HeaderLen:].
func (h AudioTagHeader) TrackList(data []byte) []Track {
	if h.Multitrack {
		return h.Tracks
	}
	if h.HeaderLen > len(data) {
		return nil
	}
	return []Track{{Codec: h.Codec, Data: data[h.HeaderLen:]}}
}

// ParseAudioTagHeader decodes the header of an audio tag payload. An empty
// payload (the RTMP "audio silence" message) fails with ErrEmpty.
func ParseAudioTagHeader(data []byte) (AudioTagHeader, error) {
	if len(data) == 0 {
		return AudioTagHeader{}, fmt.Errorf("audio tag: %w", ErrEmpty)
	}
	h := AudioTagHeader{SoundFormat: data[0] >> 4}
	if h.SoundFormat != SoundFormatExHeader {
		h.SoundRate = data[0] >> 2 & 0x03
		h.SoundSize = data[0] >> 1 & 0x01
		h.SoundType = data[0] & 0x01
		h.Codec = LegacyAudioFourCC(h.SoundFormat)
		h.PacketType = PacketCodedFrames
		h.HeaderLen = 1
		if h.SoundFormat == SoundFormatAAC {
			if len(data) < 2 {
				return AudioTagHeader{}, fmt.Errorf("AAC audio header: %w", ErrTruncated)
			}
			if data[1] > 1 {
				return AudioTagHeader{}, fmt.Errorf("AAC packet type %d: %w", data[1], ErrUnknownPacketType)
			}
			h.PacketType = PacketType(data[1])
			h.HeaderLen = 2
		}
		return h, nil
	}

	h.Enhanced = true
	pos, wire, err := parseModExLoop(data, 1, data[0]&0x0f, &h.ModEx)
	if err != nil {
		return AudioTagHeader{}, fmt.Errorf("audio: %w", err)
	}
	if h.PacketType, err = audioPacketFromWire(wire); err != nil {
		return AudioTagHeader{}, fmt.Errorf("audio: %w", err)
	}
	if h.PacketType != PacketMultitrack {
		if h.Codec, pos, err = readFourCC(data, pos); err != nil {
			return AudioTagHeader{}, fmt.Errorf("audio: %w", err)
		}
		h.HeaderLen = pos
		return h, nil
	}

	if pos >= len(data) {
		return AudioTagHeader{}, fmt.Errorf("audio multitrack: %w", ErrTruncated)
	}
	h.Multitrack = true
	h.MultitrackType = MultitrackType(data[pos] >> 4)
	wire = data[pos] & 0x0f
	pos++
	if h.MultitrackType > MultitrackManyTracksManyCodecs {
		return AudioTagHeader{}, fmt.Errorf("audio multitrack type %d: %w", h.MultitrackType, ErrInvalidMultitrack)
	}
	if h.PacketType, err = audioPacketFromWire(wire); err != nil {
		return AudioTagHeader{}, fmt.Errorf("audio multitrack: %w", err)
	}
	if h.PacketType == PacketMultitrack || h.PacketType == PacketModEx {
		return AudioTagHeader{}, fmt.Errorf("audio multitrack packet type %s: %w", h.PacketType, ErrInvalidMultitrack)
	}
	mt := multitrackHeader{typ: h.MultitrackType, packet: h.PacketType}
	if h.MultitrackType != MultitrackManyTracksManyCodecs {
		if mt.codec, pos, err = readFourCC(data, pos); err != nil {
			return AudioTagHeader{}, fmt.Errorf("audio multitrack: %w", err)
		}
	}
	if h.Tracks, h.HeaderLen, err = parseTracks(data, pos, mt); err != nil {
		return AudioTagHeader{}, fmt.Errorf("audio multitrack: %w", err)
	}
	h.Codec = h.Tracks[0].Codec
	return h, nil
}

// AppendAudioTagHeader appends the header of a single-track audio tag: the
// HeaderLen bytes that precede the codec data. Multitrack headers are
// written by AppendAudioTag.
func AppendAudioTagHeader(dst []byte, h AudioTagHeader) ([]byte, error) {
	if h.Multitrack {
		return nil, fmt.Errorf("audio header: multitrack needs AppendAudioTag: %w", ErrInvalidMultitrack)
	}
	if !h.Enhanced {
		return appendLegacyAudio(dst, h)
	}
	dst, err := appendExAudioPrefix(dst, h)
	if err != nil {
		return nil, err
	}
	return appendFourCC(dst, h.Codec), nil
}

// AppendAudioTag appends a complete audio tag payload: for a single-track
// header the header followed by body; for a multitrack header the header and
// every track of h.Tracks with its data (body must then be empty).
func AppendAudioTag(dst []byte, h AudioTagHeader, body []byte) ([]byte, error) {
	if !h.Multitrack {
		dst, err := AppendAudioTagHeader(dst, h)
		if err != nil {
			return nil, err
		}
		return append(dst, body...), nil
	}
	if len(body) != 0 || !h.Enhanced {
		return nil, fmt.Errorf("audio tag: multitrack needs an enhanced header and no body: %w", ErrInvalidMultitrack)
	}
	dst, err := appendExAudioPrefix(dst, h)
	if err != nil {
		return nil, err
	}
	wire, err := audioPacketToWire(h.PacketType)
	if err != nil {
		return nil, fmt.Errorf("audio tag: %w", err)
	}
	mt := multitrackHeader{typ: h.MultitrackType, packet: h.PacketType, codec: h.Codec}
	if dst, err = appendTracks(dst, wire, mt, h.Tracks); err != nil {
		return nil, fmt.Errorf("audio tag: %w", err)
	}
	return dst, nil
}

func appendLegacyAudio(dst []byte, h AudioTagHeader) ([]byte, error) {
	if h.SoundFormat > 15 || h.SoundFormat == SoundFormatExHeader || h.SoundRate > 3 ||
		h.SoundSize > 1 || h.SoundType > 1 || len(h.ModEx) != 0 {
		return nil, fmt.Errorf("legacy audio header format %d: %w", h.SoundFormat, ErrInvalidHeader)
	}
	dst = append(dst, h.SoundFormat<<4|h.SoundRate<<2|h.SoundSize<<1|h.SoundType)
	if h.SoundFormat == SoundFormatAAC {
		if h.PacketType > PacketCodedFrames {
			return nil, fmt.Errorf("AAC packet type %s: %w", h.PacketType, ErrInvalidHeader)
		}
		return append(dst, byte(h.PacketType)), nil
	}
	if h.PacketType != PacketCodedFrames {
		return nil, fmt.Errorf("legacy audio format %d packet type %s: %w", h.SoundFormat, h.PacketType, ErrInvalidHeader)
	}
	return dst, nil
}

// appendExAudioPrefix writes the first byte and the ModEx entries, and the
// wire packet type that follows them.
func appendExAudioPrefix(dst []byte, h AudioTagHeader) ([]byte, error) {
	next, err := audioPacketToWire(h.PacketType)
	if err != nil {
		return nil, fmt.Errorf("audio header: %w", err)
	}
	if h.Multitrack {
		next = audioWireMultitrack
	}
	first := next
	if len(h.ModEx) > 0 {
		first = wireModEx
	}
	if len(h.ModEx) > MaxModEx {
		return nil, fmt.Errorf("audio: %d ModEx entries: %w", len(h.ModEx), ErrInvalidModEx)
	}
	dst = append(dst, SoundFormatExHeader<<4|first)
	if dst, err = appendModEx(dst, h.ModEx, next); err != nil {
		return nil, fmt.Errorf("audio: %w", err)
	}
	return dst, nil
}

// Audio channel orders of a MultichannelConfig packet.
const (
	ChannelOrderUnspecified uint8 = 0
	ChannelOrderNative      uint8 = 1
	ChannelOrderCustom      uint8 = 2
)

// MultichannelConfig is the body of an Enhanced RTMP audio
// MultichannelConfig packet.
type MultichannelConfig struct {
	// ChannelOrder is ChannelOrderUnspecified, ChannelOrderNative or
	// ChannelOrderCustom.
	ChannelOrder uint8
	// ChannelCount is the number of channels.
	ChannelCount uint8
	// Mapping gives the speaker of each channel (ChannelOrderCustom only;
	// ChannelCount entries, aliasing the parsed data).
	Mapping []byte
	// Flags is the AudioChannelMask bit set (ChannelOrderNative only).
	Flags uint32
}

// ParseMultichannelConfig decodes a MultichannelConfig packet body.
func ParseMultichannelConfig(data []byte) (MultichannelConfig, error) {
	if len(data) < 2 {
		return MultichannelConfig{}, fmt.Errorf("multichannel config: %w", ErrTruncated)
	}
	c := MultichannelConfig{ChannelOrder: data[0], ChannelCount: data[1]}
	switch c.ChannelOrder {
	case ChannelOrderUnspecified:
	case ChannelOrderNative:
		if len(data) < 6 {
			return MultichannelConfig{}, fmt.Errorf("multichannel flags: %w", ErrTruncated)
		}
		c.Flags = uint32(data[2])<<24 | uint32(data[3])<<16 | uint32(data[4])<<8 | uint32(data[5])
	case ChannelOrderCustom:
		n := int(c.ChannelCount)
		if len(data) < 2+n {
			return MultichannelConfig{}, fmt.Errorf("multichannel mapping of %d channels: %w", n, ErrTruncated)
		}
		c.Mapping = data[2 : 2+n : 2+n]
	default:
		return MultichannelConfig{}, fmt.Errorf("channel order %d: %w", c.ChannelOrder, ErrInvalidConfig)
	}
	return c, nil
}

// Append appends the encoded MultichannelConfig body.
func (c MultichannelConfig) Append(dst []byte) ([]byte, error) {
	switch c.ChannelOrder {
	case ChannelOrderUnspecified:
		return append(dst, c.ChannelOrder, c.ChannelCount), nil
	case ChannelOrderNative:
		return append(dst, c.ChannelOrder, c.ChannelCount,
			byte(c.Flags>>24), byte(c.Flags>>16), byte(c.Flags>>8), byte(c.Flags)), nil
	case ChannelOrderCustom:
		if len(c.Mapping) != int(c.ChannelCount) {
			return nil, fmt.Errorf("channel mapping has %d entries for %d channels: %w", len(c.Mapping), c.ChannelCount, ErrInvalidConfig)
		}
		return append(append(dst, c.ChannelOrder, c.ChannelCount), c.Mapping...), nil
	}
	return nil, fmt.Errorf("channel order %d: %w", c.ChannelOrder, ErrInvalidConfig)
}
