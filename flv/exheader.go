package flv

import (
	"fmt"
	"strconv"
)

// PacketType is the normalised packet type of an audio or video tag. Legacy
// AVC/HEVC and AAC packet types and the Enhanced RTMP audio and video packet
// types all map onto it. The values equal the Enhanced RTMP video wire values;
// audio wire values differ (audio MultichannelConfig is 4 and Multitrack 5 on
// the wire) and are translated.
//
// A parsed header never reports PacketMultitrack or PacketModEx: those are
// signals that are resolved while parsing (see the Multitrack and ModEx
// fields); PacketType holds the packet type they lead to.
type PacketType uint8

// Normalised packet types.
const (
	PacketSequenceStart        PacketType = 0 // decoder configuration record
	PacketCodedFrames          PacketType = 1 // coded frames (with composition time for avc1/hvc1)
	PacketSequenceEnd          PacketType = 2 // end of sequence
	PacketCodedFramesX         PacketType = 3 // coded frames, composition time implied zero (video)
	PacketMetadata             PacketType = 4 // AMF-encoded video metadata such as colorInfo (video)
	PacketMPEG2TSSequenceStart PacketType = 5 // MPEG-2 TS descriptor as configuration (video)
	PacketMultitrack           PacketType = 6 // multitrack signal
	PacketModEx                PacketType = 7 // ModEx signal
	PacketMultichannelConfig   PacketType = 8 // audio channel layout (audio; wire value 4)
)

var packetTypeNames = [...]string{
	"SequenceStart", "CodedFrames", "SequenceEnd", "CodedFramesX", "Metadata",
	"MPEG2TSSequenceStart", "Multitrack", "ModEx", "MultichannelConfig",
}

// String returns the packet type's name.
func (p PacketType) String() string {
	if int(p) < len(packetTypeNames) {
		return packetTypeNames[p]
	}
	return "PacketType(" + strconv.Itoa(int(p)) + ")"
}

// Wire values of the Enhanced RTMP audio packet types that differ from the
// normalised ones.
const (
	audioWireMultichannelConfig = 4
	audioWireMultitrack         = 5
	wireModEx                   = 7
	videoWireMultitrack         = 6
)

// videoPacketFromWire validates an Enhanced RTMP video packet type.
func videoPacketFromWire(v uint8) (PacketType, error) {
	if v > uint8(PacketModEx) {
		return 0, fmt.Errorf("video packet type %d: %w", v, ErrUnknownPacketType)
	}
	return PacketType(v), nil
}

// audioPacketFromWire translates an Enhanced RTMP audio packet type.
func audioPacketFromWire(v uint8) (PacketType, error) {
	switch v {
	case 0, 1, 2:
		return PacketType(v), nil
	case audioWireMultichannelConfig:
		return PacketMultichannelConfig, nil
	case audioWireMultitrack:
		return PacketMultitrack, nil
	case wireModEx:
		return PacketModEx, nil
	}
	return 0, fmt.Errorf("audio packet type %d: %w", v, ErrUnknownPacketType)
}

// audioPacketToWire is the inverse of audioPacketFromWire.
func audioPacketToWire(p PacketType) (uint8, error) {
	switch p {
	case PacketSequenceStart, PacketCodedFrames, PacketSequenceEnd:
		return uint8(p), nil
	case PacketMultichannelConfig:
		return audioWireMultichannelConfig, nil
	}
	return 0, fmt.Errorf("audio packet type %s: %w", p, ErrUnknownPacketType)
}

// MultitrackType is the Enhanced RTMP AvMultitrackType.
type MultitrackType uint8

// Multitrack types.
const (
	// MultitrackOneTrack: one track, with a track id but no size field.
	MultitrackOneTrack MultitrackType = 0
	// MultitrackManyTracks: several tracks of one codec, each sized.
	MultitrackManyTracks MultitrackType = 1
	// MultitrackManyTracksManyCodecs: several tracks, each with its own
	// FourCC and size.
	MultitrackManyTracksManyCodecs MultitrackType = 2
)

// Limits on Enhanced RTMP header structures.
const (
	// MaxTracks caps the tracks parsed from one multitrack message.
	MaxTracks = 256
	// MaxModEx caps the ModEx entries parsed from one message.
	MaxModEx = 16
	// maxModExDataSize is the largest ModEx payload the size fields express.
	maxModExDataSize = 1 << 16
	// maxTrackSize is the largest track the UI24 size field expresses.
	maxTrackSize = 1<<24 - 1
)

// ModExTimestampOffsetNano is the ModEx type carrying a nanosecond offset
// (UI24 in the first three data bytes) added to the message timestamp.
const ModExTimestampOffsetNano uint8 = 0

