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
	"net/http/pprof"
	"strings"
	"time"

	"github.com/mediaserver/mediaserver/api"
	"github.com/mediaserver/mediaserver/hls"
	"github.com/mediaserver/mediaserver/httpflv"
	"github.com/mediaserver/mediaserver/internal/access"
	"github.com/mediaserver/mediaserver/internal/apisource"
	"github.com/mediaserver/mediaserver/internal/conns"
	"github.com/mediaserver/mediaserver/internal/metrics"
	"github.com/mediaserver/mediaserver/rtmp"
	"github.com/mediaserver/mediaserver/stream"
	"github.com/mediaserver/mediaserver/web"
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
	// MaxConns caps the HTTP connections open at once; one more is closed
	// right after accept. Default DefaultHTTPMaxConns (10000); negative:
	// no cap.
	MaxConns int `yaml:"max_conns"`
	// MaxConnsPerIP caps the HTTP connections from one client address.
	// Default DefaultHTTPMaxConnsPerIP (256); negative: no cap.
	MaxConnsPerIP int `yaml:"max_conns_per_ip"`
	// MaxHeaderBytes caps a request's line and headers; a larger request
	// is answered 431. Default DefaultMaxHeaderBytes (64 KiB).
	MaxHeaderBytes int `yaml:"max_header_bytes"`
	// ShutdownLinger is how long HTTP keeps answering during a shutdown
	// after every HLS playlist got EXT-X-ENDLIST, so that players polling
	// them see the end (bounded by ShutdownGrace; only when there are
	// playlists). Default 1s; negative: none.
	ShutdownLinger time.Duration `yaml:"shutdown_linger"`
	// ShutdownGrace bounds the whole shutdown on SIGTERM: publishers and
	// viewers are told and closed, playlists ended, then responses still
	// running are cut. Default 5s.
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
	// Pprof serves Go's profiler at /debug/pprof/ to loopback clients, for
	// performance work. Default false.
	Pprof bool `yaml:"pprof"`
}

