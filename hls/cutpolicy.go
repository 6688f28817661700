package hls

import (
	"fmt"
	"time"
)

// The cut policy: where segments and parts begin and end. A segment is cut
// at a random access point once it reached the target duration (at a
// keyframe when the stream has video, at any audio frame otherwise), early
// at a random access point when a track or a codec configuration changed
// (a discontinuity), and at any frame when it reached MaxSegmentBytes or
// the longest duration its playlist allows (forced). LL-HLS parts are cut
// at the first frame PartDuration after the part's start, and a segment's
// end always ends its last part.

// drop counts a dropped media frame and passes err through.
func (s *Segmenter) drop(seg *Segment, err error) (*Segment, error) {
	s.stats.Dropped++
	return seg, err
}

// frameTime returns the output time of a frame with timestamp ms. A jump
// in the timestamps ends the segment in progress (returned) and makes the
// next one a discontinuity that continues the output time.
func (s *Segmenter) frameTime(ms uint32) (int64, *Segment, error) {
	t, jumped := s.tl.dts(ms)
	if !jumped {
		return t, nil, nil
	}
	seg, err := s.Discontinuity()
	s.tl.rebase = false // this frame already continues the output time
	return t, seg, err
}

// cutForVideo ends the open segment before a video frame at output time
// dts when the policy says so, and returns it. continued is set when a
// forced cut let the next segment start without a keyframe.
func (s *Segmenter) cutForVideo(dts int64, rap bool) (seg *Segment, continued bool, err error) {
	elapsed := dts - s.cur.start
	switch {
	case rap && (s.cutAtRAP || s.trackChange || !s.w.hasVideo() || elapsed >= s.target-cutToleranceTicks ||
		s.crossedGrid(dts)):
		by := triggerVideo
		if s.cutAtRAP || s.trackChange {
			s.pendingDisc = true
			by = triggerDrain // the writer may change: nothing waits
		}
		seg, err = s.finish(dts, false, by)
	case s.forceCut || elapsed+s.videoStep > s.capTicks():
		seg, err = s.finish(dts, true, triggerVideo)
		continued = s.w.sameTracks(s.video, s.audio)
	}
	return seg, continued, err
}

// cutForAudio ends the open segment before an audio frame at output time
// pts lasting ticks when the policy says so, and returns it. continued is
// set when a forced cut let the next segment start without a keyframe.
func (s *Segmenter) cutForAudio(pts, ticks int64) (seg *Segment, continued bool, err error) {
	elapsed := pts - s.cur.start
	switch {
	case s.forceCut || elapsed+ticks > s.capTicks():
		seg, err = s.finish(pts, true, triggerAudio)
		continued = s.w.sameTracks(s.video, s.audio)
	case s.w.hasVideo():
		// Segments with video are cut at keyframes only.
	case s.cutAtRAP || s.trackChange:
		s.pendingDisc = true
		seg, err = s.finish(pts, false, triggerDrain)
	case elapsed >= s.target:
		seg, err = s.finish(pts, false, triggerAudio)
	}
	return seg, continued, err
}

// partBefore ends the part in progress before a frame at output time t
// when the part reached the part target (LL-HLS), or would pass it with
// the next frame expected: a part lasts at most the part target (RFC
// 8216bis: the part target is the longest part), short of it by less than
// a frame interval.
func (s *Segmenter) partBefore(t int64, by cutTrigger) error {
	if !s.parts {
		return nil
	}
	if elapsed := t - s.cur.partStart; elapsed < s.partDur && elapsed+s.nextFrameTicks() <= s.partDur {
		return nil
	}
	return s.cutPart(t, by)
}

// minPartPercent is the shortest a part other than a segment's last may
// be, in percent of the part target (RFC 8216bis section 4.4.4.9).
const minPartPercent = 85

