// Package chunk implements the RTMP chunk stream (RTMP 1.0 specification,
// section 5.3): a Reader that reassembles messages from interleaved chunks,
// a Writer and a stateless AppendMessage that split messages into chunks,
// the protocol control messages (types 1, 2, 3, 5, 6), the user control
// events (type 4) and the splitting of aggregate messages (type 22).
//
// Everything is pure over io.Reader/io.Writer. Every length read off the
// wire is checked against a named cap before anything is allocated.
package chunk

import "fmt"

// Message is one RTMP message.
type Message struct {
	// Type is the message type id (TypeAudio, TypeCommandAMF0, ...).
	Type MessageType
	// Timestamp is the message timestamp in milliseconds (wraps at 2^32).
	Timestamp uint32
	// StreamID is the message stream id (0 for protocol control and
	// NetConnection commands).
	StreamID uint32
	// ChunkStreamID is the chunk stream the message travels on, in
	// MinChunkStreamID..MaxChunkStreamID.
	ChunkStreamID uint32
	// Payload is the message body. Messages returned by Reader own their
	// payload.
	Payload []byte
}

// MessageType is the type id of an RTMP message (RTMP 1.0 specification,
// sections 5.4, 6 and 7.1).
type MessageType uint8

// Message type ids.
const (
	TypeSetChunkSize     MessageType = 1
	TypeAbort            MessageType = 2
	TypeAck              MessageType = 3
	TypeUserControl      MessageType = 4
	TypeWindowAckSize    MessageType = 5
	TypeSetPeerBandwidth MessageType = 6
	TypeAudio            MessageType = 8
	TypeVideo            MessageType = 9
	TypeDataAMF3         MessageType = 15
	TypeSharedObjectAMF3 MessageType = 16
	TypeCommandAMF3      MessageType = 17
	TypeDataAMF0         MessageType = 18
	TypeSharedObjectAMF0 MessageType = 19
	TypeCommandAMF0      MessageType = 20
	TypeAggregate        MessageType = 22
)

// String names the message type as the specification does; an id it
// does not define is printed as "type(N)".
func (t MessageType) String() string {
	switch t {
	case TypeSetChunkSize:
		return "SetChunkSize"
	case TypeAbort:
		return "Abort"
	case TypeAck:
		return "Acknowledgement"
	case TypeUserControl:
		return "UserControl"
	case TypeWindowAckSize:
		return "WindowAckSize"
	case TypeSetPeerBandwidth:
		return "SetPeerBandwidth"
	case TypeAudio:
		return "Audio"
	case TypeVideo:
		return "Video"
	case TypeDataAMF3:
		return "DataAMF3"
	case TypeSharedObjectAMF3:
		return "SharedObjectAMF3"
	case TypeCommandAMF3:
		return "CommandAMF3"
	case TypeDataAMF0:
		return "DataAMF0"
	case TypeSharedObjectAMF0:
		return "SharedObjectAMF0"
	case TypeCommandAMF0:
		return "CommandAMF0"
	case TypeAggregate:
		return "Aggregate"
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// Limits and defaults of the chunk layer.
const (
	// DefaultChunkSize is the chunk size both directions start with.
	DefaultChunkSize = 128
	// MaxChunkSize caps the chunk size actually used. Any chunk size from 1
	// to 2^31-1 is legal on the wire, but since a message is at most
	// MaxMessageLength bytes, every size at or above MaxChunkSize means
	// "one chunk per message"; larger values are clamped to it.
	MaxChunkSize = 16 << 20
	// MaxMessageLength is the largest length a message header can carry
	// (24 bits).
	MaxMessageLength = 1<<24 - 1
	// DefaultMaxMessageSize is the default cap on a message the Reader
	// accepts (8 MiB).
	DefaultMaxMessageSize = 8 << 20
	// DefaultMaxChunkStreams is the default cap on the number of distinct
	// chunk streams one Reader tracks.
	DefaultMaxChunkStreams = 64
	// MinChunkStreamID and MaxChunkStreamID bound chunk stream ids: 0 and
	// 1 select the 2- and 3-byte basic header forms, and the 3-byte form
	// reaches 65599.
	MinChunkStreamID = 2
	MaxChunkStreamID = 65599
	// ControlChunkStreamID is the chunk stream for protocol control
	// messages and user control events.
	ControlChunkStreamID = 2
	// DefaultReadBufferSize is the size of the bufio.Reader NewReader wraps
	// a plain io.Reader in.
	DefaultReadBufferSize = 16 << 10
)

// Header field values.
const (
	extendedTimestamp = 0xFFFFFF // timestamp field value announcing the extended field
	maxChunkSizeField = 1<<31 - 1
)

// ControlMessage returns a protocol control or user control message (type
// 1 to 6) with the given payload on chunk stream 2, message stream 0 and
// timestamp 0, as the specification asks.
func ControlMessage(typ MessageType, payload []byte) Message {
	return Message{Type: typ, ChunkStreamID: ControlChunkStreamID, Payload: payload}
}
