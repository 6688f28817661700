// Package servertest runs the whole media server (internal/server) on
// loopback ports for integration tests.
package servertest

import (
	"log/slog"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/server"
	"github.com/mediaserver/mediaserver/internal/testenv"
)

// Start runs the whole server with RTMP and HTTP on free 127.0.0.1 ports
// and 1 s HLS segments, its stream key store in a temporary directory,
// logging at info level to the test log. edit, when
// not nil, changes the configuration before the server is built. The server
// is shut down when the test ends.
func Start(t testing.TB, edit func(*server.Config)) *server.Server {
	t.Helper()
	return StartWithLogger(t, edit, testenv.TestLogger(t, slog.LevelInfo))
}

// StartWithLogger is Start with the server logging to log.
func StartWithLogger(t testing.TB, edit func(*server.Config), log *slog.Logger) *server.Server {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.RTMP.Addr, cfg.HTTP.Addr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.HLS.SegmentDuration = time.Second
	cfg.Access.DataDir = t.TempDir()
	if edit != nil {
		edit(&cfg)
	}
	srv, err := server.New(cfg, "test", log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Shutdown(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return srv
}