// partAfterVideo ends the part in progress right after a video frame at
// output time dts when the next frame, expected one frame interval later
// (nextVideoStep), would take the part past the part target. The part then
// goes out at once instead of one frame later, which is when a player that
// waits for it gets it; the next part starts where the next frame is
// expected. Audio frames not complete by then go into the next part. At
// frame rates whose whole frames cannot fill minPartPercent of the part
// target without passing it (24 fps in 200 ms), partBefore cuts instead.
func (s *Segmenter) partAfterVideo(dts int64) error {
	if !s.parts || !s.w.hasVideo() {
		return nil
	}
	step := s.nextVideoStep()
	end := dts + step
	if d := end - s.cur.partStart; d+step <= s.partDur || d > s.partDur || d*100 < s.partDur*minPartPercent {
		return nil
	}
	return s.cutPart(end, triggerVideo)
}

// nextVideoStep is how far the next video frame is expected after the
// last: the step three frames back. Timestamps in whole milliseconds
// repeat their rounding every three frames at 24, 30 and 60 fps (25 and 50
// have none), so this is exact for them and off by at most a millisecond
// now and then at the NTSC rates; it is never more than a millisecond
// above the last step, so frames of an irregular stream overlap by no more
// than that.
func (s *Segmenter) nextVideoStep() int64 {
	if s.videoSteps < len(s.lastVideoSteps) {
		return s.videoStep
	}
	return min(s.lastVideoSteps[s.videoSteps%len(s.lastVideoSteps)], s.videoStep+ticksPerMs)
}

// nextFrameTicks is how soon the next frame is expected: the shorter of
// the video and audio frame intervals.
func (s *Segmenter) nextFrameTicks() int64 {
	step := int64(maxFrameTicks)
	if s.w.hasVideo() {
		step = min(step, s.videoStep)
	}
	if s.w.hasAudio() && s.audio != nil {
		step = min(step, s.audio.frameTicks)
	}
	return step
}

// cutPart ends the part in progress at output time end: the frames
// complete by then become one fragment, a Part taken by takeParts. Nothing
// is cut while no frame is complete (the part goes on).
func (s *Segmenter) cutPart(end int64, by cutTrigger) error {
	info, ok, err := s.w.fragment(end, by)
	if err != nil {
		return fmt.Errorf("write part: %w", err)
	}
	if !ok {
		return nil
	}
	data := make([]byte, info.size)
	copy(data, s.w.written()[info.start:])
	endMs := (end - s.cur.start + ticksPerMs/2) / ticksPerMs
	// A drain right after a part ended with its video frame may leave only
	// audio frames from before that end: they still take a part, of 1 ms.
	d := time.Duration(max(endMs-s.cur.partStartMs, 1)) * time.Millisecond
	s.doneParts = append(s.doneParts, &Part{Data: data, Duration: d, Independent: info.independent})
	s.cur.parts = append(s.cur.parts, PartInfo{Duration: d, Independent: info.independent, Size: info.size})
	s.cur.partStart, s.cur.partStartMs, s.cur.partVideo = end, endMs, 0
	return nil
}

// wrote accounts for a frame written into the current segment.
func (s *Segmenter) wrote() {
	s.stats.Frames++
	if s.w.size() >= s.maxBytes {
		s.forceCut = true
	}
}

// begin opens a segment whose first frame has DTS start; rap tells whether
// that frame is a random access point. A writer for other tracks starts a
// discontinuity (and, for fMP4, a new init section).
func (s *Segmenter) begin(start int64, rap bool) error {
	if s.w == nil || !s.w.sameTracks(s.video, s.audio) {
		w, err := s.newWriter()
		if err != nil {
			return err
		}
		if s.w != nil {
			s.pendingDisc = true
		}
		s.w = w
		if gen, data := w.initSection(); data != nil {
			s.init, s.initGen = data, gen
		}
	}
	if s.scratch == nil {
		s.scratch = make([]byte, 0, s.sizeHint)
	}
	s.w.begin(s.scratch[:0])
	now := s.now()
	if !s.anchored || s.pendingDisc {
		s.anchored, s.anchorTicks, s.anchorWall = true, start, now
	}
	wall := s.anchorWall.Add(time.Duration(start-s.anchorTicks) * (time.Second / clockRate))
	s.cur = segmentState{
		start:       start,
		wall:        wall.Round(time.Millisecond),
		disc:        s.pendingDisc,
		independent: rap,
		partStart:   start,
	}
	if s.parts {
		s.cur.parts = make([]PartInfo, 0, s.target/s.partDur+2)
	}
	s.open = true
	s.pendingDisc, s.cutAtRAP, s.trackChange, s.forceCut = false, false, false, false
	s.audioWaiting = false
	return nil
}

