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
	"github.com/mediaserver/mediaserver/cluster"
	"github.com/mediaserver/mediaserver/hls"
	"github.com/mediaserver/mediaserver/httpflv"
	"github.com/mediaserver/mediaserver/internal/access"
	"github.com/mediaserver/mediaserver/internal/apisource"
	"github.com/mediaserver/mediaserver/internal/conns"
	"github.com/mediaserver/mediaserver/internal/logmask"
	"github.com/mediaserver/mediaserver/internal/metrics"
	"github.com/mediaserver/mediaserver/record"
	"github.com/mediaserver/mediaserver/relay"
	"github.com/mediaserver/mediaserver/rtmp"
	"github.com/mediaserver/mediaserver/stream"
	"github.com/mediaserver/mediaserver/web"
)

// Server is the running process: listeners and the components behind them.
// Its configuration is the effective one (Config.WithDefaults), filled in
// once by New; the API reports it and Shutdown is bounded by its grace.
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
	rec    *record.Manager
	relay  *relay.Puller
	// cluster is the server's cluster membership; nil outside a cluster.
	cluster *cluster.Node
	http    *http.Server
	rtmpLn  net.Listener
	httpLn  net.Listener
	errc    chan error

	httpLimits *httpLimits
	// adminRefusals rate-limits the log of requests the admin surface's
	// guard refuses.
	adminRefusals conns.LogLimiter
}

// New builds the server with cfg.WithDefaults(), binds both listeners and
// starts serving. log is passed unscoped to every component, which adds
// its own "component" attribute; the server scopes only the logger of its
// HTTP listener ("http"). Secrets in the records of every component are
// masked (logmask.Wrap), whether or not log did so already. It fails with an error wrapping the invalid part's
// ErrInvalidConfig when the configuration does not validate.
func New(cfg Config, version string, log *slog.Logger) (*Server, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	log = logmask.Logger(log)
	s := &Server{cfg: cfg, log: log, version: version, start: time.Now(), errc: make(chan error, 2)}
	s.httpLimits = &httpLimits{log: log.With("component", "http"),
		adm: conns.Counter{Max: cfg.HTTP.MaxConns, MaxPerHost: cfg.HTTP.MaxConnsPerIP}}
	// undo closes what was built, newest first, when a later part fails.
	var undo []func()
	fail := func(err error) (*Server, error) {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
		return nil, err
	}
	var err error
	if s.hub, err = stream.NewRegistry(cfg.Stream, log); err != nil {
		return nil, fmt.Errorf("stream: %w", err)
	}
	if s.access, err = access.New(cfg.Access, log); err != nil {
		return nil, fmt.Errorf("access: %w", err)
	}
	undo = append(undo, s.access.Close)
	s.hub.AddObserver(s.access)
	hlsCfg := cfg.HLS
	hlsCfg.Authorizer = s.access
	hlsCfg.Memory = s.hub.Memory()
	// Viewers' outputs look streams up through the hub's viewer side: the
	// first viewer of a stream pulled on demand starts its pull.
	viewerHub := s.hub.ForViewers()
	if s.hls, err = hls.NewManager(hlsCfg, viewerHub, log); err != nil {
		return fail(fmt.Errorf("hls: %w", err))
	}
	undo = append(undo, s.hls.Close)
	flvCfg := cfg.FLV
	flvCfg.Authorizer, flvCfg.PlayListener = s.access, s.access
	if s.flv, err = httpflv.New(flvCfg, viewerHub, log); err != nil {
		return fail(fmt.Errorf("http-flv: %w", err))
	}
	undo = append(undo, s.flv.Close)
	rtmpCfg := cfg.RTMP
	rtmpCfg.Authorizer, rtmpCfg.PlayListener = s.access, s.access
	if cfg.Cluster.Enabled() {
		if s.cluster, err = cluster.NewNode(cfg.Cluster, s.hub, log); err != nil {
			return fail(fmt.Errorf("cluster: %w", err))
		}
		undo = append(undo, s.closeCluster)
		s.hub.AddObserver(s.cluster)
		rtmpCfg.Authorizer = cluster.PublishGate{Inner: s.access, Node: s.cluster}
	}
	if s.rtmp, err = rtmp.NewServer(rtmpCfg, viewerHub, log); err != nil {
		return fail(fmt.Errorf("rtmp: %w", err))
	}
	if s.relay, err = relay.NewPuller(cfg.Relay, s.hub, s.hls, log); err != nil {
		return fail(fmt.Errorf("relay: %w", err))
	}
	undo = append(undo, s.relay.Close)
	s.hub.SetDemander(s.demander())
	if s.rec, err = record.NewManager(cfg.Record, s.hub, log); err != nil {
		return fail(fmt.Errorf("record: %w", err))
	}
	undo = append(undo, s.rec.Close)
	s.hub.AddObserver(s.rec)
	handler, err := s.routes()
	if err != nil {
		return fail(err)
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
		return fail(fmt.Errorf("rtmp listen: %w", err))
	}
	undo = append(undo, func() { _ = s.rtmpLn.Close() })
	if s.httpLn, err = net.Listen("tcp", cfg.HTTP.Addr); err != nil {
		return fail(fmt.Errorf("http listen: %w", err))
	}
	go func() { s.errc <- s.rtmp.Serve(s.rtmpLn) }()
	go func() { s.errc <- s.http.Serve(s.httpLimits.listener(s.httpLn)) }()
	return s, nil
}

