package flv

import "fmt"

// VideoTagHeader is the decoded header of an FLV video tag (the payload of an
// RTMP video message), legacy or Enhanced RTMP.
//
// For a single-track message the codec data is data[HeaderLen:]. For a
// multitrack message (Multitrack true) every track is in Tracks, and Codec,
// CompositionTime and HeaderLen describe the first track; TrackList returns
// the tracks of either kind.
type VideoTagHeader struct {
	// FrameType is 1 key, 2 inter, 3 disposable inter, 4 generated key,
	// 5 command frame. It is ignored for PacketMetadata.
	FrameType uint8
	// Enhanced is set for an Enhanced RTMP header (IsExHeader bit).
	Enhanced bool
	// Codec is the FourCC (for legacy headers mapped from LegacyCodecID; 0
	// when the legacy codec has no FourCC or for command frames).
	Codec FourCC
	// LegacyCodecID is the legacy CodecID (zero for enhanced headers).
	LegacyCodecID uint8
	// PacketType is the normalised packet type. Legacy AVC/HEVC packet types
	// map 0 → SequenceStart, 1 → CodedFrames, 2 → SequenceEnd; other legacy
	// codecs report CodedFrames.
	PacketType PacketType
	// CompositionTime is the composition time offset in milliseconds
	// (legacy AVC/HEVC, and enhanced avc1/hvc1 CodedFrames).
	CompositionTime int32
	// Command is the video command (VideoCommandStartSeek, ...) of a command
	// frame; see IsCommand.
	Command uint8
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

// IsCommand reports whether the tag is a video command frame (frame type 5
// outside a Metadata packet); its only content is Command.
func (h VideoTagHeader) IsCommand() bool {
	return h.FrameType == FrameCommand && h.PacketType != PacketMetadata
}

// Keyframe reports whether the tag carries a key frame (frame type 1 or 4)
// rather than a command or metadata.
func (h VideoTagHeader) Keyframe() bool {
	return (h.FrameType == FrameKey || h.FrameType == FrameGeneratedKey) &&
		!h.IsCommand() && h.PacketType != PacketMetadata
}

// IsSequenceHeader reports whether the tag carries a decoder configuration
// (SequenceStart or MPEG2TSSequenceStart). Video Metadata (HDR colorInfo) is
// configuration too but is reported by PacketType alone.
func (h VideoTagHeader) IsSequenceHeader() bool {
	return !h.IsCommand() &&
		(h.PacketType == PacketSequenceStart || h.PacketType == PacketMPEG2TSSequenceStart)
}

// TimestampNanoOffset returns the TimestampOffsetNano ModEx value, if any.
func (h VideoTagHeader) TimestampNanoOffset() (uint32, bool) {
	return timestampNanoOffset(h.ModEx)
}

// TrackList returns the tracks of the tag whose payload is data (the slice
// the header was parsed from): Tracks for a multitrack tag, otherwise one
// track with ID 0 holding data[HeaderLen:].
func (h VideoTagHeader) TrackList(data []byte) []Track {
	if h.Multitrack {
		return h.Tracks
	}
	if h.HeaderLen > len(data) || h.IsCommand() {
		return nil
	}
	return []Track{{Codec: h.Codec, CompositionTime: h.CompositionTime, Data: data[h.HeaderLen:]}}
}

// ParseVideoTagHeader decodes the header of a video tag payload. It does not
// allocate unless the payload has ModEx entries or several tracks.
func ParseVideoTagHeader(data []byte) (VideoTagHeader, error) {
	if len(data) == 0 {
		return VideoTagHeader{}, fmt.Errorf("video tag: %w", ErrEmpty)
	}
	if data[0]&0x80 == 0 {
		return parseLegacyVideo(data)
	}
	return parseExVideo(data)
}

func parseLegacyVideo(data []byte) (VideoTagHeader, error) {
	h := VideoTagHeader{
		FrameType:     data[0] >> 4,
		LegacyCodecID: data[0] & 0x0f,
		PacketType:    PacketCodedFrames,
		HeaderLen:     1,
	}
	h.Codec = LegacyVideoFourCC(h.LegacyCodecID)
	switch {
	case h.FrameType == FrameCommand:
		if len(data) < 2 {
			return VideoTagHeader{}, fmt.Errorf("video command: %w", ErrTruncated)
		}
		h.Command = data[1]
		h.HeaderLen = 2
	case h.Codec == FourCCAVC || h.Codec == FourCCHEVC:
		if len(data) < 5 {
			return VideoTagHeader{}, fmt.Errorf("%s video header: %w", h.Codec, ErrTruncated)
		}
		if data[1] > 2 {
			return VideoTagHeader{}, fmt.Errorf("%s packet type %d: %w", h.Codec, data[1], ErrUnknownPacketType)
		}
		h.PacketType = PacketType(data[1])
		h.CompositionTime = readSI24(data[2:])
		h.HeaderLen = 5
	}
	return h, nil
}

func parseExVideo(data []byte) (VideoTagHeader, error) {
	h := VideoTagHeader{Enhanced: true, FrameType: data[0] >> 4 & 0x07}
	pos, wire, err := parseModExLoop(data, 1, data[0]&0x0f, &h.ModEx)
	if err != nil {
		return VideoTagHeader{}, fmt.Errorf("video: %w", err)
	}
	if h.PacketType, err = videoPacketFromWire(wire); err != nil {
		return VideoTagHeader{}, fmt.Errorf("video: %w", err)
	}
	if h.IsCommand() {
		if pos >= len(data) {
			return VideoTagHeader{}, fmt.Errorf("video command: %w", ErrTruncated)
		}
		h.Command = data[pos]
		h.HeaderLen = pos + 1
		return h, nil
	}
	if h.PacketType == PacketMultitrack {
		return parseExVideoMultitrack(data, pos, h)
	}
	if h.Codec, pos, err = readFourCC(data, pos); err != nil {
		return VideoTagHeader{}, fmt.Errorf("video: %w", err)
	}
	if hasCompositionTime(h.Codec, h.PacketType) {
		if pos+3 > len(data) {
			return VideoTagHeader{}, fmt.Errorf("video composition time: %w", ErrTruncated)
		}
		h.CompositionTime = readSI24(data[pos:])
		pos += 3
	}
	h.HeaderLen = pos
	return h, nil
}

func parseExVideoMultitrack(data []byte, pos int, h VideoTagHeader) (VideoTagHeader, error) {
	if pos >= len(data) {
		return VideoTagHeader{}, fmt.Errorf("video multitrack: %w", ErrTruncated)
	}
	h.Multitrack = true
	h.MultitrackType = MultitrackType(data[pos] >> 4)
	wire := data[pos] & 0x0f
	pos++
	if h.MultitrackType > MultitrackManyTracksManyCodecs {
		return VideoTagHeader{}, fmt.Errorf("video multitrack type %d: %w", h.MultitrackType, ErrInvalidMultitrack)
	}
	var err error
	if h.PacketType, err = videoPacketFromWire(wire); err != nil {
		return VideoTagHeader{}, fmt.Errorf("video multitrack: %w", err)
	}
	if h.PacketType == PacketMultitrack || h.PacketType == PacketModEx {
		return VideoTagHeader{}, fmt.Errorf("video multitrack packet type %s: %w", h.PacketType, ErrInvalidMultitrack)
	}
	mt := multitrackHeader{typ: h.MultitrackType, packet: h.PacketType, video: true}
	if h.MultitrackType != MultitrackManyTracksManyCodecs {
		if mt.codec, pos, err = readFourCC(data, pos); err != nil {
			return VideoTagHeader{}, fmt.Errorf("video multitrack: %w", err)
		}
	}
	if h.Tracks, h.HeaderLen, err = parseTracks(data, pos, mt); err != nil {
		return VideoTagHeader{}, fmt.Errorf("video multitrack: %w", err)
	}
	h.Codec = h.Tracks[0].Codec
	h.CompositionTime = h.Tracks[0].CompositionTime
	return h, nil
}

// AppendVideoTagHeader appends the header of a single-track video tag: the
// HeaderLen bytes that precede the codec data. Multitrack headers need their
// tracks' data (each track is sized) and are written by AppendVideoTag.
func AppendVideoTagHeader(dst []byte, h VideoTagHeader) ([]byte, error) {
	if h.Multitrack {
		return nil, fmt.Errorf("video header: multitrack needs AppendVideoTag: %w", ErrInvalidMultitrack)
	}
	if !h.Enhanced {
		return appendLegacyVideo(dst, h)
	}
	dst, err := appendExVideoPrefix(dst, h)
	if err != nil || h.IsCommand() {
		return dst, err
	}
	dst = appendFourCC(dst, h.Codec)
	if hasCompositionTime(h.Codec, h.PacketType) {
		if dst, err = appendSI24(dst, h.CompositionTime); err != nil {
			return nil, fmt.Errorf("video header: %w", err)
		}
	}
	return dst, nil
}

// AppendVideoTag appends a complete video tag payload: for a single-track
// header the header followed by body; for a multitrack header the header and
// every track of h.Tracks with its data (body must then be empty).
func AppendVideoTag(dst []byte, h VideoTagHeader, body []byte) ([]byte, error) {
	if !h.Multitrack {
		dst, err := AppendVideoTagHeader(dst, h)
		if err != nil {
			return nil, err
		}
		return append(dst, body...), nil
	}
	if len(body) != 0 {
		return nil, fmt.Errorf("video tag: body given for multitrack header: %w", ErrInvalidMultitrack)
	}
	if !h.Enhanced || h.IsCommand() {
		return nil, fmt.Errorf("video tag: multitrack needs an enhanced non-command header: %w", ErrInvalidMultitrack)
	}
	dst, err := appendExVideoPrefix(dst, h)
	if err != nil {
		return nil, err
	}
	mt := multitrackHeader{typ: h.MultitrackType, packet: h.PacketType, codec: h.Codec, video: true}
	if dst, err = appendTracks(dst, uint8(h.PacketType), mt, h.Tracks); err != nil {
		return nil, fmt.Errorf("video tag: %w", err)
	}
	return dst, nil
}

func appendLegacyVideo(dst []byte, h VideoTagHeader) ([]byte, error) {
	if h.FrameType > 7 || h.LegacyCodecID > 15 || len(h.ModEx) != 0 {
		return nil, fmt.Errorf("legacy video header frame type %d codec %d: %w", h.FrameType, h.LegacyCodecID, ErrInvalidHeader)
	}
	dst = append(dst, h.FrameType<<4|h.LegacyCodecID)
	switch {
	case h.FrameType == FrameCommand:
		return append(dst, h.Command), nil
	case h.LegacyCodecID == VideoCodecAVC || h.LegacyCodecID == VideoCodecHEVC:
		if h.PacketType > PacketSequenceEnd {
			return nil, fmt.Errorf("legacy video packet type %s: %w", h.PacketType, ErrInvalidHeader)
		}
		dst = append(dst, byte(h.PacketType))
		return appendSI24(dst, h.CompositionTime)
	case h.PacketType != PacketCodedFrames:
		return nil, fmt.Errorf("legacy video codec %d packet type %s: %w", h.LegacyCodecID, h.PacketType, ErrInvalidHeader)
	}
	return dst, nil
}

// appendExVideoPrefix writes the first byte, the ModEx entries and, for a
// command frame, the command.
func appendExVideoPrefix(dst []byte, h VideoTagHeader) ([]byte, error) {
	if h.FrameType > 7 {
		return nil, fmt.Errorf("video frame type %d: %w", h.FrameType, ErrInvalidHeader)
	}
	next := uint8(h.PacketType)
	switch {
	case h.IsCommand():
		if h.Multitrack || h.PacketType > PacketMultitrack {
			return nil, fmt.Errorf("video command with packet type %s: %w", h.PacketType, ErrInvalidHeader)
		}
	case h.PacketType > PacketMPEG2TSSequenceStart:
		return nil, fmt.Errorf("video packet type %s: %w", h.PacketType, ErrInvalidHeader)
	case h.Multitrack:
		next = videoWireMultitrack
	}
	first := next
	if len(h.ModEx) > 0 {
		first = wireModEx
	}
	if len(h.ModEx) > MaxModEx {
		return nil, fmt.Errorf("video: %d ModEx entries: %w", len(h.ModEx), ErrInvalidModEx)
	}
	dst = append(dst, 0x80|h.FrameType<<4|first)
	dst, err := appendModEx(dst, h.ModEx, next)
	if err != nil {
		return nil, fmt.Errorf("video: %w", err)
	}
	if h.IsCommand() {
		dst = append(dst, h.Command)
	}
	return dst, nil
}
