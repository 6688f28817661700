// Package server composes the packages into the running server: the hub,
// the RTMP listener, the HTTP listener with media outputs, API, metrics and
// UI, and shuts them down in order. cmd/mediaserver adds configuration
// loading and signals; tests build the same server on loopback ports.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/mediaserver/mediaserver/api"
	"github.com/mediaserver/mediaserver/api/source"
	"github.com/mediaserver/mediaserver/hls"
	"github.com/mediaserver/mediaserver/httpflv"
	"github.com/mediaserver/mediaserver/internal/access"
	"github.com/mediaserver/mediaserver/internal/metrics"
	"github.com/mediaserver/mediaserver/rtmp"
	"github.com/mediaserver/mediaserver/stream"
)

// Config is the whole server configuration. Each package owns its part and
// documents its defaults.
type Config struct {
	Log    LogConfig         `yaml:"log"`
	RTMP   rtmp.ServerConfig `yaml:"rtmp"`
	HTTP   HTTPConfig        `yaml:"http"`
	Stream stream.Config     `yaml:"stream"`
	FLV    httpflv.Config    `yaml:"flv"`
	HLS    hls.Config        `yaml:"hls"`
	API    api.Config        `yaml:"api"`
	Access access.Config     `yaml:"access"`
}

// LogConfig selects the log format and level.
type LogConfig struct {
	// Level is debug, info, warn or error. Default info.
	Level string `yaml:"level"`
	// Format is text or json. Default text.
	Format string `yaml:"format"`
}

// HTTPConfig configures the HTTP listener that serves media, the API and
// the UI.
type HTTPConfig struct {
	// Addr is the listen address. Default ":8080".
	Addr string `yaml:"addr"`
	// ReadHeaderTimeout bounds reading a request's headers (slow clients).
	// Default 10s.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// IdleTimeout closes idle keep-alive connections. Default 120s.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// ShutdownGrace is how long shutdown waits for responses to end.
	// Default 5s.
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
}

// DefaultConfig returns the configuration used when nothing is set.
func DefaultConfig() Config {
	return Config{
		Log:  LogConfig{Level: "info", Format: "text"},
		RTMP: rtmp.ServerConfig{Addr: ":1935"},
		HTTP: HTTPConfig{
			Addr: ":8080", ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout: 120 * time.Second, ShutdownGrace: 5 * time.Second,
		},
	}
}

// Server is the running process: listeners and the components behind them.
type Server struct {
	cfg     Config
	log     *slog.Logger
	version string
	start   time.Time

	hub    *stream.Registry
	access *access.Checker
	rtmp   *rtmp.Server
	flv    *httpflv.Handler
	hls    *hls.Manager
	http   *http.Server
	rtmpLn net.Listener
	httpLn net.Listener
	errc   chan error
}

// New builds the server, binds both listeners and starts serving.
func New(cfg Config, version string, log *slog.Logger) (*Server, error) {
	if err := cfg.Access.Validate(); err != nil {
		return nil, fmt.Errorf("access: %w", err)
	}
	s := &Server{cfg: cfg, log: log, version: version, start: time.Now(), errc: make(chan error, 2)}
	s.hub = stream.NewRegistry(cfg.Stream, log.With("component", "stream"))
	s.access = access.New(cfg.Access, log.With("component", "access"))
	s.hub.AddObserver(s.access)
	var err error
	hlsCfg := cfg.HLS
	hlsCfg.Authorizer = s.access
	s.hls, err = hls.NewManager(hlsCfg, s.hub, log.With("component", "hls"))
	if err != nil {
		s.access.Close()
		return nil, fmt.Errorf("hls: %w", err)
	}
	flvCfg := cfg.FLV
	flvCfg.Authorizer, flvCfg.PlayListener = s.access, s.access
	s.flv = httpflv.New(flvCfg, s.hub, log.With("component", "httpflv"))
	rtmpCfg := cfg.RTMP
	rtmpCfg.Authorizer, rtmpCfg.PlayListener = s.access, s.access
	s.rtmp = rtmp.NewServer(rtmpCfg, s.hub, log)
	handler, err := s.routes()
	if err != nil {
		s.hls.Close()
		s.access.Close()
		return nil, err
	}
	s.http = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout,
		IdleTimeout:       cfg.HTTP.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.With("component", "http").Handler(), slog.LevelWarn),
	}
	if s.rtmpLn, err = net.Listen("tcp", cfg.RTMP.Addr); err != nil {
		s.hls.Close()
		s.access.Close()
		return nil, fmt.Errorf("rtmp listen: %w", err)
	}
	if s.httpLn, err = net.Listen("tcp", cfg.HTTP.Addr); err != nil {
		_ = s.rtmpLn.Close()
		s.hls.Close()
		s.access.Close()
		return nil, fmt.Errorf("http listen: %w", err)
	}
	go func() { s.errc <- s.rtmp.Serve(s.rtmpLn) }()
	go func() { s.errc <- s.http.Serve(s.httpLn) }()
	return s, nil
}

