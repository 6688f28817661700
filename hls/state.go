package hls

import (
	"bytes"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/grafov/m3u8"

	"github.com/mediaserver/mediaserver/stream"
)

// maxClientsPerStream caps the viewer set of one stream; further clients
// are not recorded (the count saturates).
const maxClientsPerStream = 4096

// segmentEntry is one stored segment of a stream.
type segmentEntry struct {
	seq         uint64
	name        string
	duration    time.Duration
	pdt         time.Time
	disc        bool
	independent bool
	created     time.Time
	body        segmentBody
}

// clientID identifies an HLS client: remote IP and User-Agent.
type clientID struct {
	ip, agent string
}

// streamState is the HLS state of one stream key: its segments, playlist
// and counters. It survives publisher restarts under the same name (so the
// media sequence continues) and is freed Config.EndedRetention after the
// publisher left.
type streamState struct {
	key   stream.Key
	token string
	// uriPrefix is prepended to segment file names in the playlist: the
	// stream name and a slash, relative to the playlist's URL.
	uriPrefix string
	window    int
	retain    int

	// feeder and hadFeeder are guarded by Manager.mu. seg is used only by
	// the current feeder goroutine; feeders of one state run one after the
	// other.
	feeder    *feeder
	hadFeeder bool
	seg       *Segmenter

	mu      sync.Mutex
	segs    []*segmentEntry // oldest first: retained ones, then the window
	nextSeq uint64
	// sessionStart is the media sequence number the playlist starts from:
	// segments before it belong to a playlist that ended (EXT-X-ENDLIST);
	// they stay fetchable but are never listed again.
	sessionStart uint64
	discSeq      uint64 // discontinuities that left the window
	target       int    // EXT-X-TARGETDURATION, seconds; never decreases
	baseTarget   int    // the target a playlist starts with: SegmentDuration rounded up
	// dependent is set once the playlist listed a segment that does not start
	// at a random access point: it stops claiming EXT-X-INDEPENDENT-SEGMENTS
	// for good (a playlist tag may not come and go between reloads).
	dependent   bool
	live        bool // a feeder is segmenting a publisher
	leftAt      time.Time
	endList     bool
	missing     bool // a segment was lost: the next one is a discontinuity
	playlist    []byte
	etag        string
	version     uint64
	changed     chan struct{} // closed and replaced on every change
	freed       bool
	produced    uint64
	bytes       uint64
	lastDur     time.Duration
	segStats    SegmenterStats
	clients     map[clientID]time.Time
	lastRequest time.Time
	requested   bool // a playlist or segment was ever requested
	waiting     int  // playlist requests waiting for a first segment
}

// newStreamState returns an empty state whose media sequence starts at
// firstSeq.
func newStreamState(key stream.Key, token string, cfg Config, firstSeq uint64, now time.Time) *streamState {
	return &streamState{
		key:          key,
		token:        token,
		uriPrefix:    key.Name + "/",
		window:       cfg.PlaylistLength,
		retain:       cfg.RetainAfterWindow,
		nextSeq:      firstSeq,
		sessionStart: firstSeq,
		target:       int((cfg.SegmentDuration + time.Second - 1) / time.Second),
		baseTarget:   int((cfg.SegmentDuration + time.Second - 1) / time.Second),
		changed:      make(chan struct{}),
		clients:      make(map[clientID]time.Time),
		lastRequest:  now,
		leftAt:       now,
	}
}

// notify wakes everyone waiting for a change. st.mu must be held.
func (st *streamState) notify() {
	close(st.changed)
	st.changed = make(chan struct{})
}

// windowEntries returns the segments in the playlist window. st.mu must be
// held.
func (st *streamState) windowEntries() []*segmentEntry {
	win := st.segs[max(0, len(st.segs)-st.window):]
	for len(win) > 0 && win[0].seq < st.sessionStart {
		win = win[1:]
	}
	return win
}

// newSession starts a new playlist after one that ended: EXT-X-ENDLIST is
// never taken back, so a publisher returning after it gets a playlist of
// its own at the same URL, whose media sequence starts after the ended
// one's. Until its first segment the playlist is not ready (requests wait,
// then hear that the stream is starting). The ended playlist's segments
// stay fetchable for the players still playing them out. st.mu must be
// held.
func (st *streamState) newSession(now time.Time) {
	if !st.endList {
		return
	}
	st.endList = false
	st.sessionStart = st.nextSeq
	st.discSeq = 0
	st.missing = false
	st.target = st.baseTarget
	st.dependent = false
	st.rebuild(now)
}

// roundSeconds rounds a duration to the nearest whole second, halves up, as
// RFC 8216 compares EXTINF with EXT-X-TARGETDURATION.
func roundSeconds(d time.Duration) int {
	return int((d + time.Second/2) / time.Second)
}

