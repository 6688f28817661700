package hls

import (
	"bytes"
	"fmt"
	"time"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/stream"
)

// Segmenter tuning.
const (
	// cutToleranceTicks lets a keyframe cut a segment slightly before the
	// target duration, so a GOP that equals the target (give or take
	// millisecond rounding) does not double the segment.
	cutToleranceTicks = 5 * ticksPerMs
	// audioWaitTicks is how long audio waits for video that the metadata
	// announced before the stream is segmented as audio-only.
	audioWaitTicks = 3 * clockRate
	// maxAudioPESFrames and maxAudioPESBytes bound how many audio frames one
	// audio PES packs.
	maxAudioPESFrames = 6
	maxAudioPESBytes  = 2930
	// audioGapTicks is the timestamp deviation that ends an audio PES, so a
	// gap in the audio is not hidden inside a PES.
	audioGapTicks = 2 * ticksPerMs
	// defaultFrameTicks is the assumed video frame duration until two frames
	// were seen (30 fps).
	defaultFrameTicks = clockRate / 30
	// maxFrameTicks caps the video frame duration estimate.
	maxFrameTicks = clockRate
	// initialSegmentCap is the scratch buffer's capacity for the first
	// segment; later ones start from the size of the segment before.
	initialSegmentCap = 256 << 10
	// minSegmentCap is the smallest capacity a new scratch buffer gets.
	minSegmentCap = 4096
)

// SegmenterConfig configures a Segmenter; zero fields take the defaults of
// Config.
type SegmenterConfig struct {
	// TargetDuration is the segment duration at which the next keyframe (for
	// audio-only streams: the next frame) cuts a segment.
	TargetDuration time.Duration
	// MaxSegmentDuration and MaxSegmentBytes force a cut at the next frame
	// even without a keyframe.
	MaxSegmentDuration time.Duration
	MaxSegmentBytes    int
	// Now returns the wall-clock time, for EXT-X-PROGRAM-DATE-TIME. Default
	// time.Now.
	Now func() time.Time
}

// SegmenterStats are a segmenter's counters.
type SegmenterStats struct {
	// Segments counts segments produced.
	Segments uint64
	// Frames counts media frames written into segments.
	Frames uint64
	// Dropped counts media frames left out: before the first keyframe, of a
	// track without usable configuration, or unparseable.
	Dropped uint64
	// Invalid counts frames (headers included) that could not be parsed.
	Invalid uint64
	// Discontinuities counts segments that start a discontinuity.
	Discontinuities uint64
	// ForcedCuts counts segments cut by a cap instead of at a keyframe.
	ForcedCuts uint64
	// Video and Audio tell whether the default (track 0) video and audio
	// tracks are segmented, and why not when their codec cannot be.
	Video, Audio TrackStatus
}

// Segmenter turns the frames of one live stream (FLV tag bodies: H.264 or
// H.265, AAC or MP3) into MPEG-TS segments. It is a pure component: no goroutines, no I/O.
// Feed it with WriteFrame in stream order; it returns each segment as it is
// completed. A Segmenter is not safe for concurrent use.
type Segmenter struct {
	now      func() time.Time
	target   int64 // ticks
	maxTicks int64
	maxBytes int
	// minPlaylistTarget is the target duration rounded up to whole seconds;
	// playlistTarget is the playlist's EXT-X-TARGETDURATION (ticks, whole
	// seconds), decided with the first segment (0 before) and kept: a segment
	// that would outgrow it is cut early.
	minPlaylistTarget int64
	playlistTarget    int64

	tl    timeline
	video *videoTrack
	audio *audioTrack
	// expectVideo is set when the metadata announced video: audio then waits
	// (up to audioWaitTicks from audioWaitFrom) for the first keyframe.
	expectVideo    bool
	audioWaiting   bool
	audioWaitFrom  int64
	w              *tsWriter
	open           bool
	cur            segmentState
	sizeHint       int
	pendingDisc    bool // the next segment starts a discontinuity
	cutAtRAP       bool // a codec configuration changed: cut at the next random access point
	trackChange    bool // a track appeared: cut at the next keyframe
	forceCut       bool // the current segment reached MaxSegmentBytes
	anchored       bool // PROGRAM-DATE-TIME anchor set
	anchorTicks    int64
	anchorWall     time.Time
	lastVideoDTS   int64 // as written, dtsShift applied
	haveVideoDTS   bool
	dtsShift       int64 // ticks video DTS is lowered by: the most negative composition time seen
	videoStep      int64
	lastAudioPTS   int64
	haveAudioPTS   bool
	audioPES       []byte // packed ADTS frames not yet written
	audioPESPTS    int64
	audioPESFrames int
	audioNext      int64  // expected PTS of the next AAC frame
	au             []byte // scratch: one access unit in Annex-B
	stats          SegmenterStats
	// videoLeft and audioLeft are the sequence start payloads of tracks left
	// out for their codec (nil otherwise).
	videoLeft, audioLeft []byte
	// scratch is the buffer segments are written into, reused from one
	// segment to the next (the finished segment is copied out at its exact
	// size); nil between publishers. sizeHint (above) is the capacity a new
	// scratch buffer starts with.
	scratch []byte
	// parts are the parts finished and not yet taken (takeParts); init is
	// the init section that came into force and was not yet taken, of
	// generation initGen.
	parts   []*Part
	init    []byte
	initGen int
}

