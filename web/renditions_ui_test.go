package web_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/browsertest"
	"github.com/mediaserver/mediaserver/internal/server"
	"github.com/mediaserver/mediaserver/internal/servertest"
	"github.com/mediaserver/mediaserver/internal/testenv"
)

// TestDashboardPlayerOffersRenditions: FFmpeg 8.1 publishes a multitrack
// stream of three H.264 renditions; the dashboard's player lists them
// (hls.js levels) beside Auto, plays the one chosen and says so.
func TestDashboardPlayerOffersRenditions(t *testing.T) {
	browsertest.RequireTools(t)
	srv := servertest.Start(t, func(cfg *server.Config) { cfg.RTMP.Addr = freeLoopbackAddr(t) })
	base := "http://" + srv.HTTPAddr()
	file := testenv.EncodeRenditions(t, t.TempDir(), 60*time.Second,
		testenv.Rendition{Width: 640, Height: 360}, testenv.Rendition{Width: 320, Height: 180},
		testenv.Rendition{Width: 160, Height: 90})
	t.Setenv("MEDIASERVER_PEER_TIMEOUT_MS", "60000")
	testenv.PublishEnhanced(t, file, "rtmp://"+srv.RTMPAddr()+"/live/abr")
	testenv.WaitFor(t, 60*time.Second, "a multivariant playlist of three variants", func() bool {
		resp, err := http.Get(base + "/live/abr.m3u8")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return err == nil && strings.Count(string(body), "#EXT-X-STREAM-INF:") == 3
	})
	r := browsertest.Renditions(t, base+"/", "live/abr", 0, browsertest.ArtifactDir(t))
	if r.Failure != "" {
		t.Fatalf("ui: %s", r.Failure)
	}
	if len(r.Options) != 4 || r.Options[0] != "Auto" || !strings.HasPrefix(r.Options[1], "160×90 · ") ||
		!strings.HasPrefix(r.Options[3], "640×360 · ") {
		t.Errorf("rendition menu %q, want Auto then the three renditions from the smallest", r.Options)
	}
	if !strings.Contains(r.Playing, "160×90") || r.Width != 160 || r.Height != 90 || r.Advanced <= 0 {
		t.Errorf("after choosing 160x90 the player says %q, shows %dx%d, advanced %.2f s", r.Playing, r.Width,
			r.Height, r.Advanced)
	}
	if len(r.Errors) > 0 || len(r.PageErrors) > 0 {
		t.Errorf("player errors %v, page errors %v", r.Errors, r.PageErrors)
	}
}
