package hls

import (
	"fmt"

	"github.com/asticode/go-astits"

	"github.com/mediaserver/mediaserver/flv"
)

// MPEG audio (MP3, and layers I and II) travels in MPEG-TS as it comes:
// frames with their own headers in a PES, stream type 0x03 for MPEG-1 audio
// and 0x04 for the lower sample rates of MPEG-2 and MPEG-2.5. FLV carries
// it without a sequence header, so the first frame configures the track.

// MPEG audio frame header fields.
const (
	mpegAudioHeaderSize = 4
	// maxMPEGAudioPayload bounds the MPEG audio carried by one FLV tag.
	maxMPEGAudioPayload = 8 << 10
	mpegVersion1        = 3 // version bits: 0 MPEG-2.5, 2 MPEG-2, 3 MPEG-1
	mpegVersion25       = 0
	mpegLayer1          = 3 // layer bits: 1 layer III, 2 layer II, 3 layer I
	mpegLayer3          = 1
)

// mpegAudioSampleRates are the sample rates of MPEG-1 by index; MPEG-2
// halves them and MPEG-2.5 quarters them.
var mpegAudioSampleRates = [3]int{44100, 48000, 32000}

// mpegAudioBitrates are the bit rates in kbit/s by bitrate index:
// MPEG-1 layers I, II, III, then MPEG-2/2.5 layer I and layers II and III.
var mpegAudioBitrates = [5][15]int{
	{0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448},
	{0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384},
	{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320},
	{0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256},
	{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},
}

// mpegAudioHeader is what the segmenter needs of an MPEG audio frame
// header.
type mpegAudioHeader struct {
	mpeg1      bool
	sampleRate int
	samples    int // per frame
	length     int // of the frame in bytes, header included; 0 for free format
}

// parseMPEGAudioHeader parses the 4-byte header at the start of b.
func parseMPEGAudioHeader(b []byte) (mpegAudioHeader, error) {
	var h mpegAudioHeader
	if len(b) < mpegAudioHeaderSize || b[0] != 0xff || b[1]&0xe0 != 0xe0 {
		return h, fmt.Errorf("MPEG audio frame without sync word: %w", ErrInvalidFrame)
	}
	version, layer := b[1]>>3&3, b[1]>>1&3
	bitrateIdx, rateIdx, padding := int(b[2]>>4), int(b[2]>>2&3), int(b[2]>>1&1)
	if version == 1 || layer == 0 || bitrateIdx == 15 || rateIdx == 3 {
		return h, fmt.Errorf("MPEG audio header %x with reserved values: %w", b[:4], ErrInvalidFrame)
	}
	h.mpeg1 = version == mpegVersion1
	h.sampleRate = mpegAudioSampleRates[rateIdx]
	switch version {
	case mpegVersion25:
		h.sampleRate /= 4
	case mpegVersion1:
	default:
		h.sampleRate /= 2
	}
	table := 3 - int(layer) // MPEG-1: layer I → 0, II → 1, III → 2
	switch {
	case !h.mpeg1 && layer == mpegLayer1:
		table = 3
	case !h.mpeg1:
		table = 4
	}
	bitrate := mpegAudioBitrates[table][bitrateIdx] * 1000
	switch {
	case layer == mpegLayer1:
		h.samples = 384
		h.length = (12*bitrate/h.sampleRate + padding) * 4
	case layer == mpegLayer3 && !h.mpeg1:
		h.samples = 576
		h.length = 72*bitrate/h.sampleRate + padding
	default:
		h.samples = 1152
		h.length = 144*bitrate/h.sampleRate + padding
	}
	return h, nil
}

// countMPEGAudioFrames counts the frames of a payload whose first header
// is h: an FLV tag usually carries one. A payload it cannot walk counts as
// one frame.
func countMPEGAudioFrames(payload []byte, h mpegAudioHeader) int {
	n := 0
	for pos := 0; pos < len(payload); n++ {
		next, err := parseMPEGAudioHeader(payload[pos:])
		if err != nil || next.length <= 0 || next.sampleRate != h.sampleRate {
			return max(n, 1)
		}
		pos += next.length
	}
	return n
}

// newMPEGAudioTrack builds the audio track of an MPEG audio frame payload
// whose first header is h.
func newMPEGAudioTrack(h mpegAudioHeader) *audioTrack {
	t := &audioTrack{
		codec:       flv.FourCCMP3,
		streamType:  astits.StreamTypeMPEG2Audio,
		frameTicks:  int64(h.samples) * clockRate / int64(h.sampleRate),
		mpeg:        h,
		codecString: "mp4a.40.34",
	}
	if h.mpeg1 {
		t.streamType = astits.StreamTypeMPEG1Audio
	}
	return t
}
