package metrics

import (
	"strings"
	"testing"

	"github.com/mediaserver/mediaserver/stream"
)

// fakeAdmin returns fixed refusal counts.
type fakeAdmin map[string]uint64

func (f fakeAdmin) Refusals() map[string]uint64 { return f }

// TestStreamNamesLeftOutOfLabels: with the per-stream series off, no
// series carries a live stream's name, and the totals still count it.
func TestStreamNamesLeftOutOfLabels(t *testing.T) {
	reg, err := stream.NewRegistry(stream.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	pub, err := reg.Publish(stream.Key{App: "live", Name: "secret-show"}, stream.PublisherInfo{ID: "rtmp-1", Protocol: "rtmp"})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	publishSome(t, pub, 0, 10)
	for _, omit := range []bool{false, true} {
		h, err := Handler(New(Deps{Hub: reg, OmitStreamSeries: omit, Admin: fakeAdmin{"token_invalid": 7, "host_not_allowed": 2}}), nil)
		if err != nil {
			t.Fatal(err)
		}
		f := scrape(t, h)
		if got := mustValue(t, f, "mediaserver_streams"); got != 1 {
			t.Fatalf("omit %v: streams %v", omit, got)
		}
		_, named := value(f, "mediaserver_stream_viewers", "name", "secret-show")
		if named == omit {
			t.Fatalf("omit %v: per-stream series present: %v", omit, named)
		}
		if omit {
			for name, mf := range f {
				for _, m := range mf.GetMetric() {
					for _, lp := range m.GetLabel() {
						if strings.Contains(lp.GetValue(), "secret-show") {
							t.Errorf("%s carries the stream name in label %s", name, lp.GetName())
						}
					}
				}
			}
		}
		if got := mustValue(t, f, "mediaserver_admin_refusals_total", "reason", "token_invalid"); got != 7 {
			t.Fatalf("admin refusals %v", got)
		}
	}
}
