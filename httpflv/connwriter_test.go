package httpflv

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

// BenchmarkConnWriterTrySend writes one tag per op the way the stream's
// delivery goroutine writes a parked WebSocket viewer (trySend; flushRest
// and prepareDirect when the socket is full) to a loopback peer that reads
// everything: allocs/op is what the direct path costs per frame per viewer.
func BenchmarkConnWriterTrySend(b *testing.B) {
	server, client := testenv.LoopbackPair(b, nil)
	go func() { _, _ = io.Copy(io.Discard, client) }()
	sess := &session{cancel: func(error) {}}
	w := newConnWriter(server, sess, 10*time.Second, framingWebSocket)
	if !w.canTrySend() {
		b.Fatal("no direct writes on a TCP socket")
	}
	if err := w.prepareDirect(); err != nil {
		b.Fatal(err)
	}
	head, payload, tail := make([]byte, 11), make([]byte, 1400), make([]byte, 4)
	bufs := make([][]byte, 0, 3)
	size := len(head) + len(payload) + len(tail)
	b.ReportAllocs()
	b.SetBytes(int64(size))
	for b.Loop() {
		bufs = append(bufs[:0], head, payload, tail)
		err := w.trySend(bufs, size)
		if errors.Is(err, stream.ErrWouldBlock) {
			if err = w.flushRest(); err == nil {
				err = w.prepareDirect()
			}
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}
