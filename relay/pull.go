package relay

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mediaserver/mediaserver/stream"
)

// ProtocolRelay is the ingest protocol of a pulled stream's publisher
// (stream.PublisherInfo.Protocol), as the API shows it.
const ProtocolRelay stream.Protocol = "relay"

// PullHub is what a Puller needs from the stream hub; *stream.Registry is one.
// Lookup must not start pulls itself (not a stream.ViewerHub).
type PullHub interface {
	// Publish claims a stream for a publisher.
	Publish(key stream.Key, info stream.PublisherInfo) (*stream.Publisher, error)
	// Lookup returns the live stream for key.
	Lookup(key stream.Key) (*stream.Stream, bool)
}

// HLSViewers counts a stream's HLS clients; *hls.Manager is one. The
// segmenter's reader of a stream does not count as a viewer: its clients
// do.
type HLSViewers interface {
	// Viewers counts the distinct HLS clients of key seen recently.
	Viewers(key stream.Key) int
}

// Puller pulls streams from other servers into the hub: those of
// PullConfig.Sources that are always on from the start, the others on
// demand (it is the hub's stream.Demander), and any that Pull is asked
// for. A pulled stream is published like any other: same budgets, same
// republish and takeover rules. Close stops every pull and waits for it.
type Puller struct {
	cfg    PullConfig
	hub    PullHub
	hls    HLSViewers
	log    *slog.Logger
	dialer *dialer
	now    func() time.Time

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	nextID atomic.Uint64

	mu    sync.Mutex
	pulls map[stream.Key]*pull
	// ending holds the pulls stopped but not yet finished: a new pull of
	// the same key waits for the old one to let its stream go.
	ending map[stream.Key]*pull
	// last is the final status of the stopped pulls of PullConfig.Sources,
	// listed as idle until they run again.
	last   map[stream.Key]PullStatus
	closed bool
}

var _ stream.Demander = (*Puller)(nil)

// NewPuller returns a Puller running with cfg.WithDefaults() over hub,
// with the always-on sources started, or an error wrapping
// ErrInvalidPullConfig when that does not validate. hls, when not nil,
// counts HLS clients as viewers of on-demand pulls. A nil log discards.
func NewPuller(cfg PullConfig, hub PullHub, hls HLSViewers, log *slog.Logger) (*Puller, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new puller: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Puller{
		cfg: cfg, hub: hub, hls: hls, log: log.With("component", "relay"),
		dialer: newDialer(cfg.ReadTimeout, cfg.TLS), now: time.Now,
		ctx: ctx, cancel: cancel, pulls: make(map[stream.Key]*pull), ending: make(map[stream.Key]*pull),
		last: make(map[stream.Key]PullStatus),
	}
	keys := make([]string, 0, len(cfg.Sources))
	for name, src := range cfg.Sources {
		if !src.OnDemand {
			keys = append(keys, name)
		}
	}
	slices.Sort(keys)
	p.mu.Lock()
	for _, name := range keys {
		app, sname, _ := strings.Cut(name, "/")
		p.startLocked(stream.Key{App: app, Name: sname}, cfg.Sources[name], nil)
	}
	p.mu.Unlock()
	p.wg.Add(1)
	go p.janitor()
	return p, nil
}

// Demand implements stream.Demander: for a key with a source in the
// configuration it starts the pull (or joins the running one) and waits
// up to PullConfig.StartTimeout for it to go live.
func (p *Puller) Demand(key stream.Key) bool {
	src, ok := p.cfg.source(key)
	if !ok {
		return false
	}
	ctx, cancel := context.WithTimeout(p.ctx, p.cfg.StartTimeout)
	defer cancel()
	if err := p.pull(ctx, key, src, nil); err != nil {
		p.log.Debug("demanded stream not live", "stream", key.String(), "reason", err)
		return false
	}
	return true
}

// Pull pulls key from rawURL on demand, now: it starts the pull unless
// one of key runs already (which it joins, whatever its URL), and waits
// until the stream is live or ctx ends (ErrNotLive, the pull going on).
// The pull stops PullConfig.IdleTimeout after the stream's last viewer
// left, the wait counting as a viewer.
func (p *Puller) Pull(ctx context.Context, key stream.Key, rawURL string) error {
	if rawURL == "" {
		return fmt.Errorf("pull %s: %w", key, ErrNoSource)
	}
	if err := checkSourceURL(rawURL); err != nil {
		return fmt.Errorf("pull %s: %w", key, err)
	}
	return p.pull(ctx, key, PullSource{URL: rawURL, OnDemand: true}, nil)
}

