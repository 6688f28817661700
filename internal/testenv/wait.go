package testenv

import (
	"testing"
	"time"
)

// waitPollInterval is how often WaitFor checks its condition.
const waitPollInterval = 20 * time.Millisecond

// WaitFor polls cond every 20 ms until it holds, failing the test with
// "timed out waiting for <what>" once timeout has passed without it. It
// must be called from the test's goroutine.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(waitPollInterval)
	}
}
