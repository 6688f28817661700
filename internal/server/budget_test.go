package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/server"
	"github.com/mediaserver/mediaserver/internal/servertest"
	"github.com/mediaserver/mediaserver/rtmp"
	"github.com/mediaserver/mediaserver/rtmp/chunk"
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
