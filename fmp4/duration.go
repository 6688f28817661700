package fmp4

import "encoding/binary"

// Resolve checks t as NewInit does and returns it with the defaults NewInit
// fills in: the timescale (DefaultVideoTimescale for video, the sample rate
// for audio) and an audio track's sample rate and channels read from its
// configuration.
func (t Track) Resolve() (Track, error) {
	if _, err := newSampleEntry(&t); err != nil {
		return Track{}, err
	}
	return t, nil
}

// Audio frame lengths in samples.
const (
	aacFrameSamples  = 1024
	ac3FrameSamples  = 1536
	eac3BlockSamples = 256
	mp3Mpeg1Samples  = 1152
	mp3Mpeg2Samples  = 576
)

// SampleDuration returns the duration, in t's timescale, of an audio sample
// whose codec fixes it: AAC (1024 samples of t's sample rate), Opus (its TOC
// byte), MP3, AC-3 and E-AC-3 (the frame header) and FLAC (the block size
// size of the frame header). It
// reports false for video, for a malformed sample and where the sample does
// not say. t must be resolved (see Resolve).
func SampleDuration(t Track, sample []byte) (uint32, bool) {
	samples, rate := 0, t.SampleRate
	switch t.Codec {
	case CodecAAC:
		samples = aacFrameSamples
	case CodecOpus:
		samples, rate = opusSamples(sample), opusSampleRate
	case CodecAC3:
		samples = ac3FrameSamples
	case CodecEAC3:
		h, err := parseEAC3Header(sample)
		if err != nil {
			return 0, false
		}
		samples, rate = eac3Samples(sample), h.params.sampleRate
	case CodecMP3:
		p, mpeg1, err := parseMPEGAudioHeader(sample)
		if err != nil {
			return 0, false
		}
		samples, rate = mp3Mpeg2Samples, p.sampleRate
		if mpeg1 {
			samples = mp3Mpeg1Samples
		}
	case CodecFLAC:
		samples = flacBlockSize(sample)
	}
	if samples <= 0 || rate <= 0 || t.Timescale == 0 {
		return 0, false
	}
	return uint32(uint64(samples) * uint64(t.Timescale) / uint64(rate)), true
}

// opusSamples returns the samples at 48 kHz of an Opus packet from its TOC
// byte (RFC 6716 3.1), 0 when malformed.
func opusSamples(p []byte) int {
	if len(p) == 0 {
		return 0
	}
	toc := p[0]
	config := int(toc >> 3)
	var frame int // in 2.5 ms units
	switch {
	case config < 12: // SILK: 10, 20, 40, 60 ms
		frame = [4]int{4, 8, 16, 24}[config&3]
	case config < 16: // hybrid: 10, 20 ms
		frame = [2]int{4, 8}[config&1]
	default: // CELT: 2.5, 5, 10, 20 ms
		frame = [4]int{1, 2, 4, 8}[config&3]
	}
	frames := 1
	switch toc & 3 {
	case 1, 2:
		frames = 2
	case 3:
		if len(p) < 2 {
			return 0
		}
		frames = int(p[1] & 0x3f)
	}
	return frames * frame * 120 // 2.5 ms = 120 samples at 48 kHz
}

// eac3Samples returns the samples of the first E-AC-3 syncframe of a sample
// (its numblkscod; 6 blocks when fscod is 3).
func eac3Samples(frame []byte) int {
	if len(frame) < 5 {
		return 0
	}
	if frame[4]>>6 == 3 {
		return 6 * eac3BlockSamples
	}
	return eac3Blocks(int(frame[4]>>4&3)) * eac3BlockSamples
}

// flacBlockSize returns the block size of a FLAC frame from its header
// (RFC 9639 9.1.1), 0 when the frame has no sync code or is cut short.
func flacBlockSize(frame []byte) int {
	if len(frame) < 3 || frame[0] != 0xff || frame[1]&0xfe != 0xf8 {
		return 0
	}
	switch code := int(frame[2] >> 4); {
	case code == 1:
		return 192
	case code >= 2 && code <= 5:
		return 576 << (code - 2)
	case code >= 8:
		return 256 << (code - 8)
	case code == 6 || code == 7:
		// The size follows the coded frame or sample number, which takes
		// as many bytes as its first byte has leading one bits (one when
		// it has none).
		if len(frame) < 5 {
			return 0
		}
		ones := 0
		for c := frame[4]; c&0x80 != 0; c <<= 1 {
			ones++
		}
		at := 4 + max(1, ones)
		if code == 6 && at < len(frame) {
			return int(frame[at]) + 1
		}
		if code == 7 && at+1 < len(frame) {
			return int(binary.BigEndian.Uint16(frame[at:])) + 1
		}
	}
	return 0
}
