package chunk

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ReaderConfig configures a Reader. Zero fields take their defaults.
type ReaderConfig struct {
	// MaxMessageSize caps the length of one message; a header announcing
	// more is an error (ErrMessageTooLarge) before anything is allocated.
	// Default DefaultMaxMessageSize (8 MiB); at most MaxMessageLength.
	MaxMessageSize int
	// MaxChunkStreams caps the number of distinct chunk stream ids the peer
	// may use (ErrTooManyChunkStreams). Default DefaultMaxChunkStreams (64).
	MaxChunkStreams int
	// BufferSize is the size of the bufio.Reader a plain io.Reader is
	// wrapped in. Default DefaultReadBufferSize (16 KiB).
	BufferSize int
}

func (c ReaderConfig) withDefaults() ReaderConfig {
	if c.MaxMessageSize <= 0 {
		c.MaxMessageSize = DefaultMaxMessageSize
	}
	c.MaxMessageSize = min(c.MaxMessageSize, MaxMessageLength)
	if c.MaxChunkStreams <= 0 {
		c.MaxChunkStreams = DefaultMaxChunkStreams
	}
	if c.BufferSize <= 0 {
		c.BufferSize = DefaultReadBufferSize
	}
	c.BufferSize = max(c.BufferSize, minBufferSize)
	return c
}

// minBufferSize is the smallest bufio.Reader the Reader peeks into: a
// header is at most 3+11 bytes, then 4 for an extended timestamp.
const minBufferSize = 64

// lowStreams is the number of chunk stream ids with a 1-byte basic header,
// kept in an array; larger ids go to a map.
const lowStreams = 64

// chunkStream is the state of one chunk stream: the last header seen and
// the message being reassembled.
type chunkStream struct {
	id        uint32
	timestamp uint32 // absolute timestamp of the current (or last) message
	delta     uint32 // timestamp field of the last type 0/1/2 header
	length    uint32
	streamID  uint32
	typ       MessageType
	extended  bool   // the last type 0/1/2 header used the extended timestamp
	payload   []byte // message in progress; nil when none
	filled    uint32 // bytes of payload received
}

// Reader reads RTMP messages from a chunk stream. It applies Set Chunk
// Size and Abort messages itself (and still returns them). It is not safe
// for concurrent use.
//
// In the steady state a Reader allocates nothing per chunk and exactly one
// slice per message: its payload, which the caller owns.
type Reader struct {
	br         *bufio.Reader
	chunkSize  uint32
	maxMessage uint32
	maxStreams int
	nStreams   int
	low        [lowStreams]*chunkStream
	high       map[uint32]*chunkStream
	pending    int // chunk streams with a message in progress
	bytesRead  uint64
	err        error
}

// NewReader returns a Reader over r. r is used as is when it is a
// *bufio.Reader of at least 64 bytes, and wrapped in one otherwise. Bytes
// r buffers beyond the chunk stream are not lost: keep reading through the
// Reader.
func NewReader(r io.Reader, cfg ReaderConfig) *Reader {
	cfg = cfg.withDefaults()
	br, ok := r.(*bufio.Reader)
	if !ok || br.Size() < minBufferSize {
		br = bufio.NewReaderSize(r, cfg.BufferSize)
	}
	return &Reader{
		br:         br,
		chunkSize:  DefaultChunkSize,
		maxMessage: uint32(cfg.MaxMessageSize),
		maxStreams: cfg.MaxChunkStreams,
	}
}

// BytesRead returns the number of bytes of chunk stream consumed so far
// (headers and payloads), the figure acknowledgements report.
func (r *Reader) BytesRead() uint64 { return r.bytesRead }

// ChunkSize returns the chunk size the peer currently uses.
func (r *Reader) ChunkSize() int { return int(r.chunkSize) }

// ReadMessage reads chunks until a message is complete and returns it.
// It returns io.EOF when the stream ends cleanly between messages, and an
// error wrapping io.ErrUnexpectedEOF when it ends inside a chunk or while a
// message is incomplete. Errors are sticky: the chunk stream cannot be
// resynchronised after one.
func (r *Reader) ReadMessage() (Message, error) {
	if r.err != nil {
		return Message{}, r.err
	}
	m, err := r.readMessage()
	if err != nil {
		r.err = err
	}
	return m, err
}

func (r *Reader) readMessage() (Message, error) {
	for {
		cs, err := r.readChunk()
		if err != nil {
			return Message{}, err
		}
		if cs == nil {
			continue
		}
		m := Message{
			Type:          cs.typ,
			Timestamp:     cs.timestamp,
			StreamID:      cs.streamID,
			ChunkStreamID: cs.id,
			Payload:       cs.payload,
		}
		cs.payload, cs.filled = nil, 0
		if err := r.apply(&m); err != nil {
			return Message{}, err
		}
		return m, nil
	}
}

// apply carries out the protocol control messages that change how chunks
// are read.
func (r *Reader) apply(m *Message) error {
	switch m.Type {
	case TypeSetChunkSize:
		size, err := ParseSetChunkSize(m.Payload)
		if err != nil {
			return fmt.Errorf("set chunk size on chunk stream %d: %w", m.ChunkStreamID, err)
		}
		r.chunkSize = min(size, MaxChunkSize)
	case TypeAbort:
		id, err := ParseAbort(m.Payload)
		if err != nil {
			return fmt.Errorf("abort on chunk stream %d: %w", m.ChunkStreamID, err)
		}
		if cs := r.lookup(id); cs != nil && cs.payload != nil {
			cs.payload, cs.filled = nil, 0
			r.pending--
		}
	}
	return nil
}

