package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Run pacing.
const (
	// monitorInterval is how often stalls are checked.
	monitorInterval = 250 * time.Millisecond
	// sampleInterval is how often the server's memory is sampled.
	sampleInterval = time.Second
	// progressInterval is how often progress is logged.
	progressInterval = 5 * time.Second
)

// runner holds one run's state.
type runner struct {
	cfg     Config
	log     *slog.Logger
	clock   clock
	app     string
	in      *input
	pid     int
	server  *childServer
	pubs    []*publisher
	viewers []*viewer

	flvClient *http.Client
	hlsClient *http.Client
	llClient  *http.Client
	wsDialer  *websocket.Dialer
	stampDial func(ctx context.Context, network, addr string) (net.Conn, error)

	// samples, written by the monitor only.
	rssMax int64
	// liveHeapBase and liveHeapEnd are the server's live heap before the
	// viewers and at the end (-1: unknown).
	liveHeapBase, liveHeapEnd int64
	threads                   int
}

// runBench runs one load test: it prepares the input (and the server, with
// ServerCmd), starts the publishers, waits cfg.Warmup, starts the viewers at
// cfg.Ramp per second, lets them play for cfg.Duration and reports. An
// error means the run could not be made (no input, no server, a publisher
// refused); a run made with bad figures returns a Result whose failure()
// says why it does not count.
func runBench(ctx context.Context, cfg Config, log *slog.Logger) (*Result, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	app, err := cfg.app()
	if err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, log: log, app: app, pid: cfg.ServerPID}
	path := cfg.Input
	if path == "" {
		log.Info("preparing input (ffmpeg, cached)", "spec", cfg.Generate.fileName())
		if path, err = ensureInput(ctx, cfg.Generate, cfg.CacheDir); err != nil {
			return nil, err
		}
	}
	if r.in, err = loadInput(path); err != nil {
		return nil, err
	}
	log.Info("input", "path", path, "mbit_s", fmt.Sprintf("%.2f", r.in.bitrate()/1e6),
		"loop", time.Duration(r.in.loopSpan)*time.Millisecond, "frame_interval", r.in.frameInterval)
	if len(cfg.ServerCmd) > 0 {
		if err := r.startServer(ctx); err != nil {
			return nil, err
		}
		defer func() {
			if err := r.server.stop(); err != nil {
				log.Warn("server stop", "err", err)
			}
		}()
	}
	if r.pid != 0 {
		if _, err := processCPU(r.pid); err != nil {
			return nil, fmt.Errorf("server pid %d: %w", r.pid, err)
		}
	}
	r.clock = clock{base: time.Now()}
	r.makeClients()
	defer r.flvClient.CloseIdleConnections()
	defer r.hlsClient.CloseIdleConnections()
	defer r.llClient.CloseIdleConnections()
	return r.run(ctx)
}

// startServer starts the child server and waits for its ports.
func (r *runner) startServer(ctx context.Context) error {
	addrs := []string{}
	rtmpAddr, err := hostPort(r.cfg.RTMPURL)
	if err != nil {
		return fmt.Errorf("rtmp base: %w", err)
	}
	addrs = append(addrs, rtmpAddr)
	if r.cfg.usesHTTP() {
		httpAddr, err := hostPort(r.cfg.HTTPURL)
		if err != nil {
			return fmt.Errorf("http base: %w", err)
		}
		addrs = append(addrs, httpAddr)
	}
	r.server, err = startServer(ctx, r.cfg.ServerCmd, r.cfg.ServerLog, addrs, r.cfg.ServerWait, r.log)
	if err != nil {
		return err
	}
	r.pid = r.server.pid()
	return nil
}

// makeClients builds the shared HTTP clients and WebSocket dialer.
func (r *runner) makeClients() {
	dialer := &net.Dialer{Timeout: r.cfg.ConnectTimeout}
	// Streaming viewers' connections record when data arrives (stampConn).
	r.stampDial = dialStamped(dialer)
	// HTTP-FLV: one long response per connection, never reused.
	r.flvClient = &http.Client{Transport: &http.Transport{
		DialContext:           r.stampDial,
		DisableKeepAlives:     true,
		DisableCompression:    true,
		ResponseHeaderTimeout: r.cfg.ConnectTimeout,
	}}
	// HLS: short requests over kept-alive connections, as players do.
	r.hlsClient = &http.Client{Transport: &http.Transport{
		DialContext:           dialer.DialContext,
		MaxIdleConns:          r.cfg.Viewers + 16,
		MaxIdleConnsPerHost:   r.cfg.Viewers + 16,
		IdleConnTimeout:       time.Minute,
		DisableCompression:    true,
		ResponseHeaderTimeout: r.cfg.ConnectTimeout,
	}, Timeout: time.Minute}
	// LL-HLS: the same, over connections that record when data arrived,
	// so that a part's freshness is taken when its last byte arrived.
	r.llClient = &http.Client{Transport: &http.Transport{
		DialContext:           r.stampDial,
		MaxIdleConns:          r.cfg.Viewers + 16,
		MaxIdleConnsPerHost:   r.cfg.Viewers + 16,
		IdleConnTimeout:       time.Minute,
		DisableCompression:    true,
		ResponseHeaderTimeout: time.Minute, // blocking reloads and hinted parts wait
	}, Timeout: time.Minute}
	r.wsDialer = &websocket.Dialer{
		NetDialContext:   r.stampDial,
		HandshakeTimeout: r.cfg.ConnectTimeout,
		ReadBufferSize:   4 << 10,
		WriteBufferSize:  1 << 10,
	}
}

