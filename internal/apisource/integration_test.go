package apisource_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/mediaserver/mediaserver/api"
	"github.com/mediaserver/mediaserver/httpflv"
	"github.com/mediaserver/mediaserver/internal/access"
	"github.com/mediaserver/mediaserver/internal/apisource"
	"github.com/mediaserver/mediaserver/internal/metrics"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/rtmp"
	"github.com/mediaserver/mediaserver/stream"
)

// server is the whole graph, wired as cmd/mediaserver does: hub, access
// checker, RTMP server, HTTP-FLV handler, API and metrics on one HTTP
// listener.
type server struct {
	rtmpURL string
	httpURL string
	checker *access.Checker
}

// startServer runs a server with the given access rules until the test
// ends.
func startServer(t *testing.T, accessCfg access.Config) *server {
	t.Helper()
	hub, err := stream.NewRegistry(stream.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	checker, err := access.New(accessCfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	hub.AddObserver(checker)
	collector := metrics.New(metrics.Deps{Hub: hub, Auth: checker})

	rtmpSrv, err := rtmp.NewServer(rtmp.ServerConfig{Authorizer: checker, RefusalDelay: 300 * time.Millisecond}, hub, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = rtmpSrv.Serve(ln)
	}()

	flvHandler, err := httpflv.New(httpflv.Config{}, hub, nil)
	if err != nil {
		t.Fatal(err)
	}
	src := apisource.New(apisource.Deps{Hub: hub, RTMP: rtmpSrv, HTTPFLV: flvHandler})
	metricsHandler, err := metrics.Handler(collector, nil)
	if err != nil {
		t.Fatal(err)
	}
	apiHandler, err := api.New(api.Config{}, api.Deps{
		Streams: src, Sessions: src,
		Server: func() api.ServerInfo { return api.ServerInfo{Version: "test", Config: accessCfg} },
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(api.BasePath+"/", apiHandler)
	mux.Handle("/metrics", metricsHandler)
	mux.Handle("/", flvHandler)
	httpSrv := httptest.NewServer(mux)

	t.Cleanup(func() {
		_ = rtmpSrv.Close()
		<-served
		flvHandler.Close()
		httpSrv.Close()
		hub.Close()
		checker.Close()
	})
	return &server{rtmpURL: "rtmp://" + ln.Addr().String(), httpURL: httpSrv.URL, checker: checker}
}

// call sends an API request and decodes the JSON answer into out (when not
// nil). It returns the status.
func (s *server) call(t *testing.T, method, path string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, s.httpURL+api.BasePath+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, body)
		}
	}
	return resp.StatusCode
}

// eventually polls cond every 100 ms until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; last state: %s", what, timeout, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// apiStream is the part of GET /streams/{app}/{name} the tests read.
type apiStream struct {
	App       string `json:"app"`
	Name      string `json:"name"`
	Publisher struct {
		ID       string `json:"id"`
		Protocol string `json:"protocol"`
		Encoder  string `json:"encoder"`
	} `json:"publisher"`
	Tracks struct {
		Video *struct {
			Codec   string  `json:"codec"`
			Profile string  `json:"profile"`
			Width   int     `json:"width"`
			Height  int     `json:"height"`
			FPS     float64 `json:"fps"`
		} `json:"video"`
		Audio *struct {
			Codec      string `json:"codec"`
			SampleRate int    `json:"sample_rate"`
			Channels   int    `json:"channels"`
		} `json:"audio"`
	} `json:"tracks"`
	BitrateBPS       int64   `json:"bitrate_bps"`
	BytesIn          uint64  `json:"bytes_in"`
	KeyframeInterval float64 `json:"keyframe_interval_seconds"`
	Viewers          struct {
		FLV   int `json:"flv"`
		Total int `json:"total"`
	} `json:"viewers"`
}

// apiSessions is the part of GET /sessions the tests read.
type apiSessions struct {
	Items []struct {
		ID       string `json:"id"`
		Role     string `json:"role"`
		Protocol string `json:"protocol"`
		Stream   string `json:"stream"`
		BytesOut uint64 `json:"bytes_out"`
	} `json:"items"`
	Total int `json:"total"`
}

// viewer is an HTTP-FLV client reading a stream to its end.
type viewer struct {
	bytes atomic.Int64
	done  chan error // the read's outcome: nil for a clean end of body
}

// watch starts an HTTP-FLV viewer of url.
func watch(t *testing.T, url string) *viewer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	v := &viewer{done: make(chan error, 1)}
	go func() {
		defer resp.Body.Close()
		buf := make([]byte, 32<<10)
		for {
			n, err := resp.Body.Read(buf)
			v.bytes.Add(int64(n))
			if errors.Is(err, io.EOF) {
				v.done <- nil
				return
			}
			if err != nil {
				v.done <- err
				return
			}
		}
	}()
	return v
}

