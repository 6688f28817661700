package chunk

import (
	"bytes"
	"errors"
	"testing"
)

func TestAppendMessageKnownBytes(t *testing.T) {
	p300 := pattern(300, 9)
	cases := []struct {
		name      string
		m         Message
		chunkSize int
		want      []byte
	}{
		{"empty payload", Message{Type: TypeCommandAMF0, Timestamp: 1, ChunkStreamID: 3},
			128, cat(bh(0, 3), mh0(1, 0, TypeCommandAMF0, 0))},
		{"one chunk exactly", Message{Type: TypeVideo, ChunkStreamID: 6, StreamID: 1, Payload: p300[:128]},
			128, cat(bh(0, 6), mh0(0, 128, TypeVideo, 1), p300[:128])},
		{"one byte over a chunk", Message{Type: TypeVideo, ChunkStreamID: 6, StreamID: 1, Payload: p300[:129]},
			128, cat(bh(0, 6), mh0(0, 129, TypeVideo, 1), p300[:128], bh(3, 6), p300[128:129])},
		{"chunk size 100", Message{Type: TypeVideo, Timestamp: 0xFFFFFE, ChunkStreamID: 6, StreamID: 1, Payload: p300},
			100, cat(bh(0, 6), mh0(0xFFFFFE, 300, TypeVideo, 1), p300[:100], bh(3, 6), p300[100:200], bh(3, 6), p300[200:])},
		{"extended timestamp on every chunk", Message{Type: TypeAudio, Timestamp: 0xFFFFFFFF, ChunkStreamID: 4, StreamID: 1, Payload: p300[:150]},
			128, cat(bh(0, 4), mh0(0xFFFFFF, 150, TypeAudio, 1), u32(0xFFFFFFFF), p300[:128], bh(3, 4), u32(0xFFFFFFFF), p300[128:150])},
		{"2-byte basic headers", Message{Type: TypeAudio, ChunkStreamID: 319, Payload: p300[:130]},
			128, cat([]byte{0, 255}, mh0(0, 130, TypeAudio, 0), p300[:128], []byte{3 << 6, 255}, p300[128:130])},
		{"3-byte basic headers", Message{Type: TypeAudio, ChunkStreamID: 65599, Payload: p300[:130]},
			128, cat([]byte{1, 255, 255}, mh0(0, 130, TypeAudio, 0), p300[:128], []byte{3<<6 | 1, 255, 255}, p300[128:130])},
		{"chunk size below 1 means 128", Message{Type: TypeVideo, ChunkStreamID: 6, Payload: p300[:129]},
			0, cat(bh(0, 6), mh0(0, 129, TypeVideo, 0), p300[:128], bh(3, 6), p300[128:129])},
		{"chunk size above the cap", Message{Type: TypeVideo, ChunkStreamID: 6, Payload: p300},
			1 << 30, cat(bh(0, 6), mh0(0, 300, TypeVideo, 0), p300)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			prefix := []byte("prefix")
			got := AppendMessage(append([]byte(nil), prefix...), &tc.m, tc.chunkSize)
			if !bytes.Equal(got, append(prefix, tc.want...)) {
				t.Fatalf("got\n%x\nwant\n%x", got[len(prefix):], tc.want)
			}
			// And back.
			r := NewReader(bytes.NewReader(tc.want), ReaderConfig{})
			if tc.chunkSize != DefaultChunkSize && tc.chunkSize > 0 {
				set := ControlMessage(TypeSetChunkSize, AppendSetChunkSize(nil, uint32(tc.chunkSize)))
				r = NewReader(bytes.NewReader(cat(AppendMessage(nil, &set, 128), tc.want)), ReaderConfig{})
				if _, err := r.ReadMessage(); err != nil {
					t.Fatal(err)
				}
			}
			m, err := r.ReadMessage()
			if err != nil || !messagesEqual([]Message{m}, []Message{tc.m}) {
				t.Errorf("decoded %+v, %v", m, err)
			}
		})
	}
}

// countingWriter counts Write calls.
type countingWriter struct {
	bytes.Buffer
	writes int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.writes++
	return c.Buffer.Write(p)
}

