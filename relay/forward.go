package relay

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/mediaserver/mediaserver/stream"
)

// ForwardProtocol is the protocol of a forward target's stream.Reader: it
// is no viewer, and the API and metrics do not count it as one.
const ForwardProtocol stream.Protocol = "forward"

// Target origins (TargetInfo.Origin).
const (
	// OriginConfig: the target comes from forward.apps or forward.streams.
	OriginConfig = "config"
	// OriginHook: the on_forward hook picked the target.
	OriginHook = "hook"
	// OriginAPI: the target was added through the API.
	OriginAPI = "api"
)

// Hub is what the Forwarder needs from the stream hub; *stream.Registry
// is one.
type Hub interface {
	// Lookup finds a live stream.
	Lookup(key stream.Key) (*stream.Stream, bool)
}

// Forwarder forwards live streams to their targets. Register it with the
// hub (stream.Registry.AddObserver): it starts a stream's configured
// targets when the stream starts, and stops them when it ends. Close
// stops every target and waits for them.
type Forwarder struct {
	cfg  ForwardConfig
	tls  *tls.Config
	hub  Hub
	log  *slog.Logger
	hook *forwardHook // nil without on_forward

	// ctx ends with Close; every target's context derives from it.
	ctx    context.Context
	cancel context.CancelFunc
	// wg counts the targets' goroutines and the hook calls.
	wg sync.WaitGroup

	mu      sync.Mutex
	streams map[stream.Key]*forwardSet
	nextID  uint64
	closed  bool
}

// forwardSet is the targets of one live stream.
type forwardSet struct {
	st      *stream.Stream
	targets []*target
}

// NewForwarder returns a Forwarder running with cfg.WithDefaults(), or an
// error wrapping ErrInvalidConfig when that does not validate. It logs to
// log scoped with component=forward; a nil log discards.
func NewForwarder(cfg ForwardConfig, hub Hub, log *slog.Logger) (*Forwarder, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new forwarder: %w", err)
	}
	tlsCfg, err := cfg.tlsConfig()
	if err != nil {
		return nil, fmt.Errorf("new forwarder: %w: %w", ErrInvalidConfig, err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f := &Forwarder{cfg: cfg, tls: tlsCfg, hub: hub, log: log.With("component", "forward"),
		streams: make(map[stream.Key]*forwardSet)}
	f.ctx, f.cancel = context.WithCancel(context.Background())
	if cfg.OnForward != "" {
		f.hook = newForwardHook(cfg)
	}
	return f, nil
}

// StreamStarted implements stream.Observer: it starts the stream's
// configured targets, or asks the on_forward hook for them on a goroutine
// of its own.
func (f *Forwarder) StreamStarted(st *stream.Stream) {
	key := st.Key()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	f.streams[key] = &forwardSet{st: st}
	configured := f.cfg.targetsFor(key.App, key.Name)
	if f.hook == nil {
		f.startLocked(key, configured, OriginConfig)
		return
	}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		urls, err := f.hook.ask(f.ctx, key)
		origin := OriginHook
		if err != nil {
			f.log.Warn("on_forward hook failed; forwarding to the configured targets", "stream", key.String(), "err", err)
			urls, origin = configured, OriginConfig
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if set := f.streams[key]; set != nil && set.st == st && !f.closed {
			f.startLocked(key, urls, origin)
		}
	}()
}

// startLocked starts a target for each URL template, with f.mu held. A
// template that does not expand to a valid URL, or one past MaxTargets,
// is logged and skipped.
func (f *Forwarder) startLocked(key stream.Key, templates []string, origin string) {
	for _, tmpl := range templates {
		if _, err := f.addLocked(key, expandTarget(tmpl, key.App, key.Name), origin); err != nil {
			f.log.Warn("forward target skipped", "stream", key.String(), "url", redactURL(tmpl), "err", err)
		}
	}
}

// StreamEnded implements stream.Observer: the stream's targets are
// forgotten. They end on their own, without waiting to be stopped: a live
// one after it sent the rest of the stream and ended its publish, one
// waiting to reconnect at once. Close waits for them.
func (f *Forwarder) StreamEnded(st *stream.Stream) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if set := f.streams[st.Key()]; set != nil && set.st == st {
		delete(f.streams, st.Key())
	}
}

