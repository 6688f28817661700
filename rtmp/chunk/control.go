package chunk

import (
	"encoding/binary"
	"fmt"
)

// Protocol control message payloads (types 1, 2, 3, 5 and 6). Each
// Append function appends the payload to dst; each Parse function decodes
// one and ignores trailing bytes. Send them with ControlMessage.

// AppendSetChunkSize appends a Set Chunk Size payload (type 1): the new
// maximum chunk size, 1 to 2^31-1 (the top bit is cleared).
func AppendSetChunkSize(dst []byte, size uint32) []byte {
	return binary.BigEndian.AppendUint32(dst, size&maxChunkSizeField)
}

// ParseSetChunkSize decodes a Set Chunk Size payload. A size of 0 or with
// the top bit set is ErrInvalidChunkSize.
func ParseSetChunkSize(p []byte) (uint32, error) {
	v, err := parseUint32(p, "set chunk size")
	if err != nil {
		return 0, err
	}
	if v == 0 || v > maxChunkSizeField {
		return 0, fmt.Errorf("chunk size %#x: %w", v, ErrInvalidChunkSize)
	}
	return v, nil
}

// AppendAbort appends an Abort payload (type 2): the chunk stream whose
// partly received message the peer must discard.
func AppendAbort(dst []byte, chunkStreamID uint32) []byte {
	return binary.BigEndian.AppendUint32(dst, chunkStreamID)
}

// ParseAbort decodes an Abort payload into its chunk stream id.
func ParseAbort(p []byte) (uint32, error) { return parseUint32(p, "abort") }

// AppendAck appends an Acknowledgement payload (type 3): the sequence
// number, i.e. the bytes received so far (modulo 2^32).
func AppendAck(dst []byte, sequence uint32) []byte {
	return binary.BigEndian.AppendUint32(dst, sequence)
}

// ParseAck decodes an Acknowledgement payload into its sequence number.
func ParseAck(p []byte) (uint32, error) { return parseUint32(p, "acknowledgement") }

// AppendWindowAckSize appends a Window Acknowledgement Size payload (type
// 5): the number of bytes after which the receiver must acknowledge.
func AppendWindowAckSize(dst []byte, size uint32) []byte {
	return binary.BigEndian.AppendUint32(dst, size)
}

// ParseWindowAckSize decodes a Window Acknowledgement Size payload.
func ParseWindowAckSize(p []byte) (uint32, error) {
	return parseUint32(p, "window acknowledgement size")
}

// LimitType is the limit type of a Set Peer Bandwidth message.
type LimitType uint8

// Limit types of Set Peer Bandwidth.
const (
	// LimitHard: limit the output bandwidth to the window size.
	LimitHard LimitType = 0
	// LimitSoft: limit to the window size or the current limit, whichever
	// is smaller.
	LimitSoft LimitType = 1
	// LimitDynamic: hard if the previous limit was hard, ignored otherwise.
	LimitDynamic LimitType = 2
)

// String names the limit type.
func (l LimitType) String() string {
	switch l {
	case LimitHard:
		return "hard"
	case LimitSoft:
		return "soft"
	case LimitDynamic:
		return "dynamic"
	}
	return fmt.Sprintf("limit(%d)", uint8(l))
}

// SetPeerBandwidth is the payload of a Set Peer Bandwidth message (type 6).
type SetPeerBandwidth struct {
	// Size is the acknowledgement window size in bytes.
	Size uint32
	// Limit is the limit type; values other than 0-2 are kept as received.
	Limit LimitType
}

// AppendSetPeerBandwidth appends a Set Peer Bandwidth payload.
func AppendSetPeerBandwidth(dst []byte, b SetPeerBandwidth) []byte {
	dst = binary.BigEndian.AppendUint32(dst, b.Size)
	return append(dst, byte(b.Limit))
}

// ParseSetPeerBandwidth decodes a Set Peer Bandwidth payload.
func ParseSetPeerBandwidth(p []byte) (SetPeerBandwidth, error) {
	if len(p) < 5 {
		return SetPeerBandwidth{}, fmt.Errorf("set peer bandwidth: %d bytes: %w", len(p), ErrShortPayload)
	}
	return SetPeerBandwidth{Size: binary.BigEndian.Uint32(p), Limit: LimitType(p[4])}, nil
}

func parseUint32(p []byte, what string) (uint32, error) {
	if len(p) < 4 {
		return 0, fmt.Errorf("%s: %d bytes: %w", what, len(p), ErrShortPayload)
	}
	return binary.BigEndian.Uint32(p), nil
}
