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
// collection, as mediaserver's /metrics exports it.
const liveHeapMetric = "go_gc_heap_live_bytes"

// liveHeap reads the server's live heap: exactly, after a collection it
// asks for, from {httpURL}/debug/pprof/heap when the server serves the
// profiler (mediaserver: http.pprof); otherwise as of the server's last
// collection, from {httpURL}/metrics. -1 when neither answers.
func liveHeap(ctx context.Context, httpURL string) int64 {
	base := strings.TrimSuffix(httpURL, "/")
	if v := scrape(ctx, base+"/debug/pprof/heap?debug=1&gc=1", "# HeapAlloc = "); v >= 0 {
		return v
	}
	return scrape(ctx, base+"/metrics", liveHeapMetric+" ")
}

// scrape fetches url and returns the number after prefix on the first line
// that starts with it, or -1.
func scrape(ctx context.Context, url, prefix string) int64 {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
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
	return parseValue(bufio.NewScanner(resp.Body), prefix)
}

// parseValue returns the number after prefix on the first line of sc that
// starts with it, or -1.
func parseValue(sc *bufio.Scanner, prefix string) int64 {
	for sc.Scan() {
		value, ok := strings.CutPrefix(sc.Text(), prefix)
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
