package stream

import (
	"fmt"
	"sync/atomic"
	"time"
)

// Limit names, as counted by Registry.LimitsHit
// (mediaserver_limit_hits_total{component="stream"}) and given as
// LimitError.Limit.
const (
	// LimitStreams: the registry held Config.MaxStreams streams.
	LimitStreams = "streams"
	// LimitStreamsPerIP: the publisher's address (IPv6: its /64) had
	// Config.MaxStreamsPerIP streams.
	LimitStreamsPerIP = "streams_per_ip"
	// LimitIngestBitrate: a publisher sent more than
	// Config.MaxIngestBitrate over Config.IngestBitrateWindow.
	LimitIngestBitrate = "ingest_bitrate"
	// LimitMemory: the GOP caches and HLS stores held
	// Config.MemoryBudget bytes.
	LimitMemory = "memory"
)

// limitNames lists every limit, in the order LimitsHit reports them.
var limitNames = [...]string{LimitStreams, LimitStreamsPerIP, LimitIngestBitrate, LimitMemory}

// LimitError is the error of a publisher refused, or cut off, by one of
// the registry's budgets. It wraps ErrOverBudget. Reason says what was
// hit in words a client can be shown.
type LimitError struct {
	// Limit is one of the Limit* names.
	Limit string
	// Reason is what was hit and the setting behind it, without a
	// trailing period.
	Reason string
}

// Error returns the reason.
func (e *LimitError) Error() string { return ErrOverBudget.Error() + ": " + e.Reason }

// Unwrap returns ErrOverBudget.
func (e *LimitError) Unwrap() error { return ErrOverBudget }

// MemoryBudget counts the bytes held by the streams' GOP caches and the
// HLS segment stores against one limit. The registry refuses new
// publishers while it is full; the holders add what they keep and take
// away what they let go. A nil *MemoryBudget counts nothing. It is safe
// for concurrent use.
type MemoryBudget struct {
	limit int64
	used  atomic.Int64
}

// NewMemoryBudget returns an empty budget of limit bytes (<= 0: no limit,
// bytes are still counted).
func NewMemoryBudget(limit int64) *MemoryBudget { return &MemoryBudget{limit: limit} }

// Add counts n more bytes held (negative: released).
func (b *MemoryBudget) Add(n int64) {
	if b != nil && n != 0 {
		b.used.Add(n)
	}
}

// Used returns the bytes held now.
func (b *MemoryBudget) Used() int64 {
	if b == nil {
		return 0
	}
	return b.used.Load()
}

// Limit returns the limit in bytes (<= 0: none).
func (b *MemoryBudget) Limit() int64 {
	if b == nil {
		return 0
	}
	return b.limit
}

// Full reports whether the bytes held reached the limit.
func (b *MemoryBudget) Full() bool {
	return b != nil && b.limit > 0 && b.used.Load() >= b.limit
}

// Low reports whether less than a quarter of the limit is left: holders
// of data they may drop early (the segments of ended HLS streams) let it
// go then, so that new publishers find room.
func (b *MemoryBudget) Low() bool {
	return b != nil && b.limit > 0 && b.used.Load() >= b.limit-b.limit/4
}

// admission counts the registry's streams per address group, for
// Config.MaxStreamsPerIP, and the times each limit was hit. Its fields are
// guarded by Registry.mu, the counters are atomic.
type admission struct {
	perGroup map[string]int
	hits     [len(limitNames)]atomic.Uint64
}

// hit counts one hit of the named limit.
func (a *admission) hit(limit string) {
	for i, n := range limitNames {
		if n == limit {
			a.hits[i].Add(1)
			return
		}
	}
}

// LimitsHit returns how many times each budget refused or cut off a
// publisher since the registry was made, keyed by the Limit* names (every
// limit present, zero when never hit).
func (r *Registry) LimitsHit() map[string]uint64 {
	m := make(map[string]uint64, len(limitNames))
	for i, n := range limitNames {
		m[n] = r.adm.hits[i].Load()
	}
	return m
}

// Memory returns the budget the registry's GOP caches count against; the
// HLS stores share it.
func (r *Registry) Memory() *MemoryBudget { return r.mem }

// admitLocked decides whether a new stream may start for a publisher in
// address group group, and counts the refusal. A publisher without an
// address (one the server runs itself) is not held to MaxStreamsPerIP.
// r.mu must be held.
func (r *Registry) admitLocked(group string) *LimitError {
	var le *LimitError
	switch {
	case r.cfg.MaxStreams > 0 && len(r.streams) >= r.cfg.MaxStreams:
		le = &LimitError{Limit: LimitStreams, Reason: fmt.Sprintf(
			"the server has its maximum of %d streams (stream.max_streams); try again later", r.cfg.MaxStreams)}
	case r.cfg.MaxStreamsPerIP > 0 && group != "" && r.adm.perGroup[group] >= r.cfg.MaxStreamsPerIP:
		le = &LimitError{Limit: LimitStreamsPerIP, Reason: fmt.Sprintf(
			"your address has its maximum of %d streams, ended ones waiting for their publisher included (stream.max_streams_per_ip); try again later",
			r.cfg.MaxStreamsPerIP)}
	case r.mem.Full():
		le = &LimitError{Limit: LimitMemory, Reason: fmt.Sprintf(
			"the server's media memory is full (%d of %d bytes, stream.memory_budget); try again later",
			r.mem.Used(), r.mem.Limit())}
	default:
		return nil
	}
	r.adm.hit(le.Limit)
	return le
}

// countLocked counts a new stream in its address group. r.mu must be held.
func (r *Registry) countLocked(s *Stream) {
	if r.adm.perGroup == nil {
		r.adm.perGroup = make(map[string]int)
	}
	r.adm.perGroup[s.group]++
}

// uncountLocked takes a stream that left the registry out of its address
// group. r.mu must be held.
func (r *Registry) uncountLocked(s *Stream) {
	if n := r.adm.perGroup[s.group] - 1; n > 0 {
		r.adm.perGroup[s.group] = n
	} else {
		delete(r.adm.perGroup, s.group)
	}
}

// ingestMeter measures a publisher's payload bytes over fixed windows of
// wall-clock time, for Config.MaxIngestBitrate. It is guarded by
// Stream.statsMu.
type ingestMeter struct {
	start time.Time
	bytes int64
}

// add counts n bytes that arrived at now and returns the bytes of the
// current window when they exceed what the budget allows for a whole
// window (0 otherwise). A new window starts when the current one is over.
func (m *ingestMeter) add(n int, now time.Time, maxBitrate int64, window time.Duration) int64 {
	if maxBitrate <= 0 || window <= 0 {
		return 0
	}
	if m.start.IsZero() || now.Sub(m.start) >= window {
		m.start, m.bytes = now, 0
	}
	m.bytes += int64(n)
	allowed := float64(maxBitrate) / 8 * window.Seconds()
	if float64(m.bytes) <= allowed {
		return 0
	}
	return m.bytes
}

// ingestLimitError describes a publisher cut off for sending sent bytes
// within one window.
func (r *Registry) ingestLimitError(sent int64) *LimitError {
	return &LimitError{Limit: LimitIngestBitrate, Reason: fmt.Sprintf(
		"the encoder sent %d bytes within %s, more than %.1f Mbit/s allows (stream.max_ingest_bitrate); lower its bitrate",
		sent, r.cfg.IngestBitrateWindow, float64(r.cfg.MaxIngestBitrate)/1e6)}
}
