package web_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/browsertest"
	"github.com/mediaserver/mediaserver/internal/server"
	"github.com/mediaserver/mediaserver/internal/servertest"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

// uiTestToken is the API token of the server the dashboard test runs.
const uiTestToken = "ui-test-token"

// TestDashboardInBrowser walks the operator's path in headless Chromium
// against the real server with ffmpeg publishing: token prompt, the stream
// listed with its resolution and health, playback through hls.js and
// mpegts.js (HTTP-FLV and WS-FLV), kicking a viewer, kicking the publisher.
// Screenshots are saved as test artifacts.
func TestDashboardInBrowser(t *testing.T) {
	testenv.Tool(t, "ffmpeg")
	browsertest.RequireTools(t)

	srv := servertest.StartWithLogger(t, func(cfg *server.Config) {
		// The UI builds RTMP URLs from the configured port, so the test
		// gives the server a port the system just handed out rather than
		// ":0".
		cfg.RTMP.Addr = freeLoopbackAddr(t)
		cfg.API.Token = uiTestToken
		// live/gone waits for its publisher for the whole test.
		cfg.Stream.RepublishWindow = 10 * time.Minute
	}, testenv.TestLogger(t, slog.LevelWarn))
	base := "http://" + srv.HTTPAddr()
	rtmpBase := "rtmp://" + srv.RTMPAddr() + "/live/"

	publisher := testenv.Publish(t, rtmpBase+"test", testenv.Source{Width: 640, Height: 360})
	// A second stream an operator should be warned about: keyframes every
	// 3 s against a 1 s HLS segment target, and no audio.
	testenv.Publish(t, rtmpBase+"cam2", testenv.Source{Width: 320, Height: 180, FPS: 15, GOP: 45, NoAudio: true})
	// A third whose publisher drops: it waits for the publisher to return.
	gone := testenv.Publish(t, rtmpBase+"gone", testenv.Source{Width: 320, Height: 180, FPS: 15})
	waitForVideo(t, base, "live/test")
	waitForVideo(t, base, "live/cam2")
	waitForVideo(t, base, "live/gone")
	gone.Kill()
	testenv.WaitFor(t, 10*time.Second, "live/gone to wait for its publisher", func() bool {
		st, ok := srv.Hub().Lookup(stream.Key{App: "live", Name: "gone"})
		return ok && st.State() == stream.StateWaiting
	})

	// A viewer outside the browser, to be kicked from the session table.
	viewer := testenv.Start(t, "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
		"-i", base+"/live/test.flv", "-c", "copy", "-f", "null", "-")
	viewerID := waitForSession(t, base, "live/test", "flv")

	artifacts := filepath.Join(browsertest.ArtifactDir(t), "web")
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	res := browsertest.Dashboard(t, browsertest.DashboardOptions{
		URL:            base + "/",
		Token:          uiTestToken,
		Stream:         "live/test",
		ExpectWarnings: map[string][]string{"live/cam2": {"keyframe-interval", "no-audio"}},
		Waiting:        "live/gone",
		KickSession:    viewerID,
		Artifacts:      artifacts,
	})
	for _, shot := range res.Screenshots {
		t.Logf("screenshot: %s", shot)
	}
	if res.Failure != "" {
		t.Fatalf("dashboard run stopped: %s", res.Failure)
	}

	if !res.TokenPrompted || !res.WrongTokenRefused || !res.TokenRemembered {
		t.Errorf("token flow: prompted %v, wrong token refused %v, remembered after reload %v",
			res.TokenPrompted, res.WrongTokenRefused, res.TokenRemembered)
	}
	if res.Resolution != "640×360" {
		t.Errorf("resolution shown %q, want 640×360 (row %q)", res.Resolution, res.RowText)
	}
	for _, want := range []string{"H.264", "30 fps", "AAC", "48 kHz"} {
		if !strings.Contains(res.RowText, want) {
			t.Errorf("stream row %q lacks %q", res.RowText, want)
		}
	}
	for _, kind := range []string{"keyframe-interval", "no-audio"} {
		if !slices.Contains(res.Warnings["live/cam2"], kind) {
			t.Errorf("live/cam2 warnings %q lack %q", res.Warnings["live/cam2"], kind)
		}
		if slices.Contains(res.Warnings["live/test"], kind) {
			t.Errorf("healthy live/test warned %q", kind)
		}
	}

	if w := res.WaitingRow; !w.Shown || !strings.Contains(w.Text, "waiting for publisher") ||
		!strings.Contains(w.Text, "Waiting for publisher") || !w.KickDisabled {
		t.Errorf("live/gone, whose publisher left, shown as %+v; want it waiting for publisher, without a Kick", w)
	}
	if len(res.Warnings["live/gone"]) > 0 {
		t.Errorf("live/gone, waiting for its publisher, warned %q", res.Warnings["live/gone"])
	}

	httpHost := srv.HTTPAddr()
	_, rtmpPort, _ := net.SplitHostPort(srv.RTMPAddr())
	wantURLs := map[string]string{
		"hls":  "http://" + httpHost + "/live/test.m3u8",
		"flv":  "http://" + httpHost + "/live/test.flv",
		"ws":   "ws://" + httpHost + "/live/test.flv",
		"rtmp": "rtmp://127.0.0.1:" + rtmpPort + "/live/test",
	}
	for k, want := range wantURLs {
		if res.URLs[k] != want {
			t.Errorf("%s play URL %q, want %q", k, res.URLs[k], want)
		}
	}
	if want := "rtmp://127.0.0.1:" + rtmpPort + "/live"; res.OBS["server"] != want {
		t.Errorf("OBS server %q, want %q", res.OBS["server"], want)
	}
	if res.OBS["keyframeInterval"] != "1 s" {
		t.Errorf("OBS keyframe interval %q, want 1 s (the HLS segment target)", res.OBS["keyframeInterval"])
	}

	for _, tc := range []struct{ protocol, engine string }{
		{"hls", "hls.js"}, {"flv", "mpegts.js"}, {"ws", "mpegts.js"},
	} {
		p, ok := res.Play[tc.protocol]
		if !ok {
			t.Errorf("%s: not played", tc.protocol)
			continue
		}
		if !strings.HasPrefix(p.Engine, tc.engine) {
			t.Errorf("%s played by %q, want %s", tc.protocol, p.Engine, tc.engine)
		}
		if p.Advanced < 3 {
			t.Errorf("%s: currentTime advanced %.2f s, want ≥ 3 (state %s, samples %v)", tc.protocol, p.Advanced, p.State, p.Samples)
		}
		if len(p.Errors) > 0 {
			t.Errorf("%s: player errors %q", tc.protocol, p.Errors)
		}
		if p.Width != 640 || p.Height != 360 {
			t.Errorf("%s: video %dx%d, want 640x360", tc.protocol, p.Width, p.Height)
		}
		if tc.protocol == "hls" {
			// hls.js in low-latency mode measures how far behind live it
			// plays; the player shows it.
			latency, err := strconv.ParseFloat(strings.TrimSuffix(p.Latency, " s"), 64)
			t.Logf("hls: the player shows a latency of %q", p.Latency)
			if err != nil || latency >= 5 {
				t.Errorf("hls: latency shown %q, want a number of seconds below 5", p.Latency)
			}
		}
	}
	if len(res.PageErrors) > 0 {
		t.Errorf("page errors: %q", res.PageErrors)
	}
	for _, line := range res.Console {
		t.Logf("browser console: %s", line)
	}

	if !res.SessionKicked {
		t.Error("viewer session was not kicked")
	}
	if exited, _ := viewer.Wait(30 * time.Second); !exited {
		t.Error("kicked ffmpeg viewer still running")
	}
	if !res.StreamGone {
		t.Error("stream still listed after kicking its publisher")
	}
	if exited, _ := publisher.Wait(30 * time.Second); !exited {
		t.Error("kicked ffmpeg publisher still running")
	}
	if _, live := srv.Hub().Lookup(stream.Key{App: "live", Name: "test"}); live {
		t.Error("live/test still in the hub after the kick")
	}
}