func TestWriterOneWritePerMessage(t *testing.T) {
	var out countingWriter
	w := NewWriter(&out)
	msgs := []Message{
		{Type: TypeVideo, Timestamp: 40, StreamID: 1, ChunkStreamID: 6, Payload: pattern(1000, 1)},
		{Type: TypeAudio, Timestamp: 0xFFFFFF00 + 0xFF, StreamID: 1, ChunkStreamID: 4, Payload: pattern(300, 2)},
		{Type: TypeCommandAMF0, ChunkStreamID: 3},
	}
	for i := range msgs {
		if err := w.WriteMessage(&msgs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if out.writes != len(msgs) {
		t.Errorf("%d writes for %d messages", out.writes, len(msgs))
	}
	if !bytes.Equal(out.Bytes(), encodeAll(msgs)) {
		t.Error("WriteMessage bytes differ from AppendMessage")
	}
	got, _, err := decodeAll(out.Bytes(), ReaderConfig{})
	if err != nil || !messagesEqual(got, msgs) {
		t.Errorf("decoded %d messages, %v", len(got), err)
	}
}

func TestWriterSetChunkSize(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter(&out)
	if w.ChunkSize() != DefaultChunkSize {
		t.Fatalf("initial chunk size %d", w.ChunkSize())
	}
	big := Message{Type: TypeVideo, StreamID: 1, ChunkStreamID: 6, Payload: pattern(10000, 3)}
	for _, size := range []int{4096, 1, 0x7FFFFFFF, 128} {
		if err := w.SetChunkSize(size); err != nil {
			t.Fatal(err)
		}
		if want := min(size, MaxChunkSize); w.ChunkSize() != want {
			t.Errorf("chunk size %d, want %d", w.ChunkSize(), want)
		}
		if err := w.WriteMessage(&big); err != nil {
			t.Fatal(err)
		}
	}
	r := NewReader(bytes.NewReader(out.Bytes()), ReaderConfig{})
	for _, size := range []int{4096, 1, 0x7FFFFFFF, 128} {
		m, err := r.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := ParseSetChunkSize(m.Payload); m.Type != TypeSetChunkSize || m.ChunkStreamID != 2 || int(n) != size {
			t.Errorf("control message %+v", m)
		}
		m, err = r.ReadMessage()
		if err != nil || !bytes.Equal(m.Payload, big.Payload) {
			t.Fatalf("message after chunk size %d: %v", size, err)
		}
	}
	for _, bad := range []int{0, -1, 0x80000000} {
		if err := w.SetChunkSize(bad); !errors.Is(err, ErrInvalidChunkSize) {
			t.Errorf("SetChunkSize(%d): %v", bad, err)
		}
	}
}

func TestWriteMessageInvalid(t *testing.T) {
	w := NewWriter(&bytes.Buffer{})
	cases := []struct {
		m    Message
		want error
	}{
		{Message{ChunkStreamID: 0}, ErrInvalidChunkStreamID},
		{Message{ChunkStreamID: 1}, ErrInvalidChunkStreamID},
		{Message{ChunkStreamID: 65600}, ErrInvalidChunkStreamID},
		{Message{ChunkStreamID: 3, Payload: make([]byte, MaxMessageLength+1)}, ErrMessageTooLarge},
	}
	for _, tc := range cases {
		if err := w.WriteMessage(&tc.m); !errors.Is(err, tc.want) {
			t.Errorf("csid %d, %d bytes: %v, want %v", tc.m.ChunkStreamID, len(tc.m.Payload), err, tc.want)
		}
	}
}

type failingWriter struct{}

var errWrite = errors.New("broken pipe")

func (failingWriter) Write(p []byte) (int, error) { return 0, errWrite }

func TestWriterReportsWriteError(t *testing.T) {
	w := NewWriter(failingWriter{})
	m := Message{Type: TypeAudio, ChunkStreamID: 4}
	if err := w.WriteMessage(&m); !errors.Is(err, errWrite) {
		t.Errorf("WriteMessage: %v", err)
	}
	if err := w.SetChunkSize(4096); !errors.Is(err, errWrite) || w.ChunkSize() != DefaultChunkSize {
		t.Errorf("SetChunkSize: %v, chunk size %d", err, w.ChunkSize())
	}
}

func TestMessageTypeString(t *testing.T) {
	cases := map[MessageType]string{
		TypeSetChunkSize: "SetChunkSize", TypeAbort: "Abort", TypeAck: "Acknowledgement",
		TypeUserControl: "UserControl", TypeWindowAckSize: "WindowAckSize", TypeSetPeerBandwidth: "SetPeerBandwidth",
		TypeAudio: "Audio", TypeVideo: "Video", TypeDataAMF3: "DataAMF3", TypeSharedObjectAMF3: "SharedObjectAMF3",
		TypeCommandAMF3: "CommandAMF3", TypeDataAMF0: "DataAMF0", TypeSharedObjectAMF0: "SharedObjectAMF0",
		TypeCommandAMF0: "CommandAMF0", TypeAggregate: "Aggregate", 7: "type(7)", 80: "type(80)",
	}
	for typ, want := range cases {
		if got := typ.String(); got != want {
			t.Errorf("MessageType(%d).String() = %q, want %q", uint8(typ), got, want)
		}
	}
}