// newWriter returns a container writer for the current tracks.
func (s *Segmenter) newWriter() (containerWriter, error) {
	if s.variant == VariantMPEGTS {
		return newTSWriter(s.video, s.audio)
	}
	gen := s.initGen + 1
	w, err := newMP4Writer(s.video, s.audio, gen, &s.fragments)
	if err != nil {
		return nil, err
	}
	return w, nil
}

// finish closes the current segment at output time end; by is the kind of
// frame that ends it (triggerDrain: none follows that continues it).
func (s *Segmenter) finish(end int64, forced bool, by cutTrigger) (*Segment, error) {
	var err error
	switch {
	case s.parts && by != triggerDrain && s.w.hasVideo() && s.cur.partVideo == 0 && len(s.cur.parts) > 0:
		// The last part ended with the last video frame (partAfterVideo):
		// the audio frames written since go with the next segment.
	case s.parts:
		if by == triggerDrain && end-s.cur.partStart > s.partDur && s.lastFrameTime > s.cur.partStart {
			// The frames run on past their last DTS (presentation, duration):
			// the last frames get a part of their own rather than one longer
			// than the part target.
			err = s.cutPart(s.lastFrameTime, triggerHold)
		}
		if err == nil {
			err = s.cutPart(end, by)
		}
		if err == nil && by != triggerDrain && s.cur.partStart != end {
			err = s.cutPart(end, triggerDrain) // nothing was complete: the part ends anyway
		}
	case s.variant != VariantMPEGTS:
		_, _, err = s.w.fragment(end, by)
	}
	written, terr := s.w.take()
	err = cmpOr(err, terr)
	data := s.keep(written)
	s.open = false
	ms := (end - s.cur.start + ticksPerMs/2) / ticksPerMs
	gen, _ := s.w.initSection()
	seg := &Segment{
		Data:            data,
		Duration:        time.Duration(max(ms, 1)) * time.Millisecond,
		Start:           s.cur.start,
		ProgramDateTime: s.cur.wall,
		Discontinuity:   s.cur.disc,
		Independent:     s.cur.independent,
		Forced:          forced,
		VideoFrames:     s.cur.videoFrames,
		AudioFrames:     s.cur.audioFrames,
		Parts:           s.cur.parts,
		Init:            gen,
	}
	s.decidePlaylistTarget(seg.Duration)
	s.stats.Segments++
	if seg.Discontinuity {
		s.stats.Discontinuities++
	}
	if forced {
		s.stats.ForcedCuts++
	}
	if err != nil {
		return seg, fmt.Errorf("finish segment: %w", err)
	}
	return seg, nil
}

// cmpOr returns the first non-nil error.
func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// keep copies a finished segment out of the scratch buffer it was written
// into, into a slice of exactly its size (stored segments carry no growth
// slack), and keeps the buffer for the next segment unless it is more than
// twice the size segments now have (one unusually large segment does not
// pin its buffer for the stream's lifetime).
func (s *Segmenter) keep(written []byte) []byte {
	data := make([]byte, len(written))
	copy(data, written)
	s.sizeHint = max(len(data)+len(data)/8, minSegmentCap)
	s.scratch = written[:0]
	if cap(written) > 2*s.sizeHint {
		s.releaseScratch()
	}
	return data
}

// takeParts returns the parts finished since the last call, in order. The
// slice is valid until the next call of a Segmenter method (its array is
// reused); the parts themselves stay valid.
func (s *Segmenter) takeParts() []*Part {
	parts := s.doneParts
	s.doneParts = s.doneParts[:0]
	return parts
}

// takeInit returns the init section that came into force since the last
// call and its generation, or nil.
func (s *Segmenter) takeInit() (gen int, data []byte) {
	data, s.init = s.init, nil
	return s.initGen, data
}