// freeLoopbackAddr returns a loopback address with a port the system just
// handed out and released.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// apiGet fetches an API path with the test token and decodes the JSON
// answer into out. It reports whether the answer was 200.
func apiGet(t *testing.T, base, path string, out any) bool {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/api/v1"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+uiTestToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return false
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return true
}

// waitForVideo waits until the API describes the video track of stream
// "app/name".
func waitForVideo(t *testing.T, base, stream string) {
	t.Helper()
	var doc struct {
		Tracks struct {
			Video *struct {
				Width int `json:"width"`
			} `json:"video"`
		} `json:"tracks"`
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if apiGet(t, base, "/streams/"+stream, &doc) && doc.Tracks.Video != nil && doc.Tracks.Video.Width > 0 {
			return
		}
	}
	t.Fatalf("%s: no video track within 30 s", stream)
}

// waitForSession waits for a viewer session of stream over protocol and
// returns its id.
func waitForSession(t *testing.T, base, stream, protocol string) string {
	t.Helper()
	var doc struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	path := fmt.Sprintf("/sessions?stream=%s&role=viewer&protocol=%s", stream, protocol)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if apiGet(t, base, path, &doc) && len(doc.Items) > 0 {
			return doc.Items[0].ID
		}
	}
	t.Fatalf("%s: no %s viewer session within 30 s", stream, protocol)
	return ""
}
