package rtmp_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/rtmp"
	"github.com/mediaserver/mediaserver/rtmp/chunk"
	"github.com/mediaserver/mediaserver/stream"
)

// TestPublishOverStreamBudgetsToldWhy: a publisher refused by the stream
// budgets (streams in total, streams per address) is told which budget in
// its onStatus, NetStream.Publish.Rejected, so that the operator of the
// encoder knows it is not a wrong key.
func TestPublishOverStreamBudgetsToldWhy(t *testing.T) {
	cases := []struct {
		name string
		cfg  stream.Config
		want string
	}{
		{"total", stream.Config{MaxStreams: 2}, "the server has its maximum of 2 streams (stream.max_streams)"},
		{"per address", stream.Config{MaxStreamsPerIP: 2}, "your address has its maximum of 2 streams"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := startServerWith(t, rtmp.ServerConfig{RefusalDelay: 10 * time.Millisecond}, tc.cfg)
			for _, name := range []string{"a", "b"} {
				c, err := rtmp.Dial(context.Background(), s.url(""), rtmp.ClientConfig{})
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				if err := c.Publish(name); err != nil {
					t.Fatalf("publish %s: %v", name, err)
				}
			}
			c, err := rtmp.Dial(context.Background(), s.url(""), rtmp.ClientConfig{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			err = c.Publish("c")
			if !errors.Is(err, rtmp.ErrStatus) || !strings.Contains(err.Error(), "NetStream.Publish.Rejected") ||
				!strings.Contains(err.Error(), tc.want) {
				t.Fatalf("the publisher over the budget: %v\nwant NetStream.Publish.Rejected saying %q", err, tc.want)
			}
			testenv.WaitFor(t, 5*time.Second, "the refusal in the log", func() bool {
				return strings.Contains(s.logs.String(), "publisher refused")
			})
		})
	}
}

// TestIngestOverBitrateBudgetCutWithReason: a publisher sending more than
// stream.max_ingest_bitrate is told why in an error onStatus and its
// connection is closed.
func TestIngestOverBitrateBudgetCutWithReason(t *testing.T) {
	s := startServerWith(t, rtmp.ServerConfig{}, stream.Config{MaxIngestBitrate: 200_000, IngestBitrateWindow: time.Minute})
	c, err := rtmp.Dial(context.Background(), s.url(""), rtmp.ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Publish("fast"); err != nil {
		t.Fatal(err)
	}
	// A minute at 200 kbit/s is 1.5 MB: two 1 MB keyframes are over it.
	frame := make([]byte, 1<<20)
	copy(frame, []byte{0x17, 0x01, 0, 0, 0})
	for i := range 2 {
		if err := c.WriteMedia(chunk.TypeVideo, uint32(i*40), frame); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
	}
	info, err := c.ReadStatus()
	if err != nil {
		t.Fatalf("no onStatus before the connection ended: %v", err)
	}
	code, _ := info.String("code")
	desc, _ := info.String("description")
	want := "more than 0.2 Mbit/s allows (stream.max_ingest_bitrate)"
	if code != "NetStream.Publish.Rejected" || !strings.Contains(desc, want) {
		t.Fatalf("onStatus %v: %v, want NetStream.Publish.Rejected saying %q", code, desc, want)
	}
	testenv.WaitFor(t, 5*time.Second, "the cut-off in the log", func() bool {
		return strings.Contains(s.logs.String(), "publisher cut off") &&
			strings.Contains(s.logs.String(), "limit=ingest_bitrate")
	})
	if got := s.hub.LimitsHit()[stream.LimitIngestBitrate]; got != 1 {
		t.Fatalf("LimitsHit[%s] = %d, want 1", stream.LimitIngestBitrate, got)
	}
}
