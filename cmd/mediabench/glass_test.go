package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/hls"
	"github.com/mediaserver/mediaserver/internal/browsertest"
	"github.com/mediaserver/mediaserver/internal/testenv"
)

// glassResult is what glass.mjs prints.
type glassResult struct {
	Errors       []string `json:"errors"`
	Samples      int      `json:"samples"`
	MedianMs     *float64 `json:"glass_to_glass_median_ms"`
	P95Ms        *float64 `json:"glass_to_glass_p95_ms"`
	HLSJSLatency *float64 `json:"hlsjs_latency_median_s"`
	PlayedSec    float64  `json:"played_s"`
}

// TestGlassScript: glass.mjs plays an LL-HLS stream that the tool's
// publisher feeds with hls.js in headless Chromium and reports the
// glass-to-glass latency it sampled.
func TestGlassScript(t *testing.T) {
	browsertest.RequireTools(t)
	srv := startTestServer(t, hls.Config{
		SegmentDuration: time.Second, Variant: hls.VariantLowLatency, PartDuration: 200 * time.Millisecond,
	})
	cfg := Config{RTMPURL: srv.rtmpURL, HTTPURL: srv.httpURL, Stream: "glass", Viewers: -1,
		Duration: time.Minute, Input: testInput(t)}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	wg.Go(func() { _, _ = runBench(ctx, cfg, nil) })
	url := srv.httpURL + "/live/glass.m3u8"
	testenv.WaitFor(t, 20*time.Second, "a playlist with parts", func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), "#EXT-X-PART:")
	})

	opts, _ := json.Marshal(map[string]any{"url": url, "seconds": 12, "warmup": 3})
	runCtx, stop := context.WithTimeout(context.Background(), 90*time.Second)
	defer stop()
	cmd := exec.CommandContext(runCtx, "node", "glass.mjs", string(opts))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	t.Logf("glass.mjs: %s", out)
	if err != nil {
		t.Fatalf("glass.mjs: %v", err)
	}
	var r glassResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("glass.mjs output: %v", err)
	}
	if len(r.Errors) > 0 || r.Samples == 0 || r.MedianMs == nil || r.PlayedSec < 5 {
		t.Errorf("errors %q, %d samples, median %v, played %.1f s: want samples of steady playback", r.Errors, r.Samples, r.MedianMs, r.PlayedSec)
	}
	if r.MedianMs != nil && *r.MedianMs <= 0 {
		t.Errorf("glass-to-glass median %.0f ms: the frame on screen is dated after the clock", *r.MedianMs)
	}
}
