package httpflv

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/stream"
)

// discardWriter is an http.ResponseWriter that drops the body and counts
// it, like a viewer on a fast network.
type discardWriter struct {
	hdr   http.Header
	bytes atomic.Int64
}

func (w *discardWriter) Header() http.Header                { return w.hdr }
func (w *discardWriter) WriteHeader(int)                    {}
func (w *discardWriter) Flush()                             {}
func (w *discardWriter) SetWriteDeadline(t time.Time) error { return nil }
func (w *discardWriter) Write(p []byte) (int, error) {
	w.bytes.Add(int64(len(p)))
	return len(p), nil
}

// benchSchedule is one 2 s GOP at 30 fps video and ~47 fps AAC, as
// (type, offset ms, keyframe, payload size): a 60 KB keyframe, 3 KB inter
// frames, 300 B audio frames, interleaved by timestamp.
type benchFrame struct {
	typ  flv.TagType
	ts   uint32
	key  bool
	size int
}

func benchSchedule() []benchFrame {
	var out []benchFrame
	vi, ai := 0, 0
	for vi < 60 || ai < 94 {
		vts, ats := uint32(vi*1000/30), uint32(ai*2000/94)
		if vi < 60 && (ai >= 94 || vts <= ats) {
			size := 3000
			if vi == 0 {
				size = 60_000
			}
			out = append(out, benchFrame{flv.TagVideo, vts, vi == 0, size})
			vi++
		} else {
			out = append(out, benchFrame{flv.TagAudio, ats, false, 300})
			ai++
		}
	}
	return out
}

// fanoutBench is the publishing side of a fan-out benchmark: a stream
// whose metadata, sequence headers and first keyframe are written, fed from
// benchSchedule with one payload per frame size shared by every frame of
// that size (like a real payload shared by readers), and the handler that
// serves it. The publisher is held back while the slowest viewer is more
// than window frames behind, so nobody drops a frame.
type fanoutBench struct {
	pub      *stream.Publisher
	h        *Handler
	sched    []benchFrame
	payloads map[int][]byte
	// frameBytes is the FLV bytes of an average frame of the schedule;
	// published counts the bytes published since the first frame of the run.
	frameBytes, published int64
	window                int64
}

// newFanoutBench publishes the stream and returns the fixture; the
// registry and handler are closed when the benchmark ends.
func newFanoutBench(b *testing.B, window int) *fanoutBench {
	reg, err := stream.NewRegistry(stream.Config{GOPCacheFrames: 4 * window, GOPCacheBytes: 1 << 30}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(reg.Close)
	pub, err := reg.Publish(testKey, stream.PublisherInfo{})
	if err != nil {
		b.Fatal(err)
	}
	h, err := New(Config{}, reg, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close() })
	fb := &fanoutBench{pub: pub, h: h, sched: benchSchedule(), payloads: map[int][]byte{}, window: int64(window)}
	var gopBytes int64
	for _, f := range fb.sched {
		gopBytes += int64(flv.TagHeaderSize + f.size + flv.PreviousTagSizeLen)
		if fb.payloads[f.size] == nil {
			fb.payloads[f.size] = make([]byte, f.size)
		}
	}
	fb.frameBytes = gopBytes / int64(len(fb.sched))
	pub.WriteFrame(mustFrame(b, flv.TagScript, 0, metadataPayload(true, true)))
	pub.WriteFrame(mustFrame(b, flv.TagVideo, 0, avcSeqHeader))
	pub.WriteFrame(mustFrame(b, flv.TagAudio, 0, aacSeqHeader))
	pub.WriteFrame(mustFrame(b, flv.TagVideo, 0, fb.payload(benchFrame{flv.TagVideo, 0, true, 60_000})))
	return fb
}

