package stream

import (
	"bytes"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mediaserver/mediaserver/flv"
)

// initialRingSize is the entry capacity a new stream starts with; the ring
// doubles up to the configured cache size as it fills.
const initialRingSize = 64

// Key identifies a stream by application and stream name.
type Key struct {
	// App is the application name, the first path segment ("live").
	App string
	// Name is the stream name within the app, without any query string.
	Name string
}

// String returns "app/name".
func (k Key) String() string { return k.App + "/" + k.Name }

// compare orders keys by App, then Name.
func (k Key) compare(o Key) int {
	if c := strings.Compare(k.App, o.App); c != 0 {
		return c
	}
	return strings.Compare(k.Name, o.Name)
}

// PublisherInfo describes the session publishing a stream.
type PublisherInfo struct {
	// ID is the publishing session's identifier.
	ID string
	// Protocol is the ingest protocol (ProtocolRTMP).
	Protocol Protocol
	// RemoteAddr is the publisher's network address.
	RemoteAddr string
	// Query is the query string given with the stream name (auth tokens …).
	Query string
	// Encoder is the encoder's self-description, when known.
	Encoder string
	// Caps is what an Enhanced RTMP publisher declared it supports.
	Caps ClientCaps
	// Owner is set by an ingest that authorised the publisher as the owner
	// of the key (publish key or hook accepted it): with Config.Takeover
	// TakeoverAllow it may take a live stream over.
	Owner bool
	// KeyID identifies the secret stream key the publisher was authorised
	// with (never the secret itself); empty when it was authorised by name
	// or not at all. A stream published with a key may be continued
	// (republish window, takeover, reclaim) only by a publisher with the
	// same KeyID.
	KeyID string
}

// Headers is the decoder configuration in effect at some point of a stream:
// the latest metadata, video sequence header and audio sequence header. A
// *Headers held by the stream is immutable; any field may be nil.
type Headers struct {
	// Metadata is the onMetaData script frame (without @setDataFrame).
	Metadata *Frame
	// Video is the video sequence start (decoder configuration record).
	Video *Frame
	// Audio is the audio sequence start (for example AudioSpecificConfig).
	Audio *Frame
	// Tracks holds every other configuration frame (see tracks.go): the
	// sequence starts of Enhanced RTMP tracks other than track 0, video
	// Metadata (colorInfo) and audio MultichannelConfig packets, ordered
	// video before audio and by track id. Video and Audio describe the
	// default track (0) only.
	Tracks []*Frame
}

// entry is one slot of a stream's ring.
type entry struct {
	frame *Frame
	// headers is the header set in effect at this entry (after applying it
	// when the entry is itself a header).
	headers *Headers
	// offset counts payload bytes appended before this entry.
	offset uint64
	// media counts media (non-header) frames appended before this entry.
	media uint64
	// arrived is when the entry was appended, since the stream started.
	arrived time.Duration
}

// Stream is one live stream: the shared ring of recent frames (the GOP
// cache), the current header set and the readers attached to it. A Stream is
// created by Registry.Publish and ends when its Publisher closes.
type Stream struct {
	key   Key
	info  PublisherInfo
	start time.Time
	cfg   Config
	done  chan struct{}
	// clock tells the time frames arrive (time.Now outside tests).
	clock func() time.Time

	// mu guards the ring and everything a reader consults. The publisher
	// holds it exclusively for a few field updates per frame; readers hold
	// it shared while copying frame pointers.
	mu         sync.RWMutex
	ring       []entry
	mask       uint64
	head       uint64 // sequence number of the oldest cached entry
	tail       uint64 // sequence number the next entry will get
	cached     int    // payload bytes in the ring
	totalBytes uint64 // payload bytes ever appended
	mediaCount uint64 // media frames ever appended
	headers    *Headers
	lastKey    uint64 // sequence number of the newest keyframe (if hasKey)
	hasKey     bool
	hasVideo   bool
	seqEnded   map[headerSlot]bool // true: a sequence end passed, the next header is not a duplicate
	ended      bool
	// trackKeys holds the sequence number of the newest keyframe of each
	// video track other than the default one (lastKey), for readers that
	// select such a track (TrackSelection).
	trackKeys map[uint8]uint64
	// wake is closed (and replaced) to wake every waiting reader at once.
	wake chan struct{}
	// waiters is set by a reader about to wait on wake, so the publisher only
	// replaces the channel when someone listens.
	waiters atomic.Bool
	// held is set while audio frames wait for a video frame before readers
	// are woken (Config.AudioHold); holdTimer wakes them at the latest.
	held      bool
	holdTimer *time.Timer

	// deliv writes parked readers' frames (deliver.go).
	deliv delivery
	// join caches the header set stamped for joining readers
	// (joinheaders.go).
	join joinStamp

	readersMu     sync.Mutex
	readers       map[*Reader]struct{}
	droppedClosed uint64 // frames dropped by readers that have closed

	statsMu sync.Mutex
	meter   meter

	// repub is the publisher succession: current publisher, generation,
	// waiting state and the timeline to continue (republish.go).
	repub republish

	// group is the address group the stream counts in
	// (Config.MaxStreamsPerIP); mem the budget its cached bytes count
	// against (nil: none).
	group string
	mem   *MemoryBudget
}

