package hls

import (
	"fmt"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/stream"
)

// writeAudio handles a coded audio frame.
func (s *Segmenter) writeAudio(f *stream.Frame) (*Segment, error) {
	h, err := flv.ParseAudioTagHeader(f.Payload)
	if err != nil {
		s.stats.Invalid++
		return s.drop(nil, fmt.Errorf("audio frame at %d ms: %w: %w", f.Time, ErrInvalidFrame, err))
	}
	if h.PacketType != flv.PacketCodedFrames {
		return nil, nil
	}
	track, ok := defaultTrack(h.TrackList(f.Payload))
	switch {
	case !ok:
		return nil, nil // another track of a multitrack stream
	case leftOutFrame(s.stats.Audio, track.Codec):
		return s.drop(nil, nil)
	case track.Codec == flv.FourCCMP3:
		if err := s.configureMPEGAudio(track.Data, f.Time); err != nil {
			s.stats.Invalid++
			return s.drop(nil, err)
		}
	case track.Codec != flv.FourCCAAC:
		return s.drop(nil, leaveOutUnconfigured(&s.stats.Audio, track.Codec, h.SoundFormat, f.Time))
	case s.audio == nil || s.audio.codec != flv.FourCCAAC:
		return s.drop(nil, fmt.Errorf("audio frame at %d ms (%v): %w", f.Time, track.Codec, ErrNoConfig))
	}
	raw := track.Data
	if len(raw) == 0 || len(raw) > s.audio.maxPayload() {
		s.stats.Invalid++
		return s.drop(nil, fmt.Errorf("audio frame at %d ms of %d bytes: %w", f.Time, len(raw), ErrInvalidFrame))
	}
	pts, jumped := s.tl.dts(f.Time)
	var seg *Segment
	if jumped {
		if seg, err = s.Discontinuity(); err != nil {
			return seg, err
		}
		s.tl.rebase = false
	}
	continued := false
	if s.open {
		elapsed := pts - s.cur.start
		switch {
		case s.forceCut || elapsed+s.audio.frameTicks > s.capTicks():
			seg, err = s.finish(pts, true)
			continued = s.w.sameTracks(s.video, s.audio)
		case s.w.hasVideo:
			// Segments with video are cut at keyframes only.
		case s.cutAtRAP || s.trackChange || elapsed >= s.target:
			if s.cutAtRAP || s.trackChange {
				s.pendingDisc = true
			}
			seg, err = s.finish(pts, false)
		}
		if err != nil {
			return seg, err
		}
	}
	if s.open && !s.w.hasAudio {
		s.trackChange = true // audio joins at the next keyframe
		return s.drop(seg, nil)
	}
	if !s.open && !continued {
		switch {
		case s.video != nil:
			return s.drop(seg, nil) // the first segment starts at a keyframe
		case s.expectVideo && s.videoLeft == nil:
			if !s.audioWaiting {
				s.audioWaiting, s.audioWaitFrom = true, pts
			}
			if pts-s.audioWaitFrom < audioWaitTicks {
				return s.drop(seg, nil)
			}
		}
	}
	if !s.open {
		// Audio starts a random access point unless the segment carries video
		// (a forced cut continuing a video stream).
		if err := s.begin(pts, s.video == nil); err != nil {
			return s.drop(seg, err)
		}
	}
	if s.haveAudioPTS && pts <= s.lastAudioPTS {
		pts = s.lastAudioPTS + 1
	}
	s.lastAudioPTS, s.haveAudioPTS = pts, true
	if s.audioPESFrames > 0 && (s.audioPESFrames >= maxAudioPESFrames ||
		len(s.audioPES)+s.audio.headerSize()+len(raw) > maxAudioPESBytes ||
		pts-s.audioNext > audioGapTicks || s.audioNext-pts > audioGapTicks) {
		if err := s.flushAudio(); err != nil {
			return s.drop(seg, err)
		}
	}
	if s.audioPESFrames == 0 {
		s.audioPESPTS = pts
	}
	s.audioPES, _ = s.audio.appendFrame(s.audioPES, raw)
	s.audioPESFrames++
	s.audioNext = pts + s.audio.frameTicks*int64(s.audio.frames(raw))
	s.tl.extend(s.audioNext)
	s.cur.audioFrames++
	s.wrote()
	return seg, nil
}

// configureMPEGAudio sets the audio track up from an MPEG audio (MP3)
// frame, as FLV sends no sequence header for it; a change of its stream
// parameters is a configuration change.
func (s *Segmenter) configureMPEGAudio(payload []byte, ms uint32) error {
	h, err := parseMPEGAudioHeader(payload)
	if err != nil {
		return fmt.Errorf("audio frame at %d ms: %w", ms, err)
	}
	if a := s.audio; a != nil && a.codec == flv.FourCCMP3 &&
		a.mpeg.mpeg1 == h.mpeg1 && a.mpeg.sampleRate == h.sampleRate && a.mpeg.samples == h.samples {
		return nil // the track as it is (frames differ only in length): most frames
	}
	t := newMPEGAudioTrack(h)
	if s.audio != nil && s.audio.sameConfig(t) {
		return nil
	}
	include(&s.stats.Audio, &s.audioLeft, flv.FourCCMP3)
	if s.audio != nil && s.open {
		s.cutAtRAP = true
	}
	s.audio = t
	return nil
}

// flushAudio writes the packed audio frames as one PES.
func (s *Segmenter) flushAudio() error {
	if s.audioPESFrames == 0 {
		return nil
	}
	err := s.w.writeAudio(s.audioPESPTS, s.audioPES)
	s.audioPES = s.audioPES[:0]
	s.audioPESFrames = 0
	return err
}