// Resolver names the source of a stream: a pull started by PullResolved
// asks it before every connection, so that a stream whose origin changed
// is found where it is now. It returns an http(s):// or rtmp(s):// URL.
type Resolver func(ctx context.Context, key stream.Key) (string, error)

// PullResolved is Pull from wherever resolve names at each connection
// attempt: a failed or ended source is looked up again before the retry.
// A resolve error counts as a failed attempt.
func (p *Puller) PullResolved(ctx context.Context, key stream.Key, resolve Resolver) error {
	if resolve == nil {
		return fmt.Errorf("pull %s: %w", key, ErrNoSource)
	}
	return p.pull(ctx, key, PullSource{OnDemand: true}, resolve)
}

// pull starts or joins the pull of key and waits for it to be live.
// resolve, when not nil, names the source before each connection instead
// of src.URL.
func (p *Puller) pull(ctx context.Context, key stream.Key, src PullSource, resolve Resolver) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return fmt.Errorf("pull %s: %w", key, ErrPullerClosed)
	}
	pl, ok := p.pulls[key]
	if !ok {
		if p.cfg.MaxPulls > 0 && len(p.pulls) >= p.cfg.MaxPulls {
			p.mu.Unlock()
			return fmt.Errorf("pull %s: %w (%d)", key, ErrTooManyPulls, p.cfg.MaxPulls)
		}
		pl = p.startLocked(key, src, resolve)
	}
	pl.touch(p.now())
	pl.waiters.Add(1)
	p.mu.Unlock()
	defer func() {
		pl.touch(p.now())
		pl.waiters.Add(-1)
	}()
	if err := pl.waitLive(ctx); err != nil {
		return fmt.Errorf("pull %s: %w", key, err)
	}
	return nil
}

// startLocked starts a pull of key from src, or from where resolve names
// when it is not nil. p.mu must be held.
func (p *Puller) startLocked(key stream.Key, src PullSource, resolve Resolver) *pull {
	id := "relay-" + strconv.FormatUint(p.nextID.Add(1), 10)
	ctx, cancel := context.WithCancelCause(p.ctx)
	pl := &pull{
		p: p, id: id, key: key, src: src, resolve: resolve, url: src.URL, ctx: ctx, cancel: cancel,
		log:     p.log.With("stream", key.String(), "pull", id),
		prev:    p.ending[key],
		done:    make(chan struct{}),
		changed: make(chan struct{}),
		state:   PullConnecting,
		since:   p.now(),
	}
	pl.lastViewer = p.now()
	p.pulls[key] = pl
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		pl.run()
		p.mu.Lock()
		if p.pulls[key] == pl {
			delete(p.pulls, key)
		}
		if p.ending[key] == pl {
			delete(p.ending, key)
		}
		if _, ok := p.cfg.Sources[key.String()]; ok {
			p.last[key] = pl.status()
		}
		p.mu.Unlock()
		close(pl.done)
	}()
	return pl
}

// Stop ends the pull of key at once, its stream with it; it reports
// whether one ran.
func (p *Puller) Stop(key stream.Key) bool {
	p.mu.Lock()
	pl, ok := p.pulls[key]
	if ok {
		delete(p.pulls, key)
		p.ending[key] = pl
	}
	p.mu.Unlock()
	if ok {
		pl.cancel(ErrPullStopped)
		<-pl.done
	}
	return ok
}

// Status lists the pulls, sorted by stream: those running and, as idle,
// the sources of PullConfig.Sources that do not run now (with the
// counters of their last run, if any).
func (p *Puller) Status() []PullStatus {
	p.mu.Lock()
	out := make([]PullStatus, 0, len(p.pulls)+len(p.cfg.Sources))
	for _, pl := range p.pulls {
		out = append(out, pl.status())
	}
	for name := range p.cfg.Sources {
		app, sname, _ := strings.Cut(name, "/")
		key := stream.Key{App: app, Name: sname}
		if _, running := p.pulls[key]; !running {
			out = append(out, p.idleStatusLocked(key))
		}
	}
	p.mu.Unlock()
	slices.SortFunc(out, func(a, b PullStatus) int {
		if c := strings.Compare(a.Key.App, b.Key.App); c != 0 {
			return c
		}
		return strings.Compare(a.Key.Name, b.Key.Name)
	})
	return out
}

