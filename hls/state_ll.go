package hls

import (
	"strconv"
	"time"
)

// maxListedPartSegments is how many segment entries of a live playlist at
// most list their parts: the segment in progress (its parts and the
// preload hint) and the two finished before it. With segments about one
// target duration long that covers the last three target durations, as
// RFC 8216bis section 6.2.2 asks, and never more, which strict parsers
// check by counting segments.
const maxListedPartSegments = 3

// initEntry is one init section (ftyp+moov) of an MP4 variant, kept on the
// heap while a listed or stored segment needs it.
type initEntry struct {
	gen     int
	name    string
	data    []byte
	created time.Time
}

// partEntry is one LL-HLS part: of the segment in progress (data holds its
// bytes) or of a finished segment (a byte range of the segment's body, data
// nil).
type partEntry struct {
	// n numbers the parts of a state from 0, across segments: a part's
	// URI names it by n, so the preload hint names the next part before
	// anyone knows whether it starts a new segment.
	n           uint64
	duration    time.Duration
	independent bool
	offset      int // within the segment
	size        int
	data        []byte
	created     time.Time
}

// llState is the part of a stream's state that only the MP4 variants use:
// init sections, the parts of the segment in progress and the delta
// playlist. It is guarded by streamState.mu.
type llState struct {
	variant Variant
	// partTarget is the playlist's PART-TARGET: Config.PartDuration, raised
	// (for good, never lowered) to the longest part seen, whole
	// milliseconds. Parts are cut so that they last at most PartDuration,
	// but one may be longer after a gap in the timestamps; PART-TARGET is
	// the maximum a part may last (RFC 8216bis section 4.4.3.7).
	partTarget time.Duration
	mem        MemoryAccount // nil: nothing counted

	inits   []initEntry // oldest first
	initGen int         // the generation in force for the next segment
	// pending are the parts of the segment in progress (media sequence
	// number streamState.nextSeq); pendingInit is the init generation
	// they need, pendingBytes their size.
	pending      []partEntry
	pendingInit  int
	pendingDisc  bool
	pendingBytes int
	nextPart     uint64 // n of the next part
	// delta is the playlist for _HLS_skip=YES, or nil when no segment can
	// be skipped (the full playlist answers then).
	delta []byte
}

// newLLState returns the MP4 part of an empty state.
func newLLState(cfg Config) llState {
	return llState{variant: cfg.Variant, partTarget: cfg.PartDuration, mem: cfg.Memory}
}

// account counts n more bytes held in memory (negative: released).
func (l *llState) account(n int) {
	if l.mem != nil && n != 0 {
		l.mem.Add(int64(n))
	}
}

// addInit records the init section of generation gen, in force from the
// next part or segment on. st.mu must be held.
func (st *streamState) addInit(gen int, data []byte, now time.Time) {
	st.inits = append(st.inits, initEntry{gen: gen, name: initName(st.token, gen), data: data, created: now})
	st.initGen = gen
	st.account(len(data))
}

// initOf returns the init section of generation gen, or nil. st.mu must
// be held.
func (st *streamState) initOf(gen int) *initEntry {
	for i := range st.inits {
		if st.inits[i].gen == gen {
			return &st.inits[i]
		}
	}
	return nil
}

// pruneInits forgets the init sections that neither a stored segment nor
// the segment in progress needs. st.mu must be held.
func (st *streamState) pruneInits() {
	oldest := st.initGen
	if len(st.segs) > 0 && st.segs[0].init > 0 {
		oldest = min(oldest, st.segs[0].init)
	}
	if len(st.pending) > 0 {
		oldest = min(oldest, st.pendingInit)
	}
	n := 0
	for n < len(st.inits) && st.inits[n].gen < oldest {
		st.account(-len(st.inits[n].data))
		n++
	}
	if n > 0 {
		clear(st.inits[:n])
		st.inits = st.inits[n:]
	}
}

// addPart appends a finished part of the segment in progress and rebuilds
// the playlists; disc tells, for its first part, that the segment starts a
// discontinuity. st.mu must be held.
func (st *streamState) addPart(p *Part, disc bool, now time.Time) {
	st.newSession(now)
	if len(st.pending) == 0 {
		st.pendingInit, st.pendingDisc = st.initGen, disc
	}
	st.pending = append(st.pending, partEntry{
		n: st.nextPart, duration: p.Duration, independent: p.Independent,
		offset: st.pendingBytes, size: len(p.Data), data: p.Data, created: now,
	})
	st.pendingBytes += len(p.Data)
	st.nextPart++
	st.partTarget = max(st.partTarget, (p.Duration+time.Millisecond-1)/time.Millisecond*time.Millisecond)
	st.account(len(p.Data))
	st.rebuild(now)
}

