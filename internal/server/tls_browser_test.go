package server_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/browsertest"
	"github.com/mediaserver/mediaserver/internal/server"
	"github.com/mediaserver/mediaserver/internal/servertest"
	"github.com/mediaserver/mediaserver/internal/testenv"
)

// TestBrowserPlaysOverTLS: mpegts.js in headless Chromium plays HTTP-FLV
// from the HTTPS listener, over HTTP/2 (the server logs the viewer's
// protocol), and WebSocket-FLV over wss://, from a page of another origin:
// currentTime advances at least 5 s in 7 s without an error.
func TestBrowserPlaysOverTLS(t *testing.T) {
	browsertest.RequireTools(t)
	cert := testenv.NewCertificate(t, "mediaserver test")
	logs := &testenv.LogBuffer{}
	srv := servertest.StartWithLogger(t, func(c *server.Config) {
		c.HTTP.TLSAddr = "127.0.0.1:0"
		c.TLS = server.TLSConfig{CertFile: cert.CertFile, KeyFile: cert.KeyFile}
	}, logs.Logger(slog.LevelInfo))
	testenv.Publish(t, "rtmp://"+srv.RTMPAddr()+"/live/cam", testenv.Source{})
	waitLive(t, srv, "cam")

	for _, tc := range []struct {
		name, url, joined string
	}{
		{"HTTP-FLV over HTTP/2", "https://" + srv.HTTPSAddr() + "/live/cam.flv", "protocol=flv http=HTTP/2.0"},
		{"WS-FLV over wss", "wss://" + srv.HTTPSAddr() + "/live/cam.flv", "protocol=ws"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := browsertest.PlayTrustingAnyCertificate(t, browsertest.MPEGTS, tc.url, 7*time.Second)
			if len(r.Errors) != 0 {
				t.Fatalf("player errors: %v (console: %v)", r.Errors, r.Console)
			}
			start := 0.0
			if len(r.Samples) > 0 {
				start = r.Samples[0][1]
			}
			if advance := r.CurrentTime - start; advance < 5 || r.VideoWidth != 640 {
				t.Fatalf("currentTime advanced %.2f s in 7 s (video %dx%d), want at least 5 s of 640x360 (samples %v, console %v)",
					advance, r.VideoWidth, r.VideoHeight, r.Samples, r.Console)
			}
			if !strings.Contains(logs.String(), tc.joined) {
				t.Fatalf("no viewer joined with %q; server log:\n%s", tc.joined, logs.String())
			}
		})
	}
}
