package hls

import (
	"fmt"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/fmp4"
)

// What fMP4 needs of a track beyond what MPEG-TS does: the sample entry's
// codec and decoder configuration, the picture size, the audio sample rate
// (the track's timescale) and the samples per frame, from the sequence
// start or, for the codecs FLV sends none for, from the first frame.

// Audio frame limits and defaults for the codecs only fMP4 carries.
const (
	// maxAudioPayload bounds an Opus, FLAC, AC-3 or E-AC-3 frame.
	maxAudioPayload = 1 << 20
	// defaultAudioFrameTicks is the assumed duration of an audio frame
	// whose duration varies (Opus, FLAC) until frames say otherwise.
	defaultAudioFrameTicks = 20 * ticksPerMs
	// ac3FrameSamples is the samples per AC-3 syncframe; an E-AC-3
	// syncframe has 256 per audio block.
	ac3FrameSamples  = 1536
	eac3BlockSamples = 256
)

// describe fills in the codecs parameter and, for fMP4, the sample entry of
// a video track from its decoder configuration record. MPEG-TS needs
// neither: a record that does not describe the picture only leaves the
// codecs parameter unknown.
func (t *videoTrack) describe(record []byte, mp4 bool) error {
	info, err := flv.ParseVideoConfig(t.codec, record)
	if err != nil {
		if !mp4 {
			return nil
		}
		return fmt.Errorf("%v configuration: %w: %w", t.codec, ErrInvalidFrame, err)
	}
	t.codecString = info.CodecString
	codec, ok := fmp4.CodecForFourCC(uint32(t.codec))
	if !ok {
		return fmt.Errorf("video codec %v: %w", t.codec, ErrUnsupportedCodec)
	}
	t.mp4 = fmp4.Track{Codec: codec, Config: record, Width: info.Width, Height: info.Height}
	return nil
}

// learnSize takes the picture size from a VP9 keyframe when the
// configuration did not carry it (vpcC has no size).
func (t *videoTrack) learnSize(frame []byte) {
	if t.codec != flv.FourCCVP9 || t.mp4.Width > 0 {
		return
	}
	if w, h, ok := flv.ParseVP9FrameSize(frame); ok {
		t.mp4.Width, t.mp4.Height = w, h
	}
}

// newMP4AudioTrack builds an Opus or FLAC track from its sequence start
// (record, of the frame payload).
func newMP4AudioTrack(codec flv.FourCC, record, payload []byte) (*audioTrack, error) {
	info, err := flv.ParseAudioConfig(codec, record)
	if err != nil {
		return nil, fmt.Errorf("%v configuration: %w: %w", codec, ErrInvalidFrame, err)
	}
	if info.SampleRate <= 0 {
		return nil, fmt.Errorf("%v configuration without a sample rate: %w", codec, ErrInvalidFrame)
	}
	t := &audioTrack{
		codec:       codec,
		rate:        info.SampleRate,
		channels:    info.Channels,
		frameTicks:  defaultAudioFrameTicks,
		config:      payload,
		codecString: info.CodecString,
		mp4:         fmp4.Track{Codec: fmp4.CodecOpus, Config: record},
	}
	if codec == flv.FourCCOpus {
		t.codecString = "opus"
		return t, nil
	}
	t.mp4.Codec = fmp4.CodecFLAC
	if si, err := flv.ParseFLACStreamInfo(record); err == nil && si.MinBlockSize == si.MaxBlockSize {
		t.frameSamples = int(si.MaxBlockSize)
		t.frameTicks = int64(t.frameSamples) * clockRate / int64(t.rate)
	}
	return t, nil
}

// ac3Params is what a track needs of an AC-3 or E-AC-3 syncframe header.
type ac3Params struct {
	rate, channels, samples int
}

