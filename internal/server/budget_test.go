package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/server"
	"github.com/mediaserver/mediaserver/internal/servertest"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/rtmp"
	"github.com/mediaserver/mediaserver/rtmp/chunk"
	"github.com/mediaserver/mediaserver/stream"
)

// TestAbandonedStreamChurnFromOneAddressIsBounded pins the bug where one
// address publishing and dropping thousands of streams (5,367 in 6.5 s)
// took the heap to 2.3 GiB: every dropped stream waited out the republish
// window with its cache, and its HLS segments stayed for a minute more.
// Now the address gets stream.max_streams_per_ip streams, waiting ones
// included; every further publisher is told why and counted, and the bytes
// the caches and HLS hold stay those of the streams admitted.
func TestAbandonedStreamChurnFromOneAddressIsBounded(t *testing.T) {
	const perIP, cycles, frames, frameBytes = 5, 60, 10, 10_000
	srv := servertest.Start(t, func(c *server.Config) {
		c.Stream.MaxStreamsPerIP = perIP
		c.Stream.RepublishWindow = time.Hour
	})
	payload := make([]byte, frameBytes)
	copy(payload, []byte{0x17, 0x01, 0, 0, 0})
	refused := 0
	for i := range cycles {
		c, err := rtmp.Dial(context.Background(), "rtmp://"+srv.RTMPAddr()+"/live", rtmp.ClientConfig{})
		if err != nil {
			t.Fatal(err)
		}
		err = c.Publish(fmt.Sprintf("churn%d", i))
		if err != nil {
			_ = c.Close()
			if !errors.Is(err, rtmp.ErrStatus) || !strings.Contains(err.Error(), "NetStream.Publish.Rejected") ||
				!strings.Contains(err.Error(), "stream.max_streams_per_ip") {
				t.Fatalf("cycle %d: %v, want a refusal naming stream.max_streams_per_ip", i, err)
			}
			refused++
			continue
		}
		_ = c.WriteMedia(chunk.TypeVideo, 0, []byte{0x17, 0x00, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff, 0xe1})
		for f := range frames {
			if err := c.WriteMedia(chunk.TypeVideo, uint32(f*40), payload); err != nil {
				t.Fatalf("cycle %d frame %d: %v", i, f, err)
			}
		}
		_ = c.Close() // abandoned: no FCUnpublish, no deleteStream
	}
	if refused != cycles-perIP {
		t.Fatalf("%d of %d publishers refused, want %d", refused, cycles, cycles-perIP)
	}
	if n := len(srv.Hub().Streams()); n != perIP {
		t.Fatalf("the registry holds %d streams, want %d", n, perIP)
	}
	// The caches and HLS segments of the streams admitted: each stream's
	// frames at most three times over (cache, segment, segment in the
	// making is not counted).
	limit := int64(perIP * 3 * frames * frameBytes)
	if used := srv.Hub().Memory().Used(); used > limit {
		t.Fatalf("%d bytes accounted for %d streams of %d bytes", used, perIP, frames*frameBytes)
	}
	resp, err := http.Get("http://" + srv.HTTPAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	want := fmt.Sprintf(`mediaserver_limit_hits_total{component="stream",limit="streams_per_ip"} %d`, cycles-perIP)
	if !strings.Contains(string(body), want) {
		t.Fatalf("/metrics does not say %s:\n%s", want, body)
	}
}

// TestIngestBitrateBudgetCutsFFmpegPushingFasterThanRealTime: ffmpeg
// pushing a file without -re (as fast as the network takes it) goes over
// stream.max_ingest_bitrate and is cut off with the reason, in its own
// output and in the log; ffmpeg publishing in real time, well under the
// budget, stays on the air over several windows.
func TestIngestBitrateBudgetCutsFFmpegPushingFasterThanRealTime(t *testing.T) {
	logs := &testenv.LogBuffer{}
	srv := servertest.StartWithLogger(t, func(c *server.Config) {
		c.Stream.MaxIngestBitrate = 8_000_000
		c.Stream.IngestBitrateWindow = 5 * time.Second
	}, logs.Logger(slog.LevelInfo))
	base := "rtmp://" + srv.RTMPAddr() + "/live/"
	// The test clip is about 1.1 Mbit/s: real time is far under 8 Mbit/s,
	// two minutes of it at file speed far over 5 s of 8 Mbit/s (5 MB).
	paced := testenv.Publish(t, base+"paced", testenv.Source{})
	var fastArgs []string
	for _, a := range (testenv.Source{Duration: 2 * time.Minute}).Args(t, base+"fast") {
		if a != "-re" {
			fastArgs = append(fastArgs, a)
		}
	}
	fast := testenv.Start(t, "ffmpeg", fastArgs...)
	if exited, _ := fast.Wait(60 * time.Second); !exited {
		t.Fatal("ffmpeg pushing faster than real time was not cut off")
	}
	if !strings.Contains(fast.Output(), "stream.max_ingest_bitrate") {
		t.Errorf("ffmpeg was not told why:\n%s", fast.Output())
	}
	testenv.WaitFor(t, 5*time.Second, "the cut-off in the log", func() bool {
		return strings.Contains(logs.String(), `msg="publisher cut off"`) &&
			strings.Contains(logs.String(), "stream=live/fast") &&
			strings.Contains(logs.String(), "limit=ingest_bitrate")
	})
	key := stream.Key{App: "live", Name: "paced"}
	testenv.WaitFor(t, 60*time.Second, "the paced publisher through more than two windows", func() bool {
		s, ok := srv.Hub().Lookup(key)
		return ok && s.Stats().LastTimestamp >= 11_000
	})
	select {
	case <-paced.Done():
		t.Fatalf("the publisher under the budget stopped:\n%s", paced.Output())
	default:
	}
	if srv.Hub().LimitsHit()[stream.LimitIngestBitrate] != 1 {
		t.Fatalf("the publisher under the budget was cut off too (%d cut off):\n%s",
			srv.Hub().LimitsHit()[stream.LimitIngestBitrate], logs.String())
	}
}