// headerSize is the size of the message header of each chunk type.
func headerSize(format byte) int {
	switch format {
	case 0:
		return 11
	case 1:
		return 7
	case 2:
		return 3
	}
	return 0
}

// readChunk reads one chunk. It returns the chunk stream when the chunk
// completed a message, nil otherwise.
func (r *Reader) readChunk() (*chunkStream, error) {
	b, err := r.br.Peek(1)
	if err != nil {
		if errors.Is(err, io.EOF) && r.pending == 0 {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("chunk basic header: %w", unexpected(err))
	}
	format := b[0] >> 6
	id := uint32(b[0] & 0x3f)
	basic := 1
	switch id {
	case 0:
		basic = 2
	case 1:
		basic = 3
	}
	n := basic + headerSize(format)
	h := b
	if n > 1 {
		if h, err = r.br.Peek(n); err != nil {
			return nil, fmt.Errorf("chunk header: %w", unexpected(err))
		}
		switch basic {
		case 2:
			id = uint32(h[1]) + 64
		case 3:
			id = uint32(h[1]) + uint32(h[2])<<8 + 64
		}
	}
	cs, err := r.stream(id, format)
	if err != nil {
		return nil, err
	}
	if format == 3 {
		r.discard(n)
		if cs.extended {
			if err := r.skipRepeatedExtendedTimestamp(cs); err != nil {
				return nil, err
			}
		}
		if cs.payload == nil {
			// A type 3 chunk starting a message repeats the previous header,
			// its timestamp delta included.
			cs.timestamp += cs.delta
			if !r.start(cs) {
				return cs, nil
			}
		}
		return r.readPayload(cs)
	}

	if cs.payload != nil {
		return nil, fmt.Errorf("chunk stream %d, type %d header after %d of %d bytes: %w",
			id, format, cs.filled, cs.length, ErrUnfinishedMessage)
	}
	h = h[basic:]
	ts := be24(h)
	if format <= 1 {
		length := be24(h[3:])
		if length > r.maxMessage {
			return nil, fmt.Errorf("chunk stream %d: message of %d bytes (limit %d): %w",
				id, length, r.maxMessage, ErrMessageTooLarge)
		}
		cs.length = length
		cs.typ = MessageType(h[6])
	}
	if format == 0 {
		cs.streamID = binary.LittleEndian.Uint32(h[7:])
	}
	r.discard(n)
	cs.extended = ts == extendedTimestamp
	if cs.extended {
		e, err := r.br.Peek(4)
		if err != nil {
			return nil, fmt.Errorf("chunk stream %d extended timestamp: %w", id, unexpected(err))
		}
		ts = binary.BigEndian.Uint32(e)
		r.discard(4)
	}
	cs.delta = ts
	if format == 0 {
		cs.timestamp = ts
	} else {
		cs.timestamp += ts
	}
	if !r.start(cs) {
		return cs, nil
	}
	return r.readPayload(cs)
}

// skipRepeatedExtendedTimestamp consumes the extended timestamp that a type
// 3 chunk repeats after a header that had one. Some encoders omit it:
// when the next 4 bytes are not the expected value they are payload. A
// stream that ends before 4 more bytes is truncated either way.
func (r *Reader) skipRepeatedExtendedTimestamp(cs *chunkStream) error {
	e, err := r.br.Peek(4)
	if err != nil {
		return fmt.Errorf("chunk stream %d extended timestamp: %w", cs.id, unexpected(err))
	}
	if binary.BigEndian.Uint32(e) == cs.delta {
		r.discard(4)
	}
	return nil
}

// start begins a message on cs. It returns false when the message is
// empty, and so already complete.
func (r *Reader) start(cs *chunkStream) bool {
	if cs.length == 0 {
		return false
	}
	cs.payload = make([]byte, cs.length)
	cs.filled = 0
	r.pending++
	return true
}

// readPayload reads the payload of one chunk into the message in progress
// on cs, and returns cs when that completed the message.
func (r *Reader) readPayload(cs *chunkStream) (*chunkStream, error) {
	n := min(r.chunkSize, cs.length-cs.filled)
	got, err := io.ReadFull(r.br, cs.payload[cs.filled:cs.filled+n])
	r.bytesRead += uint64(got)
	if err != nil {
		return nil, fmt.Errorf("chunk stream %d payload: %w", cs.id, unexpected(err))
	}
	cs.filled += n
	if cs.filled < cs.length {
		return nil, nil
	}
	r.pending--
	return cs, nil
}

// discard consumes n bytes already peeked.
func (r *Reader) discard(n int) {
	d, _ := r.br.Discard(n)
	r.bytesRead += uint64(d)
}

// lookup returns the state of chunk stream id, nil when never seen.
func (r *Reader) lookup(id uint32) *chunkStream {
	if id < lowStreams {
		return r.low[id]
	}
	return r.high[id]
}

// stream returns the state of chunk stream id, creating it for a type 0
// chunk.
func (r *Reader) stream(id uint32, format byte) (*chunkStream, error) {
	if cs := r.lookup(id); cs != nil {
		return cs, nil
	}
	if format != 0 {
		return nil, fmt.Errorf("chunk stream %d, type %d chunk: %w", id, format, ErrNoPreviousHeader)
	}
	if r.nStreams >= r.maxStreams {
		return nil, fmt.Errorf("chunk stream %d (limit %d): %w", id, r.maxStreams, ErrTooManyChunkStreams)
	}
	r.nStreams++
	cs := &chunkStream{id: id}
	if id < lowStreams {
		r.low[id] = cs
	} else {
		if r.high == nil {
			r.high = make(map[uint32]*chunkStream)
		}
		r.high[id] = cs
	}
	return cs, nil
}

// unexpected turns an end of stream inside a chunk into io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

func be24(b []byte) uint32 { return uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]) }
