package testenv

import (
	"runtime"
	"testing"
	"time"
)

// goroutineGrace is how long CheckGoroutines lets goroutines take to end.
const goroutineGrace = 10 * time.Second

// CheckGoroutines fails the test when, at its end, more goroutines run
// than when it was called, once they have had a few seconds to end; the
// failure lists every goroutine's stack. It runs after the cleanups
// registered later (closing connections, servers), so call it first. Not
// for parallel tests: their goroutines would count.
func CheckGoroutines(t testing.TB) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(goroutineGrace)
		n := runtime.NumGoroutine()
		for n > before && time.Now().Before(deadline) {
			time.Sleep(waitPollInterval)
			n = runtime.NumGoroutine()
		}
		if n > before {
			buf := make([]byte, 1<<20)
			t.Errorf("%d goroutines at the end of the test, %d at its start:\n%s", n, before, buf[:runtime.Stack(buf, true)])
		}
	})
}