// StatusOf returns the status of the pull of key, as Status lists it.
func (p *Puller) StatusOf(key stream.Key) (PullStatus, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pl, ok := p.pulls[key]; ok {
		return pl.status(), true
	}
	if _, ok := p.cfg.Sources[key.String()]; ok {
		return p.idleStatusLocked(key), true
	}
	return PullStatus{}, false
}

// idleStatusLocked is the status of the configured source of key while
// it does not run. p.mu must be held.
func (p *Puller) idleStatusLocked(key stream.Key) PullStatus {
	if st, ok := p.last[key]; ok {
		st.State = PullIdle
		return st
	}
	src := p.cfg.Sources[key.String()]
	return PullStatus{Key: key, URL: src.URL, OnDemand: src.OnDemand, State: PullIdle}
}

// Close stops every pull, ending their streams, and waits for them. It is
// idempotent.
func (p *Puller) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.cancel()
	p.wg.Wait()
	p.dialer.close()
}

// janitor stops on-demand pulls IdleTimeout after their last viewer left.
func (p *Puller) janitor() {
	defer p.wg.Done()
	tick := min(max(p.cfg.IdleTimeout/4, 50*time.Millisecond), time.Second)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
		}
		p.stopIdle(p.now())
	}
}

// stopIdle stops the on-demand pulls that had no viewer for IdleTimeout
// at now.
func (p *Puller) stopIdle(now time.Time) {
	p.mu.Lock()
	onDemand := make([]*pull, 0, len(p.pulls))
	for _, pl := range p.pulls {
		if pl.src.OnDemand {
			onDemand = append(onDemand, pl)
		}
	}
	p.mu.Unlock()
	for _, pl := range onDemand {
		if pl.waiters.Load() > 0 || p.viewers(pl.key) > 0 {
			pl.touch(now)
			continue
		}
		if pl.idleSince(now) < p.cfg.IdleTimeout {
			continue
		}
		p.mu.Lock()
		// A viewer's Pull may have touched it meanwhile.
		stop := p.pulls[pl.key] == pl && pl.waiters.Load() == 0 && pl.idleSince(now) >= p.cfg.IdleTimeout
		if stop {
			delete(p.pulls, pl.key)
			p.ending[pl.key] = pl
		}
		p.mu.Unlock()
		if stop {
			pl.log.Info("stopping pull", "reason", ErrPullIdle.Error(), "idle_timeout", p.cfg.IdleTimeout)
			pl.cancel(ErrPullIdle)
		}
	}
}

// viewers counts the viewers of key: the readers of its stream other than
// the HLS segmenter, and its HLS clients.
func (p *Puller) viewers(key stream.Key) int {
	n := 0
	if s, ok := p.hub.Lookup(key); ok {
		for _, r := range s.Readers() {
			if r.Info().Protocol != stream.ProtocolHLS {
				n++
			}
		}
	}
	if p.hls != nil {
		n += p.hls.Viewers(key)
	}
	return n
}

// backoff returns the wait before retry number attempt (0 for the first):
// RetryDelay doubled per attempt, capped at RetryMaxDelay, with jitter
// taking up to half of it off.
func (p *Puller) backoff(attempt int) time.Duration {
	d := p.cfg.RetryDelay
	for range min(attempt, 30) {
		if d >= p.cfg.RetryMaxDelay/2 {
			d = p.cfg.RetryMaxDelay
			break
		}
		d *= 2
	}
	d = min(d, p.cfg.RetryMaxDelay)
	if d <= 1 {
		return d
	}
	return d - rand.N(d/2)
}

// sourceAddr is the address a pulled stream's publisher is counted under
// (stream.PublisherInfo.RemoteAddr, the per-address budget): the source's
// host and port.
func sourceAddr(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	if u.Port() != "" {
		return u.Host
	}
	port := map[string]string{"rtmp": "1935", "rtmps": "443", "http": "80", "https": "443"}[u.Scheme]
	return net.JoinHostPort(u.Hostname(), port)
}
