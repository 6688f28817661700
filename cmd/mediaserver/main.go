// Command mediaserver is a live-streaming server: it takes streams in over
// RTMP and serves them as RTMP, HTTP-FLV, WebSocket-FLV and HLS, with a REST
// API and a web UI for operators.
//
// Configuration comes from built-in defaults, a YAML file (-config),
// MEDIASERVER_* environment variables and flags, in that order of precedence.
//
// "mediaserver -sign-play-url [-config FILE] [-expires 1h] [-client-ip IP]
// URL" prints URL signed with its app's access.apps play_secret instead.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mediaserver/mediaserver/internal/logmask"
	"github.com/mediaserver/mediaserver/internal/server"
)

// version is the server version reported by the API; release builds set it
// with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	args := os.Args[1:]
	var err error
	if len(args) > 0 && args[0] == signFlag {
		err = signPlayURL(args[1:], os.Environ(), os.Stdout, os.Stderr)
	} else {
		err = run(args, os.Environ(), os.Stderr)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mediaserver:", err)
		os.Exit(1)
	}
}

// run loads the configuration, starts the server and blocks until SIGINT or
// SIGTERM, then shuts down in order. SIGHUP reads the configuration again
// and applies what can change while running (the publish keys, the TLS
// certificate files).
func run(args, environ []string, stderr io.Writer) error {
	cfg, err := loadConfig(args, environ, stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(cfg.Log, stderr)
	if err != nil {
		return err
	}
	setGCPercent(environ)
	if cfg.Cluster.Enabled() {
		// The Redis client logs its connection retries on its own; they
		// belong in the server's log, below the cluster's own reports.
		redis.SetLogger(redisLog{log: log.With("component", "redis")})
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	hangups := make(chan os.Signal, 1)
	signal.Notify(hangups, syscall.SIGHUP)
	defer signal.Stop(hangups)

	srv, err := server.New(cfg, version, log)
	if err != nil {
		return err
	}
	dashboard, obsServer := clickableURLs(srv.HTTPAddr(), srv.RTMPAddr())
	started := []any{"version", version, "rtmp", srv.RTMPAddr(), "http", srv.HTTPAddr(),
		"dashboard", dashboard, "obs_server", obsServer}
	if addr := srv.RTMPSAddr(); addr != "" {
		started = append(started, "rtmps", addr)
	}
	if addr := srv.HTTPSAddr(); addr != "" {
		started = append(started, "https", addr)
	}
	log.Info("mediaserver started", started...)
	err = serve(ctx, srv, hangups, func() {
		log.Info("reloading the configuration", "signal", "SIGHUP")
		reloaded, err := loadConfig(args, environ, stderr)
		if err == nil {
			err = srv.Reload(reloaded)
		}
		if err != nil {
			log.Error("configuration not reloaded", "err", err)
		}
	})
	stop() // a second signal ends the process at once
	grace := cfg.HTTP.ShutdownGrace
	log.Info("shutting down", "grace", grace)
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown() }()
	select {
	case shutdownErr := <-done:
		if shutdownErr != nil {
			err = errors.Join(err, shutdownErr)
		}
	case <-time.After(grace + shutdownSlack):
		err = errors.Join(err, fmt.Errorf("shutdown did not finish within %v", grace+shutdownSlack))
	}
	log.Info("stopped", "took", time.Since(start).Round(time.Millisecond), "err", err)
	return err
}

// serve blocks until ctx ends or a listener fails, calling reload on each
// hangup signal.
func serve(ctx context.Context, srv *server.Server, hangups <-chan os.Signal, reload func()) error {
	done := make(chan error, 1)
	go func() { done <- srv.Wait(ctx) }() // returns when ctx ends or a listener fails
	for {
		select {
		case err := <-done:
			return err
		case <-hangups:
			reload()
		}
	}
}

// defaultGCPercent is the garbage collector's target unless GOGC is set.
// The heap of a media server is mostly its streams' caches and grows
// slowly, so collecting at 50 % growth instead of Go's 100 % costs next to
// no CPU and keeps the memory each viewer adds to the process low (see
// docs/BENCHMARKS.md).
const defaultGCPercent = 50

// setGCPercent applies defaultGCPercent unless the environment sets GOGC,
// which the Go runtime has applied already.
func setGCPercent(environ []string) {
	for _, kv := range environ {
		if strings.HasPrefix(kv, "GOGC=") {
			return
		}
	}
	debug.SetGCPercent(defaultGCPercent)
}

// shutdownSlack is how long past the grace period the process waits for
// the shutdown steps that are not bounded by it (hook flushing) before it
// exits anyway.
const shutdownSlack = 2 * time.Second

// newLogger builds the process logger from the log settings. Secrets in
// every record (query keys, tokens, signatures, URL passwords) are masked.
func newLogger(cfg server.LogConfig, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.Level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", cfg.Level, err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch cfg.Format {
	case "text":
		return slog.New(logmask.Wrap(slog.NewTextHandler(w, opts))), nil
	case "json":
		return slog.New(logmask.Wrap(slog.NewJSONHandler(w, opts))), nil
	default:
		return nil, fmt.Errorf("log format %q: want text or json", cfg.Format)
	}
}

// redisLog routes the Redis client's messages into the server's log at
// debug level: the cluster logs the outages that matter itself.
type redisLog struct{ log *slog.Logger }

// Printf implements the Redis client's logger.
func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, fmt.Sprintf(format, v...))
}