// newStream returns an empty live stream, started now by clock.
func newStream(key Key, info PublisherInfo, cfg Config, clock func() time.Time) *Stream {
	size := min(initialRingSize, ringCapacity(cfg.GOPCacheFrames))
	return &Stream{
		key:     key,
		info:    info,
		start:   clock(),
		cfg:     cfg,
		clock:   clock,
		done:    make(chan struct{}),
		ring:    make([]entry, size),
		mask:    uint64(size - 1),
		headers: &Headers{},
		wake:    make(chan struct{}),
		readers: make(map[*Reader]struct{}),
		deliv:   delivery{wg: new(sync.WaitGroup)},
	}
}

// ringCapacity returns the smallest power of two >= frames.
func ringCapacity(frames int) int {
	n := 1
	for n < frames {
		n <<= 1
	}
	return n
}

// Key returns the stream's key.
func (s *Stream) Key() Key { return s.key }

// Info returns the publisher's description.
func (s *Stream) Info() PublisherInfo {
	if info := s.repub.info.Load(); info != nil {
		return *info
	}
	return s.info
}

// StartTime returns when the stream was published.
func (s *Stream) StartTime() time.Time { return s.start }

// Done returns a channel closed when the stream has ended.
func (s *Stream) Done() <-chan struct{} { return s.done }

// Headers returns the latest header set; fields are nil when absent.
func (s *Stream) Headers() Headers {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return *s.headers
}

// Readers returns the readers currently attached, in no particular order.
func (s *Stream) Readers() []*Reader {
	s.readersMu.Lock()
	defer s.readersMu.Unlock()
	out := make([]*Reader, 0, len(s.readers))
	for r := range s.readers {
		out = append(out, r)
	}
	return out
}

// append adds f, which arrived at now, to the ring, updates the header set
// and wakes readers. It never blocks on readers. Header frames identical to
// the ones in effect are not appended again. It reports whether the frame
// was appended.
func (s *Stream) append(f *Frame, now time.Time) bool {
	size := len(f.Payload)
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return false
	}
	if f.Header {
		k := f.slot()
		if cur := s.headers.get(k); cur != nil && !s.seqEnded[k] && bytes.Equal(cur.Payload, f.Payload) {
			s.mu.Unlock()
			return false
		}
		h := *s.headers
		h.set(k, f)
		s.headers = &h
		s.noteHeader(k)
	} else if f.seqEnd {
		s.markSeqEnded(f)
	}
	if n := s.tail - s.head; n >= uint64(s.cfg.GOPCacheFrames) {
		s.trimOldest()
	} else if n == uint64(len(s.ring)) {
		s.grow()
	}
	seq := s.tail
	arrived := now.Sub(s.start)
	s.ring[seq&s.mask] = entry{frame: f, headers: s.headers, offset: s.totalBytes, media: s.mediaCount, arrived: arrived}
	s.tail++
	s.cached += size
	s.mem.Add(int64(size))
	s.totalBytes += uint64(size)
	if !f.Header {
		s.mediaCount++
	}
	switch f.Type {
	case flv.TagVideo:
		s.hasVideo = true
		if f.Keyframe {
			s.lastKey, s.hasKey = seq, true
		}
		if f.codedKey && f.Multitrack {
			s.noteTrackKeys(f, seq)
		}
	}
	for s.cached > s.cfg.GOPCacheBytes && s.tail-s.head > 1 {
		s.trimOldest()
	}
	s.trimAged(arrived)
	if !s.holdAudio(f) {
		s.wakeReaders()
	}
	s.mu.Unlock()
	return true
}

// noteTrackKeys records the multitrack key frame f at seq as the newest
// keyframe of each track other than the default one it carries. s.mu must
// be held exclusively.
func (s *Stream) noteTrackKeys(f *Frame, seq uint64) {
	if s.trackKeys == nil {
		s.trackKeys = make(map[uint8]uint64)
	}
	if f.Track != 0 {
		s.trackKeys[f.Track] = seq
	}
	for _, id := range f.moreTracks {
		if id != 0 {
			s.trackKeys[id] = seq
		}
	}
}

