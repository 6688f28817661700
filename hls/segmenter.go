package hls

import (
	"bytes"
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
// Config, but Variant (see WithDefaults).
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
	// Variant is the container written: VariantMPEGTS when empty (the
	// Manager passes Config.Variant), VariantFMP4, or VariantLowLatency
	// whose segments are made of parts of PartDuration.
	Variant Variant
	// PartDuration is the LL-HLS part target (VariantLowLatency). Default
	// DefaultPartDuration.
	PartDuration time.Duration
}

// WithDefaults returns c with the defaults in its zero fields: those of
// Config, but MPEG-TS for an empty Variant.
func (c SegmenterConfig) WithDefaults() SegmenterConfig {
	if c.TargetDuration <= 0 {
		c.TargetDuration = DefaultSegmentDuration
	}
	if c.MaxSegmentDuration <= 0 {
		c.MaxSegmentDuration = DefaultMaxSegmentDuration
	}
	c.MaxSegmentDuration = max(c.MaxSegmentDuration, 2*c.TargetDuration)
	if c.MaxSegmentBytes <= 0 {
		c.MaxSegmentBytes = DefaultMaxSegmentBytes
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Variant == "" {
		c.Variant = VariantMPEGTS
	}
	if c.PartDuration <= 0 {
		c.PartDuration = DefaultPartDuration
	}
	return c
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

// Segmenter turns the frames of one live stream (FLV tag bodies) into HLS
// segments: MPEG-TS (H.264 or H.265, AAC or MP3), or fMP4 (also AV1, VP9,
// Opus, FLAC, AC-3 and E-AC-3), whole or made of LL-HLS parts. It is a pure
// component: no goroutines, no I/O. Feed it with WriteFrame in stream
// order; it returns each segment as it is completed. A Segmenter is not
// safe for concurrent use.
type Segmenter struct {
	now     func() time.Time
	variant Variant
	parts   bool  // cut LL-HLS parts
	partDur int64 // ticks
	target  int64 // ticks
	// alignCuts also cuts at a keyframe whose source timestamp crossed a
	// multiple of target (alignedcuts.go).
	alignCuts bool
	maxTicks  int64
	maxBytes  int
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
	expectVideo   bool
	audioWaiting  bool
	audioWaitFrom int64
	w             containerWriter
	open          bool
	cur           segmentState
	sizeHint      int
	pendingDisc   bool // the next segment starts a discontinuity
	cutAtRAP      bool // a codec configuration changed: cut at the next random access point
	trackChange   bool // a track appeared: cut at the next keyframe
	forceCut      bool // the current segment reached MaxSegmentBytes
	anchored      bool // PROGRAM-DATE-TIME anchor set
	anchorTicks   int64
	anchorWall    time.Time
	lastVideoDTS  int64 // as written, dtsShift applied
	haveVideoDTS  bool
	dtsShift      int64 // ticks video DTS is lowered by: the most negative composition time seen
	// videoStep is the distance between the last two video frames (ticks);
	// lastVideoSteps holds the last three, the one of step n at n%3, and
	// videoSteps counts them.
	videoStep      int64
	lastVideoSteps [3]int64
	videoSteps     int
	lastVideoRaw   int64 // output DTS of the last video frame, no shift applied
	lastAudioPTS   int64
	haveAudioPTS   bool
	stats          SegmenterStats
	// videoLeft and audioLeft are the sequence start payloads of tracks left
	// out for their codec (nil otherwise).
	videoLeft, audioLeft []byte
	// scratch is the buffer segments are written into, reused from one
	// segment to the next (the finished segment is copied out at its exact
	// size); nil between publishers. sizeHint (above) is the capacity a new
	// scratch buffer starts with.
	scratch []byte
	// doneParts are the parts finished and not yet taken (takeParts); init
	// is the init section that came into force and was not yet taken, of
	// generation initGen (the generation of the writer's init section).
	doneParts []*Part
	init      []byte
	initGen   int
	// fragments numbers the fMP4 fragments written (mfhd), across writers;
	// lastFrameTime is the output time of the latest frame written.
	fragments     uint32
	lastFrameTime int64
	// videoFrame and audioFrame hold the frame handed to the writer (a
	// pointer passed through the interface would be allocated per frame).
	videoFrame videoSample
	audioFrame audioSample
}

// segmentState describes the segment being written.
type segmentState struct {
	start       int64
	wall        time.Time
	disc        bool
	independent bool
	videoFrames int
	audioFrames int
	// partStart is the output time the part in progress starts at, and
	// partStartMs the same in whole milliseconds from start; partVideo
	// counts the video frames written since; parts are the parts finished
	// (LL-HLS).
	partStart   int64
	partStartMs int64
	partVideo   int
	parts       []PartInfo
}

// NewSegmenter returns a segmenter; zero config fields take their defaults
// (SegmenterConfig.WithDefaults). The Manager passes settings Config.Validate
// accepted.
func NewSegmenter(cfg SegmenterConfig) *Segmenter {
	cfg = cfg.WithDefaults()
	return &Segmenter{
		now:               cfg.Now,
		variant:           cfg.Variant,
		parts:             cfg.Variant == VariantLowLatency,
		partDur:           durationTicks(cfg.PartDuration),
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
	defer s.forgetFrames()
	if !s.open {
		return nil, nil
	}
	return s.finish(s.tl.end, false, triggerDrain)
}

// releaseScratch drops the scratch buffer; the next segment allocates one
// of the last segment's size.
func (s *Segmenter) releaseScratch() { s.scratch = nil }

// forgetFrames lets go of the last frames handed to the writer.
func (s *Segmenter) forgetFrames() {
	s.videoFrame, s.audioFrame = videoSample{}, audioSample{}
}

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
		seg, err = s.finish(s.tl.end, false, triggerDrain)
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
	t, err := newVideoTrack(payload, s.variant != VariantMPEGTS)
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
	if _, track, ok := audioTrackZero(payload); ok && configuredByFrames(track.Codec, s.variant != VariantMPEGTS) {
		return nil // MPEG audio, AC-3 and E-AC-3 are configured by their frames
	}
	t, err := newAudioTrack(payload, s.variant != VariantMPEGTS)
	if err != nil {
		_, track, _ := audioTrackZero(payload)
		if !leaveOut(&s.stats.Audio, &s.audioLeft, payload, track.Codec, err) {
			s.stats.Invalid++
		}
		s.audio = nil
		return err
	}
	include(&s.stats.Audio, &s.audioLeft, t.codec)
	if s.audio != nil && s.open {
		s.cutAtRAP = true
	}
	s.audio = t
	return nil
}

// Codecs returns the RFC 6381 codecs parameters of the tracks segmented
// now, video first ("avc1.64001f", "mp4a.40.2"), for a playlist's CODECS
// attribute: avc1.*, hvc1.*, av01.*, vp09.*, mp4a.40.2 (AAC), opus, fLaC,
// ac-3, ec-3, and mp4a.6B or mp4a.69 for MP3 in fMP4 (mp4a.40.34 in
// MPEG-TS). A track whose codecs parameter is unknown is not listed.
func (s *Segmenter) Codecs() []string {
	var codecs []string
	if s.video != nil && s.video.codecString != "" {
		codecs = append(codecs, s.video.codecString)
	}
	if s.audio != nil {
		if c := s.audio.codecsParameter(s.variant != VariantMPEGTS); c != "" {
			codecs = append(codecs, c)
		}
	}
	return codecs
}
