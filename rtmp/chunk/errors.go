package chunk

import "errors"

// Errors callers may branch on. They are wrapped with context (the chunk
// stream id, the sizes involved), so test with errors.Is.
var (
	// ErrMessageTooLarge: a message header announces more than the
	// configured MaxMessageSize (or a message to write exceeds
	// MaxMessageLength).
	ErrMessageTooLarge = errors.New("message too large")
	// ErrTooManyChunkStreams: the peer opened more distinct chunk streams
	// than ReaderConfig.MaxChunkStreams.
	ErrTooManyChunkStreams = errors.New("too many chunk streams")
	// ErrNoPreviousHeader: a type 1, 2 or 3 chunk arrived on a chunk stream
	// that never had a type 0 header.
	ErrNoPreviousHeader = errors.New("chunk header refers to a missing previous header")
	// ErrUnfinishedMessage: a type 0, 1 or 2 header arrived on a chunk
	// stream whose previous message is not complete.
	ErrUnfinishedMessage = errors.New("new message header before the previous message is complete")
	// ErrInvalidChunkSize: a chunk size of 0 or with the top bit set.
	ErrInvalidChunkSize = errors.New("invalid chunk size")
	// ErrInvalidChunkStreamID: a chunk stream id outside 2..65599.
	ErrInvalidChunkStreamID = errors.New("invalid chunk stream id")
	// ErrShortPayload: a control message or user control event payload is
	// too short for its fields.
	ErrShortPayload = errors.New("payload too short")
	// ErrMalformedAggregate: an aggregate message whose sub-message headers
	// do not fit its payload.
	ErrMalformedAggregate = errors.New("malformed aggregate message")
)