// routes builds the HTTP handler: API, metrics, health, media by path
// suffix. One guard closes the admin surface: the API, the dashboard, the
// profiler and (unless metrics.public) /metrics.
func (s *Server) routes() (http.Handler, error) {
	guard, err := api.NewGuard(s.cfg.API, &s.adminRefusals, s.log.With("component", "api"))
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	src := apisource.New(apisource.Deps{Hub: s.hub, RTMP: s.rtmp, HTTPFLV: s.flv, HLS: s.hls, Relays: s.relay})
	collector := metrics.New(metrics.Deps{
		Hub: s.hub, HLSViewers: s.hls, Auth: s.access, Admin: guard,
		HLSSegments: s.hls.SegmentsProduced, HandshakeFailures: s.rtmp.HandshakeFailures,
		Traffic:          map[string]metrics.TrafficSource{"rtmp": s.rtmp, "httpflv": s.flv},
		Limits:           map[string]metrics.LimitSource{"rtmp": s.rtmp, "http": s.httpLimits, "flv": s.flv, "stream": s.hub, "hls": s.hls},
		OmitStreamSeries: !s.cfg.Metrics.StreamLabels,
	})
	metricsHandler, err := metrics.Handler(collector, s.log)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	ui, err := web.New()
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	deps := api.Deps{
		Streams: src, Sessions: src, Keys: keySource{s: s}, Server: s.info, Totals: apisource.Totals(collector), Guard: guard,
		Recordings: recordingSource{m: s.rec},
		Relays:     src,
	}
	if s.cluster != nil {
		deps.Cluster = clusterSource{node: s.cluster}
	}
	apiHandler, err := api.New(s.cfg.API, deps, s.log)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	if !s.cfg.Metrics.Public {
		metricsHandler = guard.Protect(metricsHandler)
	}
	mux := http.NewServeMux()
	mux.Handle(api.BasePath+"/", apiHandler)
	mux.Handle("/metrics", metricsHandler)
	mux.Handle("/healthz", metrics.HealthHandler(s.health))
	if s.cfg.HTTP.Pprof {
		mux.Handle("/debug/pprof/", loopbackOnly(guard.Protect(http.HandlerFunc(pprof.Index))))
		mux.Handle("/debug/pprof/profile", loopbackOnly(guard.Protect(http.HandlerFunc(pprof.Profile))))
	}
	var hlsHandler http.Handler = s.hls
	if s.cluster != nil {
		hlsHandler = s.cluster.HLSProxy(s.hls)
	}
	mux.Handle("/", mediaRouter{flv: s.flv, hls: hlsHandler, ui: guard.ProtectPage(ui)})
	return mux, nil
}

// info describes the server for the API.
func (s *Server) info() api.ServerInfo {
	st := s.access.Stats()
	cfg := s.cfg
	cfg.Access.Apps = s.access.Apps() // as last reloaded
	return api.ServerInfo{
		Version: s.version, StartTime: s.start, Config: cfg,
		Counters: map[string]uint64{
			"publish_denied": st.PublishDenied, "play_denied": st.PlayDenied,
			"hook_failures": st.HookFailures, "notify_dropped": st.NotifyDropped,
			"play_cache_hits": st.PlayCacheHits, "play_cache_misses": st.PlayCacheMisses,
		},
	}
}

// loopbackOnly answers 403 to clients that are not on this machine.
func loopbackOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !api.IsLoopback(r.RemoteAddr) {
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
	case strings.HasSuffix(p, ".m4s"), strings.HasSuffix(p, ".mp4"): // fMP4 segments, LL-HLS parts, init sections
		m.hls.ServeHTTP(w, r)
	default:
		m.ui.ServeHTTP(w, r)
	}
}

// Reload applies what can change while the server runs from cfg, the
// configuration read again (on SIGHUP): access.apps, its publish keys and
// play secrets.
// No stream is dropped; publishes that follow obey the new keys. Other
// changes need a restart. It fails, changing nothing, when cfg does not
// validate.
func (s *Server) Reload(cfg Config) error {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	if err := s.access.Reload(cfg.Access); err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	return nil
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
//  6. recordings are completed (their streams ended in step 2);
//  7. hooks are flushed.
//
// HTTP keeps accepting until step 5 so that HLS players can see the end.
func (s *Server) Shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.HTTP.ShutdownGrace)
	defer cancel()
	var errs []error
	s.flv.Close()
	s.hub.SetDemander(nil)
	s.relay.Close()
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
	s.rec.Close()
	s.closeCluster()
	s.access.Close()
	return errors.Join(errs...)
}