// payload returns the shared payload for f, its FLV header bytes set.
func (fb *fanoutBench) payload(f benchFrame) []byte {
	p := fb.payloads[f.size]
	switch {
	case f.typ == flv.TagAudio:
		p[0], p[1] = 0xaf, 0x01
	case f.key:
		p[0], p[1] = 0x17, 0x01
	default:
		p[0], p[1] = 0x27, 0x01
	}
	return p
}

// publish writes frame i of the run (the schedule repeated, timestamps
// running on). Every checkEvery frames it first waits while the publisher
// is more than the window ahead of delivered(), the bytes the slowest
// viewer got since the run began.
func (fb *fanoutBench) publish(b *testing.B, i, checkEvery int, delivered func() int64) {
	if i%checkEvery == 0 {
		for fb.published-delivered() > fb.window*fb.frameBytes {
			runtime.Gosched()
		}
	}
	f := fb.sched[i%len(fb.sched)]
	fr, err := stream.NewFrame(f.typ, 100+uint32(i/len(fb.sched))*2000+f.ts, fb.payload(f))
	if err != nil {
		b.Fatal(err)
	}
	fb.pub.WriteFrame(fr)
	fb.published += int64(flv.TagHeaderSize + f.size + flv.PreviousTagSizeLen)
}

// finish ends the stream and fails the benchmark if a frame was dropped.
func (fb *fanoutBench) finish(b *testing.B) {
	fb.pub.Close()
	if d := fb.pub.Stream().Stats().Dropped; d != 0 {
		b.Fatalf("%d frames dropped", d)
	}
}

// BenchmarkFanout1000 publishes frames to 1000 HTTP-FLV viewers, each a
// real ServeHTTP goroutine (session, stream reader, batching, FLV tags
// shared between viewers, Write+Flush per batch) writing to a discarding
// ResponseWriter. The publisher is held back when the slowest viewer is
// about 1024 frames behind, so nobody drops a frame: ns/op is the cost of
// one frame delivered to all 1000 viewers; ns/frame/viewer and
// allocs/frame/viewer divide it per viewer, and cpu-ns/frame/viewer is the
// process's CPU time (all cores, publisher included) per delivery, which
// shared machines disturb less than wall time.
func BenchmarkFanout1000(b *testing.B) {
	const viewers, window = 1000, 1024
	fb := newFanoutBench(b, window)

	sinks := make([]*discardWriter, viewers)
	var wg sync.WaitGroup
	for i := range sinks {
		w := &discardWriter{hdr: http.Header{}}
		sinks[i] = w
		req := httptest.NewRequestWithContext(context.Background(), "GET", "/live/test.flv", nil)
		wg.Go(func() { fb.h.ServeHTTP(w, req) })
	}
	slowest := func() int64 {
		low := int64(1 << 62)
		for _, w := range sinks {
			low = min(low, w.bytes.Load())
		}
		return low
	}
	for slowest() == 0 {
		time.Sleep(time.Millisecond)
	}
	base := slowest() // every viewer has written the FLV header and the headers
	delivered := func() int64 { return slowest() - base }

	b.SetBytes(fb.frameBytes * viewers)
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu0, cpuOK := processCPUTime()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		fb.publish(b, i, 256, delivered)
	}
	fb.finish(b)
	wg.Wait()
	elapsed := time.Since(start)
	cpu1, _ := processCPUTime()
	b.StopTimer()
	runtime.ReadMemStats(&after)

	for _, w := range sinks {
		if got := w.bytes.Load() - base; got != fb.published {
			b.Fatalf("a viewer wrote %d bytes, want %d", got, fb.published)
		}
	}
	perDelivery := float64(b.N) * viewers
	b.ReportMetric(float64(elapsed.Nanoseconds())/perDelivery, "ns/frame/viewer")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/perDelivery, "allocs/frame/viewer")
	if cpuOK {
		b.ReportMetric(float64((cpu1-cpu0).Nanoseconds())/perDelivery, "cpu-ns/frame/viewer")
	}
}
