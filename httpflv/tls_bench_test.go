package httpflv

import (
	"crypto/tls"
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

// BenchmarkTLSViewers publishes frames to 50 HTTP-FLV viewers over TLS,
// each a Go client on a connection of its own, over HTTP/1.1 (the
// connection taken over, batches gathered into TLS records) and over
// HTTP/2 (written through the response writer). The publisher is held
// back when the slowest viewer is about 1024 frames behind, so nobody
// drops a frame: ns/op is the cost of one frame delivered to all viewers,
// and cpu-ns/frame/viewer is the process's CPU time per delivery, the
// clients' decryption included (they run in the process).
func BenchmarkTLSViewers(b *testing.B) {
	for _, proto := range []string{"HTTP/1.1", "HTTP/2"} {
		b.Run(proto, func(b *testing.B) { benchTLSViewers(b, proto == "HTTP/2") })
	}
}

func benchTLSViewers(b *testing.B, http2 bool) {
	const viewers, window = 50, 1024
	reg, err := stream.NewRegistry(stream.Config{GOPCacheFrames: 4 * window, GOPCacheBytes: 1 << 30}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer reg.Close()
	pub, err := reg.Publish(testKey, stream.PublisherInfo{})
	if err != nil {
		b.Fatal(err)
	}
	h, err := New(Config{}, reg, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	srv := httptest.NewUnstartedServer(h)
	srv.EnableHTTP2 = http2
	srv.StartTLS()
	defer srv.Close()

	sched := benchSchedule()
	var gopBytes int64
	payloads := map[int][]byte{}
	for _, f := range sched {
		gopBytes += int64(flv.TagHeaderSize + f.size + flv.PreviousTagSizeLen)
		if payloads[f.size] == nil {
			payloads[f.size] = make([]byte, f.size)
		}
	}
	payload := func(f benchFrame) []byte {
		p := payloads[f.size]
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
	pub.WriteFrame(mustFrame(b, flv.TagScript, 0, metadataPayload(true, true)))
	pub.WriteFrame(mustFrame(b, flv.TagVideo, 0, avcSeqHeader))
	pub.WriteFrame(mustFrame(b, flv.TagAudio, 0, aacSeqHeader))
	pub.WriteFrame(mustFrame(b, flv.TagVideo, 0, payload(benchFrame{flv.TagVideo, 0, true, 60_000})))

	counts := make([]atomic.Int64, viewers)
	var wg sync.WaitGroup
	for i := range viewers {
		tr := srv.Client().Transport.(*http.Transport).Clone()
		if !http2 {
			tr.ForceAttemptHTTP2 = false
			tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		}
		resp, err := (&http.Client{Transport: tr}).Get(srv.URL + "/live/test.flv")
		if err != nil {
			b.Fatal(err)
		}
		if (resp.ProtoMajor == 2) != http2 {
			b.Fatalf("viewer over %s", resp.Proto)
		}
		wg.Go(func() {
			defer tr.CloseIdleConnections()
			defer resp.Body.Close()
			buf := make([]byte, 64<<10)
			for {
				n, err := resp.Body.Read(buf)
				counts[i].Add(int64(n))
				if err != nil {
					return
				}
			}
		})
	}
	slowest := func() int64 {
		low := int64(1 << 62)
		for i := range counts {
			low = min(low, counts[i].Load())
		}
		return low
	}
	for slowest() == 0 {
		time.Sleep(time.Millisecond)
	}
	base := slowest()

	b.SetBytes(gopBytes / int64(len(sched)) * viewers)
	cpu0, cpuOK := processCPUTime()
	b.ResetTimer()
	var published int64
	for i := range b.N {
		if i%64 == 0 {
			for published-(slowest()-base) > window*gopBytes/int64(len(sched)) {
				runtime.Gosched()
			}
		}
		f := sched[i%len(sched)]
		fr, err := stream.NewFrame(f.typ, 100+uint32(i/len(sched))*2000+f.ts, payload(f))
		if err != nil {
			b.Fatal(err)
		}
		pub.WriteFrame(fr)
		published += int64(flv.TagHeaderSize + f.size + flv.PreviousTagSizeLen)
	}
	pub.Close()
	wg.Wait()
	cpu1, _ := processCPUTime()
	b.StopTimer()
	if d := pub.Stream().Stats().Dropped; d != 0 {
		b.Fatalf("%d frames dropped", d)
	}
	for i := range counts {
		if got := counts[i].Load() - base; got != published {
			b.Fatalf("viewer %d read %d bytes, want %d", i, got, published)
		}
	}
	if cpuOK {
		b.ReportMetric(float64((cpu1-cpu0).Nanoseconds())/(float64(b.N)*viewers), "cpu-ns/frame/viewer")
	}
}
