package hls

import (
	"bytes"
	"fmt"

	"github.com/asticode/go-astits"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/fmp4"
)

// annexBStartCode precedes every NAL unit the segmenter writes.
var annexBStartCode = []byte{0, 0, 0, 1}

// Access unit delimiters (NAL unit without start code), primary_pic_type /
// pic_type "any slice type".
var (
	avcAUD  = []byte{0x09, 0xf0}
	hevcAUD = []byte{0x46, 0x01, 0x50}
)

// H.264 NAL unit types the segmenter looks at.
const (
	avcNALIDR = 5
	avcNALSPS = 7
	avcNALAUD = 9
)

// H.265 NAL unit types the segmenter looks at.
const (
	hevcNALIRAPFirst = 16 // BLA_W_LP
	hevcNALIRAPLast  = 23 // reserved IRAP
	hevcNALSPS       = 33
	hevcNALAUD       = 35
)

// videoTrack is the decoder configuration of a video track and what the
// segmenter needs to write its access units as an Annex-B elementary
// stream. It is immutable once built.
type videoTrack struct {
	codec      flv.FourCC
	streamType astits.StreamType
	// lengthSize is the NAL unit length prefix size of coded frames.
	lengthSize int
	// paramSets holds the parameter sets (SPS, PPS; for HEVC also VPS) in
	// Annex-B form, written before every IDR that lacks them in band.
	paramSets []byte
	// config is the sequence header payload it was built from, to detect a
	// change.
	config []byte
	// codecString is the RFC 6381 codecs parameter ("" when unknown).
	codecString string
	// record is the decoder configuration record (the sequence start's
	// body), and keyframe the data of the track's first keyframe, which
	// fMP4 needs for VP9 only (vpcC has no picture size).
	record, keyframe []byte
}

// newVideoTrack builds a video track from a video sequence header frame
// payload; mp4 accepts the codecs only fMP4 carries (AV1, VP9) and needs
// the configuration to describe the picture.
func newVideoTrack(payload []byte, mp4 bool) (*videoTrack, error) {
	t, record, err := newAnnexBTrack(payload, mp4)
	if err != nil {
		return nil, err
	}
	if err := t.describe(record, mp4); err != nil {
		return nil, err
	}
	return t, nil
}

// newAnnexBTrack builds a video track from a video sequence header frame
// payload: with what MPEG-TS needs for H.264 and H.265, bare for the codecs
// fMP4 alone carries. It returns the decoder configuration record too.
func newAnnexBTrack(payload []byte, mp4 bool) (*videoTrack, []byte, error) {
	h, err := flv.ParseVideoTagHeader(payload)
	if err != nil {
		return nil, nil, fmt.Errorf("video sequence header: %w: %w", ErrInvalidFrame, err)
	}
	track, ok := defaultTrack(h.TrackList(payload))
	if !ok {
		return nil, nil, fmt.Errorf("video sequence header without track 0: %w", ErrInvalidFrame)
	}
	body := track.Data
	switch track.Codec {
	case flv.FourCCAVC:
		c, err := flv.ParseAVCDecoderConfig(body)
		if err != nil {
			return nil, nil, fmt.Errorf("avcC: %w: %w", ErrInvalidFrame, err)
		}
		if len(c.SPS) == 0 || len(c.PPS) == 0 {
			return nil, nil, fmt.Errorf("avcC without SPS or PPS: %w", ErrInvalidFrame)
		}
		t := &videoTrack{
			codec:      flv.FourCCAVC,
			streamType: astits.StreamTypeH264Video,
			lengthSize: c.NALULengthSize,
			config:     payload,
		}
		for _, sets := range [][][]byte{c.SPS, c.PPS} {
			for _, ps := range sets {
				t.paramSets = append(t.paramSets, annexBStartCode...)
				t.paramSets = append(t.paramSets, ps...)
			}
		}
		return t, body, nil
	case flv.FourCCHEVC:
		t, err := newHEVCTrack(body, payload)
		return t, body, err
	case flv.FourCCAV1, flv.FourCCVP9:
		if mp4 {
			return &videoTrack{codec: track.Codec, config: payload}, body, nil
		}
	}
	return nil, nil, fmt.Errorf("video codec %v (legacy id %d): %w: %s", track.Codec, h.LegacyCodecID,
		ErrUnsupportedCodec, leftOutReason(track.Codec, h.LegacyCodecID, "video"))
}

// nalType returns the NAL unit type of a non-empty NAL unit.
func (t *videoTrack) nalType(nalu []byte) uint8 {
	if t.codec == flv.FourCCHEVC {
		return nalu[0] >> 1 & 0x3f
	}
	return nalu[0] & 0x1f
}

