package httpflv

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
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
	fb := newFanoutBench(b, window)
	srv := httptest.NewUnstartedServer(fb.h)
	srv.EnableHTTP2 = http2
	srv.StartTLS()
	defer srv.Close()

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
	delivered := func() int64 { return slowest() - base }

	b.SetBytes(fb.frameBytes * viewers)
	cpu0, cpuOK := processCPUTime()
	b.ResetTimer()
	for i := range b.N {
		fb.publish(b, i, 64, delivered)
	}
	fb.finish(b)
	wg.Wait()
	cpu1, _ := processCPUTime()
	b.StopTimer()
	for i := range counts {
		if got := counts[i].Load() - base; got != fb.published {
			b.Fatalf("viewer %d read %d bytes, want %d", i, got, fb.published)
		}
	}
	if cpuOK {
		b.ReportMetric(float64((cpu1-cpu0).Nanoseconds())/(float64(b.N)*viewers), "cpu-ns/frame/viewer")
	}
}
