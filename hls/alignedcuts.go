package hls

// Renditions of one picture (the video tracks of a multitrack stream, the
// streams of a group) are cut on the same timestamps when their keyframes
// are: besides the usual rule (a keyframe once the segment reached the
// target duration), a segmenter with aligned cuts cuts at a keyframe whose
// source timestamp crossed a multiple of the target duration since the
// segment began. The grid is the source timestamps', so renditions that
// started at different keyframes fall into step at the first multiple;
// segments are never longer than without it (any target-long span crosses
// a multiple), only the first may be shorter.

// Renditions of a multitrack stream also share the output timeline: a
// rendition's segmenter starts with the offset of the stream's own (track
// 0) segmenter, so the same source timestamp has the same output time in
// every media playlist, whichever frame each started at.

// timelineOffset returns the offset from source milliseconds to output
// ticks, once the first frame set it.
func (s *Segmenter) timelineOffset() (int64, bool) { return s.tl.offset, s.tl.started }

// anchorTimeline makes a segmenter that has written nothing yet map source
// timestamps with offset (another segmenter's timelineOffset).
func (s *Segmenter) anchorTimeline(offset int64) {
	if !s.tl.started {
		s.tl.offset, s.tl.anchored = offset, true
	}
}

// alignCutsToSource makes the segmenter cut on the source timestamps'
// grid from its next keyframe on.
func (s *Segmenter) alignCutsToSource() { s.alignCuts = true }

// crossedGrid reports, for a segmenter with aligned cuts, whether the
// source timestamp of the frame at output time dts lies in a later
// multiple of the target duration than that of the open segment's start.
func (s *Segmenter) crossedGrid(dts int64) bool {
	if !s.alignCuts || s.target < ticksPerMs {
		return false
	}
	grid := s.target / ticksPerMs // ms
	// Output time is the source timestamp (unwrapped ms) in ticks plus the
	// timeline's offset, the same for the segment's start: a jump that
	// changes the offset ends the segment first.
	start := floorDiv(s.cur.start-s.tl.offset, ticksPerMs)
	now := floorDiv(dts-s.tl.offset, ticksPerMs)
	return floorDiv(now, grid) > floorDiv(start, grid)
}

// floorDiv divides rounding towards minus infinity.
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