// add appends a stored segment and returns the entries that fell out of
// retention (to be removed from the store). st.mu must be held.
func (st *streamState) add(e *segmentEntry, segStats SegmenterStats, now time.Time) []*segmentEntry {
	st.newSession(now)
	if st.missing {
		e.disc, st.missing = true, false
	}
	if e.seq == st.sessionStart {
		e.disc = false // the first segment of a playlist continues nothing
	}
	st.segs = append(st.segs, e)
	st.dependent = st.dependent || !e.independent
	if n := len(st.segs); n > st.window && st.segs[n-st.window-1].disc && st.segs[n-st.window-1].seq >= st.sessionStart {
		st.discSeq++ // a discontinuity left the window
	}
	var evicted []*segmentEntry
	if over := len(st.segs) - st.window - st.retain; over > 0 {
		evicted = append(evicted, st.segs[:over]...)
		clear(st.segs[:over])
		st.segs = st.segs[over:]
	}
	st.target = max(st.target, roundSeconds(e.duration))
	st.produced++
	st.bytes += uint64(e.body.size)
	st.lastDur = e.duration
	st.segStats = segStats
	st.rebuild(now)
	return evicted
}

// find returns the stored segment with sequence number seq. st.mu must be
// held.
func (st *streamState) find(seq uint64) *segmentEntry {
	i := sort.Search(len(st.segs), func(i int) bool { return st.segs[i].seq >= seq })
	if i < len(st.segs) && st.segs[i].seq == seq {
		return st.segs[i]
	}
	return nil
}

// independentSegmentsTag is EXT-X-INDEPENDENT-SEGMENTS as an m3u8 custom
// tag (the library writes it for master playlists only).
type independentSegmentsTag struct{}

// TagName returns the tag.
func (independentSegmentsTag) TagName() string { return "#EXT-X-INDEPENDENT-SEGMENTS" }

// Encode returns the tag line.
func (t independentSegmentsTag) Encode() *bytes.Buffer { return bytes.NewBufferString(t.TagName()) }

// String returns the tag line.
func (t independentSegmentsTag) String() string { return t.TagName() }

// rebuild encodes the playlist after a change. st.mu must be held.
func (st *streamState) rebuild(now time.Time) {
	win := st.windowEntries()
	st.version++
	st.etag = `"` + st.token + "-" + strconv.FormatUint(st.version, 10) + `"`
	if len(win) == 0 {
		st.playlist = nil
		st.notify()
		return
	}
	p, err := m3u8.NewMediaPlaylist(uint(len(win)), uint(len(win)))
	if err != nil {
		st.playlist = nil // cannot happen: window size equals capacity
		st.notify()
		return
	}
	p.SeqNo = win[0].seq
	p.DiscontinuitySeq = st.discSeq
	for _, e := range win {
		_ = p.AppendSegment(&m3u8.MediaSegment{
			URI:             st.uriPrefix + e.name,
			Duration:        e.duration.Seconds(),
			Discontinuity:   e.disc,
			ProgramDateTime: e.pdt.UTC(),
		})
	}
	// AppendSegment raises the target to the ceiling of each duration; the
	// RFC compares rounded durations, and the target must not shrink.
	p.TargetDuration = float64(st.target)
	p.Closed = st.endList
	if !st.dependent {
		p.SetCustomTag(independentSegmentsTag{})
	}
	st.playlist = bytes.Clone(p.Encode().Bytes())
	st.notify()
}

// touch records a request from a client. st.mu must be held.
func (st *streamState) touch(c clientID, now time.Time) {
	st.lastRequest, st.requested = now, true
	if _, ok := st.clients[c]; ok || len(st.clients) < maxClientsPerStream {
		st.clients[c] = now
	}
}

// viewers counts clients seen within timeout. st.mu must be held.
func (st *streamState) viewers(now time.Time, timeout time.Duration) int {
	n := 0
	for _, seen := range st.clients {
		if now.Sub(seen) < timeout {
			n++
		}
	}
	return n
}

// pruneClients forgets clients not seen within timeout. st.mu must be held.
func (st *streamState) pruneClients(now time.Time, timeout time.Duration) {
	for c, seen := range st.clients {
		if now.Sub(seen) >= timeout {
			delete(st.clients, c)
		}
	}
}

// leftOutReason says why nothing of the stream is segmented when every
// track it has is left out for its codec, or returns "". st.mu must be
// held.
func (st *streamState) leftOutReason() string {
	v, a := st.segStats.Video, st.segStats.Audio
	if v.Included || a.Included || v.Reason == "" && a.Reason == "" {
		return ""
	}
	var reasons []string
	if v.Reason != "" {
		reasons = append(reasons, "video: "+v.Reason)
	}
	if a.Reason != "" {
		reasons = append(reasons, "audio: "+a.Reason)
	}
	return strings.Join(reasons, "; ")
}

// clientOf identifies the client of a request by remote IP and User-Agent.
func clientOf(remoteAddr, userAgent string) clientID {
	ip := remoteAddr
	if host, _, err := net.SplitHostPort(remoteAddr); err == nil {
		ip = host
	}
	const maxAgent = 256
	if len(userAgent) > maxAgent {
		userAgent = userAgent[:maxAgent]
	}
	return clientID{ip: ip, agent: userAgent}
}
