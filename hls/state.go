package hls

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
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
	// outAt is when the segment left the playlist window (zero while it is
	// listed); it stays fetchable for a while after (streamState.retain).
	outAt time.Time
	body  segmentBody
	// init is the generation of the init section the segment needs (MP4
	// variants; 0 for MPEG-TS).
	init int
	// partInfo is what the segmenter reported of the segment's parts;
	// parts are those parts as served: byte ranges of body (lowlatency
	// variant).
	partInfo []PartInfo
	parts    []partEntry
}

// clientID identifies an HLS client by its remote address (an IPv6 one
// by its /64): a viewer count that one address could raise by varying its
// User-Agent (or anything else it sends) would count requests, not
// viewers. Viewers behind one NAT, or in one IPv6 /64, count once.
type clientID struct {
	ip string
}

// streamState is the HLS state of one stream key: its segments, playlist
// and counters. It survives publisher restarts under the same name (so the
// media sequence continues) and is freed Config.EndedRetention after the
// publisher left.
type streamState struct {
	key   stream.Key
	token string
	// etagBase starts the playlist's ETags: derived from token without
	// revealing it, as a HEAD request for the playlist is not authorised.
	etagBase string
	// uriPrefix is prepended to segment file names in the playlist: the
	// stream name and a slash, relative to the playlist's URL.
	uriPrefix string
	window    int
	// retain is how many segments stay fetchable after they left the window,
	// each for at most retain target durations (Config.RetainAfterWindow).
	retain int

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

	llState
}

// newStreamState returns an empty state whose media sequence starts at
// firstSeq.
func newStreamState(key stream.Key, token string, cfg Config, firstSeq uint64, now time.Time) *streamState {
	return &streamState{
		key:          key,
		token:        token,
		etagBase:     etagBase(token),
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
		llState:      newLLState(cfg),
	}
}

// etagBase returns the first 64 bits of the SHA-256 of a state token, in
// hex: it tells the playlists of two incarnations apart but does not give
// the token away.
func etagBase(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:8])
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
	st.takeParts(e)
	st.segs = append(st.segs, e)
	st.dependent = st.dependent || !e.independent
	if n := len(st.segs); n > st.window && st.segs[n-st.window-1].disc && st.segs[n-st.window-1].seq >= st.sessionStart {
		st.discSeq++ // a discontinuity left the window
	}
	if n := len(st.segs); n > st.window && st.segs[n-st.window-1].outAt.IsZero() {
		st.segs[n-st.window-1].outAt = now
	}
	st.target = max(st.target, roundSeconds(e.duration))
	evicted := st.expire(now)
	st.produced++
	st.bytes += uint64(e.body.size)
	st.lastDur = e.duration
	st.segStats = segStats
	st.rebuild(now)
	return evicted
}

// expire removes the segments that left the window and can no longer be
// asked for, and returns them (to be removed from the store). A player asks
// only for segments listed in a playlist it loaded, and loads the playlist
// again about every target duration (RFC 8216 section 6.3.4). So at most
// st.retain segments are kept after they left the window; while the stream
// is live, each new segment pushes the oldest out. Once no new segments
// come (the publisher left), a segment is kept st.retain target durations
// after it left the window. st.mu must be held.
func (st *streamState) expire(now time.Time) []*segmentEntry {
	keepFor := time.Duration(st.retain) * time.Duration(st.target) * time.Second
	out := max(0, len(st.segs)-st.window) // segments outside the window
	n := 0
	for n < out && (out-n > st.retain || !st.live && now.Sub(st.segs[n].outAt) >= keepFor) {
		n++
	}
	if n == 0 {
		return nil
	}
	evicted := append([]*segmentEntry(nil), st.segs[:n]...)
	clear(st.segs[:n])
	st.segs = st.segs[n:]
	st.pruneInits()
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

// rebuild encodes the playlists after a change and wakes everyone waiting
// for one. st.mu must be held.
func (st *streamState) rebuild(_ time.Time) {
	win := st.windowEntries()
	st.version++
	st.etag = `"` + st.etagBase + "-" + strconv.FormatUint(st.version, 10) + `"`
	st.playlist, st.delta = nil, nil
	switch {
	case len(win) == 0:
	case st.variant == VariantMPEGTS:
		st.playlist = st.encodeTS(win)
	default:
		st.playlist, st.delta = st.encodeMP4(win)
	}
	st.notify()
}

// encodeTS returns the MPEG-TS variant's playlist of the segments in win,
// written by grafov/m3u8. st.mu must be held.
func (st *streamState) encodeTS(win []*segmentEntry) []byte {
	p, err := m3u8.NewMediaPlaylist(uint(len(win)), uint(len(win)))
	if err != nil {
		return nil // cannot happen: window size equals capacity
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
	return bytes.Clone(p.Encode().Bytes())
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

// clientOf identifies the client of a request by its address group
// (stream.AddressGroup): its IP, an IPv6 address by its /64, since one site
// gets a /64 and picks addresses in it at will, as one IPv4 address behind
// a NAT.
func clientOf(remoteAddr string) clientID {
	return clientID{ip: stream.AddressGroup(remoteAddr)}
}