// parseAC3Header reads the sample rate, channels and samples per frame of
// an AC-3 or E-AC-3 syncframe (ETSI TS 102 366 4.4.1, E.1.2).
func parseAC3Header(codec flv.FourCC, b []byte) (ac3Params, error) {
	if len(b) < 7 || b[0] != 0x0b || b[1] != 0x77 {
		return ac3Params{}, fmt.Errorf("%v frame without sync word: %w", codec, ErrInvalidFrame)
	}
	rates := [3]int{48000, 44100, 32000}
	if codec == flv.FourCCAC3 {
		fscod, acmod := b[4]>>6, b[6]>>5
		if fscod == 3 {
			return ac3Params{}, fmt.Errorf("AC-3 fscod 3: %w", ErrInvalidFrame)
		}
		return ac3Params{rate: rates[fscod], channels: ac3Channels(acmod), samples: ac3FrameSamples}, nil
	}
	fscod, blocks := b[4]>>6, [4]int{1, 2, 3, 6}[b[4]>>4&3]
	rate := 0
	if fscod == 3 {
		fscod2 := b[4] >> 4 & 3
		if fscod2 == 3 {
			return ac3Params{}, fmt.Errorf("E-AC-3 fscod2 3: %w", ErrInvalidFrame)
		}
		rate, blocks = rates[fscod2]/2, 6
	} else {
		rate = rates[fscod]
	}
	return ac3Params{rate: rate, channels: ac3Channels(b[4] >> 1 & 7), samples: blocks * eac3BlockSamples}, nil
}

// ac3Channels is the channel count of an audio coding mode (acmod), the
// low-frequency effects channel aside.
func ac3Channels(acmod byte) int { return [8]int{2, 1, 2, 3, 3, 4, 4, 5}[acmod&7] }

// newAC3Track builds an AC-3 or E-AC-3 track from its first syncframe.
func newAC3Track(codec flv.FourCC, h ac3Params, frame []byte) *audioTrack {
	c, s := fmp4.CodecAC3, "ac-3"
	if codec == flv.FourCCEAC3 {
		c, s = fmp4.CodecEAC3, "ec-3"
	}
	return &audioTrack{
		codec:        codec,
		rate:         h.rate,
		channels:     h.channels,
		frameSamples: h.samples,
		frameTicks:   int64(h.samples) * clockRate / int64(h.rate),
		codecString:  s,
		mp4:          fmp4.Track{Codec: c, Config: frame},
	}
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

// samples returns the number of samples of a frame, 0 when it cannot be
// told (FLAC with a variable block size).
func (t *audioTrack) samples(raw []byte) int {
	switch t.codec {
	case flv.FourCCMP3:
		return t.frameSamples * countMPEGAudioFrames(raw, t.mpeg)
	case flv.FourCCOpus:
		return opusPacketSamples(raw)
	}
	return t.frameSamples
}

// durationTicks returns the duration of a frame on the 90 kHz clock.
func (t *audioTrack) durationTicks(raw []byte) int64 {
	switch t.codec {
	case flv.FourCCAAC, flv.FourCCMP3:
		return t.frameTicks * int64(t.frames(raw))
	}
	if n := t.samples(raw); n > 0 {
		return int64(n) * clockRate / int64(t.rate)
	}
	return t.frameTicks
}

// opusPacketSamples returns the samples (at 48 kHz) of an Opus packet from
// its TOC byte (RFC 6716 3.1), 0 for a malformed one.
func opusPacketSamples(p []byte) int {
	if len(p) == 0 {
		return 0
	}
	config := p[0] >> 3
	var frame int
	switch {
	case config < 12: // SILK: 10, 20, 40, 60 ms
		frame = [4]int{480, 960, 1920, 2880}[config&3]
	case config < 16: // hybrid: 10, 20 ms
		frame = [2]int{480, 960}[config&1]
	default: // CELT: 2.5, 5, 10, 20 ms
		frame = [4]int{120, 240, 480, 960}[config&3]
	}
	switch p[0] & 3 {
	case 0:
		return frame
	case 1, 2:
		return 2 * frame
	}
	if len(p) < 2 {
		return 0
	}
	return int(p[1]&0x3f) * frame
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