// run drives the phases of a prepared run.
func (r *runner) run(ctx context.Context) (*Result, error) {
	cfg := r.cfg
	res := newResult(cfg, r.in)
	pubCtx, stopPubs := context.WithCancel(ctx)
	var pubWG sync.WaitGroup
	defer func() {
		stopPubs()
		pubWG.Wait()
	}()
	if err := r.startPublishers(pubCtx, &pubWG); err != nil {
		return nil, err
	}
	r.log.Info("publishing", "streams", cfg.Publishers, "warmup", cfg.Warmup)
	if err := sleepCtx(ctx, cfg.Warmup); err != nil {
		return nil, err
	}
	if err := r.serverAlive(); err != nil {
		return nil, err
	}

	// Baseline, then viewers.
	base := r.snapshot()
	r.rssMax = base.mem.RSS
	r.liveHeapBase = liveHeap(ctx, r.cfg.HTTPURL)
	r.viewers = make([]*viewer, cfg.Viewers)
	for i := range r.viewers {
		r.viewers[i] = r.newViewer(i)
	}
	var ramp time.Duration
	if cfg.Ramp > 0 && cfg.Viewers > 1 {
		ramp = time.Duration(float64(cfg.Viewers-1) / cfg.Ramp * float64(time.Second))
	}
	phaseStart := r.clock.since()
	endAt := phaseStart + ramp + cfg.Duration
	r.log.Info("viewers starting", "viewers", cfg.Viewers, "proto", cfg.Proto, "ramp", ramp.Round(time.Millisecond), "duration", cfg.Duration)

	viewCtx, stopViewers := context.WithCancel(ctx)
	var viewWG sync.WaitGroup
	monCtx, stopMonitor := context.WithCancel(ctx)
	var monWG sync.WaitGroup
	monWG.Go(func() { r.monitor(monCtx, phaseStart) })
	defer func() {
		stopMonitor()
		monWG.Wait()
		stopViewers()
		viewWG.Wait()
	}()
	for i, v := range r.viewers {
		if cfg.Ramp > 0 && cfg.Viewers > 1 {
			due := phaseStart + time.Duration(float64(i)/cfg.Ramp*float64(time.Second))
			if d := due - r.clock.since(); d > 0 && sleepCtx(ctx, d) != nil {
				break
			}
		}
		viewWG.Go(func() { r.runViewer(viewCtx, v) })
	}
	interrupted := sleepCtx(ctx, endAt-r.clock.since()) != nil

	// Measure before tearing down, so teardown is not counted.
	stopMonitor()
	monWG.Wait()
	end := r.snapshot()
	r.liveHeapEnd = liveHeap(ctx, r.cfg.HTTPURL)
	res.fill(r, base, end, phaseStart)
	stopViewers()
	viewWG.Wait()
	res.fillViewers(r.viewers)
	stopPubs()
	pubWG.Wait()
	res.fillPublishers(r.pubs)
	if err := r.serverAlive(); err != nil {
		res.Errors = append(res.Errors, err.Error())
		res.ServerDied = true
	}
	if interrupted {
		res.Interrupted = true
	}
	return res, nil
}

