package fmp4

import "fmt"

// The frame headers of the audio codecs without a sequence start (AC-3,
// E-AC-3, MP3) and the decoder configurations the package reads for the
// sample entry fields (AAC AudioSpecificConfig, OpusHead, FLAC STREAMINFO).

// audioParams are the sample entry fields a header gives.
type audioParams struct {
	sampleRate, channels int
}

// ac3Header is the part of an AC-3 syncframe header (ATSC A/52 5.3) that the
// AC3SpecificBox repeats, or of an E-AC-3 one (A/52 E.1.2) for the
// EC3SpecificBox.
type ac3Header struct {
	fscod, bsid, bsmod, acmod, lfeon uint8
	// frmsizecod is AC-3's frame size code (bit rate code × 2 + 1 bit).
	frmsizecod uint8
	// dataRate is E-AC-3's bit rate in kbit/s.
	dataRate uint16
	params   audioParams
}

// ac3SyncWord starts every AC-3 and E-AC-3 syncframe.
const ac3SyncWord = 0x0b77

// Stream identifiers: AC-3 up to 8 (10 tolerated by decoders), E-AC-3 11–16.
const (
	ac3MaxBSID  = 10
	eac3MinBSID = 11
	eac3MaxBSID = 16
)

// ac3Rate returns the sample rate of fscod 0–2.
func ac3Rate(fscod uint32) int { return [3]int{48000, 44100, 32000}[fscod] }

// ac3HalfRate returns the sample rate of E-AC-3's fscod2 0–2, used when
// fscod is 3.
func ac3HalfRate(fscod2 uint32) int { return [3]int{24000, 22050, 16000}[fscod2] }

// ac3Channels returns the channel count of an audio coding mode (acmod
// 0–7) and the low-frequency effects flag.
func ac3Channels(acmod, lfeon uint8) int { return [8]int{2, 1, 2, 3, 3, 4, 4, 5}[acmod&7] + int(lfeon) }

// ac3FrameSizeCodes is the number of valid AC-3 frmsizecod values.
const ac3FrameSizeCodes = 38

// parseAC3Header reads the header of an AC-3 syncframe.
func parseAC3Header(frame []byte) (ac3Header, error) {
	r := bitReader{b: frame}
	if r.u(16) != ac3SyncWord {
		return ac3Header{}, fmt.Errorf("AC-3 frame without sync word: %w", ErrInvalidHeader)
	}
	r.u(16) // crc1
	h := ac3Header{fscod: uint8(r.u(2)), frmsizecod: uint8(r.u(6)), bsid: uint8(r.u(5)), bsmod: uint8(r.u(3)), acmod: uint8(r.u(3))}
	if h.acmod&1 != 0 && h.acmod != 1 {
		r.u(2) // cmixlev
	}
	if h.acmod&4 != 0 {
		r.u(2) // surmixlev
	}
	if h.acmod == 2 {
		r.u(2) // dsurmod
	}
	h.lfeon = uint8(r.u(1))
	switch {
	case r.short:
		return ac3Header{}, fmt.Errorf("AC-3 header of %d bytes: %w", len(frame), ErrTruncated)
	case h.fscod > 2 || h.frmsizecod >= ac3FrameSizeCodes:
		return ac3Header{}, fmt.Errorf("AC-3 fscod %d, frmsizecod %d: %w", h.fscod, h.frmsizecod, ErrInvalidHeader)
	case h.bsid > ac3MaxBSID:
		return ac3Header{}, fmt.Errorf("AC-3 bsid %d: %w", h.bsid, ErrInvalidHeader)
	}
	h.params = audioParams{sampleRate: ac3Rate(uint32(h.fscod)), channels: ac3Channels(h.acmod, h.lfeon)}
	return h, nil
}

// dac3 returns the AC3SpecificBox (ETSI TS 102 366 F.4).
func (h ac3Header) dac3() box {
	w := bitWriter{}
	w.put(uint32(h.fscod), 2)
	w.put(uint32(h.bsid), 5)
	w.put(uint32(h.bsmod), 3)
	w.put(uint32(h.acmod), 3)
	w.put(uint32(h.lfeon), 1)
	w.put(uint32(h.frmsizecod>>1), 5) // bit_rate_code
	w.put(0, 5)                       // reserved
	return box{typ: "dac3", payload: w.b}
}

// E-AC-3 stream types (strmtyp): an independent substream starts a frame.
const eac3Dependent = 1

// eac3Blocks returns the number of audio blocks per syncframe of a
// numblkscod (0–3).
func eac3Blocks(numblkscod int) int { return [4]int{1, 2, 3, 6}[numblkscod] }