// segmentState describes the segment being written.
type segmentState struct {
	start       int64
	wall        time.Time
	disc        bool
	independent bool
	videoFrames int
	audioFrames int
}

// NewSegmenter returns a segmenter; zero config fields take the defaults of
// Config.
func NewSegmenter(cfg SegmenterConfig) *Segmenter {
	if cfg.TargetDuration <= 0 {
		cfg.TargetDuration = DefaultSegmentDuration
	}
	if cfg.MaxSegmentDuration <= 0 {
		cfg.MaxSegmentDuration = DefaultMaxSegmentDuration
	}
	cfg.MaxSegmentDuration = max(cfg.MaxSegmentDuration, 2*cfg.TargetDuration)
	if cfg.MaxSegmentBytes <= 0 {
		cfg.MaxSegmentBytes = DefaultMaxSegmentBytes
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Segmenter{
		now:               cfg.Now,
		target:            durationTicks(cfg.TargetDuration),
		maxTicks:          durationTicks(cfg.MaxSegmentDuration),
		minPlaylistTarget: int64((cfg.TargetDuration+time.Second-1)/time.Second) * clockRate,
		maxBytes:          cfg.MaxSegmentBytes,
		videoStep:         defaultFrameTicks,
		sizeHint:          initialSegmentCap,
	}
}

// capTicks is the longest a segment may grow: MaxSegmentDuration, and once
// the playlist's target duration is decided, the longest duration that
// still rounds to it (RFC 8216 compares the rounded EXTINF).
func (s *Segmenter) capTicks() int64 {
	if s.playlistTarget == 0 {
		return s.maxTicks
	}
	return min(s.maxTicks, s.playlistTarget+clockRate/2-ticksPerMs)
}

// decidePlaylistTarget fixes the playlist's target duration with its first
// segment: the configured target rounded up to whole seconds, or the
// first segment's rounded duration when the stream's GOP is longer.
func (s *Segmenter) decidePlaylistTarget(first time.Duration) {
	if s.playlistTarget == 0 {
		s.playlistTarget = max(s.minPlaylistTarget, int64(roundSeconds(first))*clockRate)
	}
}

// newPlaylist forgets the playlist's target duration: the next segment
// starts a new playlist (after one that ended), which decides its own.
func (s *Segmenter) newPlaylist() { s.playlistTarget = 0 }

// durationTicks converts a duration to 90 kHz ticks.
func durationTicks(d time.Duration) int64 {
	return int64(d / (time.Second / clockRate))
}

// Stats returns the segmenter's counters.
func (s *Segmenter) Stats() SegmenterStats { return s.stats }

// WriteFrame feeds one frame. It returns the segment the frame completed,
// if any. Header frames update the track configuration; frames that cannot
// be used are dropped and counted, and the error says why (the segmenter
// stays usable: callers typically log and go on).
func (s *Segmenter) WriteFrame(f *stream.Frame) (*Segment, error) {
	switch {
	case f.Type == flv.TagScript:
		if f.Header {
			s.setMetadata(f.Payload)
		}
		return nil, nil
	case f.Header && !isDefaultSequenceStart(f):
		return nil, nil // another track's configuration, HDR metadata …
	case f.Header && f.Type == flv.TagVideo:
		return nil, s.setVideoConfig(f.Payload)
	case f.Header && f.Type == flv.TagAudio:
		return nil, s.setAudioConfig(f.Payload)
	case f.Type == flv.TagVideo:
		return s.writeVideo(f)
	case f.Type == flv.TagAudio:
		return s.writeAudio(f)
	}
	return nil, nil
}

// Flush ends the current segment (the publisher left) and returns it, or
// nil when none is open. The next segment starts at a keyframe. The
// scratch buffer is let go: the stream may stay idle for long.
func (s *Segmenter) Flush() (*Segment, error) {
	defer s.releaseScratch()
	if !s.open {
		return nil, nil
	}
	return s.finish(s.tl.end, false)
}

// releaseScratch drops the scratch buffer; the next segment allocates one
// of the last segment's size.
func (s *Segmenter) releaseScratch() { s.scratch = nil }

// Restart prepares for a new publisher under the same name: it ends the
// current segment (returned, if one was open), forgets the track
// configuration (the new publisher sends its own) and makes the next segment
// a discontinuity whose timestamps continue where this publisher's ended.
func (s *Segmenter) Restart() (*Segment, error) {
	seg, err := s.Discontinuity()
	s.video, s.audio = nil, nil
	s.stats.Video, s.stats.Audio = TrackStatus{}, TrackStatus{}
	s.videoLeft, s.audioLeft = nil, nil
	s.expectVideo, s.audioWaiting = false, false
	s.cutAtRAP, s.trackChange = false, false
	return seg, err
}

// Discontinuity ends the current segment (returned, if one was open) and
// makes the next one a discontinuity starting at a random access point, with
// output time continuing from the last frame. Use it when frames were lost
// (a reader that had to skip ahead).
func (s *Segmenter) Discontinuity() (*Segment, error) {
	var seg *Segment
	var err error
	if s.open {
		seg, err = s.finish(s.tl.end, false)
	}
	s.pendingDisc = true
	s.tl.restart()
	return seg, err
}

// setMetadata notes whether onMetaData announces a video track.
func (s *Segmenter) setMetadata(payload []byte) {
	m, err := flv.ParseMetadata(payload)
	if err != nil {
		return
	}
	s.expectVideo = m.VideoCodec != "" || m.Width > 0
}

// setVideoConfig applies a video sequence header.
func (s *Segmenter) setVideoConfig(payload []byte) error {
	if s.video != nil && bytes.Equal(s.video.config, payload) || sameLeftOut(s.videoLeft, payload) {
		return nil
	}
	t, err := newVideoTrack(payload)
	if err != nil {
		_, track, _ := videoTrackZero(payload)
		if !leaveOut(&s.stats.Video, &s.videoLeft, payload, track.Codec, err) {
			s.stats.Invalid++
		}
		s.video = nil
		return err
	}
	include(&s.stats.Video, &s.videoLeft, t.codec)
	if s.video != nil && s.open {
		s.cutAtRAP = true
	}
	s.video = t
	return nil
}

// setAudioConfig applies an audio sequence header.
func (s *Segmenter) setAudioConfig(payload []byte) error {
	if s.audio != nil && bytes.Equal(s.audio.config, payload) || sameLeftOut(s.audioLeft, payload) {
		return nil
	}
	if _, track, ok := audioTrackZero(payload); ok && track.Codec == flv.FourCCMP3 {
		return nil // MPEG audio is configured by its frames
	}
	t, err := newAudioTrack(payload)
	if err != nil {
		_, track, _ := audioTrackZero(payload)
		if !leaveOut(&s.stats.Audio, &s.audioLeft, payload, track.Codec, err) {
			s.stats.Invalid++
		}
		s.audio = nil
		return err
	}
	include(&s.stats.Audio, &s.audioLeft, flv.FourCCAAC)
	if s.audio != nil && s.open {
		s.cutAtRAP = true
	}
	s.audio = t
	return nil
}

// drop counts a dropped media frame and passes err through.
func (s *Segmenter) drop(seg *Segment, err error) (*Segment, error) {
	s.stats.Dropped++
	return seg, err
}

// writeVideo handles a coded video frame.
func (s *Segmenter) writeVideo(f *stream.Frame) (*Segment, error) {
	h, err := flv.ParseVideoTagHeader(f.Payload)
	if err != nil {
		s.stats.Invalid++
		return s.drop(nil, fmt.Errorf("video frame at %d ms: %w: %w", f.Time, ErrInvalidFrame, err))
	}
	if h.IsCommand() || (h.PacketType != flv.PacketCodedFrames && h.PacketType != flv.PacketCodedFramesX) {
		return nil, nil // sequence end, command or metadata: nothing to segment
	}
	track, ok := defaultTrack(h.TrackList(f.Payload))
	switch {
	case !ok:
		return nil, nil // another track of a multitrack stream
	case leftOutFrame(s.stats.Video, track.Codec):
		return s.drop(nil, nil)
	case s.video == nil || track.Codec != s.video.codec:
		return s.drop(nil, fmt.Errorf("video frame at %d ms (%v): %w", f.Time, track.Codec, ErrNoConfig))
	}
	au, rap, err := s.video.appendAccessUnit(s.au[:0], track.Data, f.Keyframe, false)
	if err != nil {
		s.stats.Invalid++
		return s.drop(nil, fmt.Errorf("video frame at %d ms: %w", f.Time, err))
	}
	s.au = au
	dts, jumped := s.tl.dts(f.Time)
	var seg *Segment
	if jumped {
		if seg, err = s.Discontinuity(); err != nil {
			return seg, err
		}
		s.tl.rebase = false // this frame already continues the output time
	}
	continued := false
	if s.open {
		switch elapsed := dts - s.cur.start; {
		case rap && (s.cutAtRAP || s.trackChange || !s.w.hasVideo || elapsed >= s.target-cutToleranceTicks):
			if s.cutAtRAP || s.trackChange {
				s.pendingDisc = true
			}
			seg, err = s.finish(dts, false)
		case s.forceCut || elapsed+s.videoStep > s.capTicks():
			seg, err = s.finish(dts, true)
			continued = s.w.sameTracks(s.video, s.audio)
		}
		if err != nil {
			return seg, err
		}
	}
	if s.open && !s.w.hasVideo {
		return s.drop(seg, nil) // audio-only segment: video joins at a keyframe
	}
	if !s.open {
		if !rap && !continued {
			// A segment starts at a keyframe, unless a forced cut continues the
			// same program without one.
			return s.drop(seg, nil)
		}
		if err := s.begin(dts, rap); err != nil {
			return s.drop(seg, err)
		}
	}
	if s.cur.videoFrames == 0 && !rap {
		// A segment cut without a keyframe still carries the parameter sets,
		// so a decoder knows the stream; it is not independent (begin).
		s.au, _, _ = s.video.appendAccessUnit(s.au[:0], track.Data, f.Keyframe, true)
	}
	pts, outDTS := s.videoTimestamps(dts, track.CompositionTime)
	if err := s.w.writeVideo(pts, outDTS, rap, s.au); err != nil {
		return s.drop(seg, err)
	}
	// The frame lasts until its presentation ends: a B-frame stream's last
	// frames are presented after later-decoded ones, and output time after a
	// restart must continue past every frame shown, not just decoded.
	s.tl.extend(max(dts, pts) + s.videoStep)
	s.cur.videoFrames++
	s.wrote()
	return seg, nil
}

// videoTimestamps returns the PTS and DTS to write for a video frame with
// output time dts and composition time ctsMs. The PTS is the frame's
// presentation time; a negative composition time (B-frames of encoders that
// shift their composition times) lowers the DTS of this and every later
// frame by as much, so that DTS stays at or below PTS without two frames
// sharing a presentation time. DTS is kept strictly increasing.
func (s *Segmenter) videoTimestamps(dts int64, ctsMs int32) (pts, outDTS int64) {
	cts := int64(ctsMs) * ticksPerMs
	s.dtsShift = max(s.dtsShift, -cts)
	pts, outDTS = dts+cts, dts-s.dtsShift
	if s.haveVideoDTS {
		if step := outDTS - s.lastVideoDTS; step > 0 && step <= maxFrameTicks {
			s.videoStep = step
		}
		if outDTS <= s.lastVideoDTS {
			// Only when the shift just grew (or timestamps went backwards): the
			// frames already written cannot be lowered.
			outDTS = s.lastVideoDTS + 1
		}
	}
	pts = max(pts, outDTS)
	s.lastVideoDTS, s.haveVideoDTS = outDTS, true
	return pts, outDTS
}

// wrote accounts for a frame written into the current segment.
func (s *Segmenter) wrote() {
	s.stats.Frames++
	if s.w.size()+len(s.audioPES) >= s.maxBytes {
		s.forceCut = true
	}
}

// begin opens a segment whose first frame has DTS start; rap tells whether
// that frame is a random access point.
func (s *Segmenter) begin(start int64, rap bool) error {
	if s.w == nil || !s.w.sameTracks(s.video, s.audio) {
		w, err := newTSWriter(s.video, s.audio)
		if err != nil {
			return err
		}
		if s.w != nil {
			s.pendingDisc = true
		}
		s.w = w
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
	}
	s.open = true
	s.pendingDisc, s.cutAtRAP, s.trackChange, s.forceCut = false, false, false, false
	s.audioWaiting = false
	return nil
}

// finish closes the current segment at output time end.
func (s *Segmenter) finish(end int64, forced bool) (*Segment, error) {
	err := s.flushAudio()
	data := s.keep(s.w.take())
	s.open = false
	ms := (end - s.cur.start + ticksPerMs/2) / ticksPerMs
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

// takeParts returns the parts finished since the last call, in order.
func (s *Segmenter) takeParts() []*Part {
	parts := s.parts
	clear(s.parts)
	s.parts = s.parts[:0]
	return parts
}

// takeInit returns the init section that came into force since the last
// call and its generation, or nil.
func (s *Segmenter) takeInit() (gen int, data []byte) {
	data, s.init = s.init, nil
	return s.initGen, data
}