// DefaultConfig returns the configuration used when nothing is set.
func DefaultConfig() Config {
	return Config{
		Log:  LogConfig{Level: "info", Format: "text"},
		RTMP: rtmp.ServerConfig{Addr: ":1935"},
		HTTP: HTTPConfig{
			Addr: ":8080", ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout: 120 * time.Second, ShutdownGrace: 5 * time.Second,
			MaxHeaderBytes: DefaultMaxHeaderBytes, ShutdownLinger: time.Second,
			MaxConns: DefaultHTTPMaxConns, MaxConnsPerIP: DefaultHTTPMaxConnsPerIP,
		},
		Stream: stream.Config{
			RepublishWindow: stream.DefaultRepublishWindow, ReclaimStalled: stream.DefaultReclaimStalled,
			AudioHold: stream.DefaultAudioHold,
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

	httpLimits *httpLimits
}

// New builds the server, binds both listeners and starts serving.
func New(cfg Config, version string, log *slog.Logger) (*Server, error) {
	if err := cfg.Access.Validate(); err != nil {
		return nil, fmt.Errorf("access: %w", err)
	}
	if cfg.HTTP.MaxHeaderBytes <= 0 {
		cfg.HTTP.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if cfg.HTTP.MaxConns == 0 {
		cfg.HTTP.MaxConns = DefaultHTTPMaxConns
	}
	if cfg.HTTP.MaxConnsPerIP == 0 {
		cfg.HTTP.MaxConnsPerIP = DefaultHTTPMaxConnsPerIP
	}
	if cfg.HTTP.ShutdownGrace <= 0 {
		cfg.HTTP.ShutdownGrace = 5 * time.Second
	}
	s := &Server{cfg: cfg, log: log, version: version, start: time.Now(), errc: make(chan error, 2)}
	s.httpLimits = &httpLimits{log: log.With("component", "http"),
		adm: conns.Counter{Max: cfg.HTTP.MaxConns, MaxPerHost: cfg.HTTP.MaxConnsPerIP}}
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
		Handler:           s.httpLimits.handler(handler),
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout,
		IdleTimeout:       cfg.HTTP.IdleTimeout,
		MaxHeaderBytes:    cfg.HTTP.MaxHeaderBytes,
		ConnContext:       s.httpLimits.connContext,
		ConnState:         s.httpLimits.connState,
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
	go func() { s.errc <- s.http.Serve(s.httpLimits.listener(s.httpLn)) }()
	return s, nil
}

// routes builds the HTTP handler: API, metrics, health, media by path
// suffix.
func (s *Server) routes() (http.Handler, error) {
	src := apisource.New(apisource.Deps{Hub: s.hub, RTMP: s.rtmp, HTTPFLV: s.flv, HLS: s.hls})
	collector := metrics.New(metrics.Deps{
		Hub: s.hub, HLSViewers: s.hls, Auth: s.access,
		HLSSegments: s.hls.SegmentsProduced, HandshakeFailures: s.rtmp.HandshakeFailures,
		Traffic: map[string]metrics.TrafficSource{"rtmp": s.rtmp, "httpflv": s.flv},
		Limits:  map[string]metrics.LimitSource{"rtmp": s.rtmp, "http": s.httpLimits, "flv": s.flv},
	})
	metricsHandler, err := metrics.Handler(collector, s.log)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	ui, err := web.New()
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle(api.BasePath+"/", api.New(s.cfg.API, api.Deps{
		Streams: src, Sessions: src, Server: s.info, Totals: apisource.Totals(collector),
	}, s.log.With("component", "api")))
	mux.Handle("/metrics", metricsHandler)
	mux.Handle("/healthz", metrics.HealthHandler(nil))
	if s.cfg.HTTP.Pprof {
		mux.Handle("/debug/pprof/", loopbackOnly(http.HandlerFunc(pprof.Index)))
		mux.Handle("/debug/pprof/profile", loopbackOnly(http.HandlerFunc(pprof.Profile)))
	}
	mux.Handle("/", mediaRouter{flv: s.flv, hls: s.hls, ui: ui})
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

// loopbackOnly answers 403 to clients that are not on this machine.
func loopbackOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			http.Error(w, "profiling is served to loopback clients only", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// mediaRouter sends /{app}/{name}.flv to HTTP-FLV/WS-FLV, playlists and
// segments to HLS, and every other path to the web UI.
type mediaRouter struct {
	flv, hls, ui http.Handler
}

func (m mediaRouter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch p := r.URL.Path; {
	case strings.HasSuffix(p, httpflv.PathSuffix):
		m.flv.ServeHTTP(w, r)
	case strings.HasSuffix(p, ".m3u8"), strings.HasSuffix(p, ".ts"):
		m.hls.ServeHTTP(w, r)
	default:
		m.ui.ServeHTTP(w, r)
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

// Shutdown stops gracefully within HTTPConfig.ShutdownGrace, in order:
//  1. HTTP-FLV responses end (a clean chunked end) and WebSocket-FLV
//     viewers get close 1001 (going away); new ones get 503;
//  2. every stream ends: RTMP players get StreamEOF and
//     NetStream.Play.UnpublishNotify, HLS segmenters flush;
//  3. RTMP stops accepting; publishers get onStatus
//     NetStream.Unpublish.Success and are closed;
//  4. every HLS playlist gets EXT-X-ENDLIST, and HTTP lingers for
//     ShutdownLinger so that polling players see it;
//  5. the HTTP listener stops and in-flight requests (players fetching the
//     ended playlists) finish; the rest are cut when the grace ends;
//  6. hooks are flushed.
//
// HTTP keeps accepting until step 5 so that HLS players can see the end.
func (s *Server) Shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.HTTP.ShutdownGrace)
	defer cancel()
	var errs []error
	s.flv.Close()
	s.hub.Close()
	if err := s.rtmp.Shutdown(ctx); err != nil && !errors.Is(err, rtmp.ErrServerClosed) {
		errs = append(errs, fmt.Errorf("rtmp: %w", err))
	}
	s.hls.EndPlaylists(ctx)
	if linger := s.cfg.HTTP.ShutdownLinger; linger > 0 && len(s.hls.AllStats()) > 0 {
		t := time.NewTimer(linger)
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
	if err := s.http.Shutdown(ctx); err != nil {
		_ = s.http.Close()
		errs = append(errs, fmt.Errorf("http: %w", err))
	}
	s.hls.Close()
	s.access.Close()
	return errors.Join(errs...)
}
