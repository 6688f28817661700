package hls

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mediaserver/mediaserver/internal/cors"
	"github.com/mediaserver/mediaserver/internal/mediahttp"
	"github.com/mediaserver/mediaserver/stream"
)

// Manager tuning.
const (
	// janitorInterval is how often ended streams, idle segmenters and stale
	// viewers are checked.
	janitorInterval = 250 * time.Millisecond
	// maxTombstones bounds the media sequence numbers remembered for freed
	// streams (so a name published again continues its sequence).
	maxTombstones = 10000
	// readBatch is how many frames the feeder takes from its reader at once.
	readBatch = 64
	// firstMediaSequence is the media sequence number of a stream's first
	// segment: 1, as hls.js does not block its reload at 0.
	firstMediaSequence = 1
)

// Hub is what the Manager needs from the stream registry.
type Hub interface {
	// Lookup returns the live stream for key.
	Lookup(key stream.Key) (*stream.Stream, bool)
	// AddObserver registers o for stream start and end events.
	AddObserver(o stream.Observer)
}

// Manager keeps the HLS state of every stream: it segments live streams
// (from publish or from the first request, see Config.Start), stores
// segments, serves playlists and segments over HTTP (it is an http.Handler)
// and frees a stream's data Config.EndedRetention after its publisher left.
// It implements stream.Observer; NewManager registers it with the hub.
type Manager struct {
	cfg   Config
	hub   Hub
	log   *slog.Logger
	store store
	front mediahttp.Front // CORS, method check and play authorisation of ServeHTTP
	now   func() time.Time

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// feedHook, when set (by tests), runs first in every feeder goroutine.
	feedHook func()

	segmentsTotal atomic.Uint64 // segments produced since start, all streams
	memoryRefused atomic.Uint64 // playlist requests refused for the memory budget

	mu     sync.Mutex
	states map[stream.Key]*streamState
	tombs  map[stream.Key]tombstone
	closed bool

	// groups are the configured groups (Config.Groups); renditions the
	// video track ids of each stream served as renditions, guarded by mu
	// (renditions.go).
	groups     streamGroups
	renditions map[stream.Key][]uint8
}

// tombstone remembers a freed stream's next media sequence number.
type tombstone struct {
	nextSeq uint64
	at      time.Time
}

// NewManager prepares the storage and registers with hub a manager
// running with cfg.WithDefaults(), or fails with an error wrapping
// ErrInvalidConfig when that does not validate. A nil log discards. Close
// stops it.
func NewManager(cfg Config, hub Hub, log *slog.Logger) (*Manager, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new hls manager: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "hls")
	groups, err := parseGroups(cfg.Groups)
	if err != nil {
		return nil, fmt.Errorf("new hls manager: %w: groups: %w", ErrInvalidConfig, err)
	}
	var st store = memoryStore{}
	if cfg.Storage == StorageDisk {
		ds, err := newDiskStore(cfg.Dir, log)
		if err != nil {
			return nil, err
		}
		st = ds
	}
	if cfg.Memory != nil {
		st = accountedStore{store: st, mem: cfg.Memory}
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Manager{
		cfg:    cfg,
		hub:    hub,
		log:    log,
		store:  st,
		front:  mediahttp.Front{CORS: cors.Policy{AllowedOrigins: cfg.AllowedOrigins}, Authorizer: cfg.Authorizer},
		now:    time.Now,
		ctx:    ctx,
		cancel: cancel,
		states: make(map[stream.Key]*streamState),
		tombs:  make(map[stream.Key]tombstone),

		groups:     groups,
		renditions: make(map[stream.Key][]uint8),
	}
	m.wg.Add(1)
	go m.janitor()
	if hub != nil {
		hub.AddObserver(m)
	}
	return m, nil
}

// Config returns the configuration in effect (defaults applied).
func (m *Manager) Config() Config { return m.cfg }

// SegmentsProduced counts the segments produced since start, over every
// stream.
func (m *Manager) SegmentsProduced() uint64 { return m.segmentsTotal.Load() }

// Close stops every segmenter and the janitor, waits for them and frees all
// stored segments. Requests after Close find nothing. It is idempotent.
func (m *Manager) Close() {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.closed = true
	m.cancel()
	m.mu.Unlock()
	m.wg.Wait()
	m.mu.Lock()
	freed := make([]freedState, 0, len(m.states))
	for _, st := range m.states {
		freed = append(freed, m.freeLocked(st))
	}
	m.mu.Unlock()
	for _, f := range freed {
		m.release(f)
	}
	m.store.close()
}

// StreamStarted starts segmenting a new publisher: always with
// StartOnPublish, and with StartOnRequest when the stream's HLS state is
// still around (a publisher restart while viewers watch).
func (m *Manager) StreamStarted(s *stream.Stream) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	st := m.listedLocked(s.Key())
	if st == nil {
		if m.cfg.Start != StartOnPublish {
			return
		}
		st = m.newStateLocked(s.Key())
	}
	m.startFeederLocked(st, s)
}

