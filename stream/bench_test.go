package stream

import (
	"context"
	"errors"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// benchGOP is a 2 s GOP at 30 fps video and ~47 fps AAC: 60 video frames
// (4 KiB average) interleaved with 94 audio frames (300 B).
func benchGOP() []*Frame {
	var out []*Frame
	vi, ai := 0, 0
	for vi < 60 || ai < 94 {
		vts, ats := uint32(vi*1000/30), uint32(ai*2000/94)
		if vi < 60 && (ai >= 94 || vts <= ats) {
			if vi == 0 {
				out = append(out, vidKey(vts, 60_000))
			} else {
				out = append(out, vidInter(vts, 3000))
			}
			vi++
		} else {
			out = append(out, aud(ats, 300))
			ai++
		}
	}
	return out
}

// BenchmarkWriteFrame measures the publisher's cost per frame.
func BenchmarkWriteFrame(b *testing.B) {
	for _, bc := range []struct {
		name    string
		readers int
	}{{"no readers", 0}, {"1000 idle readers", 1000}} {
		b.Run(bc.name, func(b *testing.B) {
			reg, p := newTestStream(b, Config{})
			defer reg.Close()
			for range bc.readers {
				defer p.Stream().NewReader(ReaderInfo{}).Close()
			}
			gop := benchGOP()
			var size int64
			for _, f := range gop {
				size += int64(len(f.Payload))
			}
			b.SetBytes(size / int64(len(gop)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				p.WriteFrame(gop[i%len(gop)])
			}
		})
	}
}

// BenchmarkFanout publishes frames to 1000 readers, each in its own
// goroutine reading batches of up to 64 frames until EOF. The publisher is
// held back when the slowest reader is half a cache behind, so every reader
// gets every frame: ns/op is the time to deliver one frame to all 1000
// readers, ns/delivery the cost per frame per reader.
func BenchmarkFanout(b *testing.B) {
	const readers, batch, window = 1000, 64, 1024
	reg, p := newTestStream(b, Config{GOPCacheFrames: 4 * window, GOPCacheBytes: 1 << 30})
	defer reg.Close()
	s := p.Stream()
	gop := benchGOP()
	var size int64
	for _, f := range gop {
		size += int64(len(f.Payload))
	}

	progress := make([]atomic.Int64, readers)
	var wg sync.WaitGroup
	errs := make(chan error, readers)
	for i := range readers {
		r := s.NewReader(ReaderInfo{})
		wg.Go(func() {
			defer r.Close()
			buf := make([]*Frame, batch)
			for {
				n, err := r.Read(context.Background(), buf)
				if errors.Is(err, io.EOF) {
					return
				}
				if err != nil {
					errs <- err
					return
				}
				progress[i].Add(int64(n))
			}
		})
	}
	slowest := func() int64 { return slowestOf(readers, func(i int) int64 { return progress[i].Load() }) }

	b.SetBytes(size / int64(len(gop)))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	publishPaced(b.N, p, gop, window, slowest)
	p.Close()
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	if got := slowest(); got != int64(b.N) {
		b.Fatalf("slowest reader got %d of %d frames", got, b.N)
	}
	if d := s.Stats().Dropped; d != 0 {
		b.Fatalf("%d frames dropped", d)
	}
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(b.N)/readers, "ns/delivery")
}

// countingSink counts the frames the delivery goroutine hands it.
type countingSink struct{ frames atomic.Int64 }

func (s *countingSink) TryWrite(frames []*Frame) error {
	s.frames.Add(int64(len(frames)))
	return nil
}

// BenchmarkDeliverParked publishes frames to 1000 parked readers, written
// by the stream's delivery goroutines to sinks that take everything: ns/op
// is the time to deliver one frame to all 1000, ns/delivery the hub's cost
// per frame per reader (the sink's own write excluded).
func BenchmarkDeliverParked(b *testing.B) {
	const readers, window = 1000, 1024
	reg, p := newTestStream(b, Config{GOPCacheFrames: 4 * window, GOPCacheBytes: 1 << 30})
	s := p.Stream()
	gop := benchGOP()
	sinks := make([]countingSink, readers)
	ended := make(chan error, readers)
	for i := range sinks {
		r := s.NewReader(ReaderInfo{})
		defer r.Close()
		r.Park(&sinks[i], func(err error) { ended <- err })
	}
	slowest := func() int64 { return slowestOf(readers, func(i int) int64 { return sinks[i].frames.Load() }) }
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	publishPaced(b.N, p, gop, window, slowest)
	reg.Close() // ends the stream and waits for the delivery goroutines
	elapsed := time.Since(start)
	b.StopTimer()
	for range readers {
		if err := <-ended; !errors.Is(err, io.EOF) {
			b.Fatalf("reader left with %v", err)
		}
	}
	if got := slowest(); got != int64(b.N) {
		b.Fatalf("slowest reader got %d of %d frames", got, b.N)
	}
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(b.N)/readers, "ns/delivery")
}

// slowestOf returns the least of count(0) … count(n-1).
func slowestOf(n int, count func(i int) int64) int64 {
	low := int64(1 << 62)
	for i := range n {
		low = min(low, count(i))
	}
	return low
}

// publishPaced writes n frames, cycling through gop, and holds the
// publisher back while the slowest consumer (slowest returns how many
// frames it has) is more than window frames behind.
func publishPaced(n int, p *Publisher, gop []*Frame, window int64, slowest func() int64) {
	for i := range n {
		if i%256 == 0 {
			for int64(i)-slowest() > window {
				runtime.Gosched()
			}
		}
		p.WriteFrame(gop[i%len(gop)])
	}
}