// ModEx is one Enhanced RTMP ModEx entry: a 4-bit type and 1..65536 data
// bytes. Data aliases the parsed payload.
type ModEx struct {
	Type uint8
	Data []byte
}

// NewTimestampOffsetNano returns the ModEx entry for a nanosecond timestamp
// offset (which the spec keeps below 1,000,000).
func NewTimestampOffsetNano(ns uint32) ModEx {
	return ModEx{Type: ModExTimestampOffsetNano, Data: []byte{byte(ns >> 16), byte(ns >> 8), byte(ns)}}
}

// timestampNanoOffset returns the nanosecond offset of the last
// TimestampOffsetNano entry.
func timestampNanoOffset(mods []ModEx) (uint32, bool) {
	for i := len(mods) - 1; i >= 0; i-- {
		if m := mods[i]; m.Type == ModExTimestampOffsetNano && len(m.Data) >= 3 {
			return uint32(m.Data[0])<<16 | uint32(m.Data[1])<<8 | uint32(m.Data[2]), true
		}
	}
	return 0, false
}

// Track is one track of a message. For multitrack messages every track is
// listed; Data is the codec data of the track (after any composition time)
// and aliases the parsed payload. CompositionTime is zero for audio.
type Track struct {
	ID              uint8
	Codec           FourCC
	CompositionTime int32
	Data            []byte
}

// parseModExLoop consumes ModEx entries starting at data[pos] while the
// current wire packet type is ModEx. It returns the next wire packet type.
func parseModExLoop(data []byte, pos int, wire uint8, mods *[]ModEx) (int, uint8, error) {
	for wire == wireModEx {
		if len(*mods) >= MaxModEx {
			return 0, 0, fmt.Errorf("more than %d ModEx entries: %w", MaxModEx, ErrInvalidModEx)
		}
		if pos >= len(data) {
			return 0, 0, fmt.Errorf("ModEx size: %w", ErrTruncated)
		}
		size := int(data[pos]) + 1
		pos++
		if size == 256 {
			if pos+2 > len(data) {
				return 0, 0, fmt.Errorf("ModEx size: %w", ErrTruncated)
			}
			size = int(data[pos])<<8 | int(data[pos+1]) + 1
			pos += 2
		}
		if pos+size+1 > len(data) {
			return 0, 0, fmt.Errorf("ModEx data (%d bytes): %w", size, ErrTruncated)
		}
		m := ModEx{Data: data[pos : pos+size : pos+size]}
		pos += size
		m.Type = data[pos] >> 4
		wire = data[pos] & 0x0f
		pos++
		if m.Type == ModExTimestampOffsetNano && size < 3 {
			return 0, 0, fmt.Errorf("TimestampOffsetNano with %d bytes: %w", size, ErrInvalidModEx)
		}
		*mods = append(*mods, m)
	}
	return pos, wire, nil
}

// appendModEx appends every ModEx entry; the entry after the last one names
// the wire packet type next.
func appendModEx(dst []byte, mods []ModEx, next uint8) ([]byte, error) {
	for i, m := range mods {
		n := len(m.Data)
		switch {
		case n == 0 || n > maxModExDataSize:
			return nil, fmt.Errorf("ModEx data of %d bytes: %w", n, ErrInvalidModEx)
		case m.Type > 0x0f:
			return nil, fmt.Errorf("ModEx type %d: %w", m.Type, ErrInvalidModEx)
		case m.Type == ModExTimestampOffsetNano && n < 3:
			return nil, fmt.Errorf("TimestampOffsetNano with %d bytes: %w", n, ErrInvalidModEx)
		case n < 256:
			dst = append(dst, byte(n-1))
		default:
			dst = append(dst, 0xff, byte((n-1)>>8), byte(n-1))
		}
		dst = append(dst, m.Data...)
		nt := next
		if i < len(mods)-1 {
			nt = wireModEx
		}
		dst = append(dst, m.Type<<4|nt)
	}
	return dst, nil
}

func readFourCC(data []byte, pos int) (FourCC, int, error) {
	if pos+4 > len(data) {
		return 0, 0, fmt.Errorf("FourCC: %w", ErrTruncated)
	}
	return FourCC(data[pos])<<24 | FourCC(data[pos+1])<<16 | FourCC(data[pos+2])<<8 | FourCC(data[pos+3]), pos + 4, nil
}

func appendFourCC(dst []byte, f FourCC) []byte {
	return append(dst, byte(f>>24), byte(f>>16), byte(f>>8), byte(f))
}

// hasCompositionTime reports whether a video CodedFrames packet of codec f
// carries an SI24 composition time.
func hasCompositionTime(f FourCC, p PacketType) bool {
	return p == PacketCodedFrames && (f == FourCCAVC || f == FourCCHEVC)
}

