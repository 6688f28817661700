package chunk

import (
	"encoding/binary"
	"fmt"
)

// EventType is the type of a user control event (message type 4).
type EventType uint16

// User control event types.
const (
	// EventStreamBegin: the server tells the client a stream became
	// functional (Value: message stream id).
	EventStreamBegin EventType = 0
	// EventStreamEOF: playback of a stream ended (Value: stream id).
	EventStreamEOF EventType = 1
	// EventStreamDry: no more data on a stream for now (Value: stream id).
	EventStreamDry EventType = 2
	// EventSetBufferLength: the client's buffer length (Value: stream id,
	// BufferLength: milliseconds).
	EventSetBufferLength EventType = 3
	// EventStreamIsRecorded: the stream is a recorded one (Value: stream
	// id).
	EventStreamIsRecorded EventType = 4
	// EventPingRequest: the server checks the client is reachable (Value:
	// the server's timestamp).
	EventPingRequest EventType = 6
	// EventPingResponse: the client's answer, echoing the timestamp.
	EventPingResponse EventType = 7
)

// String names the event type.
func (e EventType) String() string {
	switch e {
	case EventStreamBegin:
		return "StreamBegin"
	case EventStreamEOF:
		return "StreamEOF"
	case EventStreamDry:
		return "StreamDry"
	case EventSetBufferLength:
		return "SetBufferLength"
	case EventStreamIsRecorded:
		return "StreamIsRecorded"
	case EventPingRequest:
		return "PingRequest"
	case EventPingResponse:
		return "PingResponse"
	}
	return fmt.Sprintf("Event(%d)", uint16(e))
}

// UserControl is one user control event.
type UserControl struct {
	// Type is the event type.
	Type EventType
	// Value is the event's first field: the message stream id for
	// StreamBegin, StreamEOF, StreamDry, SetBufferLength and
	// StreamIsRecorded; the timestamp for PingRequest and PingResponse.
	Value uint32
	// BufferLength is SetBufferLength's second field, in milliseconds.
	BufferLength uint32
	// Data is the raw event data (after the event type) of event types not
	// listed above, such as SWF verification or buffer empty/ready; nil for
	// the known ones. Parse returns a sub-slice of its input.
	Data []byte
}

// known reports whether e is one of the specified event types.
func (e EventType) known() bool {
	return e <= EventStreamIsRecorded || e == EventPingRequest || e == EventPingResponse
}

// AppendUserControl appends the payload of a user control message.
func AppendUserControl(dst []byte, ev UserControl) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(ev.Type))
	if !ev.Type.known() {
		return append(dst, ev.Data...)
	}
	dst = binary.BigEndian.AppendUint32(dst, ev.Value)
	if ev.Type == EventSetBufferLength {
		dst = binary.BigEndian.AppendUint32(dst, ev.BufferLength)
	}
	return dst
}

// ParseUserControl decodes the payload of a user control message. Known
// events shorter than their fields are ErrShortPayload; trailing bytes are
// ignored.
func ParseUserControl(p []byte) (UserControl, error) {
	if len(p) < 2 {
		return UserControl{}, fmt.Errorf("user control: %d bytes: %w", len(p), ErrShortPayload)
	}
	ev := UserControl{Type: EventType(binary.BigEndian.Uint16(p))}
	p = p[2:]
	if !ev.Type.known() {
		ev.Data = p
		return ev, nil
	}
	need := 4
	if ev.Type == EventSetBufferLength {
		need = 8
	}
	if len(p) < need {
		return UserControl{}, fmt.Errorf("user control %v: %d data bytes: %w", ev.Type, len(p), ErrShortPayload)
	}
	ev.Value = binary.BigEndian.Uint32(p)
	if ev.Type == EventSetBufferLength {
		ev.BufferLength = binary.BigEndian.Uint32(p[4:])
	}
	return ev, nil
}
