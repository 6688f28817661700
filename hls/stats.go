package hls

import (
	"sort"
	"time"

	"github.com/mediaserver/mediaserver/stream"
)

// StreamStats describes one stream's HLS output, for the admin API.
type StreamStats struct {
	// Key is the stream.
	Key stream.Key
	// Live is set while a publisher is being segmented.
	Live bool
	// Ended is set once the playlist carries EXT-X-ENDLIST.
	Ended bool
	// MediaSequence is the playlist's EXT-X-MEDIA-SEQUENCE and
	// LastSequence the newest segment's sequence number (both zero before
	// the first segment).
	MediaSequence, LastSequence uint64
	// Segments and Bytes count the segments produced and their bytes.
	Segments, Bytes uint64
	// LastSegmentDuration is the newest segment's duration.
	LastSegmentDuration time.Duration
	// TargetDuration is the playlist's EXT-X-TARGETDURATION.
	TargetDuration time.Duration
	// Segmenter holds the segmenter's counters (dropped frames, forced
	// cuts, discontinuities …).
	Segmenter SegmenterStats
	// Viewers counts distinct client addresses (remote IPs, IPv6 ones by
	// their /64, whatever their User-Agents) seen within
	// Config.ViewerTimeout, at most 4096.
	Viewers int
}

// Stats returns the HLS counters of key.
func (m *Manager) Stats(key stream.Key) (StreamStats, bool) {
	st := m.existing(key)
	if st == nil {
		return StreamStats{}, false
	}
	return m.statsOf(st), true
}

// AllStats returns the counters of every stream with HLS state, sorted by
// key.
func (m *Manager) AllStats() []StreamStats {
	m.mu.Lock()
	states := make([]*streamState, 0, len(m.states))
	for _, st := range m.states {
		states = append(states, st)
	}
	m.mu.Unlock()
	out := make([]StreamStats, 0, len(states))
	for _, st := range states {
		out = append(out, m.statsOf(st))
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].Key, out[j].Key
		return a.App < b.App || a.App == b.App && a.Name < b.Name
	})
	return out
}

// Viewers counts the distinct HLS clients of key seen recently.
func (m *Manager) Viewers(key stream.Key) int {
	st := m.existing(key)
	if st == nil {
		return 0
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.viewers(m.now(), m.viewerTimeout(st))
}

// viewerTimeout is how long a client of st counts as a viewer after its
// last request: Config.ViewerTimeout when set, else three of the stream's
// target durations (a player reloads the playlist about once per target
// duration). st.mu must be held.
func (m *Manager) viewerTimeout(st *streamState) time.Duration {
	if m.cfg.ViewerTimeout > 0 {
		return m.cfg.ViewerTimeout
	}
	target := max(time.Duration(st.target)*time.Second, m.cfg.SegmentDuration)
	return viewerTargetDurations * target
}

// statsOf snapshots one state.
func (m *Manager) statsOf(st *streamState) StreamStats {
	st.mu.Lock()
	defer st.mu.Unlock()
	s := StreamStats{
		Key:                 st.key,
		Live:                st.live,
		Ended:               st.endList,
		Segments:            st.produced,
		Bytes:               st.bytes,
		LastSegmentDuration: st.lastDur,
		TargetDuration:      time.Duration(st.target) * time.Second,
		Segmenter:           st.segStats,
		Viewers:             st.viewers(m.now(), m.viewerTimeout(st)),
	}
	if win := st.windowEntries(); len(win) > 0 {
		s.MediaSequence, s.LastSequence = win[0].seq, win[len(win)-1].seq
	}
	return s
}
