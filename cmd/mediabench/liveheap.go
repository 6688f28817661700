package main

import (
	"bufio"
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// liveHeapMetric is the server's live heap after its last garbage
// collection, as its /metrics endpoint exports it.
const liveHeapMetric = "go_gc_heap_live_bytes"

// liveHeap reads the server's live heap from {httpURL}/metrics; -1 when it
// cannot (another server, metrics off).
func liveHeap(ctx context.Context, httpURL string) int64 {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(httpURL, "/")+"/metrics", nil)
	if err != nil {
		return -1
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return -1
	}
	return parseLiveHeap(bufio.NewScanner(resp.Body))
}

// parseLiveHeap finds liveHeapMetric in Prometheus text exposition.
func parseLiveHeap(sc *bufio.Scanner) int64 {
	for sc.Scan() {
		value, ok := strings.CutPrefix(sc.Text(), liveHeapMetric+" ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			return -1
		}
		return int64(v)
	}
	return -1
}