// Targets returns the state of the forward targets of the live stream
// app/name; ok is false when it is not live.
func (f *Forwarder) Targets(app, name string) (infos []TargetInfo, ok bool) {
	f.mu.Lock()
	set := f.streams[stream.Key{App: app, Name: name}]
	var targets []*target
	if set != nil {
		targets = slices.Clone(set.targets)
	}
	f.mu.Unlock()
	if set == nil {
		return nil, false
	}
	infos = make([]TargetInfo, 0, len(targets))
	for _, t := range targets {
		infos = append(infos, t.info())
	}
	return infos, true
}

// AddTarget starts forwarding the live stream app/name to rawURL, an
// rtmp:// or rtmps:// URL whose path is the target's app and stream name.
// It fails with an error wrapping ErrTargetURL, ErrStreamNotLive,
// ErrTooManyTargets or ErrClosed.
func (f *Forwarder) AddTarget(app, name, rawURL string) (TargetInfo, error) {
	if err := checkTargetURL(rawURL); err != nil {
		return TargetInfo{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t, err := f.addLocked(stream.Key{App: app, Name: name}, rawURL, OriginAPI)
	if err != nil {
		return TargetInfo{}, err
	}
	return t.info(), nil
}

// addLocked starts a target of key's stream, with f.mu held.
func (f *Forwarder) addLocked(key stream.Key, rawURL, origin string) (*target, error) {
	if f.closed {
		return nil, ErrClosed
	}
	connectURL, name, err := splitTargetURL(rawURL)
	if err != nil {
		return nil, err
	}
	set := f.streams[key]
	if set == nil {
		return nil, fmt.Errorf("%w: %s", ErrStreamNotLive, key)
	}
	if len(set.targets) >= f.cfg.MaxTargets {
		return nil, fmt.Errorf("%w: %s has %d", ErrTooManyTargets, key, len(set.targets))
	}
	f.nextID++
	id := "fwd-" + strconv.FormatUint(f.nextID, 10)
	ctx, cancel := context.WithCancel(f.ctx)
	t := newTarget(targetSpec{
		id: id, url: redactURL(rawURL), connectURL: connectURL, name: name, origin: origin,
		cfg: f.cfg, tls: f.tls, log: f.log.With("stream", key.String(), "target", id, "url", redactURL(rawURL)),
	}, set.st, cancel)
	set.targets = append(set.targets, t)
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		t.run(ctx)
	}()
	return t, nil
}

// RemoveTarget stops target id of the stream app/name and waits for it to
// end. It fails with an error wrapping ErrTargetNotFound.
func (f *Forwarder) RemoveTarget(app, name, id string) error {
	key := stream.Key{App: app, Name: name}
	f.mu.Lock()
	set := f.streams[key]
	var t *target
	if set != nil {
		i := slices.IndexFunc(set.targets, func(t *target) bool { return t.spec.id == id })
		if i >= 0 {
			t = set.targets[i]
			set.targets = slices.Delete(set.targets, i, i+1)
		}
	}
	f.mu.Unlock()
	if t == nil {
		return fmt.Errorf("%w: %s on %s", ErrTargetNotFound, id, key)
	}
	t.cancel()
	<-t.done
	t.spec.log.Info("forward removed")
	return nil
}

// closeGrace is how long Close lets targets whose stream ended send the
// rest of it and end their publish before it stops them.
const closeGrace = time.Second

// Close stops every target and hook call and waits for them. Targets
// whose stream has ended (the hub closed first, as at shutdown) get up to
// closeGrace to end their publish cleanly. It is idempotent.
func (f *Forwarder) Close() {
	f.mu.Lock()
	f.closed = true
	f.streams = make(map[stream.Key]*forwardSet)
	f.mu.Unlock()
	ended := make(chan struct{})
	go func() {
		f.wg.Wait()
		close(ended)
	}()
	grace := time.NewTimer(closeGrace)
	select {
	case <-ended:
	case <-grace.C:
	}
	grace.Stop()
	f.cancel()
	<-ended
}
