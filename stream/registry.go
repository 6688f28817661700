package stream

import (
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Observer is told when streams start and end. Calls are synchronous, in
// order per stream, and made outside the registry lock; implementations must
// not block and must not call Registry.Publish, Registry.Close or
// Publisher.Close from within.
type Observer interface {
	// StreamStarted is called after a stream was published.
	StreamStarted(s *Stream)
	// StreamEnded is called after a stream ended.
	StreamEnded(s *Stream)
}

// Registry maps keys to live streams.
type Registry struct {
	cfg Config
	log *slog.Logger
	// clock tells the time frames arrive in the streams (time.Now outside
	// tests).
	clock func() time.Time

	// notifyMu serialises publish/end together with their observer calls so
	// that StreamEnded never precedes StreamStarted for a stream.
	notifyMu sync.Mutex

	mu        sync.Mutex
	streams   map[Key]*Stream
	observers []Observer
	closed    bool

	// delivering counts the streams' running delivery goroutines.
	delivering sync.WaitGroup

	// mem counts the bytes the streams' caches hold (Config.MemoryBudget).
	mem *MemoryBudget
	// adm counts streams per address group and the budgets' hits.
	adm admission
	// demander starts publishers of streams viewers ask for (demand.go).
	demander demanderSlot
}

// NewRegistry returns an empty registry running with cfg.WithDefaults(),
// or an error wrapping ErrInvalidConfig when that does not validate. It
// logs to log scoped with component=stream; a nil log discards.
func NewRegistry(cfg Config, log *slog.Logger) (*Registry, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new registry: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Registry{
		cfg:     cfg,
		log:     log.With("component", "stream"),
		clock:   time.Now,
		streams: make(map[Key]*Stream),
		mem:     NewMemoryBudget(cfg.MemoryBudget),
	}, nil
}

// AddObserver registers o for stream start and end events.
func (r *Registry) AddObserver(o Observer) {
	r.mu.Lock()
	r.observers = append(r.observers, o)
	r.mu.Unlock()
}

// Publish creates the stream for key and returns its publisher. When key
// is waiting for its publisher to come back (Config.RepublishWindow) the
// new publisher continues that stream instead: readers stay attached and
// see its timestamps rebased and its sequence headers. When key is live it
// fails with ErrStreamBusy, unless Config.Takeover is TakeoverAllow and
// info.Owner is set: then the new publisher takes the stream over and the
// old one is cut off (its Done closes). A stream whose publisher was
// authorised with a secret stream key (PublisherInfo.KeyID) is continued
// or taken over only by a publisher with the same KeyID; any other fails
// with ErrKeyMismatch. It fails with ErrClosed after Close. A publisher of
// a new key is refused with a *LimitError (wrapping ErrOverBudget) when a
// budget is reached: Config.MaxStreams, Config.MaxStreamsPerIP or
// Config.MemoryBudget; a publisher continuing a stream is not.
func (r *Registry) Publish(key Key, info PublisherInfo) (*Publisher, error) {
	r.notifyMu.Lock()
	defer r.notifyMu.Unlock()
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, fmt.Errorf("publish %s: %w", key, ErrClosed)
	}
	if s, ok := r.streams[key]; ok {
		waiting := s.repub.waiting.Load()
		reclaim := !waiting && r.reclaims(s, info)
		if !waiting && !reclaim && (r.cfg.Takeover != TakeoverAllow || !info.Owner) {
			r.mu.Unlock()
			return nil, fmt.Errorf("publish %s: %w", key, ErrStreamBusy)
		}
		if held := s.Info().KeyID; held != "" && held != info.KeyID {
			r.mu.Unlock()
			return nil, fmt.Errorf("publish %s: %w", key, ErrKeyMismatch)
		}
		prev := s.Info()
		p := r.continueLocked(s, info)
		r.mu.Unlock()
		what := "stream republished"
		switch {
		case reclaim:
			what = "stream reclaimed from a stalled publisher on the same host"
		case !waiting:
			what = "stream taken over"
		}
		r.log.Info(what, "stream", key.String(), "publisher", info.ID, "previous", prev.ID,
			"protocol", info.Protocol, "remote", info.RemoteAddr, "generation", p.gen)
		return p, nil
	}
	group := AddressGroup(info.RemoteAddr)
	if le := r.admitLocked(group); le != nil {
		r.mu.Unlock()
		r.log.Debug("publisher refused", "stream", key.String(),
			"publisher", info.ID, "remote", info.RemoteAddr, "limit", le.Limit, "reason", le.Reason)
		return nil, fmt.Errorf("publish %s: %w", key, le)
	}
	s := newStream(key, info, r.cfg, r.clock)
	s.deliv.wg = &r.delivering
	s.group, s.mem = group, r.mem
	p := &Publisher{reg: r, s: s, done: make(chan struct{})}
	s.repub.current = p
	r.streams[key] = s
	r.countLocked(s)
	obs := r.observers
	r.mu.Unlock()

	r.log.Info("stream started", "stream", key.String(), "publisher", info.ID,
		"protocol", info.Protocol, "remote", info.RemoteAddr)
	for _, o := range obs {
		o.StreamStarted(s)
	}
	return p, nil
}

