package web_test

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/browsertest"
	"github.com/mediaserver/mediaserver/internal/server"
	"github.com/mediaserver/mediaserver/internal/servertest"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

// TestForwardsInBrowser: in headless Chromium the stream's detail panel
// forwards it to ffmpeg listening as an RTMP server, shows the target
// live with its bitrate, and stops it after a confirmation.
func TestForwardsInBrowser(t *testing.T) {
	browsertest.RequireTools(t)
	srv := servertest.StartWithLogger(t, func(c *server.Config) {
		c.Forward.MinBackoff, c.Forward.MaxBackoff = 200*time.Millisecond, time.Second
	}, testenv.TestLogger(t, slog.LevelWarn))
	artifacts := filepath.Join(browsertest.ArtifactDir(t), "web")
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	port := testenv.FreePort(t)
	target := fmt.Sprintf("rtmp://127.0.0.1:%d/app/key", port)
	testenv.Start(t, "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-listen", "1", "-i", target,
		"-c", "copy", "-f", "null", "-")
	testenv.Publish(t, "rtmp://"+srv.RTMPAddr()+"/live/cam", testenv.Source{Width: 320, Height: 180})
	testenv.WaitFor(t, 20*time.Second, "live/cam to go live", func() bool {
		_, ok := srv.Hub().Lookup(stream.Key{App: "live", Name: "cam"})
		return ok
	})

	r := browsertest.ForwardPanel(t, "http://"+srv.HTTPAddr()+"/", "live/cam", target, artifacts)
	if r.Failure != "" || len(r.PageErrors) > 0 {
		t.Fatalf("forwards: %s %q", r.Failure, r.PageErrors)
	}
	if !strings.Contains(r.Listed, fmt.Sprintf("127.0.0.1:%d/app/key", port)) || !strings.Contains(r.Listed, "live") ||
		!strings.Contains(r.Listed, "b/s") {
		t.Errorf("live target row %q, want its URL, state and bitrate", r.Listed)
	}
	if !r.Removed || r.ConfirmVerb != "Stop" {
		t.Errorf("stopping: removed %v, confirmation button %q", r.Removed, r.ConfirmVerb)
	}
}
