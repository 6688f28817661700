package hls

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

// BenchmarkBlockingReload measures what one part costs the serving side
// with waiters blocked on it: waiters blocking reloads for the next part
// wait on the state, the part is added, and every waiter is answered with
// the shared playlist bytes. Reported per part; allocs/op are those of all
// waiters together.
func BenchmarkBlockingReload(b *testing.B) {
	for _, waiters := range []int{1, 100} {
		b.Run(strconv.Itoa(waiters)+"-waiters", func(b *testing.B) {
			m, err := NewManager(llConfig(), nil, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			tm := &testManager{m: m}
			p := startSynthetic(&testing.T{}, tm)
			p.init()
			p.fullSegment(5)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				p.st.mu.Lock()
				msn, part := p.st.nextSeq, len(p.st.pending)
				p.st.mu.Unlock()
				url := "/live/cam.m3u8?_HLS_msn=" + strconv.FormatUint(msn, 10) + "&_HLS_part=" + strconv.Itoa(part)
				var wg sync.WaitGroup
				for range waiters {
					wg.Go(func() {
						rec := httptest.NewRecorder()
						m.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, url, nil))
						if rec.Code != http.StatusOK {
							b.Errorf("blocking reload: %d %s", rec.Code, rec.Body)
						}
					})
				}
				for {
					p.st.mu.Lock()
					n := p.st.waiting
					p.st.mu.Unlock()
					if n == waiters {
						break
					}
					time.Sleep(50 * time.Microsecond)
				}
				p.part(200 * time.Millisecond)
				if part == 4 {
					p.segment()
				}
				wg.Wait()
			}
		})
	}
}