func readSI24(b []byte) int32 {
	v := int32(b[0])<<16 | int32(b[1])<<8 | int32(b[2])
	return v << 8 >> 8
}

func appendSI24(dst []byte, v int32) ([]byte, error) {
	if v < -(1<<23) || v >= 1<<23 {
		return nil, fmt.Errorf("composition time %d out of SI24 range: %w", v, ErrInvalidHeader)
	}
	return append(dst, byte(v>>16), byte(v>>8), byte(v)), nil
}

// multitrackHeader is the shared state of a multitrack message.
type multitrackHeader struct {
	typ    MultitrackType
	packet PacketType
	codec  FourCC // shared codec unless ManyTracksManyCodecs
	video  bool   // video tracks may carry a composition time
}

// parseTracks consumes the track loop starting at data[pos] and returns the
// tracks and the offset of the first track's codec data.
func parseTracks(data []byte, pos int, mt multitrackHeader) ([]Track, int, error) {
	tracks := make([]Track, 0, 1+3*min(int(mt.typ), 1))
	first := 0
	for {
		if len(tracks) >= MaxTracks {
			return nil, 0, fmt.Errorf("more than %d tracks: %w", MaxTracks, ErrInvalidMultitrack)
		}
		t := Track{Codec: mt.codec}
		var err error
		if mt.typ == MultitrackManyTracksManyCodecs {
			if t.Codec, pos, err = readFourCC(data, pos); err != nil {
				return nil, 0, fmt.Errorf("track %d: %w", len(tracks), err)
			}
		}
		if pos >= len(data) {
			return nil, 0, fmt.Errorf("track %d id: %w", len(tracks), ErrTruncated)
		}
		t.ID = data[pos]
		pos++
		end := len(data)
		if mt.typ != MultitrackOneTrack {
			if pos+3 > len(data) {
				return nil, 0, fmt.Errorf("track %d size: %w", len(tracks), ErrTruncated)
			}
			size := int(data[pos])<<16 | int(data[pos+1])<<8 | int(data[pos+2])
			pos += 3
			if pos+size > len(data) {
				return nil, 0, fmt.Errorf("track %d of %d bytes: %w", len(tracks), size, ErrTruncated)
			}
			end = pos + size
		}
		if mt.video && hasCompositionTime(t.Codec, mt.packet) {
			if pos+3 > end {
				return nil, 0, fmt.Errorf("track %d composition time: %w", len(tracks), ErrTruncated)
			}
			t.CompositionTime = readSI24(data[pos:])
			pos += 3
		}
		if len(tracks) == 0 {
			first = pos
		}
		t.Data = data[pos:end:end]
		tracks = append(tracks, t)
		pos = end
		if mt.typ == MultitrackOneTrack || pos >= len(data) {
			return tracks, first, nil
		}
	}
}

// appendTracks writes the multitrack signal byte, the shared FourCC and every
// track with its data.
func appendTracks(dst []byte, wirePacket uint8, mt multitrackHeader, tracks []Track) ([]byte, error) {
	if mt.typ > MultitrackManyTracksManyCodecs {
		return nil, fmt.Errorf("multitrack type %d: %w", mt.typ, ErrInvalidMultitrack)
	}
	if len(tracks) == 0 || len(tracks) > MaxTracks || (mt.typ == MultitrackOneTrack && len(tracks) != 1) {
		return nil, fmt.Errorf("%d tracks for multitrack type %d: %w", len(tracks), mt.typ, ErrInvalidMultitrack)
	}
	dst = append(dst, byte(mt.typ)<<4|wirePacket)
	if mt.typ != MultitrackManyTracksManyCodecs {
		dst = appendFourCC(dst, mt.codec)
	}
	var err error
	for i, t := range tracks {
		if mt.typ == MultitrackManyTracksManyCodecs {
			dst = appendFourCC(dst, t.Codec)
		} else if t.Codec != mt.codec {
			return nil, fmt.Errorf("track %d codec %s differs from shared %s: %w", i, t.Codec, mt.codec, ErrInvalidMultitrack)
		}
		dst = append(dst, t.ID)
		cts := mt.video && hasCompositionTime(t.Codec, mt.packet)
		if mt.typ != MultitrackOneTrack {
			size := len(t.Data)
			if cts {
				size += 3
			}
			if size > maxTrackSize {
				return nil, fmt.Errorf("track %d of %d bytes: %w", i, size, ErrInvalidMultitrack)
			}
			dst = append(dst, byte(size>>16), byte(size>>8), byte(size))
		}
		if cts {
			if dst, err = appendSI24(dst, t.CompositionTime); err != nil {
				return nil, fmt.Errorf("track %d: %w", i, err)
			}
		}
		dst = append(dst, t.Data...)
	}
	return dst, nil
}
