package metrics

import (
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/stream"
)

// fakeLimits is a LimitSource with fixed counts.
type fakeLimits map[string]uint64

func (f fakeLimits) LimitsHit() map[string]uint64 { return f }

func TestLimitHitsAndWaitingStreams(t *testing.T) {
	reg, err := stream.NewRegistry(stream.Config{RepublishWindow: time.Hour}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	h, err := Handler(New(Deps{Hub: reg, Limits: map[string]LimitSource{
		"rtmp": fakeLimits{"connections_per_ip": 7, "handshake_timeout": 2},
		"http": fakeLimits{"header_size": 1},
	}}), nil)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := reg.Publish(stream.Key{App: "live", Name: "cam"}, stream.PublisherInfo{ID: "rtmp-1", Protocol: "rtmp"})
	if err != nil {
		t.Fatal(err)
	}
	publishSome(t, pub, 0, 1)
	f := scrape(t, h)
	for _, tc := range []struct {
		component, limit string
		want             float64
	}{{"rtmp", "connections_per_ip", 7}, {"rtmp", "handshake_timeout", 2}, {"http", "header_size", 1}} {
		if got := mustValue(t, f, "mediaserver_limit_hits_total", "component", tc.component, "limit", tc.limit); got != tc.want {
			t.Errorf("%s/%s = %v, want %v", tc.component, tc.limit, got, tc.want)
		}
	}
	if got := mustValue(t, f, "mediaserver_stream_waiting", "app", "live", "name", "cam"); got != 0 {
		t.Errorf("live stream reported waiting: %v", got)
	}
	pub.Close() // the publisher left: the stream waits for it
	f = scrape(t, h)
	if got := mustValue(t, f, "mediaserver_stream_waiting", "app", "live", "name", "cam"); got != 1 {
		t.Errorf("waiting stream reported %v, want 1", got)
	}
	if got := mustValue(t, f, "mediaserver_streams"); got != 1 {
		t.Errorf("streams %v, want the waiting stream counted", got)
	}
}
