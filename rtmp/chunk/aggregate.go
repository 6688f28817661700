package chunk

import (
	"encoding/binary"
	"fmt"
)

// Layout of an aggregate message (type 22): a sequence of sub-messages,
// each an 11-byte header (type 1, data size 3, timestamp 3 + 1 upper byte,
// stream id 3), the data, and a 4-byte back pointer (11 + data size).
const (
	aggregateHeaderSize = 11
	backPointerSize     = 4
)

// SplitAggregate calls fn for each sub-message of the payload of an
// aggregate message (type 22), in order, with the sub-message's type, its
// timestamp relative to the aggregate message's own timestamp and its data.
// Following the usual rule, the first sub-message's timestamp is the
// aggregate's: ts = subTimestamp - firstSubTimestamp (modulo 2^32), so the
// absolute timestamp is aggregate.Timestamp + ts; SplitAggregateAt adds it.
//
// data is a sub-slice of payload (with its capacity cut to its length).
// Sub-message stream ids and back pointer values are not checked: muxers
// get them wrong; a missing back pointer after the last sub-message is
// tolerated. A header or data running past the payload is
// ErrMalformedAggregate. An error from fn stops the walk and is returned
// wrapped.
func SplitAggregate(payload []byte, fn func(typ MessageType, ts uint32, data []byte) error) error {
	return SplitAggregateAt(0, payload, fn)
}

// SplitAggregateAt is SplitAggregate passing absolute timestamps:
// base + (subTimestamp - firstSubTimestamp), where base is the aggregate
// message's timestamp.
func SplitAggregateAt(base uint32, payload []byte, fn func(typ MessageType, ts uint32, data []byte) error) error {
	p := payload
	var first uint32
	for i := 0; len(p) > 0; i++ {
		if len(p) < aggregateHeaderSize {
			return fmt.Errorf("aggregate sub-message %d: %d header bytes: %w", i, len(p), ErrMalformedAggregate)
		}
		typ := MessageType(p[0])
		size := int(be24(p[1:]))
		ts := be24(p[4:]) | uint32(p[7])<<24
		p = p[aggregateHeaderSize:]
		if size > len(p) {
			return fmt.Errorf("aggregate sub-message %d: %d data bytes, %d left: %w", i, size, len(p), ErrMalformedAggregate)
		}
		data := p[:size:size]
		p = p[size:]
		switch {
		case len(p) >= backPointerSize:
			p = p[backPointerSize:]
		case len(p) > 0:
			return fmt.Errorf("aggregate sub-message %d: %d-byte back pointer: %w", i, len(p), ErrMalformedAggregate)
		}
		if i == 0 {
			first = ts
		}
		if err := fn(typ, base+(ts-first), data); err != nil {
			return fmt.Errorf("aggregate sub-message %d (%v): %w", i, typ, err)
		}
	}
	return nil
}

// AggregatePart is one sub-message for AppendAggregate.
type AggregatePart struct {
	// Type is the sub-message type (TypeAudio, TypeVideo, TypeDataAMF0).
	Type MessageType
	// Timestamp is written in the sub-message header (32 bits, the upper
	// byte in the extension byte).
	Timestamp uint32
	// Data is the sub-message body, at most MaxMessageLength bytes.
	Data []byte
}

// AppendAggregate appends an aggregate message payload built from parts,
// with stream id 0 in the sub-message headers and correct back pointers.
func AppendAggregate(dst []byte, parts ...AggregatePart) []byte {
	for _, part := range parts {
		n := len(part.Data)
		ts := part.Timestamp
		dst = append(dst, byte(part.Type),
			byte(n>>16), byte(n>>8), byte(n),
			byte(ts>>16), byte(ts>>8), byte(ts), byte(ts>>24),
			0, 0, 0)
		dst = append(dst, part.Data...)
		dst = binary.BigEndian.AppendUint32(dst, uint32(aggregateHeaderSize+n))
	}
	return dst
}
