package main

import (
	"bufio"
	"strings"
	"testing"
)

func TestParseLiveHeap(t *testing.T) {
	for text, want := range map[string]int64{
		"# HELP go_gc_heap_live_bytes x\n# TYPE go_gc_heap_live_bytes gauge\ngo_gc_heap_live_bytes 1.2345e+07\n": 12345000,
		"go_gc_heap_live_bytes_total 5\ngo_gc_heap_live_bytes 42\n":                                              42,
		"go_gc_heap_goal_bytes 5\n": -1,
		"go_gc_heap_live_bytes x\n": -1,
	} {
		if got := parseLiveHeap(bufio.NewScanner(strings.NewReader(text))); got != want {
			t.Errorf("parseLiveHeap(%q) = %d, want %d", text, got, want)
		}
	}
}
