package web_test

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
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
	base := publishRenditionsToDashboard(t)
	r := browsertest.Renditions(t, browsertest.RenditionsOptions{URL: base + "/", Stream: "live/abr", Level: 0,
		Artifacts: browsertest.ArtifactDir(t)})
	if r.Failure != "" {
		t.Fatalf("ui: %s", r.Failure)
	}
	if len(r.Options) != 4 || r.Options[0] != "Auto" || !strings.HasPrefix(r.Options[1], "160×90 · ") ||
		!strings.HasPrefix(r.Options[3], "640×360 · ") {
		t.Errorf("rendition menu %q, want Auto then the three renditions from the smallest", r.Options)
	}
	checkRenditionPlays(t, r, "160×90")
	if len(r.Errors) > 0 || len(r.PageErrors) > 0 {
		t.Errorf("player errors %v, page errors %v", r.Errors, r.PageErrors)
	}
}

// TestDashboardPlayerRenditionChosenWhileFirstFragmentLoads pins a choice
// made while the player starts: the level hls.js loads is chosen in the menu
// the moment the first part of its first fragment has arrived, as hls.js
// parses the init segment from it. Switching with hls.currentLevel then
// aborted that load and fetched the same fragment again without its init
// segment: no SourceBuffer was ever created and the picture never started.
//
// What is pinned is that the picture starts and is the one chosen: hls.js
// may report, as recoverable, the stall it works around when this early
// start leaves a hole of a part in its buffer, and that is allowed here.
func TestDashboardPlayerRenditionChosenWhileFirstFragmentLoads(t *testing.T) {
	base := publishRenditionsToDashboard(t)
	r := browsertest.Renditions(t, browsertest.RenditionsOptions{URL: base + "/", Stream: "live/abr",
		ChooseOnFirstFragment: true, Artifacts: browsertest.ArtifactDir(t)})
	if r.Failure != "" {
		t.Fatalf("ui: %s", r.Failure)
	}
	n := len(r.ChosenOnFirstFragment)
	if n == 0 || r.Menu != strconv.Itoa(r.ChosenOnFirstFragment[n-1]) {
		t.Fatalf("the page chose levels %v on first fragments and the menu reads %q, want the last one",
			r.ChosenOnFirstFragment, r.Menu)
	}
	level := r.ChosenOnFirstFragment[n-1]
	if level < 0 || level+1 >= len(r.Options) {
		t.Fatalf("level %d is not in the rendition menu %q", level, r.Options)
	}
	size, _, _ := strings.Cut(r.Options[level+1], " · ")
	checkRenditionPlays(t, r, size)
	for _, e := range r.Errors {
		if !strings.HasPrefix(e, "hls.js recoverable ") {
			t.Errorf("player error %q", e)
		}
	}
	if len(r.PageErrors) > 0 {
		t.Errorf("page errors %v", r.PageErrors)
	}
}

// publishRenditionsToDashboard starts a server, publishes a multitrack
// stream of three renditions (640x360, 320x180, 160x90) to live/abr with
// FFmpeg 8.1, waits for its multivariant playlist and returns the server's
// HTTP base URL.
func publishRenditionsToDashboard(t *testing.T) string {
	t.Helper()
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
	return base
}

// checkRenditionPlays checks that after the rendition of size ("160×90")
// was chosen the player said it plays, showed that size and played on.
func checkRenditionPlays(t *testing.T, r browsertest.RenditionsResult, size string) {
	t.Helper()
	if !strings.Contains(r.Playing, size) || fmt.Sprintf("%d×%d", r.Width, r.Height) != size || r.Advanced <= 0 {
		t.Errorf("after choosing %s the player says %q, shows %dx%d, advanced %.2f s", size, r.Playing, r.Width,
			r.Height, r.Advanced)
	}
}
