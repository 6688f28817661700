package chunk

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// benchMessage is a 64 KiB video message.
func benchMessage() Message {
	return Message{Type: TypeVideo, Timestamp: 123456, StreamID: 1, ChunkStreamID: 6, Payload: pattern(64<<10, 7)}
}

func BenchmarkReadMessage(b *testing.B) {
	for _, chunkSize := range []int{4096, 128} {
		b.Run(fmt.Sprintf("chunk%d", chunkSize), func(b *testing.B) {
			m := benchMessage()
			set := ControlMessage(TypeSetChunkSize, AppendSetChunkSize(nil, uint32(chunkSize)))
			r := NewReader(io.MultiReader(bytes.NewReader(AppendMessage(nil, &set, DefaultChunkSize)),
				&loopReader{data: AppendMessage(nil, &m, chunkSize)}), ReaderConfig{})
			if _, err := r.ReadMessage(); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(m.Payload)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				got, err := r.ReadMessage()
				if err != nil || len(got.Payload) != len(m.Payload) {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAppendMessage(b *testing.B) {
	for _, chunkSize := range []int{4096, 128} {
		b.Run(fmt.Sprintf("chunk%d", chunkSize), func(b *testing.B) {
			m := benchMessage()
			buf := AppendMessage(nil, &m, chunkSize)
			b.SetBytes(int64(len(m.Payload)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				buf = AppendMessage(buf[:0], &m, chunkSize)
			}
		})
	}
}

func BenchmarkWriteMessage(b *testing.B) {
	for _, chunkSize := range []int{4096, 128} {
		b.Run(fmt.Sprintf("chunk%d", chunkSize), func(b *testing.B) {
			m := benchMessage()
			w := NewWriter(io.Discard)
			if err := w.SetChunkSize(chunkSize); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(m.Payload)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := w.WriteMessage(&m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
