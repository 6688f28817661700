package chunk

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"runtime"
	"testing"
)

type readCase struct {
	name string
	in   []byte
	want []Message
	// canonical: encodeAll(want) produces exactly in.
	canonical bool
}

func readCases() []readCase {
	p300 := pattern(300, 1)
	p200 := pattern(200, 2)
	q300 := pattern(300, 3)
	const extTS = 0x01000000
	return []readCase{
		{
			name:      "type 0, 1-byte basic header",
			in:        cat(bh(0, 3), mh0(1000, 5, TypeCommandAMF0, 0), []byte("hello")),
			want:      []Message{{Type: TypeCommandAMF0, Timestamp: 1000, ChunkStreamID: 3, Payload: []byte("hello")}},
			canonical: true,
		},
		{
			name:      "1-byte basic header, largest id 63",
			in:        cat([]byte{63}, mh0(1, 1, TypeAudio, 1), []byte{9}),
			want:      []Message{{Type: TypeAudio, Timestamp: 1, StreamID: 1, ChunkStreamID: 63, Payload: []byte{9}}},
			canonical: true,
		},
		{
			name:      "2-byte basic header, id 64",
			in:        cat([]byte{0, 0}, mh0(2, 1, TypeAudio, 1), []byte{7}),
			want:      []Message{{Type: TypeAudio, Timestamp: 2, StreamID: 1, ChunkStreamID: 64, Payload: []byte{7}}},
			canonical: true,
		},
		{
			name:      "2-byte basic header, id 319",
			in:        cat([]byte{0, 255}, mh0(3, 1, TypeAudio, 1), []byte{7}),
			want:      []Message{{Type: TypeAudio, Timestamp: 3, StreamID: 1, ChunkStreamID: 319, Payload: []byte{7}}},
			canonical: true,
		},
		{
			name:      "3-byte basic header, id 320",
			in:        cat([]byte{1, 0, 1}, mh0(4, 1, TypeVideo, 1), []byte{7}),
			want:      []Message{{Type: TypeVideo, Timestamp: 4, StreamID: 1, ChunkStreamID: 320, Payload: []byte{7}}},
			canonical: true,
		},
		{
			name:      "3-byte basic header, id 65599",
			in:        cat([]byte{1, 0xff, 0xff}, mh0(5, 1, TypeVideo, 1), []byte{7}),
			want:      []Message{{Type: TypeVideo, Timestamp: 5, StreamID: 1, ChunkStreamID: 65599, Payload: []byte{7}}},
			canonical: true,
		},
		{
			name: "3-byte form of a small id (100)",
			in:   cat([]byte{1, 36, 0}, mh0(6, 1, TypeVideo, 1), []byte{7}),
			want: []Message{{Type: TypeVideo, Timestamp: 6, StreamID: 1, ChunkStreamID: 100, Payload: []byte{7}}},
		},
		{
			name:      "continuation chunks at 128",
			in:        cat(bh(0, 4), mh0(0, 300, TypeVideo, 1), p300[:128], bh(3, 4), p300[128:256], bh(3, 4), p300[256:]),
			want:      []Message{{Type: TypeVideo, StreamID: 1, ChunkStreamID: 4, Payload: p300}},
			canonical: true,
		},
		{
			name:      "continuation chunks with 2-byte basic header",
			in:        cat(bh(0, 100), mh0(9, 200, TypeVideo, 1), p200[:128], bh(3, 100), p200[128:]),
			want:      []Message{{Type: TypeVideo, Timestamp: 9, StreamID: 1, ChunkStreamID: 100, Payload: p200}},
			canonical: true,
		},
		{
			name:      "continuation chunks with 3-byte basic header",
			in:        cat(bh(0, 1000), mh0(9, 200, TypeVideo, 1), p200[:128], bh(3, 1000), p200[128:]),
			want:      []Message{{Type: TypeVideo, Timestamp: 9, StreamID: 1, ChunkStreamID: 1000, Payload: p200}},
			canonical: true,
		},
		{
			name: "type 1, 2 and 3 accumulate deltas",
			in: cat(
				bh(0, 4), mh0(1000, 3, TypeAudio, 1), []byte("abc"),
				bh(1, 4), mh1(20, 2, TypeVideo), []byte("de"),
				bh(2, 4), mh2(30), []byte("fg"),
				bh(3, 4), []byte("hi"), // new message: delta 30 again
				bh(3, 4), []byte("jk"),
			),
			want: []Message{
				{Type: TypeAudio, Timestamp: 1000, StreamID: 1, ChunkStreamID: 4, Payload: []byte("abc")},
				{Type: TypeVideo, Timestamp: 1020, StreamID: 1, ChunkStreamID: 4, Payload: []byte("de")},
				{Type: TypeVideo, Timestamp: 1050, StreamID: 1, ChunkStreamID: 4, Payload: []byte("fg")},
				{Type: TypeVideo, Timestamp: 1080, StreamID: 1, ChunkStreamID: 4, Payload: []byte("hi")},
				{Type: TypeVideo, Timestamp: 1110, StreamID: 1, ChunkStreamID: 4, Payload: []byte("jk")},
			},
		},
		{
			name: "type 3 after type 0 uses the timestamp as delta",
			in:   cat(bh(0, 5), mh0(40, 1, TypeAudio, 1), []byte("a"), bh(3, 5), []byte("b")),
			want: []Message{
				{Type: TypeAudio, Timestamp: 40, StreamID: 1, ChunkStreamID: 5, Payload: []byte("a")},
				{Type: TypeAudio, Timestamp: 80, StreamID: 1, ChunkStreamID: 5, Payload: []byte("b")},
			},
		},
		{
			name: "timestamp wraps at 2^32",
			in: cat(
				bh(0, 4), mh0(0xFFFFFF, 1, TypeAudio, 1), u32(0xFFFFFFF0), []byte("a"),
				bh(1, 4), mh1(0x20, 1, TypeAudio), []byte("b"),
			),
			want: []Message{
				{Type: TypeAudio, Timestamp: 0xFFFFFFF0, StreamID: 1, ChunkStreamID: 4, Payload: []byte("a")},
				{Type: TypeAudio, Timestamp: 0x10, StreamID: 1, ChunkStreamID: 4, Payload: []byte("b")},
			},
		},
		{
			name:      "extended timestamp repeated on continuation",
			in:        cat(bh(0, 4), mh0(0xFFFFFF, 200, TypeVideo, 1), u32(extTS), p200[:128], bh(3, 4), u32(extTS), p200[128:]),
			want:      []Message{{Type: TypeVideo, Timestamp: extTS, StreamID: 1, ChunkStreamID: 4, Payload: p200}},
			canonical: true,
		},
		{
			name:      "timestamp exactly 0xFFFFFF is extended",
			in:        cat(bh(0, 4), mh0(0xFFFFFF, 1, TypeVideo, 1), u32(0xFFFFFF), []byte{1}),
			want:      []Message{{Type: TypeVideo, Timestamp: 0xFFFFFF, StreamID: 1, ChunkStreamID: 4, Payload: []byte{1}}},
			canonical: true,
		},
		{
			name: "extended timestamp omitted on continuation",
			in:   cat(bh(0, 4), mh0(0xFFFFFF, 200, TypeVideo, 1), u32(extTS), p200[:128], bh(3, 4), p200[128:]),
			want: []Message{{Type: TypeVideo, Timestamp: extTS, StreamID: 1, ChunkStreamID: 4, Payload: p200}},
		},
		{
			name: "extended delta on type 1, repeated on a type 3 new message",
			in: cat(
				bh(0, 4), mh0(5, 1, TypeAudio, 1), []byte("a"),
				bh(1, 4), mh1(0xFFFFFF, 1, TypeAudio), u32(extTS), []byte("b"),
				bh(3, 4), u32(extTS), []byte("c"),
			),
			want: []Message{
				{Type: TypeAudio, Timestamp: 5, StreamID: 1, ChunkStreamID: 4, Payload: []byte("a")},
				{Type: TypeAudio, Timestamp: extTS + 5, StreamID: 1, ChunkStreamID: 4, Payload: []byte("b")},
				{Type: TypeAudio, Timestamp: 2*extTS + 5, StreamID: 1, ChunkStreamID: 4, Payload: []byte("c")},
			},
		},
		{
			name: "interleaved chunk streams",
			in: cat(
				bh(0, 4), mh0(10, 200, TypeAudio, 1), p200[:128],
				bh(0, 6), mh0(20, 300, TypeVideo, 1), p300[:128],
				bh(3, 4), p200[128:],
				bh(3, 6), p300[128:256],
				bh(3, 6), p300[256:],
			),
			want: []Message{
				{Type: TypeAudio, Timestamp: 10, StreamID: 1, ChunkStreamID: 4, Payload: p200},
				{Type: TypeVideo, Timestamp: 20, StreamID: 1, ChunkStreamID: 6, Payload: p300},
			},
		},
		{
			name: "chunk size changed mid-stream",
			in: cat(
				bh(0, 2), mh0(0, 4, TypeSetChunkSize, 0), u32(200),
				bh(0, 4), mh0(0, 300, TypeVideo, 1), p300[:200], bh(3, 4), p300[200:],
			),
			want: []Message{
				{Type: TypeSetChunkSize, ChunkStreamID: 2, Payload: u32(200)},
				{Type: TypeVideo, StreamID: 1, ChunkStreamID: 4, Payload: p300},
			},
			canonical: true,
		},
		{
			name: "largest chunk size",
			in: cat(
				bh(0, 2), mh0(0, 4, TypeSetChunkSize, 0), u32(0x7FFFFFFF),
				bh(0, 4), mh0(0, 300, TypeVideo, 1), p300,
			),
			want: []Message{
				{Type: TypeSetChunkSize, ChunkStreamID: 2, Payload: u32(0x7FFFFFFF)},
				{Type: TypeVideo, StreamID: 1, ChunkStreamID: 4, Payload: p300},
			},
			canonical: true,
		},
		{
			name: "chunk size 1",
			in: cat(
				bh(0, 2), mh0(0, 4, TypeSetChunkSize, 0), u32(1),
				bh(0, 4), mh0(0, 3, TypeVideo, 1), []byte("x"), bh(3, 4), []byte("y"), bh(3, 4), []byte("z"),
			),
			want: []Message{
				{Type: TypeSetChunkSize, ChunkStreamID: 2, Payload: u32(1)},
				{Type: TypeVideo, StreamID: 1, ChunkStreamID: 4, Payload: []byte("xyz")},
			},
			canonical: true,
		},
		{
			name: "abort discards the partial message",
			in: cat(
				bh(0, 6), mh0(0, 300, TypeVideo, 1), p300[:128],
				bh(0, 2), mh0(0, 4, TypeAbort, 0), u32(6),
				bh(3, 6), q300[:128], bh(3, 6), q300[128:256], bh(3, 6), q300[256:],
			),
			want: []Message{
				{Type: TypeAbort, ChunkStreamID: 2, Payload: u32(6)},
				{Type: TypeVideo, StreamID: 1, ChunkStreamID: 6, Payload: q300},
			},
		},
		{
			name: "abort of an idle or unknown chunk stream",
			in: cat(
				bh(0, 2), mh0(0, 4, TypeAbort, 0), u32(2),
				bh(0, 2), mh0(0, 4, TypeAbort, 0), u32(77),
			),
			want: []Message{
				{Type: TypeAbort, ChunkStreamID: 2, Payload: u32(2)},
				{Type: TypeAbort, ChunkStreamID: 2, Payload: u32(77)},
			},
			canonical: true,
		},
		{
			name: "zero-length messages",
			in: cat(
				bh(0, 3), mh0(7, 0, TypeCommandAMF0, 0),
				bh(3, 3), // a new empty message, timestamp +7
				bh(0, 3), mh0(9, 1, TypeCommandAMF0, 0), []byte("x"),
			),
			want: []Message{
				{Type: TypeCommandAMF0, Timestamp: 7, ChunkStreamID: 3},
				{Type: TypeCommandAMF0, Timestamp: 14, ChunkStreamID: 3},
				{Type: TypeCommandAMF0, Timestamp: 9, ChunkStreamID: 3, Payload: []byte("x")},
			},
		},
		{
			name:      "message stream id is little-endian",
			in:        cat(bh(0, 8), mh0(0, 1, TypeDataAMF0, 0x01020304), []byte{2}),
			want:      []Message{{Type: TypeDataAMF0, StreamID: 0x01020304, ChunkStreamID: 8, Payload: []byte{2}}},
			canonical: true,
		},
	}
}