// StreamEnded is part of stream.Observer; the feeder sees the end itself
// once it has drained the stream.
func (m *Manager) StreamEnded(*stream.Stream) {}

// listedLocked returns the state of key to continue, or nil when there is
// none or it was freed and only waits for its files to be removed. m.mu
// must be held.
func (m *Manager) listedLocked(key stream.Key) *streamState {
	st := m.states[key]
	if st == nil {
		return nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.freed {
		return nil
	}
	return st
}

// newStateLocked creates and registers the state of key, in place of a
// freed one whose files are still being removed. m.mu must be held.
func (m *Manager) newStateLocked(key stream.Key) *streamState {
	now := m.now()
	first := uint64(firstMediaSequence)
	if t, ok := m.tombs[key]; ok {
		first = t.nextSeq
		delete(m.tombs, key)
	}
	st := newStreamState(key, newStateToken(), m.cfg, first, now)
	m.states[key] = st
	return st
}

// startFeederLocked starts a goroutine segmenting s into st after the
// previous feeder of st (if any) has finished. m.mu must be held.
func (m *Manager) startFeederLocked(st *streamState, s *stream.Stream) {
	prev := st.feeder
	ctx, cancel := context.WithCancel(m.ctx)
	f := &feeder{
		src: s,
		reader: s.NewReader(stream.ReaderInfo{ID: "hls/" + st.key.String(), Protocol: stream.ProtocolHLS,
			Tracks: renditionSelection(st.key)}),
		cancel: cancel,
		done:   make(chan struct{}),
	}
	st.feeder = f
	restart := st.hadFeeder
	st.hadFeeder = true
	m.ensureSegmenterLocked(st)
	st.mu.Lock()
	st.live = true
	st.leftAt = time.Time{}
	newPlaylist := st.endList
	st.newSession(m.now())
	st.notify()
	st.mu.Unlock()
	m.wg.Add(1)
	go m.feed(ctx, st, f, prev, restart, newPlaylist)
}

// ensureSegmenterLocked gives st its segmenter when it has none yet.
// m.mu must be held.
func (m *Manager) ensureSegmenterLocked(st *streamState) {
	if st.seg == nil {
		st.seg = NewSegmenter(SegmenterConfig{
			TargetDuration:     m.cfg.SegmentDuration,
			MaxSegmentDuration: m.cfg.MaxSegmentDuration,
			MaxSegmentBytes:    m.cfg.MaxSegmentBytes,
			Variant:            m.cfg.Variant,
			PartDuration:       m.cfg.PartDuration,
		})
		if m.alignedCuts(st.key) {
			st.seg.alignCutsToSource()
		}
	}
}

// janitor ends playlists, frees ended streams and retained segments past
// their time, stops idle segmenters and forgets stale viewers, until Close.
func (m *Manager) janitor() {
	defer m.wg.Done()
	t := time.NewTicker(janitorInterval)
	defer t.Stop()
	for {
		select {
		case <-m.ctx.Done():
			return
		case <-t.C:
			now := m.now()
			for _, f := range m.sweep(now) {
				m.release(f)
			}
			m.expireRetained(now)
			m.wakeLeftMembers() // groups.go
		}
	}
}

// expireRetained frees the segments of every stream that left the window
// and are past their retention, also when no new segment pushes them out
// (the publisher left or stalled).
func (m *Manager) expireRetained(now time.Time) {
	m.mu.Lock()
	states := make([]*streamState, 0, len(m.states))
	for _, st := range m.states {
		states = append(states, st)
	}
	m.mu.Unlock()
	for _, st := range states {
		st.mu.Lock()
		evicted := st.expire(now)
		st.mu.Unlock()
		for _, e := range evicted {
			m.store.remove(st.key, e.name, e.body)
		}
	}
}

// sweep does one janitor pass and returns the states it freed, for
// release to remove their files: those ended EndedRetention ago, those
// ended EndListDelay ago that no client ever requested, and every ended
// one while the memory budget is low.
func (m *Manager) sweep(now time.Time) []freedState {
	short := m.cfg.Memory != nil && m.cfg.Memory.Low()
	m.mu.Lock()
	defer m.mu.Unlock()
	var freed []freedState
	for key, st := range m.states {
		if st.feeder != nil && m.cfg.Start == StartOnRequest {
			st.mu.Lock()
			idle := st.waiting == 0 && now.Sub(st.lastRequest) >= m.cfg.IdleTimeout
			st.mu.Unlock()
			if idle {
				st.feeder.cancel() // the feeder flushes and marks the state ended
			}
		}
		st.mu.Lock()
		st.pruneClients(now, m.viewerTimeout(st))
		free := false
		if st.feeder == nil && !st.live && !st.freed {
			gone := now.Sub(st.leftAt)
			if !st.endList && len(st.windowEntries()) > 0 && gone >= m.cfg.EndListDelay {
				st.endList = true
				st.rebuild(now)
			}
			// Nobody is playing out a stream nobody ever requested: it
			// goes once its playlist would have ended.
			unwatched := !st.requested && gone >= m.cfg.EndListDelay
			free = gone >= m.cfg.EndedRetention || short || unwatched
		}
		st.mu.Unlock()
		if free {
			m.rememberLocked(key, st, now)
			freed = append(freed, m.freeLocked(st))
		}
	}
	return freed
}

// rememberLocked keeps a freed state's next sequence number. m.mu must be
// held.
func (m *Manager) rememberLocked(key stream.Key, st *streamState, now time.Time) {
	st.mu.Lock()
	next := st.nextSeq
	st.mu.Unlock()
	if len(m.tombs) >= maxTombstones {
		var oldest stream.Key
		first := true
		var at time.Time
		for k, t := range m.tombs {
			if first || t.at.Before(at) {
				oldest, at, first = k, t.at, false
			}
		}
		delete(m.tombs, oldest)
	}
	m.tombs[key] = tombstone{nextSeq: next, at: now}
}

// freedState is a state that was freed, with the segments whose files
// are still to be removed.
type freedState struct {
	st   *streamState
	segs []*segmentEntry
}

// freeLocked frees st: from now on requests find neither its playlist nor
// its segments, and a publisher of its key gets a new state. It stays
// listed (Stats, AllStats) until release has removed its files, so that a
// stream no longer listed has nothing left on disk. m.mu must be held.
func (m *Manager) freeLocked(st *streamState) freedState {
	st.mu.Lock()
	defer st.mu.Unlock()
	f := freedState{st: st, segs: st.segs}
	st.segs = nil
	st.playlist = nil
	st.releaseLL()
	st.freed = true
	st.notify()
	return f
}

// release removes the files of a freed state, then the state from the
// map, unless a new state of its key has taken its place.
func (m *Manager) release(f freedState) {
	st := f.st
	for _, e := range f.segs {
		m.store.remove(st.key, e.name, e.body)
	}
	m.store.removeStream(st.key, st.token)
	m.mu.Lock()
	if m.states[st.key] == st {
		delete(m.states, st.key)
		delete(m.renditions, st.key)
	}
	m.mu.Unlock()
	m.log.Debug("stream data freed", "stream", st.key.String(), "token", st.token)
}

// LimitMemory is the limit name of a playlist request refused because a
// segmenter would start while the memory budget is full (LimitsHit).
const LimitMemory = "memory"

// LimitsHit returns how many times each limit refused a request since
// start: LimitMemory.
func (m *Manager) LimitsHit() map[string]uint64 {
	return map[string]uint64{LimitMemory: m.memoryRefused.Load()}
}

// stateFor returns the state of key for a playlist request, starting a
// segmenter when the stream is live but not being segmented (first request
// with StartOnRequest, or a stream published before the manager existed).
// It fails with ErrMemoryFull instead of starting one while the memory
// budget is full.
func (m *Manager) stateFor(key stream.Key) (*streamState, error) {
	var live *stream.Stream
	if m.hub != nil {
		if s, ok := m.hub.Lookup(key); ok && !s.Ended() {
			live = s
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	st := m.listedLocked(key)
	if live == nil || (st != nil && st.feeder != nil) {
		return st, nil
	}
	if m.cfg.Memory != nil && m.cfg.Memory.Full() {
		m.memoryRefused.Add(1)
		return nil, fmt.Errorf("segment %s: %w", key, ErrMemoryFull)
	}
	if st == nil {
		st = m.newStateLocked(key)
	}
	m.startFeederLocked(st, live)
	return st, nil
}

// existing returns the state of key, if any.
func (m *Manager) existing(key stream.Key) *streamState {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.states[key]
}

// newStateToken returns the token of a new stream state: 128 random bits
// from crypto/rand as 26 lower-case base-32 characters. Every segment path
// carries it, so segment URLs cannot be guessed from what a client may
// know of the stream (its name, start time or sequence numbers).
func newStateToken() string {
	return strings.ToLower(rand.Text())
}

// segmentName returns the file name of an MPEG-TS segment.
func segmentName(token string, seq uint64) string {
	return token + "-" + strconv.FormatUint(seq, 10) + segmentSuffix
}

// segmentFile returns the file name of the state's segment seq: MPEG-TS or
// fMP4 by the variant.
func (st *streamState) segmentFile(seq uint64) string {
	if st.variant == VariantMPEGTS {
		return segmentName(st.token, seq)
	}
	return st.token + "-" + strconv.FormatUint(seq, 10) + fragmentSuffix
}
