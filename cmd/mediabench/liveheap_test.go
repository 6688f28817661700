package main

import (
	"bufio"
	"strings"
	"testing"
)

func TestParseValue(t *testing.T) {
	const metric = liveHeapMetric + " "
	for text, want := range map[string]int64{
		"# HELP go_gc_heap_live_bytes x\n# TYPE go_gc_heap_live_bytes gauge\ngo_gc_heap_live_bytes 1.2345e+07\n": 12345000,
		"go_gc_heap_live_bytes_total 5\ngo_gc_heap_live_bytes 42\n":                                              42,
		"go_gc_heap_goal_bytes 5\n": -1,
		"go_gc_heap_live_bytes x\n": -1,
	} {
		if got := parseValue(bufio.NewScanner(strings.NewReader(text)), metric); got != want {
			t.Errorf("parseValue(%q) = %d, want %d", text, got, want)
		}
	}
	heap := "heap profile: 1: 2 [3: 4] @ heap/1048576\n# runtime.MemStats\n# Alloc = 123\n# HeapAlloc = 4567\n"
	if got := parseValue(bufio.NewScanner(strings.NewReader(heap)), "# HeapAlloc = "); got != 4567 {
		t.Errorf("HeapAlloc from a heap profile: %d, want 4567", got)
	}
}
