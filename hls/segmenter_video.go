package hls

import (
	"fmt"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/stream"
)

// writeVideo handles a coded video frame: it finds the frame's track and
// random access, lets the cut policy end the segment or part, and hands the
// frame to the container writer.
func (s *Segmenter) writeVideo(f *stream.Frame) (*Segment, error) {
	track, ok, err := s.videoFrameTrack(f)
	if !ok {
		return nil, err
	}
	rap, err := s.video.randomAccess(track.Data, f.Keyframe)
	if err != nil {
		s.stats.Invalid++
		return s.drop(nil, fmt.Errorf("video frame at %d ms: %w", f.Time, err))
	}
	dts, seg, err := s.frameTime(f.Time)
	if err != nil {
		return seg, err
	}
	continued := false
	if s.open {
		if seg, continued, err = s.cutForVideo(dts, rap); err != nil {
			return seg, err
		}
	}
	if s.open && !s.w.hasVideo() {
		return s.drop(seg, nil) // audio-only segment: video joins at a keyframe
	}
	if !s.open {
		if !rap && !continued {
			// A segment starts at a keyframe, unless a forced cut continues the
			// same program without one.
			return s.drop(seg, nil)
		}
		s.video.noteKeyframe(track.Data)
		if err := s.begin(dts, rap); err != nil {
			return s.drop(seg, err)
		}
	}
	if err := s.partBefore(dts, triggerVideo); err != nil {
		return s.drop(seg, err)
	}
	sample := &s.videoFrame // reused: a pointer handed through the interface escapes
	*sample = videoSample{
		frame: f, track: s.video, data: track.Data, keyframe: f.Keyframe, rap: rap,
		// A segment cut without a keyframe still carries the parameter sets,
		// so a decoder knows the stream; it is not independent (begin).
		params: s.cur.videoFrames == 0 && !rap,
		cts:    int64(track.CompositionTime) * ticksPerMs,
	}
	sample.tsPTS, sample.tsDTS = s.videoTimestamps(dts, track.CompositionTime)
	sample.dts = s.rawVideoDTS(dts)
	if err := s.w.writeVideo(sample); err != nil {
		return s.drop(seg, err)
	}
	// The frame lasts until its presentation ends: a B-frame stream's last
	// frames are presented after later-decoded ones, and output time after a
	// restart must continue past every frame shown, not just decoded.
	s.tl.extend(max(dts, sample.tsPTS) + s.videoStep)
	s.cur.videoFrames++
	s.cur.partVideo++
	s.lastFrameTime = dts
	s.wrote()
	if err := s.partAfterVideo(dts); err != nil {
		return seg, err
	}
	return seg, nil
}

// videoFrameTrack returns track 0 of a coded video frame; ok is false when
// the frame is not segmented (and err says why when that is worth telling).
func (s *Segmenter) videoFrameTrack(f *stream.Frame) (flv.Track, bool, error) {
	h, err := flv.ParseVideoTagHeader(f.Payload)
	if err != nil {
		s.stats.Invalid++
		_, err = s.drop(nil, fmt.Errorf("video frame at %d ms: %w: %w", f.Time, ErrInvalidFrame, err))
		return flv.Track{}, false, err
	}
	if h.IsCommand() || (h.PacketType != flv.PacketCodedFrames && h.PacketType != flv.PacketCodedFramesX) {
		return flv.Track{}, false, nil // sequence end, command or metadata: nothing to segment
	}
	track, ok := defaultTrack(h.TrackList(f.Payload))
	switch {
	case !ok:
		return track, false, nil // another track of a multitrack stream
	case leftOutFrame(s.stats.Video, track.Codec):
		_, err = s.drop(nil, nil)
		return track, false, err
	case s.video == nil || track.Codec != s.video.codec:
		_, err = s.drop(nil, fmt.Errorf("video frame at %d ms (%v): %w", f.Time, track.Codec, ErrNoConfig))
		return track, false, err
	}
	return track, true, nil
}

// videoTimestamps returns the PTS and DTS MPEG-TS writes for a video frame
// with output time dts and composition time ctsMs. The PTS is the frame's
// presentation time; a negative composition time (B-frames of encoders
// that shift their composition times) lowers the DTS of this and every
// later frame by as much, so that DTS stays at or below PTS without two
// frames sharing a presentation time. DTS is kept strictly increasing.
func (s *Segmenter) videoTimestamps(dts int64, ctsMs int32) (pts, outDTS int64) {
	cts := int64(ctsMs) * ticksPerMs
	s.dtsShift = max(s.dtsShift, -cts)
	pts, outDTS = dts+cts, dts-s.dtsShift
	if s.haveVideoDTS {
		if step := outDTS - s.lastVideoDTS; step > 0 && step <= maxFrameTicks {
			s.videoStep = step
			s.lastVideoSteps[s.videoSteps%len(s.lastVideoSteps)] = step
			s.videoSteps++
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

// rawVideoDTS returns the DTS fMP4 writes for a video frame with output
// time dts: dts itself (fMP4 carries negative composition offsets), kept
// strictly increasing.
func (s *Segmenter) rawVideoDTS(dts int64) int64 {
	if s.lastVideoRaw != 0 && dts <= s.lastVideoRaw {
		dts = s.lastVideoRaw + 1
	}
	s.lastVideoRaw = dts
	return dts
}
