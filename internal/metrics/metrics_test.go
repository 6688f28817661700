package metrics

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/stream"
)

// fakeHLS counts a fixed number of HLS viewers per stream.
type fakeHLS map[stream.Key]int

func (f fakeHLS) Viewers(key stream.Key) int { return f[key] }

// fakeAuth returns settable failure counts.
type fakeAuth struct{ publish, play atomic.Uint64 }

func (f *fakeAuth) AuthFailures() (uint64, uint64) { return f.publish.Load(), f.play.Load() }

// scrape fetches /metrics from h and parses it with the Prometheus text
// parser.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("Content-Type %q", ct)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return families
}

// value returns the value of the series of name with the given label
// pairs; ok is false when absent.
func value(families map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	mf, ok := families[name]
	if !ok {
		return 0, false
	}
next:
	for _, m := range mf.GetMetric() {
		have := map[string]string{}
		for _, lp := range m.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		switch mf.GetType() {
		case dto.MetricType_COUNTER:
			return m.GetCounter().GetValue(), true
		case dto.MetricType_GAUGE:
			return m.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

// mustValue is value failing the test when the series is absent.
func mustValue(t *testing.T, families map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	v, ok := value(families, name, labels...)
	if !ok {
		t.Fatalf("series %s%v absent", name, labels)
	}
	return v
}

// frame builds a media frame.
func frame(t *testing.T, typ flv.TagType, ts uint32, payload []byte) *stream.Frame {
	t.Helper()
	f, err := stream.NewFrame(typ, ts, payload)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// publishSome writes n video frames (a keyframe every 5) and n audio
// frames, 40 ms apart from start, and returns the payload bytes written.
func publishSome(t *testing.T, pub *stream.Publisher, start uint32, n int) uint64 {
	t.Helper()
	var total uint64
	for i := range n {
		ts := start + uint32(i)*40
		video := []byte{0x27, 0x01, 0, 0, 0, 0, 0, 0, 1, 0x41}
		if i%5 == 0 {
			video[0] = 0x17
		}
		audio := []byte{0xaf, 0x01, 0x21, 0x10, 0x04}
		pub.WriteFrame(frame(t, flv.TagVideo, ts, video))
		pub.WriteFrame(frame(t, flv.TagAudio, ts, audio))
		total += uint64(len(video) + len(audio))
	}
	return total
}

func TestMetricsFollowTraffic(t *testing.T) {
	reg, err := stream.NewRegistry(stream.Config{GOPCacheFrames: 16}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	var handshakes, segments, rtmpIn, rtmpOut atomic.Uint64
	auth := &fakeAuth{}
	camKey := stream.Key{App: "live", Name: "cam"}
	c := New(Deps{
		Hub:               reg,
		HLSViewers:        fakeHLS{camKey: 3},
		HLSSegments:       segments.Load,
		HandshakeFailures: handshakes.Load,
		Auth:              auth,
		Traffic: map[string]TrafficSource{
			"rtmp": TrafficFuncs{Received: rtmpIn.Load, Sent: rtmpOut.Load},
		},
	})
	h, err := Handler(c, nil)
	if err != nil {
		t.Fatal(err)
	}

	idle := scrape(t, h)
	for _, want := range []struct {
		name   string
		labels []string
	}{
		{"mediaserver_streams", nil},
		{"mediaserver_streams_published_total", nil},
		{"mediaserver_stream_received_bytes_total", nil},
		{"mediaserver_dropped_frames_total", nil},
		{"mediaserver_hls_segments_total", nil},
		{"mediaserver_rtmp_handshake_failures_total", nil},
		{"mediaserver_auth_failures_total", []string{"action", "publish"}},
		{"mediaserver_auth_failures_total", []string{"action", "play"}},
		{"mediaserver_received_bytes_total", []string{"protocol", "rtmp"}},
		{"mediaserver_sent_bytes_total", []string{"protocol", "rtmp"}},
		{"mediaserver_sessions", []string{"protocol", "rtmp", "role", "publisher"}},
		{"mediaserver_sessions", []string{"protocol", "flv", "role", "viewer"}},
		{"mediaserver_sessions", []string{"protocol", "ws", "role", "viewer"}},
		{"mediaserver_sessions", []string{"protocol", "hls", "role", "viewer"}},
	} {
		if v := mustValue(t, idle, want.name, want.labels...); v != 0 {
			t.Errorf("idle %s%v = %v", want.name, want.labels, v)
		}
	}
	if _, ok := idle["go_goroutines"]; !ok {
		t.Error("Go runtime metrics missing")
	}

	pub, err := reg.Publish(camKey, stream.PublisherInfo{ID: "rtmp-1", Protocol: "rtmp"})
	if err != nil {
		t.Fatal(err)
	}
	bytes1 := publishSome(t, pub, 0, 10)
	flvReader := pub.Stream().NewReader(stream.ReaderInfo{ID: "flv-1", Protocol: stream.ProtocolFLV})
	wsReader := pub.Stream().NewReader(stream.ReaderInfo{ID: "ws-1", Protocol: stream.ProtocolWS})
	rtmpReader := pub.Stream().NewReader(stream.ReaderInfo{ID: "rtmp-2", Protocol: "rtmp"})
	segReader := pub.Stream().NewReader(stream.ReaderInfo{ID: "hls/live/cam", Protocol: "hls"})
	defer segReader.Close()
	// A forward to another server reads the stream too; it is no viewer.
	forwardReader := pub.Stream().NewReader(stream.ReaderInfo{ID: "fwd-1", Protocol: "forward"})
	defer forwardReader.Close()
	// The FLV viewer reads its start, then falls behind the 16-frame cache
	// and drops frames on its next read.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	buf := make([]*stream.Frame, 64)
	if _, err := flvReader.Read(ctx, buf); err != nil {
		t.Fatal(err)
	}
	bytes1 += publishSome(t, pub, 400, 20)
	if _, err := flvReader.Read(ctx, buf); err != nil {
		t.Fatal(err)
	}
	dropped := pub.Stream().Stats().Dropped
	if dropped == 0 {
		t.Fatal("test setup: the lagging reader dropped nothing")
	}
	handshakes.Add(2)
	segments.Add(5)
	auth.publish.Add(1)
	auth.play.Add(4)
	rtmpIn.Add(1000)
	rtmpOut.Add(3000)

	live := scrape(t, h)
	checks := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"mediaserver_streams", nil, 1},
		{"mediaserver_streams_published_total", nil, 1},
		{"mediaserver_stream_received_bytes_total", nil, float64(bytes1)},
		{"mediaserver_stream_received_frames_total", nil, 60},
		{"mediaserver_dropped_frames_total", nil, float64(dropped)},
		{"mediaserver_hls_segments_total", nil, 5},
		{"mediaserver_rtmp_handshake_failures_total", nil, 2},
		{"mediaserver_auth_failures_total", []string{"action", "publish"}, 1},
		{"mediaserver_auth_failures_total", []string{"action", "play"}, 4},
		{"mediaserver_received_bytes_total", []string{"protocol", "rtmp"}, 1000},
		{"mediaserver_sent_bytes_total", []string{"protocol", "rtmp"}, 3000},
		{"mediaserver_sessions", []string{"protocol", "rtmp", "role", "publisher"}, 1},
		{"mediaserver_sessions", []string{"protocol", "flv", "role", "viewer"}, 1},
		{"mediaserver_sessions", []string{"protocol", "ws", "role", "viewer"}, 1},
		{"mediaserver_sessions", []string{"protocol", "rtmp", "role", "viewer"}, 1},
		{"mediaserver_sessions", []string{"protocol", "hls", "role", "viewer"}, 3},
		{"mediaserver_stream_viewers", []string{"app", "live", "name", "cam"}, 6},
	}
	for _, c := range checks {
		if got := mustValue(t, live, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if v, ok := value(live, "mediaserver_sessions", "protocol", "forward", "role", "viewer"); ok {
		t.Errorf("a forward counted as a viewer session: %v", v)
	}
	if _, ok := value(live, "mediaserver_stream_bitrate_bits_per_second", "app", "live", "name", "cam"); !ok {
		t.Error("per-stream bit rate missing")
	}

	// The stream ends: its counters stay in the totals, its gauges go.
	flvReader.Close()
	wsReader.Close()
	rtmpReader.Close()
	pub.Close()
	ended := scrape(t, h)
	if got := mustValue(t, ended, "mediaserver_stream_received_bytes_total"); got != float64(bytes1) {
		t.Errorf("bytes after end %v, want %v", got, bytes1)
	}
	if got := mustValue(t, ended, "mediaserver_dropped_frames_total"); got != float64(dropped) {
		t.Errorf("dropped after end %v, want %v", got, dropped)
	}
	if got := mustValue(t, ended, "mediaserver_streams"); got != 0 {
		t.Errorf("streams after end %v", got)
	}
	if _, ok := value(ended, "mediaserver_stream_viewers", "app", "live", "name", "cam"); ok {
		t.Error("gauge of an ended stream still reported")
	}

	// A second stream adds to the totals.
	pub2, err := reg.Publish(stream.Key{App: "live", Name: "two"}, stream.PublisherInfo{ID: "rtmp-9", Protocol: "rtmp"})
	if err != nil {
		t.Fatal(err)
	}
	bytes2 := publishSome(t, pub2, 0, 3)
	again := scrape(t, h)
	if got := mustValue(t, again, "mediaserver_stream_received_bytes_total"); got != float64(bytes1+bytes2) {
		t.Errorf("bytes with a second stream %v, want %v", got, bytes1+bytes2)
	}
	if got := mustValue(t, again, "mediaserver_streams_published_total"); got != 2 {
		t.Errorf("published %v", got)
	}
	pub2.Close()
}

func TestCountersNeverGoDown(t *testing.T) {
	reg, err := stream.NewRegistry(stream.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var segments atomic.Uint64
	segments.Store(10)
	c := New(Deps{Hub: reg, HLSSegments: segments.Load})
	h, err := Handler(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := mustValue(t, scrape(t, h), "mediaserver_hls_segments_total"); got != 10 {
		t.Fatalf("segments %v", got)
	}
	segments.Store(4) // a source that restarted its count
	if got := mustValue(t, scrape(t, h), "mediaserver_hls_segments_total"); got != 10 {
		t.Fatalf("counter went down to %v", got)
	}
	segments.Store(12)
	if got := mustValue(t, scrape(t, h), "mediaserver_hls_segments_total"); got != 12 {
		t.Fatalf("segments %v", got)
	}
}

func TestCollectorSeesStreamsStartedBeforeIt(t *testing.T) {
	reg, err := stream.NewRegistry(stream.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := reg.Publish(stream.Key{App: "live", Name: "early"}, stream.PublisherInfo{ID: "rtmp-1", Protocol: "rtmp"})
	if err != nil {
		t.Fatal(err)
	}
	n := publishSome(t, pub, 0, 2)
	h, err := Handler(New(Deps{Hub: reg}), nil)
	if err != nil {
		t.Fatal(err)
	}
	f := scrape(t, h)
	if got := mustValue(t, f, "mediaserver_streams"); got != 1 {
		t.Fatalf("streams %v", got)
	}
	pub.Close()
	if got := mustValue(t, scrape(t, h), "mediaserver_stream_received_bytes_total"); got != float64(n) {
		t.Fatalf("bytes %v, want %v", got, n)
	}
	// Optional sources left out leave their metrics out.
	if _, ok := f["mediaserver_hls_segments_total"]; ok {
		t.Error("HLS segments reported without a source")
	}
	if _, ok := value(f, "mediaserver_sessions", "protocol", "hls"); ok {
		t.Error("HLS viewers reported without a source")
	}
}

func TestPrivateRegistry(t *testing.T) {
	reg, err := stream.NewRegistry(stream.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Handler(New(Deps{Hub: reg}), nil); err != nil {
		t.Fatal(err)
	}
	// A second handler on another collector registers without conflict:
	// nothing goes to the global registry.
	if _, err := Handler(New(Deps{Hub: reg}), nil); err != nil {
		t.Fatal(err)
	}
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range families {
		if strings.HasPrefix(mf.GetName(), "mediaserver_") {
			t.Fatalf("%s registered globally", mf.GetName())
		}
	}
}

func TestHealthHandler(t *testing.T) {
	cases := []struct {
		name   string
		check  HealthCheck
		method string
		status int
		body   string
	}{
		{"no check", nil, http.MethodGet, 200, `{"status":"ok"}`},
		{"passing", func() error { return nil }, http.MethodGet, 200, `{"status":"ok"}`},
		{"failing", func() error { return errors.New("rtmp listener closed") }, http.MethodGet, 503,
			`{"error":"rtmp listener closed","status":"unavailable"}`},
		{"degraded", func() error { return fmt.Errorf("%w: cluster: Redis unreachable", ErrDegraded) }, http.MethodGet, 200,
			`{"error":"degraded: cluster: Redis unreachable","status":"degraded"}`},
		{"head", nil, http.MethodHead, 200, ""},
		{"post", nil, http.MethodPost, 405, "method not allowed"},
	}
	for _, tc := range cases {
		rec := httptest.NewRecorder()
		HealthHandler(tc.check).ServeHTTP(rec, httptest.NewRequest(tc.method, "/healthz", nil))
		if rec.Code != tc.status || strings.TrimSpace(rec.Body.String()) != tc.body {
			t.Errorf("%s: %d %q", tc.name, rec.Code, rec.Body)
		}
	}
}

// TestTotalsCountSinceStart: Totals adds ended streams to the live ones
// and sums the traffic sources, as the _total metrics do.
func TestTotalsCountSinceStart(t *testing.T) {
	reg, err := stream.NewRegistry(stream.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	var sent atomic.Uint64
	c := New(Deps{Hub: reg, Traffic: map[string]TrafficSource{
		"rtmp": TrafficFuncs{Sent: sent.Load}, "httpflv": TrafficFuncs{Sent: func() uint64 { return 100 }},
	}})
	pub, err := reg.Publish(stream.Key{App: "live", Name: "one"}, stream.PublisherInfo{ID: "rtmp-1", Protocol: stream.ProtocolRTMP})
	if err != nil {
		t.Fatal(err)
	}
	first := publishSome(t, pub, 0, 5)
	firstFrames := pub.Stream().Stats().FramesIn
	sent.Store(50)
	if got := c.Totals(); got.StreamBytes != first || got.StreamFrames != firstFrames || got.BytesSent != 150 {
		t.Errorf("totals while live %+v, want %d bytes, %d frames, 150 sent", got, first, firstFrames)
	}
	pub.Close()
	pub2, err := reg.Publish(stream.Key{App: "live", Name: "two"}, stream.PublisherInfo{ID: "rtmp-2", Protocol: stream.ProtocolRTMP})
	if err != nil {
		t.Fatal(err)
	}
	defer pub2.Close()
	second := publishSome(t, pub2, 0, 3)
	frames := firstFrames + pub2.Stream().Stats().FramesIn
	sent.Store(20) // a source that restarted its count
	if got := c.Totals(); got.StreamBytes != first+second || got.StreamFrames != frames || got.BytesSent != 150 {
		t.Errorf("totals after one stream ended %+v, want %d bytes, %d frames, 150 sent", got, first+second, frames)
	}
}
