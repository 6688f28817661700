//go:build unix

package httpflv

import (
	"syscall"
	"time"
)

// processCPUTime returns the user+system CPU time the test process used so
// far; benchmarks report it next to wall time because the machines they run
// on are shared.
func processCPUTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