// ended waits for the viewer's read to finish and returns its outcome.
func (v *viewer) ended(t *testing.T, timeout time.Duration) error {
	t.Helper()
	select {
	case err := <-v.done:
		return err
	case <-time.After(timeout):
		t.Fatalf("viewer still reading after %v", timeout)
		return nil
	}
}

// scrapeValue reads one series of /metrics with the Prometheus text
// parser.
func (s *server) scrapeValue(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	resp, err := http.Get(s.httpURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	mf, ok := families[name]
	if !ok {
		t.Fatalf("%s not in /metrics", name)
	}
next:
	for _, m := range mf.GetMetric() {
		for _, lp := range m.GetLabel() {
			if want, ok := labels[lp.GetName()]; ok && want != lp.GetValue() {
				continue next
			}
		}
		if m.GetCounter() != nil {
			return m.GetCounter().GetValue()
		}
		return m.GetGauge().GetValue()
	}
	t.Fatalf("%s%v not in /metrics", name, labels)
	return 0
}

// TestIntegrationStreamLifecycle publishes with ffmpeg and follows the
// stream through the API: tracks and measured rate, an HTTP-FLV viewer in
// sessions, kicking that viewer alone, then kicking the publisher.
func TestIntegrationStreamLifecycle(t *testing.T) {
	s := startServer(t, access.Config{})
	const fps = 25
	ffmpeg := testenv.Publish(t, s.rtmpURL+"/live/cam", testenv.Source{
		Width: 1280, Height: 720, FPS: fps, GOP: 2 * fps, SampleRate: 48000,
	})

	var st apiStream
	eventually(t, 40*time.Second, "stream with measured frame rate", func() (bool, string) {
		st = apiStream{}
		code := s.call(t, http.MethodGet, "/streams/live/cam", &st)
		v := st.Tracks.Video
		return code == http.StatusOK && v != nil && v.FPS > fps-2 && v.FPS < fps+2 && st.KeyframeInterval > 0,
			fmt.Sprintf("status %d %+v video %+v ffmpeg: %s", code, st, v, ffmpeg.Output())
	})
	if v := st.Tracks.Video; v.Codec != "H.264" || v.Width != 1280 || v.Height != 720 || v.Profile == "" {
		t.Errorf("video %+v", v)
	}
	if a := st.Tracks.Audio; a == nil || a.Codec != "AAC" || a.SampleRate != 48000 || a.Channels != 1 {
		t.Errorf("audio %+v", a)
	}
	if st.Publisher.Protocol != "rtmp" || !strings.HasPrefix(st.Publisher.ID, "rtmp-") || st.Publisher.Encoder == "" {
		t.Errorf("publisher %+v", st.Publisher)
	}
	if st.KeyframeInterval < 1.9 || st.KeyframeInterval > 2.1 || st.BitrateBPS <= 0 || st.BytesIn == 0 {
		t.Errorf("keyframe interval %v s, bitrate %d, bytes %d", st.KeyframeInterval, st.BitrateBPS, st.BytesIn)
	}
	var list struct {
		Total int `json:"total"`
	}
	if s.call(t, http.MethodGet, "/streams", &list); list.Total != 1 {
		t.Errorf("list total %d", list.Total)
	}
	bytesBefore := s.scrapeValue(t, "mediaserver_stream_received_bytes_total", nil)

	// Two HTTP-FLV viewers appear in sessions.
	first := watch(t, s.httpURL+"/live/cam.flv")
	var firstID string
	eventually(t, 10*time.Second, "HTTP-FLV viewer in sessions", func() (bool, string) {
		var ss apiSessions
		s.call(t, http.MethodGet, "/sessions?stream=live/cam&role=viewer", &ss)
		if len(ss.Items) == 1 && ss.Items[0].Protocol == "flv" {
			firstID = ss.Items[0].ID
			return true, ""
		}
		return false, fmt.Sprintf("%+v", ss)
	})
	second := watch(t, s.httpURL+"/live/cam.flv")
	eventually(t, 10*time.Second, "two viewers counted on the stream", func() (bool, string) {
		var st apiStream
		s.call(t, http.MethodGet, "/streams/live/cam", &st)
		return st.Viewers.FLV == 2 && st.Viewers.Total == 2, fmt.Sprintf("%+v", st.Viewers)
	})
	if got := s.scrapeValue(t, "mediaserver_sessions", map[string]string{"protocol": "flv", "role": "viewer"}); got != 2 {
		t.Errorf("metrics: %v flv viewers", got)
	}

	// Kicking the first viewer ends it alone.
	if code := s.call(t, http.MethodDelete, "/sessions/"+firstID, nil); code != http.StatusNoContent {
		t.Fatalf("DELETE viewer: %d", code)
	}
	first.ended(t, 10*time.Second)
	mark := second.bytes.Load()
	eventually(t, 10*time.Second, "second viewer still receiving", func() (bool, string) {
		return second.bytes.Load() > mark, fmt.Sprintf("%d bytes", second.bytes.Load())
	})
	if exited, _ := ffmpeg.Wait(0); exited {
		t.Fatalf("ffmpeg exited when a viewer was kicked: %s", ffmpeg.Output())
	}
	eventually(t, 10*time.Second, "kicked viewer gone from sessions", func() (bool, string) {
		var ss apiSessions
		s.call(t, http.MethodGet, "/sessions?stream=live/cam", &ss)
		ids := map[string]bool{}
		for _, it := range ss.Items {
			ids[it.ID] = true
		}
		return !ids[firstID] && len(ss.Items) == 2, fmt.Sprintf("%+v", ss)
	})
	if code := s.call(t, http.MethodDelete, "/sessions/"+firstID, nil); code != http.StatusNotFound {
		t.Errorf("second DELETE of the viewer: %d", code)
	}
	if after := s.scrapeValue(t, "mediaserver_stream_received_bytes_total", nil); after <= bytesBefore {
		t.Errorf("received bytes did not move: %v then %v", bytesBefore, after)
	}

	// Kicking the stream makes ffmpeg exit; the remaining viewer gets a
	// clean end.
	if code := s.call(t, http.MethodDelete, "/streams/live/cam", nil); code != http.StatusNoContent {
		t.Fatalf("DELETE stream: %d", code)
	}
	if exited, _ := ffmpeg.Wait(20 * time.Second); !exited {
		t.Fatal("ffmpeg still publishing after DELETE of its stream")
	}
	if err := second.ended(t, 10*time.Second); err != nil {
		t.Errorf("viewer did not get a clean end: %v", err)
	}
	eventually(t, 10*time.Second, "stream gone", func() (bool, string) {
		code := s.call(t, http.MethodGet, "/streams/live/cam", nil)
		return code == http.StatusNotFound, fmt.Sprint(code)
	})
	if code := s.call(t, http.MethodDelete, "/streams/live/cam", nil); code != http.StatusNotFound {
		t.Errorf("second DELETE of the stream: %d", code)
	}
}

// TestIntegrationPublishKeys: a key not in the app's list is refused with
// a clear message, a listed one is accepted.
func TestIntegrationPublishKeys(t *testing.T) {
	s := startServer(t, access.Config{Apps: map[string]access.AppRule{"live": {PublishKeys: []string{"letmein"}}}})

	refused := testenv.Publish(t, s.rtmpURL+"/live/wrongkey", testenv.Source{Width: 320, Height: 240})
	exited, err := refused.Wait(30 * time.Second)
	if !exited || err == nil {
		t.Fatalf("ffmpeg with an unlisted key: exited %v, err %v", exited, err)
	}
	if out := refused.Output(); !strings.Contains(out, "stream key not accepted") {
		t.Errorf("ffmpeg was not told why: %s", out)
	}
	if code := s.call(t, http.MethodGet, "/streams/live/wrongkey", nil); code != http.StatusNotFound {
		t.Errorf("refused stream: %d", code)
	}
	if pub, _ := s.checker.AuthFailures(); pub != 1 {
		t.Errorf("publish failures %d", pub)
	}
	if got := s.scrapeValue(t, "mediaserver_auth_failures_total", map[string]string{"action": "publish"}); got != 1 {
		t.Errorf("metrics: %v publish failures", got)
	}

	accepted := testenv.Publish(t, s.rtmpURL+"/live/letmein", testenv.Source{Width: 320, Height: 240})
	eventually(t, 30*time.Second, "listed key publishing", func() (bool, string) {
		code := s.call(t, http.MethodGet, "/streams/live/letmein", nil)
		return code == http.StatusOK, fmt.Sprintf("status %d, ffmpeg: %s", code, accepted.Output())
	})

	// The configuration echo does not show the keys.
	var srv struct {
		Config map[string]any `json:"config"`
	}
	s.call(t, http.MethodGet, "/server", &srv)
	if raw, _ := json.Marshal(srv.Config); strings.Contains(string(raw), "letmein") || !strings.Contains(string(raw), api.Masked) {
		t.Errorf("config echo: %s", raw)
	}
}

// TestIntegrationPublishHookRefuses: an on_publish hook answering 403
// keeps ffmpeg from publishing.
func TestIntegrationPublishHookRefuses(t *testing.T) {
	var mu sync.Mutex
	var asked []access.HookRequest
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req access.HookRequest
		_ = json.NewDecoder(r.Body).Decode(&req)
		mu.Lock()
		asked = append(asked, req)
		mu.Unlock()
		http.Error(w, "not on the guest list", http.StatusForbidden)
	}))
	defer hook.Close()
	s := startServer(t, access.Config{OnPublish: hook.URL})

	ffmpeg := testenv.Publish(t, s.rtmpURL+"/live/cam?token=abc", testenv.Source{Width: 320, Height: 240})
	exited, err := ffmpeg.Wait(30 * time.Second)
	if !exited || err == nil {
		t.Fatalf("ffmpeg refused by the hook: exited %v, err %v", exited, err)
	}
	if out := ffmpeg.Output(); !strings.Contains(out, "on_publish hook answered 403") {
		t.Errorf("ffmpeg was not told why: %s", out)
	}
	if code := s.call(t, http.MethodGet, "/streams/live/cam", nil); code != http.StatusNotFound {
		t.Errorf("refused stream: %d", code)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(asked) == 0 {
		t.Fatal("hook never asked")
	}
	if r := asked[0]; r.Action != "publish" || r.Protocol != "rtmp" || r.App != "live" || r.Name != "cam" ||
		r.Query != "token=abc" || !strings.HasPrefix(r.RemoteAddr, "127.0.0.1:") || !strings.HasPrefix(r.SessionID, "rtmp-") {
		t.Errorf("hook asked %+v", r)
	}
}

