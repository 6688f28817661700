package hls

// emitInit records the init section (ftyp+moov) of generation gen, in
// force for the parts and segments that follow (MP4 variants). The
// producing side calls it at the start and whenever the tracks or a codec
// configuration change; data is the receiver's to keep.
func (m *Manager) emitInit(st *streamState, gen int, data []byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.freed {
		return
	}
	st.addInit(gen, data, m.now())
}

// emitPart adds a finished part of the segment in progress to the
// playlist and wakes every request waiting for it (lowlatency variant).
// p.Data is the receiver's to keep.
func (m *Manager) emitPart(st *streamState, p *Part) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.freed || p == nil {
		return
	}
	disc := len(st.pending) == 0 && st.seg != nil && st.seg.partsStartDiscontinuity()
	st.addPart(p, disc, m.now())
}

// partsStartDiscontinuity reports whether the segment in progress, whose
// first part was just finished, starts a discontinuity (a republish, a
// timestamp jump): its parts are listed after EXT-X-DISCONTINUITY before the
// segment itself is. A part taken with no part of the segment in progress
// finished yet is the last of a segment that is handed over next, with its
// own Discontinuity. Only the feeder goroutine may call it.
func (s *Segmenter) partsStartDiscontinuity() bool {
	return s.open && len(s.cur.parts) > 0 && s.cur.disc
}