// listedPending returns the parts of the segment in progress that the
// playlist lists. A last part shorter than 85% of the part target is held
// back until the next part or the segment's end: a part is cut that short
// only as the last of its segment, which the playlist cannot say before the
// segment ends, and only the last part of a segment may be that short (RFC
// 8216bis section 4.4.4.9). It stays fetchable, and the preload hint names
// it. st.mu must be held.
func (st *streamState) listedPending() []partEntry {
	if n := len(st.pending); n > 0 && st.pending[n-1].duration*100 < st.partTarget*minPartPercent {
		return st.pending[:n-1]
	}
	return st.pending
}

// hintedPart returns the number of the part the preload hint names: the
// first not listed. st.mu must be held.
func (st *streamState) hintedPart() uint64 {
	if listed := st.listedPending(); len(listed) < len(st.pending) {
		return st.pending[len(listed)].n
	}
	return st.nextPart
}

// takeParts moves the parts of the segment in progress into e, the
// finished segment, as byte ranges of its body. Parts that do not add up
// to what the segmenter reported for e (a segment lost to a store error
// left its parts behind) are dropped, and e lists none. st.mu must be held.
func (st *streamState) takeParts(e *segmentEntry) {
	pending := st.pending
	st.dropPending()
	if len(pending) == 0 || len(pending) != len(e.partInfo) {
		return
	}
	for i, p := range pending {
		if p.size != e.partInfo[i].Size {
			return
		}
	}
	if pending[len(pending)-1].offset+pending[len(pending)-1].size != e.body.size {
		return
	}
	for i := range pending {
		pending[i].data = nil
	}
	e.parts = pending
}

// dropPending forgets the parts of the segment in progress. st.mu must be
// held.
func (st *streamState) dropPending() {
	st.account(-st.pendingBytes)
	st.pending, st.pendingBytes = nil, 0
}

// releaseLL forgets everything the MP4 variants keep in memory (the state
// is freed). st.mu must be held.
func (st *streamState) releaseLL() {
	st.dropPending()
	for _, in := range st.inits {
		st.account(-len(in.data))
	}
	st.inits, st.delta = nil, nil
}

// partLocation says where part n is: a finished segment's byte range
// (seg set) or the segment in progress (data set).
type partLocation struct {
	seg  *segmentEntry
	part partEntry
}

// findPart returns the stored part n. st.mu must be held.
func (st *streamState) findPart(n uint64) (partLocation, bool) {
	if len(st.pending) > 0 && n >= st.pending[0].n {
		if i := n - st.pending[0].n; i < uint64(len(st.pending)) {
			return partLocation{part: st.pending[i]}, true
		}
		return partLocation{}, false
	}
	for i := len(st.segs) - 1; i >= 0; i-- {
		e := st.segs[i]
		if len(e.parts) == 0 || n > e.parts[len(e.parts)-1].n {
			continue
		}
		if n < e.parts[0].n {
			continue
		}
		return partLocation{seg: e, part: e.parts[n-e.parts[0].n]}, true
	}
	return partLocation{}, false
}

// reached reports whether the playlist holds what a blocking reload asks
// for: segment msn, or with part ≥ 0 its part number part, or anything
// after it (RFC 8216bis section 6.2.5.2). st.mu must be held.
func (st *streamState) reached(msn uint64, part int) bool {
	switch {
	case msn < st.nextSeq:
		if part < 0 {
			return true
		}
		e := st.find(msn)
		if e == nil || len(e.parts) == 0 || part < len(e.parts) {
			return true
		}
		// The segment was cut before that part: the next one's first part
		// is what follows it.
		return msn+1 < st.nextSeq || len(st.listedPending()) > 0
	case msn == st.nextSeq:
		return part >= 0 && part < len(st.listedPending())
	}
	return false
}

// initName returns the file name of an init section.
func initName(token string, gen int) string {
	return token + "-init" + strconv.Itoa(gen) + initSuffix
}

// partName returns the file name of part n.
func partName(token string, n uint64) string {
	return token + "-part" + strconv.FormatUint(n, 10) + fragmentSuffix
}