// TestIntegrationPlayHookAndUnpublish: an on_play hook answering 403
// keeps an RTMP player out with a clear message while the stream is live;
// kicking the publisher sends on_unpublish.
func TestIntegrationPlayHookAndUnpublish(t *testing.T) {
	asked := make(chan access.HookRequest, 16)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req access.HookRequest
		_ = json.NewDecoder(r.Body).Decode(&req)
		asked <- req
		if req.Action == "play" {
			http.Error(w, "subscribers only", http.StatusForbidden)
		}
	}))
	defer hook.Close()
	// The hook's reason is shown to clients only when configured so.
	s := startServer(t, access.Config{OnPlay: hook.URL + "/play", OnUnpublish: hook.URL + "/unpublish", ExposeHookReason: true})

	ffmpeg := testenv.Publish(t, s.rtmpURL+"/live/cam", testenv.Source{Width: 320, Height: 240})
	eventually(t, 30*time.Second, "stream live", func() (bool, string) {
		code := s.call(t, http.MethodGet, "/streams/live/cam", nil)
		return code == http.StatusOK, fmt.Sprintf("status %d, ffmpeg: %s", code, ffmpeg.Output())
	})
	_, err := testenv.FFprobe(t, s.rtmpURL+"/live/cam", 30*time.Second)
	if err == nil || !strings.Contains(err.Error(), "on_play hook answered 403: subscribers only") {
		t.Fatalf("ffprobe of a refused stream: %v", err)
	}
	select {
	case req := <-asked:
		if req.Action != "play" || req.Protocol != "rtmp" || req.App != "live" || req.Name != "cam" {
			t.Fatalf("hook asked %+v", req)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("on_play not asked")
	}
	if _, play := s.checker.AuthFailures(); play != 1 {
		t.Errorf("play failures %d", play)
	}

	if code := s.call(t, http.MethodDelete, "/streams/live/cam", nil); code != http.StatusNoContent {
		t.Fatalf("DELETE stream: %d", code)
	}
	select {
	case req := <-asked:
		if req.Action != "unpublish" || req.App != "live" || req.Name != "cam" || req.Bytes == nil || *req.Bytes == 0 {
			t.Fatalf("on_unpublish got %+v", req)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("on_unpublish not sent")
	}
}