// startPublishers starts every publisher and waits until each has started
// publishing or failed.
func (r *runner) startPublishers(ctx context.Context, wg *sync.WaitGroup) error {
	ready := make(chan error, r.cfg.Publishers)
	for i := range r.cfg.Publishers {
		p := &publisher{
			url: r.cfg.RTMPURL, name: r.cfg.streamName(i), in: r.in, clock: r.clock,
			log: r.log.With("publisher", r.cfg.streamName(i)),
		}
		p.res.Name = p.name
		r.pubs = append(r.pubs, p)
		var once sync.Once
		signal := func(err error) { once.Do(func() { ready <- err }) }
		if r.cfg.PublisherMode == publishFFmpeg {
			wg.Go(func() { _ = p.runFFmpeg(ctx, signal) })
			continue
		}
		p.sends, p.audioSends, p.keys = new(sendTable), new(sendTable), new(keyRing)
		wg.Go(func() {
			if err := p.runGo(ctx, signal); err != nil {
				p.log.Warn("publisher ended", "err", err)
			}
		})
	}
	var errs []error
	for range r.cfg.Publishers {
		if err := <-ready; err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// newViewer prepares viewer i.
func (r *runner) newViewer(i int) *viewer {
	pub := i % len(r.pubs)
	name := r.pubs[pub].name
	v := &viewer{
		id: i, pub: pub, name: name, url: r.cfg.viewerURL(r.app, name),
		sends: r.pubs[pub].sends, audioSends: r.pubs[pub].audioSends, keys: r.pubs[pub].keys,
		clock: r.clock, interval: r.in.frameInterval,
		stallAfter: r.cfg.StallAfter,
	}
	if v.sends != nil || r.cfg.Proto == protoHLS {
		v.lat = new(histogram)
	}
	if v.sends != nil && r.cfg.Proto != protoHLS {
		v.latRead = new(histogram)
	}
	v.dial = r.stampDial
	if v.audioSends != nil && r.cfg.Proto != protoHLS && r.cfg.Proto != protoLLHLS {
		v.audioLat = new(histogram)
	}
	if r.cfg.Proto == protoLLHLS {
		v.latRead = nil // freshness is taken at the socket only
		if r.cfg.LLProbe && v.sends != nil {
			v.avail = new(histogram)
		}
	}
	return v
}

// runViewer plays one viewer until ctx ends or its stream does.
func (r *runner) runViewer(ctx context.Context, v *viewer) {
	defer v.done.Store(true)
	v.connectStart = r.clock.since()
	br := bufio.NewReaderSize(nil, viewerBufferSize)
	var err error
	switch r.cfg.Proto {
	case protoFLV:
		err = v.runHTTPFLV(ctx, r.flvClient, br)
	case protoWS:
		err = v.runWSFLV(ctx, r.wsDialer, br)
	case protoRTMP:
		err = v.runRTMP(ctx, r.cfg.RTMPURL)
	case protoHLS:
		err = v.runHLS(ctx, r.hlsClient, br, r.cfg.ConnectTimeout)
	case protoLLHLS:
		err = v.runLLHLS(ctx, r.llClient, br, r.cfg.ConnectTimeout, r.cfg.LLProbe)
	}
	if ctx.Err() != nil {
		return // the run ended it
	}
	if err == nil {
		err = errors.New("ended")
	}
	v.err, v.endedEarly = err, true
	r.log.Debug("viewer ended early", "viewer", v.id, "err", err)
}

// monitor checks for stalls, samples the server's memory and logs progress
// until ctx ends.
func (r *runner) monitor(ctx context.Context, phaseStart time.Duration) {
	tick := time.NewTicker(monitorInterval)
	defer tick.Stop()
	var lastSample, lastProgress time.Duration
	var lastBytes uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := r.clock.since()
		if r.cfg.Proto != protoHLS {
			for _, v := range r.viewers {
				if v.firstFrame.Load() == 0 || v.done.Load() {
					continue
				}
				if now-time.Duration(v.lastArrival.Load()) >= r.cfg.StallAfter {
					v.stalled.Store(true)
				}
			}
		}
		if r.pid != 0 && now-lastSample >= sampleInterval {
			lastSample = now
			if m, err := processMemory(r.pid); err == nil {
				r.rssMax = max(r.rssMax, m.RSS)
				r.threads = max(r.threads, m.Threads)
			}
		}
		if now-lastProgress >= progressInterval {
			var playing int
			var total uint64
			for _, v := range r.viewers {
				total += v.bytes.Load()
				if v.firstFrame.Load() != 0 && !v.done.Load() {
					playing++
				}
			}
			if lastProgress != 0 {
				mbps := float64(total-lastBytes) * 8 / (now - lastProgress).Seconds() / 1e6
				r.log.Info("progress", "t", (now - phaseStart).Round(time.Second), "playing", playing,
					"of", len(r.viewers), "mbit_s", fmt.Sprintf("%.0f", mbps), "load1", loadAverage())
			}
			lastProgress, lastBytes = now, total
		}
	}
}

// snapshot is the server's and the tool's state at one instant.
type snapshot struct {
	at      time.Duration
	cpu     time.Duration // server CPU; 0 without a server PID
	mem     memStatus
	selfCPU time.Duration
	load    float64
	bytes   uint64 // delivered to viewers so far
	playing int    // viewers playing now
	// serverErr is set when the server's figures could not be read (the
	// process is gone).
	serverErr error
}

// snapshot takes one.
func (r *runner) snapshot() snapshot {
	s := snapshot{at: r.clock.since(), selfCPU: selfCPU(), load: loadAverage()}
	if r.pid != 0 {
		var err1, err2 error
		s.cpu, err1 = processCPU(r.pid)
		s.mem, err2 = processMemory(r.pid)
		s.serverErr = errors.Join(err1, err2)
	}
	for _, v := range r.viewers {
		s.bytes += v.bytes.Load()
		if v.firstFrame.Load() != 0 && !v.done.Load() {
			s.playing++
		}
	}
	return s
}

// serverAlive fails when the child server has exited.
func (r *runner) serverAlive() error {
	if r.server == nil {
		return nil
	}
	if exited, err := r.server.exitErr(); exited {
		return fmt.Errorf("server exited during the run: %v", err)
	}
	return nil
}
