package web_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/browsertest"
	"github.com/mediaserver/mediaserver/internal/servertest"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

// TestStreamKeysPanelInBrowser: in headless Chromium the keys panel makes
// a stream key and shows its secret once, ffmpeg publishes with what was
// shown, the list shows the key masked, and revoking it from the panel
// disconnects the publisher.
func TestStreamKeysPanelInBrowser(t *testing.T) {
	testenv.Tool(t, "ffmpeg")
	browsertest.RequireTools(t)
	srv := servertest.StartWithLogger(t, nil, testenv.TestLogger(t, slog.LevelWarn))
	url := "http://" + srv.HTTPAddr() + "/"
	artifacts := filepath.Join(browsertest.ArtifactDir(t), "web")
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}

	created := browsertest.KeyPanel(t, url, "cam", false, artifacts)
	if created.Failure != "" || len(created.PageErrors) > 0 {
		t.Fatalf("keys panel: %s %q", created.Failure, created.PageErrors)
	}
	secret, ok := strings.CutPrefix(created.Secret, "cam?key=")
	if !ok || !strings.HasPrefix(secret, "live_") {
		t.Fatalf("the panel showed %q, want cam?key=live_…", created.Secret)
	}
	if !strings.Contains(created.Listed, "live/cam") || !strings.Contains(created.Listed, "live_…"+secret[len(secret)-4:]) ||
		strings.Contains(created.Listed, secret) {
		t.Errorf("key listed as %q, want live/cam and the masked secret only", created.Listed)
	}

	publisher := testenv.Publish(t, "rtmp://"+srv.RTMPAddr()+"/live/"+created.Secret, testenv.Source{Width: 320, Height: 180})
	key := stream.Key{App: "live", Name: "cam"}
	testenv.WaitFor(t, 20*time.Second, "live/cam to go live with the key", func() bool {
		st, ok := srv.Hub().Lookup(key)
		return ok && st.Info().KeyID != ""
	})

	revoked := browsertest.KeyPanel(t, url, "", true, artifacts)
	if revoked.Failure != "" || len(revoked.PageErrors) > 0 || !revoked.Revoked {
		t.Fatalf("keys panel revoke: %s %q", revoked.Failure, revoked.PageErrors)
	}
	if revoked.ConfirmVerb != "Revoke" {
		t.Errorf("confirmation button %q, want Revoke", revoked.ConfirmVerb)
	}
	if exited, _ := publisher.Wait(10 * time.Second); !exited {
		t.Fatal("the publisher of the revoked key is still connected")
	}
}