// parseEAC3Header reads the header of the first (independent) E-AC-3
// syncframe. Dependent substreams that may follow it are not described.
func parseEAC3Header(frame []byte) (ac3Header, error) {
	r := bitReader{b: frame}
	if r.u(16) != ac3SyncWord {
		return ac3Header{}, fmt.Errorf("E-AC-3 frame without sync word: %w", ErrInvalidHeader)
	}
	strmtyp := r.u(2)
	r.u(3) // substreamid
	frmsiz := int(r.u(11))
	h := ac3Header{fscod: uint8(r.u(2))}
	numblkscod, rate := 3, 0
	if h.fscod == 3 {
		fscod2 := r.u(2)
		if fscod2 == 3 {
			return ac3Header{}, fmt.Errorf("E-AC-3 fscod2 3: %w", ErrInvalidHeader)
		}
		rate = ac3HalfRate(fscod2)
	} else {
		numblkscod = int(r.u(2))
		rate = ac3Rate(uint32(h.fscod))
	}
	h.acmod, h.lfeon, h.bsid = uint8(r.u(3)), uint8(r.u(1)), uint8(r.u(5))
	switch {
	case r.short:
		return ac3Header{}, fmt.Errorf("E-AC-3 header of %d bytes: %w", len(frame), ErrTruncated)
	case strmtyp == eac3Dependent || strmtyp > 2:
		return ac3Header{}, fmt.Errorf("E-AC-3 stream type %d first: %w", strmtyp, ErrInvalidHeader)
	case h.bsid < eac3MinBSID || h.bsid > eac3MaxBSID:
		return ac3Header{}, fmt.Errorf("E-AC-3 bsid %d: %w", h.bsid, ErrInvalidHeader)
	}
	frameBits := (frmsiz + 1) * 2 * 8
	h.dataRate = uint16(frameBits * rate / (256 * eac3Blocks(numblkscod)) / 1000)
	h.params = audioParams{sampleRate: rate, channels: ac3Channels(h.acmod, h.lfeon)}
	return h, nil
}

// dec3 returns the EC3SpecificBox (ETSI TS 102 366 F.6) of one independent
// substream without dependent substreams.
func (h ac3Header) dec3() box {
	w := bitWriter{}
	w.put(uint32(h.dataRate), 13)
	w.put(0, 3) // num_ind_sub: one independent substream
	w.put(uint32(h.fscod), 2)
	w.put(uint32(h.bsid), 5)
	w.put(0, 1) // reserved
	w.put(0, 1) // asvc
	w.put(uint32(h.bsmod), 3)
	w.put(uint32(h.acmod), 3)
	w.put(uint32(h.lfeon), 1)
	w.put(0, 3) // reserved
	w.put(0, 4) // num_dep_sub
	w.put(0, 1) // reserved
	return box{typ: "dec3", payload: w.b}
}

// MPEG audio versions of the frame header's ID bits.
const (
	mpegVersion25 = 0
	mpegVersion2  = 2
	mpegVersion1  = 3
	mpegLayer3    = 1 // layer bits 01
	mpegMono      = 3 // channel mode 11
)

// mpeg1Rate returns the MPEG-1 sample rate of a rate index (0–2); MPEG-2
// halves it and MPEG-2.5 quarters it.
func mpeg1Rate(index uint8) int { return [3]int{44100, 48000, 32000}[index] }

// parseMPEGAudioHeader reads the 4-byte header of an MPEG audio frame
// (ISO/IEC 11172-3 2.4.1.3, 13818-3) and reports whether it is MPEG-1.
func parseMPEGAudioHeader(frame []byte) (p audioParams, mpeg1 bool, err error) {
	if len(frame) < 4 {
		return audioParams{}, false, fmt.Errorf("MPEG audio header of %d bytes: %w", len(frame), ErrTruncated)
	}
	version, layer := frame[1]>>3&3, frame[1]>>1&3
	bitrate, rate := frame[2]>>4, frame[2]>>2&3
	switch {
	case frame[0] != 0xff || frame[1]&0xe0 != 0xe0:
		return audioParams{}, false, fmt.Errorf("MPEG audio frame without sync: %w", ErrInvalidHeader)
	case version == 1 || layer != mpegLayer3 || bitrate == 15 || rate == 3:
		return audioParams{}, false, fmt.Errorf("MPEG audio version %d, layer %d, bit rate %d, rate %d: %w",
			version, layer, bitrate, rate, ErrInvalidHeader)
	}
	p.sampleRate = mpeg1Rate(rate)
	switch version {
	case mpegVersion2:
		p.sampleRate /= 2
	case mpegVersion25:
		p.sampleRate /= 4
	}
	p.channels = 2
	if frame[3]>>6 == mpegMono {
		p.channels = 1
	}
	return p, version == mpegVersion1, nil
}

// aacRate returns the sample rate of an AudioSpecificConfig's
// samplingFrequencyIndex, 0 for the reserved indexes.
func aacRate(index uint32) int {
	rates := [13]int{96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350}
	if int(index) >= len(rates) {
		return 0
	}
	return rates[index]
}

// AudioSpecificConfig fields (ISO/IEC 14496-3 1.6.2.1).
const (
	aacObjectTypeEscape = 31
	aacExplicitRate     = 15
	aacChannelsFromPCE  = 0
	aacMinConfigSize    = 2
)

