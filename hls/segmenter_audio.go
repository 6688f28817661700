package hls

import (
	"fmt"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/stream"
)

// writeAudio handles a coded audio frame: it finds the frame's track, lets
// the cut policy end the segment or part, and hands the frame to the
// container writer.
func (s *Segmenter) writeAudio(f *stream.Frame) (*Segment, error) {
	raw, ok, err := s.audioFrameData(f)
	if !ok {
		return nil, err
	}
	pts, seg, err := s.frameTime(f.Time)
	if err != nil {
		return seg, err
	}
	ticks := s.audio.durationTicks(raw)
	continued := false
	if s.open {
		if seg, continued, err = s.cutForAudio(pts, s.audio.frameTicks); err != nil {
			return seg, err
		}
	}
	if s.open && !s.w.hasAudio() {
		s.trackChange = true // audio joins at the next keyframe
		return s.drop(seg, nil)
	}
	if !s.open && !continued && !s.audioMayStart(pts) {
		return s.drop(seg, nil)
	}
	if !s.open {
		// Audio starts a random access point unless the segment carries video
		// (a forced cut continuing a video stream).
		if err := s.begin(pts, s.video == nil); err != nil {
			return s.drop(seg, err)
		}
	}
	pts = s.increasingAudioPTS(pts)
	if err := s.partBefore(pts, triggerAudio); err != nil {
		return s.drop(seg, err)
	}
	s.audioFrame = audioSample{frame: f, track: s.audio, data: raw, pts: pts, ticks: ticks}
	if err := s.w.writeAudio(&s.audioFrame); err != nil {
		return s.drop(seg, err)
	}
	s.tl.extend(pts + ticks)
	s.cur.audioFrames++
	s.lastFrameTime = pts
	s.wrote()
	return seg, nil
}

// increasingAudioPTS keeps audio output times strictly increasing.
func (s *Segmenter) increasingAudioPTS(pts int64) int64 {
	if s.haveAudioPTS && pts <= s.lastAudioPTS {
		pts = s.lastAudioPTS + 1
	}
	s.lastAudioPTS, s.haveAudioPTS = pts, true
	return pts
}

// audioFrameData returns the raw frame of track 0 of a coded audio frame,
// configuring the track from it for the codecs FLV sends no sequence start
// for; ok is false when the frame is not segmented (and err says why when
// that is worth telling).
func (s *Segmenter) audioFrameData(f *stream.Frame) ([]byte, bool, error) {
	h, err := flv.ParseAudioTagHeader(f.Payload)
	if err != nil {
		s.stats.Invalid++
		_, err = s.drop(nil, fmt.Errorf("audio frame at %d ms: %w: %w", f.Time, ErrInvalidFrame, err))
		return nil, false, err
	}
	if h.PacketType != flv.PacketCodedFrames {
		return nil, false, nil
	}
	track, ok := defaultTrack(h.TrackList(f.Payload))
	mp4 := s.variant != VariantMPEGTS
	switch {
	case !ok:
		return nil, false, nil // another track of a multitrack stream
	case leftOutFrame(s.stats.Audio, track.Codec):
		_, err = s.drop(nil, nil)
		return nil, false, err
	case configuredByFrames(track.Codec, mp4):
		if err := s.configureFromFrame(track.Codec, track.Data, f.Time); err != nil {
			s.stats.Invalid++
			_, err = s.drop(nil, err)
			return nil, false, err
		}
	case !audioCarried(track.Codec, mp4):
		_, err = s.drop(nil, leaveOutUnconfigured(&s.stats.Audio, track.Codec, h.SoundFormat, f.Time))
		return nil, false, err
	case s.audio == nil || s.audio.codec != track.Codec:
		_, err = s.drop(nil, fmt.Errorf("audio frame at %d ms (%v): %w", f.Time, track.Codec, ErrNoConfig))
		return nil, false, err
	}
	raw := track.Data
	if len(raw) == 0 || len(raw) > s.audio.maxPayload() {
		s.stats.Invalid++
		_, err = s.drop(nil, fmt.Errorf("audio frame at %d ms of %d bytes: %w", f.Time, len(raw), ErrInvalidFrame))
		return nil, false, err
	}
	return raw, true, nil
}

// audioMayStart reports whether an audio frame at output time pts may
// start a segment: not while video is configured (the first segment starts
// at a keyframe), nor for up to audioWaitTicks while the metadata
// announced video that has not come.
func (s *Segmenter) audioMayStart(pts int64) bool {
	switch {
	case s.video != nil:
		return false
	case s.expectVideo && s.videoLeft == nil:
		if !s.audioWaiting {
			s.audioWaiting, s.audioWaitFrom = true, pts
		}
		return pts-s.audioWaitFrom >= audioWaitTicks
	}
	return true
}

// configureFromFrame sets the audio track up from a frame of a codec FLV
// sends no sequence start for (MPEG audio; AC-3 and E-AC-3 for fMP4); a
// change of its stream parameters is a configuration change.
func (s *Segmenter) configureFromFrame(codec flv.FourCC, payload []byte, ms uint32) error {
	var t *audioTrack
	if codec == flv.FourCCMP3 {
		h, err := parseMPEGAudioHeader(payload)
		if err != nil {
			return fmt.Errorf("audio frame at %d ms: %w", ms, err)
		}
		if a := s.audio; a != nil && a.codec == flv.FourCCMP3 &&
			a.mpeg.mpeg1 == h.mpeg1 && a.mpeg.sampleRate == h.sampleRate && a.mpeg.samples == h.samples {
			return nil // the track as it is (frames differ only in length): most frames
		}
		t = newMPEGAudioTrack(h)
	} else if a := s.audio; a != nil && a.codec == codec {
		return nil // AC-3 and E-AC-3 keep their parameters
	}
	if s.variant != VariantMPEGTS {
		mt, err := newMP4AudioTrack(codec, payload, nil, defaultAudioFrameTicks)
		if err != nil {
			return fmt.Errorf("audio frame at %d ms: %w", ms, err)
		}
		if t != nil {
			mt.streamType, mt.mpeg, mt.frameTicks, mt.codecString = t.streamType, t.mpeg, t.frameTicks, t.codecString
		}
		t = mt
	}
	s.setFrameConfiguredAudio(t)
	return nil
}

// setFrameConfiguredAudio makes t the audio track unless it describes the
// stream the track does already.
func (s *Segmenter) setFrameConfiguredAudio(t *audioTrack) {
	if s.audio != nil && s.audio.sameConfig(t) {
		return
	}
	include(&s.stats.Audio, &s.audioLeft, t.codec)
	if s.audio != nil && s.open {
		s.cutAtRAP = true
	}
	s.audio = t
}