// isRandomAccess reports whether a NAL unit type starts a random access
// point (IDR; for HEVC any IRAP picture).
func (t *videoTrack) isRandomAccess(typ uint8) bool {
	if t.codec == flv.FourCCHEVC {
		return typ >= hevcNALIRAPFirst && typ <= hevcNALIRAPLast
	}
	return typ == avcNALIDR
}

// isSPS reports whether a NAL unit type is a sequence parameter set.
func (t *videoTrack) isSPS(typ uint8) bool {
	if t.codec == flv.FourCCHEVC {
		return typ == hevcNALSPS
	}
	return typ == avcNALSPS
}

// isAUD reports whether a NAL unit type is an access unit delimiter.
func (t *videoTrack) isAUD(typ uint8) bool {
	if t.codec == flv.FourCCHEVC {
		return typ == hevcNALAUD
	}
	return typ == avcNALAUD
}

// aud returns the access unit delimiter NAL unit of the codec.
func (t *videoTrack) aud() []byte {
	if t.codec == flv.FourCCHEVC {
		return hevcAUD
	}
	return avcAUD
}

// nextNALU returns the NAL unit at pos of a length-prefixed buffer and the
// position after it. Empty units are returned as empty slices.
func nextNALU(src []byte, pos, lengthSize int) (nalu []byte, next int, err error) {
	if len(src)-pos < lengthSize {
		return nil, 0, fmt.Errorf("NAL unit length at %d: %w", pos, ErrInvalidFrame)
	}
	n := 0
	for _, c := range src[pos : pos+lengthSize] {
		n = n<<8 | int(c)
	}
	pos += lengthSize
	if n < 0 || n > len(src)-pos {
		return nil, 0, fmt.Errorf("NAL unit of %d bytes at %d with %d left: %w", n, pos, len(src)-pos, ErrInvalidFrame)
	}
	return src[pos : pos+n], pos + n, nil
}

// appendAccessUnit appends one access unit in Annex-B form to dst: an access
// unit delimiter first, the parameter sets before a random access picture
// that does not carry them in band (or before any access unit without them
// when params is set: one that starts a segment without a keyframe), then
// the frame's NAL units (delimiters already present are dropped). data is
// the length-prefixed codec data of a coded frame. It reports whether the
// access unit is a random access point. On error dst is returned unchanged.
func (t *videoTrack) appendAccessUnit(dst, data []byte, keyframe, params bool) ([]byte, bool, error) {
	hasRAP, hasSPS, err := t.scanAccessUnit(data)
	if err != nil {
		return dst, false, err
	}
	rap := keyframe || hasRAP
	dst = append(dst, annexBStartCode...)
	dst = append(dst, t.aud()...)
	if (rap || params) && !hasSPS {
		dst = append(dst, t.paramSets...)
	}
	for pos := 0; pos < len(data); {
		nalu, next, _ := nextNALU(data, pos, t.lengthSize)
		pos = next
		if len(nalu) == 0 || t.isAUD(t.nalType(nalu)) {
			continue
		}
		dst = append(dst, annexBStartCode...)
		dst = append(dst, nalu...)
	}
	return dst, rap, nil
}

// scanAccessUnit checks the NAL units of a length-prefixed access unit and
// reports whether one is a random access picture and one an SPS.
func (t *videoTrack) scanAccessUnit(data []byte) (hasRAP, hasSPS bool, err error) {
	units := 0
	for pos := 0; pos < len(data); {
		nalu, next, err := nextNALU(data, pos, t.lengthSize)
		if err != nil {
			return false, false, err
		}
		pos = next
		if len(nalu) == 0 {
			continue
		}
		typ := t.nalType(nalu)
		switch {
		case t.isAUD(typ):
			continue
		case t.isRandomAccess(typ):
			hasRAP = true
		case t.isSPS(typ):
			hasSPS = true
		}
		units++
	}
	if units == 0 {
		return false, false, fmt.Errorf("access unit without NAL units: %w", ErrInvalidFrame)
	}
	return hasRAP, hasSPS, nil
}

// randomAccess checks a coded frame's data and reports whether it is a
// random access point: the keyframe flag, or for H.264 and H.265 an IDR or
// IRAP picture in it.
func (t *videoTrack) randomAccess(data []byte, keyframe bool) (bool, error) {
	if t.codec != flv.FourCCAVC && t.codec != flv.FourCCHEVC {
		if len(data) == 0 {
			return false, fmt.Errorf("empty %v frame: %w", t.codec, ErrInvalidFrame)
		}
		return keyframe, nil
	}
	hasRAP, _, err := t.scanAccessUnit(data)
	return keyframe || hasRAP, err
}

// aacFrameSamples is the number of samples an AAC frame carries (at the core
// sample rate).
const aacFrameSamples = 1024

