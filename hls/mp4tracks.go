package hls

import (
	"fmt"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/fmp4"
	"github.com/mediaserver/mediaserver/internal/flvmp4"
)

// What fMP4 needs of a track beyond what MPEG-TS does: the decoder
// configuration its sample entry is built from (flvmp4.Track: the sequence
// start, or for AC-3, E-AC-3 and MP3 the first frame), the audio sample
// rate (the track's timescale) and each audio frame's exact duration
// (fmp4.SampleDuration).

// Audio frame limits and defaults for the codecs only fMP4 carries.
const (
	// maxAudioPayload bounds an Opus, FLAC, AC-3 or E-AC-3 frame.
	maxAudioPayload = 1 << 20
	// defaultAudioFrameTicks is the assumed duration of an audio frame
	// whose frames do not say how long they are.
	defaultAudioFrameTicks = 20 * ticksPerMs
)

// describe keeps a video track's decoder configuration record and its
// codecs parameter. fMP4 needs the record to describe the picture; MPEG-TS
// does not: there a record it cannot read only leaves the codecs
// parameter unknown.
func (t *videoTrack) describe(record []byte, mp4 bool) error {
	t.record = record
	info, err := flv.ParseVideoConfig(t.codec, record)
	if err != nil {
		if !mp4 {
			return nil
		}
		return fmt.Errorf("%v configuration: %w: %w", t.codec, ErrInvalidFrame, err)
	}
	t.codecString = info.CodecString
	return nil
}

// noteKeyframe keeps the data of a VP9 track's first keyframe, which
// gives fMP4 the picture size.
func (t *videoTrack) noteKeyframe(data []byte) {
	if t.codec == flv.FourCCVP9 && t.keyframe == nil {
		t.keyframe = data
	}
}

// mp4Track returns the track's fMP4 track.
func (t *videoTrack) mp4Track() (fmp4.Track, error) {
	mt, err := flvmp4.Track(mp4VideoTrackID, t.codec, t.record, t.keyframe)
	if err != nil {
		return fmp4.Track{}, fmt.Errorf("fMP4 video track: %w: %w", ErrInvalidFrame, err)
	}
	return mt, nil
}

// newMP4AudioTrack builds an audio track for fMP4 from its decoder
// configuration (record: a sequence start's body, or the first frame of a
// codec that has none) of the frame payload; frameTicks is the duration of
// a typical frame.
func newMP4AudioTrack(codec flv.FourCC, record, payload []byte, frameTicks int64) (*audioTrack, error) {
	mt, err := flvmp4.Track(mp4AudioTrackID, codec, record, nil)
	if err != nil {
		return nil, fmt.Errorf("%v configuration: %w: %w", codec, ErrInvalidFrame, err)
	}
	t := &audioTrack{codec: codec, frameTicks: frameTicks, config: payload, mp4: mt}
	switch codec {
	case flv.FourCCOpus:
		t.codecString = "opus"
	case flv.FourCCFLAC:
		t.codecString = "fLaC"
	case flv.FourCCAC3:
		t.codecString, t.config = "ac-3", nil // configured by frames: no sequence start to compare
	case flv.FourCCEAC3:
		t.codecString, t.config = "ec-3", nil
	}
	if d, ok := fmp4.SampleDuration(mt, record); ok && codec != flv.FourCCFLAC && codec != flv.FourCCOpus {
		t.frameTicks = t.mp4Ticks(int64(d))
	}
	return t, nil
}

// mp4Ticks converts a duration in the fMP4 track's timescale to 90 kHz
// ticks.
func (t *audioTrack) mp4Ticks(d int64) int64 {
	return d * clockRate / int64(t.mp4.Timescale)
}

// configuredByFrames reports whether a track of codec is configured by its
// frames rather than a sequence start: MPEG audio, and for fMP4 AC-3 and
// E-AC-3.
func configuredByFrames(codec flv.FourCC, mp4 bool) bool {
	return codec == flv.FourCCMP3 || mp4 && (codec == flv.FourCCAC3 || codec == flv.FourCCEAC3)
}

// audioCarried reports whether the container carries audio of codec
// (configured by a sequence start).
func audioCarried(codec flv.FourCC, mp4 bool) bool {
	return codec == flv.FourCCAAC || mp4 && (codec == flv.FourCCOpus || codec == flv.FourCCFLAC)
}

// durationTicks returns the duration of a frame on the 90 kHz clock.
func (t *audioTrack) durationTicks(raw []byte) int64 {
	switch t.codec {
	case flv.FourCCAAC, flv.FourCCMP3:
		return t.frameTicks * int64(t.frames(raw))
	}
	if d, ok := fmp4.SampleDuration(t.mp4, raw); ok {
		return t.mp4Ticks(int64(d))
	}
	return t.frameTicks
}

// codecsParameter returns the track's RFC 6381 codecs parameter for a
// playlist: MP3 in fMP4 is named by its esds object type, mp4a.6B (MPEG-1)
// or mp4a.69 (MPEG-2, below 32 kHz).
func (t *audioTrack) codecsParameter(mp4 bool) string {
	if !mp4 || t.codec != flv.FourCCMP3 {
		return t.codecString
	}
	if t.mpeg.mpeg1 {
		return "mp4a.6B"
	}
	return "mp4a.69"
}