// routes builds the HTTP handler: API, metrics, health, media by path
// suffix.
func (s *Server) routes() (http.Handler, error) {
	src := source.New(source.Deps{Hub: s.hub, RTMP: s.rtmp, HTTPFLV: s.flv, HLS: s.hls})
	collector := metrics.New(metrics.Deps{
		Hub: s.hub, HLSViewers: s.hls, Auth: s.access,
		HLSSegments: s.hls.SegmentsProduced, HandshakeFailures: s.rtmp.HandshakeFailures,
		Traffic: map[string]metrics.TrafficSource{"rtmp": s.rtmp, "httpflv": s.flv},
	})
	metricsHandler, err := metrics.Handler(collector, s.log)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle(api.BasePath+"/", api.New(s.cfg.API, api.Deps{
		Streams: src, Sessions: src, Server: s.info,
	}, s.log.With("component", "api")))
	mux.Handle("/metrics", metricsHandler)
	mux.Handle("/healthz", metrics.HealthHandler(nil))
	mux.Handle("/", mediaRouter{flv: s.flv, hls: s.hls})
	return mux, nil
}

// info describes the server for the API.
func (s *Server) info() api.ServerInfo {
	st := s.access.Stats()
	return api.ServerInfo{
		Version: s.version, StartTime: s.start, Config: s.cfg,
		Counters: map[string]uint64{
			"publish_denied": st.PublishDenied, "play_denied": st.PlayDenied,
			"hook_failures": st.HookFailures, "notify_dropped": st.NotifyDropped,
		},
	}
}

// mediaRouter sends /{app}/{name}.flv to HTTP-FLV/WS-FLV and playlists and
// segments to HLS.
type mediaRouter struct {
	flv, hls http.Handler
}

func (m mediaRouter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch p := r.URL.Path; {
	case strings.HasSuffix(p, httpflv.PathSuffix):
		m.flv.ServeHTTP(w, r)
	case strings.HasSuffix(p, ".m3u8"), strings.HasSuffix(p, ".ts"):
		m.hls.ServeHTTP(w, r)
	default:
		http.NotFound(w, r)
	}
}

// RTMPAddr returns the address the RTMP listener is bound to.
func (s *Server) RTMPAddr() string { return s.rtmpLn.Addr().String() }

// HTTPAddr returns the address the HTTP listener is bound to.
func (s *Server) HTTPAddr() string { return s.httpLn.Addr().String() }

// Hub returns the stream registry.
func (s *Server) Hub() *stream.Registry { return s.hub }

// Wait blocks until ctx ends or a listener fails.
func (s *Server) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-s.errc:
		return err
	}
}

// Shutdown stops in order: no new connections, sessions ended, HTTP
// responses drained within the grace period, streams closed, hooks
// flushed.
func (s *Server) Shutdown() error {
	var errs []error
	if err := s.rtmp.Close(); err != nil && !errors.Is(err, rtmp.ErrServerClosed) {
		errs = append(errs, fmt.Errorf("rtmp: %w", err))
	}
	s.flv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.HTTP.ShutdownGrace)
	defer cancel()
	if err := s.http.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("http: %w", err))
	}
	s.hls.Close()
	s.hub.Close()
	s.access.Close()
	return errors.Join(errs...)
}