func TestReadMessageCases(t *testing.T) {
	for _, tc := range readCases() {
		t.Run(tc.name, func(t *testing.T) {
			got, r, err := decodeAll(tc.in, ReaderConfig{})
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !messagesEqual(got, tc.want) {
				logMessages(t, "got", got)
				logMessages(t, "want", tc.want)
				t.Fatal("decoded messages differ")
			}
			if r.BytesRead() != uint64(len(tc.in)) {
				t.Errorf("BytesRead %d, want %d", r.BytesRead(), len(tc.in))
			}
		})
	}
}

// TestEncodeMessageCases runs the same table in the other direction:
// AppendMessage yields the canonical bytes, and whatever it yields
// decodes back to the messages.
func TestEncodeMessageCases(t *testing.T) {
	for _, tc := range readCases() {
		t.Run(tc.name, func(t *testing.T) {
			enc := encodeAll(tc.want)
			if tc.canonical && !bytes.Equal(enc, tc.in) {
				t.Errorf("encoded\n%x\nwant\n%x", enc, tc.in)
			}
			got, _, err := decodeAll(enc, ReaderConfig{})
			if err != nil {
				t.Fatalf("decode encoded: %v", err)
			}
			if !messagesEqual(got, tc.want) {
				logMessages(t, "got", got)
				t.Error("round trip differs")
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	p300 := pattern(300, 1)
	cases := []struct {
		name   string
		in     []byte
		cfg    ReaderConfig
		before int // messages decoded before the error
		want   error
	}{
		{"message larger than the configured cap", cat(bh(0, 3), mh0(0, 101, TypeVideo, 1)),
			ReaderConfig{MaxMessageSize: 100}, 0, ErrMessageTooLarge},
		{"largest length over the default cap", cat(bh(0, 3), mh0(0, 0xFFFFFF, TypeVideo, 1)),
			ReaderConfig{}, 0, ErrMessageTooLarge},
		{"type 1 length over the cap", cat(bh(0, 3), mh0(0, 1, TypeVideo, 1), []byte{1}, bh(1, 3), mh1(0, 101, TypeVideo)),
			ReaderConfig{MaxMessageSize: 100}, 1, ErrMessageTooLarge},
		{"too many chunk streams", cat(
			bh(0, 3), mh0(0, 1, TypeVideo, 1), []byte{1},
			bh(0, 400), mh0(0, 1, TypeVideo, 1), []byte{1},
			bh(0, 5), mh0(0, 1, TypeVideo, 1), []byte{1}),
			ReaderConfig{MaxChunkStreams: 2}, 2, ErrTooManyChunkStreams},
		{"type 1 without previous header", cat(bh(1, 3), mh1(0, 1, TypeVideo), []byte{1}), ReaderConfig{}, 0, ErrNoPreviousHeader},
		{"type 2 without previous header", cat(bh(2, 3), mh2(0), []byte{1}), ReaderConfig{}, 0, ErrNoPreviousHeader},
		{"type 3 without previous header", cat(bh(3, 3), []byte{1}), ReaderConfig{}, 0, ErrNoPreviousHeader},
		{"type 3 on another chunk stream's header", cat(bh(0, 3), mh0(0, 1, TypeVideo, 1), []byte{1}, bh(3, 500), []byte{1}),
			ReaderConfig{}, 1, ErrNoPreviousHeader},
		{"new header before the message is complete", cat(
			bh(0, 4), mh0(0, 300, TypeVideo, 1), p300[:128],
			bh(0, 4), mh0(0, 300, TypeVideo, 1), p300[:128]), ReaderConfig{}, 0, ErrUnfinishedMessage},
		{"type 2 before the message is complete", cat(
			bh(0, 4), mh0(0, 300, TypeVideo, 1), p300[:128], bh(2, 4), mh2(0)), ReaderConfig{}, 0, ErrUnfinishedMessage},
		{"chunk size 0", cat(bh(0, 2), mh0(0, 4, TypeSetChunkSize, 0), u32(0)), ReaderConfig{}, 0, ErrInvalidChunkSize},
		{"chunk size with the top bit", cat(bh(0, 2), mh0(0, 4, TypeSetChunkSize, 0), u32(0x80000080)), ReaderConfig{}, 0, ErrInvalidChunkSize},
		{"short set chunk size", cat(bh(0, 2), mh0(0, 3, TypeSetChunkSize, 0), []byte{0, 1, 0}), ReaderConfig{}, 0, ErrShortPayload},
		{"short abort", cat(bh(0, 2), mh0(0, 2, TypeAbort, 0), []byte{0, 1}), ReaderConfig{}, 0, ErrShortPayload},
		{"end inside a basic header", []byte{0}, ReaderConfig{}, 0, io.ErrUnexpectedEOF},
		{"end inside a message header", cat(bh(0, 3), mh0(0, 1, TypeVideo, 1)[:5]), ReaderConfig{}, 0, io.ErrUnexpectedEOF},
		{"end inside an extended timestamp", cat(bh(0, 3), mh0(0xFFFFFF, 1, TypeVideo, 1), []byte{1, 2}), ReaderConfig{}, 0, io.ErrUnexpectedEOF},
		// Regression: the bytes of a cut-off repeated extended timestamp were
		// taken for the payload of a 1-byte message.
		{"end inside a repeated extended timestamp", cat(
			bh(0, 4), mh0(0xFFFFFF, 1, TypeAudio, 1), u32(0x01000000), []byte("a"),
			bh(3, 4), u32(0x01000000)[:3]), ReaderConfig{}, 1, io.ErrUnexpectedEOF},
		{"end inside a payload", cat(bh(0, 3), mh0(0, 10, TypeVideo, 1), []byte{1, 2}), ReaderConfig{}, 0, io.ErrUnexpectedEOF},
		{"end between chunks of a message", cat(bh(0, 4), mh0(0, 300, TypeVideo, 1), p300[:128]), ReaderConfig{}, 0, io.ErrUnexpectedEOF},
		{"end while another chunk stream is incomplete", cat(
			bh(0, 4), mh0(0, 300, TypeVideo, 1), p300[:128],
			bh(0, 5), mh0(0, 1, TypeAudio, 1), []byte{1}), ReaderConfig{}, 1, io.ErrUnexpectedEOF},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(bytes.NewReader(tc.in), tc.cfg)
			var n int
			var err error
			for {
				if _, err = r.ReadMessage(); err != nil {
					break
				}
				n++
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if n != tc.before {
				t.Errorf("%d messages before the error, want %d", n, tc.before)
			}
			if _, again := r.ReadMessage(); again != err {
				t.Errorf("error not sticky: %v then %v", err, again)
			}
		})
	}
}

// TestReadTruncatedEverywhere cuts a stream of every header kind at every
// byte: the reader returns a prefix of the messages, then io.EOF at message
// boundaries or io.ErrUnexpectedEOF inside.
func TestReadTruncatedEverywhere(t *testing.T) {
	var in []byte
	var all []Message
	for _, tc := range readCases() {
		if tc.name == "chunk size changed mid-stream" || tc.name == "largest chunk size" || tc.name == "chunk size 1" {
			continue // would change the chunk size for the cases after it
		}
		in = append(in, tc.in...)
		all = append(all, tc.want...)
	}
	whole, _, err := decodeAll(in, ReaderConfig{})
	if err != nil || len(whole) != len(all) {
		t.Fatalf("whole stream: %d messages, %v", len(whole), err)
	}
	for cut := 0; cut < len(in); cut++ {
		got, _, err := decodeAll(in[:cut], ReaderConfig{})
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		if !messagesEqual(got, whole[:len(got)]) {
			t.Fatalf("cut at %d: messages differ from the whole stream's", cut)
		}
	}
}

func TestMessageTooLargeDoesNotAllocate(t *testing.T) {
	in := cat(bh(0, 3), mh0(0, 0xFFFFFF, TypeVideo, 1), make([]byte, 64))
	r := NewReader(bytes.NewReader(in), ReaderConfig{})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := r.ReadMessage()
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("err %v", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<10 {
		t.Errorf("allocated %d bytes before refusing the message", grew)
	}
}

func TestReaderAppliesChunkSize(t *testing.T) {
	in := cat(bh(0, 2), mh0(0, 4, TypeSetChunkSize, 0), u32(0x7FFFFFFF))
	r := NewReader(bytes.NewReader(in), ReaderConfig{})
	if r.ChunkSize() != DefaultChunkSize {
		t.Fatalf("initial chunk size %d", r.ChunkSize())
	}
	m, err := r.ReadMessage()
	if err != nil || m.Type != TypeSetChunkSize {
		t.Fatalf("%+v, %v", m, err)
	}
	if r.ChunkSize() != MaxChunkSize {
		t.Errorf("chunk size %d, want the cap %d", r.ChunkSize(), MaxChunkSize)
	}
}

// TestReaderSmallBufio checks that a caller's tiny bufio.Reader (too small
// to peek a header) is wrapped, and a big enough one used as is.
func TestReaderSmallBufio(t *testing.T) {
	tc := readCases()[len(readCases())-1]
	for _, size := range []int{16, 4096} {
		br := bufio.NewReaderSize(bytes.NewReader(tc.in), size)
		r := NewReader(br, ReaderConfig{})
		if (r.br == br) != (size >= minBufferSize) {
			t.Errorf("size %d: bufio reused = %v", size, r.br == br)
		}
		m, err := r.ReadMessage()
		if err != nil || !messagesEqual([]Message{m}, tc.want) {
			t.Errorf("size %d: %+v, %v", size, m, err)
		}
	}
}

// TestReadFFmpegConnect decodes the bytes ffmpeg sent right after the
// handshake: a 195-byte connect command split at 128 bytes.
func TestReadFFmpegConnect(t *testing.T) {
	in, err := os.ReadFile("testdata/ffmpeg_connect.bin")
	if err != nil {
		t.Fatal(err)
	}
	msgs, r, err := decodeAll(in, ReaderConfig{})
	if err != nil || len(msgs) != 1 {
		t.Fatalf("%d messages, %v", len(msgs), err)
	}
	m := msgs[0]
	if m.Type != TypeCommandAMF0 || m.ChunkStreamID != 3 || m.StreamID != 0 || len(m.Payload) != 195 {
		t.Errorf("message %+v", m)
	}
	if !bytes.HasPrefix(m.Payload, []byte("\x02\x00\x07connect")) || !bytes.Contains(m.Payload, []byte("audioCodecs")) {
		t.Errorf("payload %q", m.Payload)
	}
	if r.BytesRead() != uint64(len(in)) {
		t.Errorf("BytesRead %d of %d", r.BytesRead(), len(in))
	}
	if enc := AppendMessage(nil, &m, DefaultChunkSize); !bytes.Equal(enc, in) {
		t.Errorf("re-encoded differs:\n%x\n%x", enc, in)
	}
}

// loopReader replays data forever after an optional prefix.
type loopReader struct {
	data []byte
	off  int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], l.data[l.off:])
		n += c
		l.off = (l.off + c) % len(l.data)
	}
	return n, nil
}

// TestReadAllocatesOncePerMessage pins the steady-state allocation count:
// one slice per message, nothing per chunk.
func TestReadAllocatesOncePerMessage(t *testing.T) {
	for _, chunkSize := range []int{128, 4096} {
		m := Message{Type: TypeVideo, Timestamp: 0x7FFFFFFF, StreamID: 1, ChunkStreamID: 6, Payload: pattern(64<<10, 5)}
		set := ControlMessage(TypeSetChunkSize, AppendSetChunkSize(nil, uint32(chunkSize)))
		r := NewReader(io.MultiReader(bytes.NewReader(AppendMessage(nil, &set, DefaultChunkSize)),
			&loopReader{data: AppendMessage(nil, &m, chunkSize)}), ReaderConfig{})
		if _, err := r.ReadMessage(); err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(50, func() {
			got, err := r.ReadMessage()
			if err != nil || len(got.Payload) != len(m.Payload) || got.Timestamp != m.Timestamp {
				t.Fatalf("%v", err)
			}
		})
		if allocs != 1 {
			t.Errorf("chunk size %d: %.1f allocations per message, want 1", chunkSize, allocs)
		}
	}
}