// parseAACParams reads the core sample rate and channel count of an
// AudioSpecificConfig. A channel configuration in a program config element
// gives no channel count: the caller must supply it.
func parseAACParams(asc []byte) (audioParams, error) {
	r := bitReader{b: asc}
	if r.u(5) == aacObjectTypeEscape {
		r.u(6)
	}
	var p audioParams
	if idx := r.u(4); idx == aacExplicitRate {
		p.sampleRate = int(r.u(24))
	} else {
		p.sampleRate = aacRate(idx)
	}
	if ch := r.u(4); ch != aacChannelsFromPCE && ch < 8 {
		p.channels = int(ch)
		if ch == 7 {
			p.channels = 8
		}
	}
	if len(asc) < aacMinConfigSize || r.short {
		return audioParams{}, fmt.Errorf("AudioSpecificConfig of %d bytes: %w", len(asc), ErrTruncated)
	}
	return p, nil
}

// OpusHead layout (RFC 7845 5.1).
const (
	opusHeadMagic      = "OpusHead"
	opusHeadSize       = 19 // without the channel mapping table
	opusMaxVersion     = 15 // versions sharing the layout of version 1
	opusSampleRate     = 48000
	opusFamilyRTP      = 0 // mono or stereo, no mapping table
	opusMaxRTPChannels = 2
)

// opusDOps converts an Opus identification header (little-endian) into the
// OpusSpecificBox (big-endian, Encapsulation of Opus in ISO BMFF 4.3.2).
func opusDOps(head []byte) (box, audioParams, error) {
	if len(head) < opusHeadSize {
		return box{}, audioParams{}, fmt.Errorf("OpusHead of %d bytes: %w", len(head), ErrTruncated)
	}
	if string(head[:8]) != opusHeadMagic {
		return box{}, audioParams{}, fmt.Errorf("OpusHead magic %q: %w", head[:8], ErrInvalidHeader)
	}
	version, channels, family := head[8], head[9], head[18]
	if version > opusMaxVersion || channels == 0 || family == opusFamilyRTP && channels > opusMaxRTPChannels {
		return box{}, audioParams{}, fmt.Errorf("OpusHead version %d, %d channels, mapping family %d: %w",
			version, channels, family, ErrInvalidHeader)
	}
	p := []byte{0, channels, head[11], head[10], head[15], head[14], head[13], head[12], head[17], head[16], family}
	if family != opusFamilyRTP {
		end := opusHeadSize + 2 + int(channels)
		if len(head) < end {
			return box{}, audioParams{}, fmt.Errorf("OpusHead mapping table for %d channels: %w", channels, ErrTruncated)
		}
		streams, coupled := head[opusHeadSize], head[opusHeadSize+1]
		if streams == 0 || coupled > streams {
			return box{}, audioParams{}, fmt.Errorf("OpusHead %d streams, %d coupled: %w", streams, coupled, ErrInvalidHeader)
		}
		p = append(p, head[opusHeadSize:end]...)
	}
	return box{typ: "dOps", payload: p}, audioParams{sampleRate: opusSampleRate, channels: int(channels)}, nil
}

// FLAC metadata (RFC 9639 8).
const (
	flacMarker          = "fLaC"
	flacBlockHeaderSize = 4
	flacStreamInfoSize  = 34
	flacLastStreamInfo  = 0x80 // last-metadata-block flag, block type 0
)

// flacDfLa wraps a STREAMINFO block, bare, behind its block header or behind
// "fLaC", into the FLACSpecificBox (Encapsulation of FLAC in ISO BMFF 3.3.2)
// and returns the bits per sample beside the rate and channels.
func flacDfLa(config []byte) (box, audioParams, int, error) {
	body := config
	if len(body) >= len(flacMarker) && string(body[:len(flacMarker)]) == flacMarker {
		body = body[len(flacMarker):]
		if len(body) < flacBlockHeaderSize || body[0]&0x7f != 0 {
			return box{}, audioParams{}, 0, fmt.Errorf("FLAC stream without STREAMINFO first: %w", ErrInvalidHeader)
		}
	}
	if len(body) >= flacBlockHeaderSize+flacStreamInfoSize && body[0]&0x7f == 0 &&
		body[1] == 0 && body[2] == 0 && body[3] == flacStreamInfoSize {
		body = body[flacBlockHeaderSize:]
	}
	if len(body) < flacStreamInfoSize {
		return box{}, audioParams{}, 0, fmt.Errorf("FLAC STREAMINFO of %d bytes: %w", len(body), ErrTruncated)
	}
	body = body[:flacStreamInfoSize]
	r := bitReader{b: body[10:]}
	p := audioParams{sampleRate: int(r.u(20)), channels: int(r.u(3)) + 1}
	bits := int(r.u(5)) + 1
	if p.sampleRate == 0 || bits < 4 {
		return box{}, audioParams{}, 0, fmt.Errorf("FLAC rate %d, %d bits per sample: %w", p.sampleRate, bits, ErrInvalidHeader)
	}
	payload := append([]byte{flacLastStreamInfo, 0, 0, flacStreamInfoSize}, body...)
	return box{typ: "dfLa", full: true, payload: payload}, p, bits, nil
}
