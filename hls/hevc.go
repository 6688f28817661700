package hls

import (
	"fmt"

	"github.com/asticode/go-astits"

	"github.com/mediaserver/mediaserver/flv"
)

// HEVC in MPEG-TS (ISO/IEC 13818-1, stream type 0x24) is an Annex-B
// elementary stream: every access unit starts with an access unit delimiter
// (NAL type 35), and every IRAP picture is preceded by the VPS, SPS and PPS
// unless it carries them in band. Enhanced RTMP delivers the parameter sets
// once, in the hvcC of the sequence start; they are repeated here.

// newHEVCTrack builds a video track from an hvcC record (legacy codec id 12
// and Enhanced RTMP hvc1 alike). payload is the sequence header frame it
// came from, kept to detect a change.
func newHEVCTrack(record, payload []byte) (*videoTrack, error) {
	c, err := flv.ParseHEVCDecoderConfig(record)
	if err != nil {
		return nil, fmt.Errorf("hvcC: %w: %w", ErrInvalidFrame, err)
	}
	sets := c.ParameterSets()
	if len(c.NALUs(flv.HEVCNALSPS)) == 0 || len(c.NALUs(flv.HEVCNALPPS)) == 0 {
		return nil, fmt.Errorf("hvcC without SPS or PPS: %w", ErrInvalidFrame)
	}
	t := &videoTrack{
		codec:      flv.FourCCHEVC,
		streamType: astits.StreamTypeH265Video,
		lengthSize: c.NALULengthSize,
		config:     payload,
	}
	for _, ps := range sets {
		t.paramSets = append(t.paramSets, annexBStartCode...)
		t.paramSets = append(t.paramSets, ps...)
	}
	return t, nil
}

// TrackStatus tells whether a stream's video or audio track goes into the
// HLS rendition.
type TrackStatus struct {
	// Codec is the codec of the track's latest decoder configuration (0
	// when none arrived).
	Codec flv.FourCC
	// Included is set when the track is segmented.
	Included bool
	// Reason says why a track with a configuration is left out.
	Reason string
}

// leftOutReason explains why MPEG-TS HLS does not carry codec.
func leftOutReason(codec flv.FourCC, legacyID uint8, kind string) string {
	switch codec {
	case flv.FourCCAV1, flv.FourCCVP9, flv.FourCCVP8, flv.FourCCOpus, flv.FourCCFLAC:
		return codec.String() + " cannot be carried in MPEG-TS HLS; it needs fMP4 HLS (hls.variant lowlatency or fmp4)"
	case 0:
		return fmt.Sprintf("legacy %s codec %d is not carried in MPEG-TS HLS", kind, legacyID)
	}
	return codec.String() + " is not carried by this server's MPEG-TS segmenter"
}

// defaultTrack returns track 0 of a tag's track list (TrackList of its
// header): the whole body of a single-track tag, or the track with id 0 of
// a multitrack one. ok is false when the tag does not carry track 0: it
// belongs to another track, which the TS rendition leaves out.
func defaultTrack(tracks []flv.Track) (flv.Track, bool) {
	for _, t := range tracks {
		if t.ID == 0 {
			return t, true
		}
	}
	return flv.Track{}, false
}
