package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/hls"
	"github.com/mediaserver/mediaserver/httpflv"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/rtmp"
	"github.com/mediaserver/mediaserver/stream"
)

// testServer is a media server assembled in-process from the packages'
// constructors: RTMP ingest and play, HTTP-FLV/WS-FLV and HLS.
type testServer struct {
	rtmpURL, httpURL string
}

// startTestServer starts the server with the HLS settings hlsCfg; it is
// stopped when the test ends.
func startTestServer(t *testing.T, hlsCfg hls.Config) testServer {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	reg, err := stream.NewRegistry(stream.Config{}, log)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := rtmp.NewServer(rtmp.ServerConfig{}, reg, log)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := rs.Serve(ln); err != nil && !errors.Is(err, rtmp.ErrServerClosed) {
			t.Errorf("rtmp serve: %v", err)
		}
	})
	flvh, err := httpflv.New(httpflv.Config{}, reg, log)
	if err != nil {
		t.Fatal(err)
	}
	hlsm, err := hls.NewManager(hlsCfg, reg, log)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, httpflv.PathSuffix) {
			flvh.ServeHTTP(w, r)
			return
		}
		hlsm.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		flvh.Close()
		hlsm.Close()
		hs.Close()
		_ = rs.Close()
		wg.Wait()
		reg.Close()
	})
	return testServer{rtmpURL: "rtmp://" + ln.Addr().String() + "/live", httpURL: hs.URL}
}

// testInputSpec is a small input that ffmpeg encodes in a second or two.
func testInputSpec() inputSpec {
	return inputSpec{
		Width: 320, Height: 180, FPS: 30, VideoKbps: 400, AudioKbps: 64, KeyInt: 30,
		Duration: 3 * time.Second, Preset: "ultrafast",
	}
}

// testInput generates the test input with ffmpeg (required), cached in the
// temporary directory across test runs.
func testInput(t *testing.T) string {
	t.Helper()
	testenv.Tool(t, "ffmpeg")
	path, err := ensureInput(context.Background(), testInputSpec(), filepath.Join(os.TempDir(), "mediabench-test"))
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// publisherKeptPace is the publisher lag below which the machine is taken
// to have run the test normally: a viewer stall then is the server's.
const publisherKeptPace = 500 * time.Millisecond

// TestRunAgainstServer runs the tool's core against in-process servers
// with 5 viewers per protocol, the five runs at once on their own streams.
func TestRunAgainstServer(t *testing.T) {
	// The HLS viewer reads the MPEG-TS variant of one server (fMP4
	// segments are TestHLSViewerReadsFMP4Segments's); the LL-HLS clients
	// read the other's 1 s segments of 200 ms parts.
	srv := startTestServer(t, hls.Config{SegmentDuration: time.Second, Variant: hls.VariantMPEGTS})
	llSrv := startTestServer(t, hls.Config{
		SegmentDuration: time.Second, Variant: hls.VariantLowLatency, PartDuration: 200 * time.Millisecond,
	})
	input := testInput(t)
	protos := []string{protoFLV, protoWS, protoRTMP, protoHLS, protoLLHLS}
	results := make([]*Result, len(protos))
	errs := make([]error, len(protos))
	logs := make([]testenv.LogBuffer, len(protos))
	var wg sync.WaitGroup
	for i, proto := range protos {
		server := srv
		if proto == protoLLHLS {
			server = llSrv
		}
		cfg := Config{
			RTMPURL: server.rtmpURL, HTTPURL: server.httpURL, Stream: "bench-" + proto,
			Viewers: 5, Proto: proto, Duration: 5 * time.Second, Ramp: -1,
			// Three 1 s HLS segments are ready after the warm-up.
			Warmup: 3500 * time.Millisecond, Input: input,
			// The test process is the server: the CPU and memory figures are
			// the test's own, but their code path is the real one.
			ServerPID: os.Getpid(),
		}
		wg.Go(func() {
			results[i], errs[i] = runBench(context.Background(), cfg, logs[i].Logger(slog.LevelInfo))
		})
	}
	wg.Wait()
	for i, proto := range protos {
		t.Run(proto, func(t *testing.T) {
			res, err := results[i], errs[i]
			if err != nil {
				t.Fatalf("run: %v\nlog:\n%s", err, logs[i].String())
			}
			var summary bytes.Buffer
			res.writeSummary(&summary)
			t.Logf("summary:\n%s", summary.String())
			if err := res.failure(); err != nil {
				t.Errorf("run failed: %v", err)
			}
			if res.Connected != 5 || res.Failed != 0 {
				t.Errorf("connected %d, failed %d; want 5, 0 (errors %v)", res.Connected, res.Failed, res.Errors)
			}
			if res.Bytes == 0 {
				t.Error("no bytes delivered")
			}
			switch lag := time.Duration(res.PubMaxLagms * float64(time.Millisecond)); {
			case res.Stalled == 0:
			case lag < publisherKeptPace:
				t.Errorf("%d viewers stalled (longest silence %.0f ms) while the publisher kept pace", res.Stalled, res.MaxSilencems)
			default:
				t.Logf("%d viewers stalled, but the publisher itself was %v late: the machine starved the test", res.Stalled, lag)
			}
			if res.LatencySamples == 0 {
				t.Error("no latency sample")
			}
			if proto == protoLLHLS {
				checkLLHLSRun(t, res)
			}
			if res.ServerCPUSeconds <= 0 || res.PeakRSSBytes <= 0 {
				t.Errorf("server figures missing: cpu %v s, peak RSS %d", res.ServerCPUSeconds, res.PeakRSSBytes)
			}
			header, _, _ := strings.Cut(markdownHeader, "\n")
			if row := res.markdownRow(); strings.Count(row, "|") != strings.Count(header, "|") {
				t.Errorf("markdown row %q does not match the header", row)
			}
		})
	}
}

// checkLLHLSRun checks the LL-HLS clients' figures: parts fetched and
// matched to their send times, none missed while the machine kept pace,
// no error answer.
func checkLLHLSRun(t *testing.T, res *Result) {
	t.Helper()
	ll := res.LLHLS
	if ll == nil || ll.Parts == 0 || ll.FreshSamples == 0 {
		t.Fatalf("LL-HLS figures %+v: want parts with freshness samples", ll)
	}
	if ll.Status5xx != 0 || ll.Status4xx != 0 {
		t.Errorf("%d 4xx and %d 5xx answers", ll.Status4xx, ll.Status5xx)
	}
	switch lag := time.Duration(res.PubMaxLagms * float64(time.Millisecond)); {
	case ll.Missed == 0:
	case lag < publisherKeptPace:
		t.Errorf("%d parts missed while the publisher kept pace", ll.Missed)
	default:
		t.Logf("%d parts missed, but the publisher itself was %v late: the machine starved the test", ll.Missed, lag)
	}
}

// TestRunFailsWithoutServer: a run whose publisher cannot connect is an
// error, not a result.
func TestRunFailsWithoutServer(t *testing.T) {
	input := testInput(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nobody listens there now
	cfg := Config{RTMPURL: "rtmp://" + addr + "/live", Viewers: 1, Input: input, Duration: time.Second}
	if _, err := runBench(context.Background(), cfg, nil); err == nil {
		t.Fatal("run without a server succeeded")
	}
}