// Lookup returns the live stream for key.
func (r *Registry) Lookup(key Key) (*Stream, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.streams[key]
	return s, ok
}

// Get returns the live stream for key or an error wrapping
// ErrStreamNotFound.
func (r *Registry) Get(key Key) (*Stream, error) {
	if s, ok := r.Lookup(key); ok {
		return s, nil
	}
	return nil, fmt.Errorf("stream %s: %w", key, ErrStreamNotFound)
}

// Streams returns the live streams sorted by key.
func (r *Registry) Streams() []*Stream {
	r.mu.Lock()
	out := make([]*Stream, 0, len(r.streams))
	for _, s := range r.streams {
		out = append(out, s)
	}
	r.mu.Unlock()
	sortStreams(out)
	return out
}

// Close ends every stream, waits for the streams' delivery goroutines to
// return, and makes later Publish calls fail with ErrClosed. It is
// idempotent.
func (r *Registry) Close() {
	r.mu.Lock()
	r.closed = true
	live := make([]*Stream, 0, len(r.streams))
	for _, s := range r.streams {
		live = append(live, s)
	}
	r.mu.Unlock()
	sortStreams(live)
	for _, s := range live {
		r.end(s)
	}
	// Ended streams let their parked readers go at once: wait for the
	// delivery goroutines to see it.
	r.delivering.Wait()
}

// end removes s from the registry (if still registered), ends it and
// notifies observers once.
func (r *Registry) end(s *Stream) {
	r.notifyMu.Lock()
	defer r.notifyMu.Unlock()
	r.endLocked(s)
}

// endLocked is end with r.notifyMu held. It also stops a republish wait and
// cuts off the stream's publisher, if any.
func (r *Registry) endLocked(s *Stream) {
	if s.repub.timer != nil {
		s.repub.timer.Stop()
		s.repub.timer = nil
	}
	s.repub.waiting.Store(false)
	s.statsMu.Lock()
	cur := s.repub.current
	s.repub.current = nil
	s.statsMu.Unlock()
	if cur != nil {
		cur.closed.Store(true)
		cur.release()
	}
	r.mu.Lock()
	if r.streams[s.key] == s {
		delete(r.streams, s.key)
		r.uncountLocked(s)
	}
	obs := r.observers
	r.mu.Unlock()
	if !s.end() {
		return
	}
	s.releaseIfUnread()
	st := s.Stats()
	r.log.Info("stream ended", "stream", s.key.String(), "publisher", s.Info().ID,
		"bytes_in", st.BytesIn, "frames_in", st.FramesIn, "dropped", st.Dropped)
	for _, o := range obs {
		o.StreamEnded(s)
	}
}
