package chunk

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

// Hand builders for chunk bytes, independent of the package's encoder.

// bh is the shortest basic header for chunk type format and chunk stream id.
func bh(format byte, id uint32) []byte {
	switch {
	case id < 64:
		return []byte{format<<6 | byte(id)}
	case id < 320:
		return []byte{format << 6, byte(id - 64)}
	}
	return []byte{format<<6 | 1, byte(id - 64), byte((id - 64) >> 8)}
}

// mh0 is a type 0 message header; tsField is the raw 24-bit field.
func mh0(tsField, length uint32, typ MessageType, streamID uint32) []byte {
	b := []byte{byte(tsField >> 16), byte(tsField >> 8), byte(tsField),
		byte(length >> 16), byte(length >> 8), byte(length), byte(typ)}
	return binary.LittleEndian.AppendUint32(b, streamID)
}

// mh1 is a type 1 message header.
func mh1(deltaField, length uint32, typ MessageType) []byte {
	return []byte{byte(deltaField >> 16), byte(deltaField >> 8), byte(deltaField),
		byte(length >> 16), byte(length >> 8), byte(length), byte(typ)}
}

// mh2 is a type 2 message header.
func mh2(deltaField uint32) []byte {
	return []byte{byte(deltaField >> 16), byte(deltaField >> 8), byte(deltaField)}
}

func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// pattern returns n bytes that never repeat a 4-byte window of small
// timestamps, seeded by seed.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7) + byte(i>>8)
	}
	return b
}

// decodeAll reads messages until io.EOF or an error.
func decodeAll(in []byte, cfg ReaderConfig) ([]Message, *Reader, error) {
	r := NewReader(bytes.NewReader(in), cfg)
	var msgs []Message
	for {
		m, err := r.ReadMessage()
		if errors.Is(err, io.EOF) {
			return msgs, r, nil
		}
		if err != nil {
			return msgs, r, err
		}
		msgs = append(msgs, m)
	}
}

// encodeAll encodes messages with AppendMessage, starting at the default
// chunk size and switching after each Set Chunk Size, as a Writer would.
func encodeAll(msgs []Message) []byte {
	var out []byte
	size := DefaultChunkSize
	for i := range msgs {
		out = AppendMessage(out, &msgs[i], size)
		if msgs[i].Type == TypeSetChunkSize {
			if n, err := ParseSetChunkSize(msgs[i].Payload); err == nil {
				size = int(min(n, MaxChunkSize))
			}
		}
	}
	return out
}

func messagesEqual(a, b []Message) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Type != y.Type || x.Timestamp != y.Timestamp || x.StreamID != y.StreamID ||
			x.ChunkStreamID != y.ChunkStreamID || !bytes.Equal(x.Payload, y.Payload) {
			return false
		}
	}
	return true
}

func logMessages(t *testing.T, label string, msgs []Message) {
	t.Helper()
	for i, m := range msgs {
		t.Logf("%s[%d]: type %d ts %d (%#x) stream %d csid %d, %d bytes", label, i, m.Type, m.Timestamp,
			m.Timestamp, m.StreamID, m.ChunkStreamID, len(m.Payload))
	}
}
