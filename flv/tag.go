package flv

import "fmt"

// Sizes of the fixed FLV structures.
const (
	// HeaderSize is the size of the FLV file header without PreviousTagSize0.
	HeaderSize = 9
	// TagHeaderSize is the size of an FLV tag header.
	TagHeaderSize = 11
	// PreviousTagSizeLen is the size of the PreviousTagSize field after each tag.
	PreviousTagSizeLen = 4
	// MaxTagDataSize is the largest tag payload the 24-bit DataSize field can
	// describe.
	MaxTagDataSize = 1<<24 - 1
)

// Header is the FLV file header. HasAudio and HasVideo should say honestly
// whether audio and video tags follow: some players wait for a track the
// header announces.
type Header struct {
	HasAudio bool
	HasVideo bool
}

const (
	headerFlagAudio = 0x04
	headerFlagVideo = 0x01
)

// AppendHeader appends the 9-byte FLV file header (version 1) followed by
// the 4-byte PreviousTagSize0 (zero).
func AppendHeader(dst []byte, h Header) []byte {
	var flags byte
	if h.HasAudio {
		flags |= headerFlagAudio
	}
	if h.HasVideo {
		flags |= headerFlagVideo
	}
	return append(dst, 'F', 'L', 'V', 1, flags, 0, 0, 0, HeaderSize, 0, 0, 0, 0)
}

// Tag is one FLV tag: its type, timestamp in milliseconds (the extended
// timestamp byte supplies the upper eight bits) and payload.
type Tag struct {
	Type      TagType
	Timestamp uint32
	Data      []byte
}

// AppendTagHeader appends an 11-byte tag header for a payload of dataSize
// bytes. dataSize must not exceed MaxTagDataSize; larger values are
// truncated to 24 bits, so callers with untrusted sizes check first.
func AppendTagHeader(dst []byte, t TagType, timestamp uint32, dataSize int) []byte {
	return append(dst,
		byte(t)&0x1f,
		byte(dataSize>>16), byte(dataSize>>8), byte(dataSize),
		byte(timestamp>>16), byte(timestamp>>8), byte(timestamp), byte(timestamp>>24),
		0, 0, 0)
}

// AppendTag appends a complete tag: the 11-byte header (with the extended
// timestamp byte), the payload and the 4-byte previous tag size. The payload
// must not exceed MaxTagDataSize (Writer.WriteTag checks it).
func AppendTag(dst []byte, t TagType, timestamp uint32, payload []byte) []byte {
	dst = AppendTagHeader(dst, t, timestamp, len(payload))
	dst = append(dst, payload...)
	size := uint32(TagHeaderSize + len(payload))
	return append(dst, byte(size>>24), byte(size>>16), byte(size>>8), byte(size))
}

// ParseTagHeader decodes an 11-byte tag header: the tag type, the payload
// size and the full 32-bit timestamp. It fails on a short buffer and on tags
// with the Filter (encryption) bit set.
func ParseTagHeader(b []byte) (t TagType, dataSize int, timestamp uint32, err error) {
	if len(b) < TagHeaderSize {
		return 0, 0, 0, fmt.Errorf("tag header: %d bytes: %w", len(b), ErrTruncated)
	}
	if b[0]&0x20 != 0 {
		return 0, 0, 0, fmt.Errorf("tag header: %w", ErrEncryptedTag)
	}
	t = TagType(b[0] & 0x1f)
	dataSize = int(b[1])<<16 | int(b[2])<<8 | int(b[3])
	timestamp = uint32(b[7])<<24 | uint32(b[4])<<16 | uint32(b[5])<<8 | uint32(b[6])
	return t, dataSize, timestamp, nil
}

// parseFileHeader decodes the 9-byte file header and returns its data
// offset.
func parseFileHeader(b []byte) (Header, uint32, error) {
	if len(b) < HeaderSize {
		return Header{}, 0, fmt.Errorf("file header: %w", ErrTruncated)
	}
	if b[0] != 'F' || b[1] != 'L' || b[2] != 'V' {
		return Header{}, 0, ErrNotFLV
	}
	h := Header{HasAudio: b[4]&headerFlagAudio != 0, HasVideo: b[4]&headerFlagVideo != 0}
	offset := uint32(b[5])<<24 | uint32(b[6])<<16 | uint32(b[7])<<8 | uint32(b[8])
	if offset < HeaderSize {
		return Header{}, 0, fmt.Errorf("file header: data offset %d: %w", offset, ErrNotFLV)
	}
	return h, offset, nil
}