// holdAudio decides whether the audio frame f may wait for the next video
// frame before readers are woken (Config.AudioHold), and if so makes sure a
// timer wakes them at the latest AudioHold from now. s.mu must be held
// exclusively.
func (s *Stream) holdAudio(f *Frame) bool {
	if f.Type != flv.TagAudio || f.Header || !s.hasVideo || s.cfg.AudioHold <= 0 {
		return false
	}
	if !s.held {
		s.held = true
		if s.holdTimer == nil {
			s.holdTimer = time.AfterFunc(s.cfg.AudioHold, s.releaseHeld)
		} else {
			s.holdTimer.Reset(s.cfg.AudioHold)
		}
	}
	return true
}

// releaseHeld wakes readers for audio frames that waited AudioHold for a
// video frame in vain.
func (s *Stream) releaseHeld() {
	s.mu.Lock()
	if s.held && !s.ended {
		s.wakeReaders()
	}
	s.mu.Unlock()
}

// wakeReaders wakes every waiting reader at once. s.mu must be held
// exclusively.
func (s *Stream) wakeReaders() {
	s.held = false
	if s.waiters.Load() {
		close(s.wake)
		s.wake = make(chan struct{})
		s.waiters.Store(false)
	}
}

// trimOldest drops the oldest cached entry. s.mu must be held exclusively.
func (s *Stream) trimOldest() {
	e := &s.ring[s.head&s.mask]
	s.cached -= len(e.frame.Payload)
	s.mem.Add(-int64(len(e.frame.Payload)))
	*e = entry{}
	s.head++
}

// releaseIfUnread lets go of an ended stream's cache once no reader is
// attached to drain it: its frames are dropped from the ring, which
// shrinks to its initial size, and their bytes leave the memory budget at
// once, whoever still holds the *Stream.
func (s *Stream) releaseIfUnread() {
	s.readersMu.Lock()
	n := len(s.readers)
	s.readersMu.Unlock()
	if n > 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ended {
		return
	}
	for s.head < s.tail {
		s.trimOldest()
	}
	if len(s.ring) > initialRingSize {
		s.ring = make([]entry, initialRingSize)
		s.mask = initialRingSize - 1
	}
}

// trimAged drops the oldest entries that no reader may need any more
// under Config.MaxReaderLag: those that arrived more than MaxReaderLag
// before newest (the newest entry's arrival) and have a random access
// point after them, which a reader that far behind skips to. The newest
// GOP, where joining readers start, is always kept. s.mu must be held
// exclusively.
func (s *Stream) trimAged(newest time.Duration) {
	lag := s.cfg.MaxReaderLag
	if lag <= 0 {
		return
	}
	for s.head < s.tail && newest-s.ring[s.head&s.mask].arrived > lag && s.canSkip(s.head) {
		s.trimOldest()
	}
}

// canSkip reports whether a reader at seq has a random access point after
// it to skip ahead to: a newer cached keyframe for a stream with video,
// a newer frame for one without. s.mu must be held.
func (s *Stream) canSkip(seq uint64) bool {
	if s.hasVideo {
		return s.keyInRing() && s.lastKey > seq
	}
	return s.tail-1 > seq
}

// grow doubles the ring. s.mu must be held exclusively.
func (s *Stream) grow() {
	n := uint64(len(s.ring)) * 2
	ring := make([]entry, n)
	for seq := s.head; seq < s.tail; seq++ {
		ring[seq&(n-1)] = s.ring[seq&s.mask]
	}
	s.ring, s.mask = ring, n-1
}

// keyInRing reports whether the newest keyframe is still cached. s.mu must
// be held.
func (s *Stream) keyInRing() bool { return s.hasKey && s.lastKey >= s.head }

// end marks the stream ended and wakes every reader; readers drain what is
// cached and then get io.EOF. Done is closed before readers are woken, so
// a reader that got io.EOF finds the stream ended. It reports whether this
// call ended it.
func (s *Stream) end() bool {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return false
	}
	s.ended = true
	s.held = false
	if s.holdTimer != nil {
		s.holdTimer.Stop()
	}
	close(s.done)
	close(s.wake)
	s.waiters.Store(false)
	s.mu.Unlock()
	s.deliv.end()
	return true
}

// Ended reports whether the stream has ended.
func (s *Stream) Ended() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// attach registers r as a current reader.
func (s *Stream) attach(r *Reader) {
	s.readersMu.Lock()
	s.readers[r] = struct{}{}
	s.readersMu.Unlock()
}

// detach unregisters r, keeping its drop count in the stream's total.
func (s *Stream) detach(r *Reader) {
	s.readersMu.Lock()
	if _, ok := s.readers[r]; ok {
		delete(s.readers, r)
		s.droppedClosed += r.dropped.Load()
	}
	last := len(s.readers) == 0
	s.readersMu.Unlock()
	if last && s.Ended() {
		s.releaseIfUnread()
	}
}

// sortStreams orders streams by key.
func sortStreams(ss []*Stream) {
	slices.SortFunc(ss, func(a, b *Stream) int { return a.key.compare(b.key) })
}