// audioTrack is the decoder configuration of an audio track: from its
// sequence header (AAC; Opus and FLAC for fMP4) or from its first frame
// (MPEG audio, mp3.go; AC-3 and E-AC-3 for fMP4, mp4tracks.go).
type audioTrack struct {
	codec      flv.FourCC
	streamType astits.StreamType
	aac        flv.AACConfig
	mpeg       mpegAudioHeader
	// frameTicks is the duration of one frame on the 90 kHz clock (for the
	// codecs whose frames vary, Opus and FLAC, a typical one).
	frameTicks int64
	// config is the sequence header payload it was built from.
	config []byte
	// codecString is the RFC 6381 codecs parameter ("" when unknown).
	codecString string
	// mp4 is the resolved fMP4 track (the MP4 variants only): its sample
	// entry, timescale (the sample rate) and channels.
	mp4 fmp4.Track
}

// newAudioTrack builds an audio track from an audio sequence header frame
// payload; mp4 accepts the codecs only fMP4 carries (Opus, FLAC) and AAC
// that ADTS cannot describe.
func newAudioTrack(payload []byte, mp4 bool) (*audioTrack, error) {
	h, err := flv.ParseAudioTagHeader(payload)
	if err != nil {
		return nil, fmt.Errorf("audio sequence header: %w: %w", ErrInvalidFrame, err)
	}
	track, ok := defaultTrack(h.TrackList(payload))
	if !ok {
		return nil, fmt.Errorf("audio sequence header without track 0: %w", ErrInvalidFrame)
	}
	switch {
	case track.Codec == flv.FourCCAAC:
	case mp4 && (track.Codec == flv.FourCCOpus || track.Codec == flv.FourCCFLAC):
		return newMP4AudioTrack(track.Codec, track.Data, payload, defaultAudioFrameTicks)
	default:
		return nil, fmt.Errorf("audio codec %v (sound format %d): %w: %s", track.Codec, h.SoundFormat,
			ErrUnsupportedCodec, leftOutReason(track.Codec, h.SoundFormat, "audio"))
	}
	c, err := flv.ParseAACConfig(track.Data)
	if err != nil {
		return nil, fmt.Errorf("AudioSpecificConfig: %w: %w", ErrInvalidFrame, err)
	}
	if err := c.ADTSSupported(); err != nil && !mp4 {
		return nil, fmt.Errorf("AAC: %w: %w", ErrUnsupportedCodec, err)
	}
	frameTicks := int64(aacFrameSamples) * clockRate / int64(c.SampleRate)
	if mp4 {
		t, err := newMP4AudioTrack(flv.FourCCAAC, track.Data, payload, frameTicks)
		if err != nil {
			return nil, err
		}
		t.streamType, t.aac, t.codecString = astits.StreamTypeAACAudio, c, c.CodecString()
		return t, nil
	}
	return &audioTrack{
		codec:       flv.FourCCAAC,
		streamType:  astits.StreamTypeAACAudio,
		aac:         c,
		frameTicks:  frameTicks,
		config:      payload,
		codecString: c.CodecString(),
	}, nil
}

// maxPayload is the largest frame payload of one FLV tag the track takes.
func (t *audioTrack) maxPayload() int {
	switch t.codec {
	case flv.FourCCAAC:
		return flv.MaxADTSPayload
	case flv.FourCCMP3:
		return maxMPEGAudioPayload
	}
	return maxAudioPayload
}

// headerSize is the size of the header appendFrame adds to a payload.
func (t *audioTrack) headerSize() int {
	if t.codec == flv.FourCCAAC {
		return flv.ADTSHeaderSize
	}
	return 0
}

// frames counts the frames of a payload.
func (t *audioTrack) frames(payload []byte) int {
	if t.codec == flv.FourCCAAC {
		return 1
	}
	return countMPEGAudioFrames(payload, t.mpeg)
}

// sameConfig reports whether o describes the same stream as t.
func (t *audioTrack) sameConfig(o *audioTrack) bool {
	return t.codec == o.codec && t.streamType == o.streamType && t.frameTicks == o.frameTicks &&
		t.mpeg.sampleRate == o.mpeg.sampleRate && t.mp4.Timescale == o.mp4.Timescale &&
		t.mp4.Channels == o.mp4.Channels && bytes.Equal(t.config, o.config)
}

// appendFrame appends the payload of one FLV tag as the elementary stream
// carries it: a raw AAC frame behind its ADTS header, MPEG audio as it is.
func (t *audioTrack) appendFrame(dst, raw []byte) ([]byte, error) {
	if len(raw) == 0 || len(raw) > t.maxPayload() {
		return dst, fmt.Errorf("%v frame of %d bytes: %w", t.codec, len(raw), ErrInvalidFrame)
	}
	if t.codec == flv.FourCCAAC {
		dst = t.aac.AppendADTSHeader(dst, len(raw))
	}
	return append(dst, raw...), nil
}
