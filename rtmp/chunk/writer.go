package chunk

import (
	"encoding/binary"
	"fmt"
	"io"
	"slices"
)

// maxRetainedBuffer is the largest encoding buffer a Writer keeps between
// messages; a larger one (after an exceptionally big message) is dropped.
const maxRetainedBuffer = 1 << 20

// Writer writes RTMP messages as chunks. Every message starts with a type 0
// header and continues with type 3 chunks, so the Writer keeps no header
// state: bytes from AppendMessage (for example a serialisation shared
// between players) may be written to the same connection between
// WriteMessage calls, as long as they were built for the same chunk size.
// A Writer is not safe for concurrent use.
type Writer struct {
	w         io.Writer
	chunkSize int
	buf       []byte
}

// NewWriter returns a Writer on w with the default chunk size (128).
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w, chunkSize: DefaultChunkSize}
}

// ChunkSize returns the chunk size the Writer uses (at most MaxChunkSize).
func (w *Writer) ChunkSize() int { return w.chunkSize }

// WriteMessage writes m in chunks with a single Write call. The chunk
// stream id must be in 2..65599 (ErrInvalidChunkStreamID) and the payload
// at most MaxMessageLength bytes (ErrMessageTooLarge).
func (w *Writer) WriteMessage(m *Message) error {
	if err := checkMessage(m); err != nil {
		return err
	}
	w.buf = AppendMessage(w.buf[:0], m, w.chunkSize)
	_, err := w.w.Write(w.buf)
	if cap(w.buf) > maxRetainedBuffer {
		w.buf = nil
	}
	if err != nil {
		return fmt.Errorf("write %v message on chunk stream %d: %w", m.Type, m.ChunkStreamID, err)
	}
	return nil
}

// SetChunkSize sends a Set Chunk Size message announcing n (1 to 2^31-1)
// and then uses that chunk size (clamped to MaxChunkSize, which produces
// the same bytes) for the following messages.
func (w *Writer) SetChunkSize(n int) error {
	if n < 1 || n > maxChunkSizeField {
		return fmt.Errorf("chunk size %d: %w", n, ErrInvalidChunkSize)
	}
	m := ControlMessage(TypeSetChunkSize, AppendSetChunkSize(nil, uint32(n)))
	if err := w.WriteMessage(&m); err != nil {
		return err
	}
	w.chunkSize = min(n, MaxChunkSize)
	return nil
}

// checkMessage validates what AppendMessage cannot encode.
func checkMessage(m *Message) error {
	if m.ChunkStreamID < MinChunkStreamID || m.ChunkStreamID > MaxChunkStreamID {
		return fmt.Errorf("chunk stream id %d: %w", m.ChunkStreamID, ErrInvalidChunkStreamID)
	}
	if len(m.Payload) > MaxMessageLength {
		return fmt.Errorf("payload of %d bytes: %w", len(m.Payload), ErrMessageTooLarge)
	}
	return nil
}

// AppendMessage appends m to dst as chunks of chunkSize bytes: a type 0
// chunk, then type 3 chunks, with the extended timestamp on every chunk
// when the timestamp is 0xFFFFFF or more. It keeps no state, so the same
// message always yields the same bytes. A chunkSize below 1 means
// DefaultChunkSize; above MaxChunkSize, MaxChunkSize.
//
// m must be valid for WriteMessage (chunk stream id in 2..65599, payload
// at most MaxMessageLength bytes); otherwise the output is not decodable.
func AppendMessage(dst []byte, m *Message, chunkSize int) []byte {
	if chunkSize < 1 {
		chunkSize = DefaultChunkSize
	}
	chunkSize = min(chunkSize, MaxChunkSize)
	p := m.Payload
	ext := m.Timestamp >= extendedTimestamp
	basic := basicHeaderSize(m.ChunkStreamID)
	repeat := basic // bytes before each continuation chunk
	if ext {
		repeat += 4
	}
	chunks := max(1, (len(p)+chunkSize-1)/chunkSize)
	dst = slices.Grow(dst, repeat+11+len(p)+(chunks-1)*repeat)

	dst = appendBasicHeader(dst, 0, m.ChunkStreamID)
	ts := min(m.Timestamp, extendedTimestamp)
	n := len(p)
	dst = append(dst,
		byte(ts>>16), byte(ts>>8), byte(ts),
		byte(n>>16), byte(n>>8), byte(n),
		byte(m.Type))
	dst = binary.LittleEndian.AppendUint32(dst, m.StreamID)
	if ext {
		dst = binary.BigEndian.AppendUint32(dst, m.Timestamp)
	}
	first := min(n, chunkSize)
	dst = append(dst, p[:first]...)
	for off := first; off < n; off += chunkSize {
		dst = appendBasicHeader(dst, 3, m.ChunkStreamID)
		if ext {
			dst = binary.BigEndian.AppendUint32(dst, m.Timestamp)
		}
		dst = append(dst, p[off:min(off+chunkSize, n)]...)
	}
	return dst
}

// basicHeaderSize is the size of the shortest basic header for id.
func basicHeaderSize(id uint32) int {
	switch {
	case id < 64:
		return 1
	case id < 64+256:
		return 2
	}
	return 3
}

// appendBasicHeader appends the shortest basic header for chunk type
// format and chunk stream id.
func appendBasicHeader(dst []byte, format byte, id uint32) []byte {
	switch {
	case id < 64:
		return append(dst, format<<6|byte(id))
	case id < 64+256:
		return append(dst, format<<6, byte(id-64))
	}
	v := id - 64
	return append(dst, format<<6|1, byte(v), byte(v>>8))
}
