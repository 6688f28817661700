package stream

import "sync"

// A reader that joins a stream (or skips ahead to a keyframe) first gets the
// header set in effect where it is positioned. The publisher sent those
// headers long before, often at 0; delivered at their original times they
// would make the joiner's timeline start far before its first media frame
// (or jump back and forth between headers and media). They are delivered
// stamped at the time of the entry the reader is positioned at, the first
// media timestamp it gets; onMetaData stays at 0 (see Publisher.rebase).

// pendingHeader is a header frame queued for a reader: the frame of the
// stream's header set, and the form delivered (the same frame, or a copy at
// the join time).
type pendingHeader struct {
	orig, out *Frame
}

// joinStamp caches the stamped header set of the latest join point, so
// that the readers joining there (most join at the newest keyframe) share
// the copies and their serialisations instead of each building its own.
type joinStamp struct {
	mu      sync.Mutex
	seq     uint64
	headers *Headers
	set     []pendingHeader
}

// joinHeaders returns the frames of h, the header set in effect at ring
// entry seq, stamped at ts, the time of that entry. The result is shared:
// callers must not modify it. s.mu must be held, shared or exclusively.
func (s *Stream) joinHeaders(seq uint64, h *Headers, ts uint32) []pendingHeader {
	j := &s.join
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.headers == h && j.seq == seq && j.set != nil {
		return j.set
	}
	all := h.All()
	set := make([]pendingHeader, len(all))
	for i, f := range all {
		set[i] = pendingHeader{orig: f, out: f}
		if !f.isMetadata() && f.Time != ts {
			set[i].out = f.withTime(ts)
		}
	}
	j.seq, j.headers, j.set = seq, h, set
	return set
}

// edgeHeaders returns the frames of h as they are, for a reader positioned
// at the live edge, where the time of the next media frame is not known
// yet.
func edgeHeaders(h *Headers) []pendingHeader {
	all := h.All()
	set := make([]pendingHeader, len(all))
	for i, f := range all {
		set[i] = pendingHeader{orig: f, out: f}
	}
	return set
}
