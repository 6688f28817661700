package fmp4

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Codec names the sample entry of a track.
type Codec uint8

// Codecs with a sample entry: every codec the Enhanced RTMP ingest accepts.
//
// MP3 is written as the MP4 registration authority lists it, an mp4a
// sample entry whose esds names MPEG-1 audio (0x6B) or, below 32 kHz,
// MPEG-2 audio (0x69): that is what ffmpeg's mp4 muxer writes and what MP4
// readers know (ffmpeg, GPAC/mp4box, and browsers' MP4 parsers, as codecs
// "mp4a.6B" and "mp4a.69"). The ".mp3" sample entry is a QuickTime
// spelling that ffmpeg reads but no browser does.
const (
	CodecAVC  Codec = iota + 1 // H.264, avc1 with avcC
	CodecHEVC                  // H.265, hvc1 with hvcC
	CodecAV1                   // AV1, av01 with av1C
	CodecVP9                   // VP9, vp09 with vpcC
	CodecAAC                   // AAC, mp4a with esds
	CodecOpus                  // Opus, Opus with dOps
	CodecFLAC                  // FLAC, fLaC with dfLa
	CodecAC3                   // AC-3, ac-3 with dac3
	CodecEAC3                  // E-AC-3, ec-3 with dec3
	CodecMP3                   // MP3, mp4a with esds, objectTypeIndication 0x6B or 0x69
)

// String returns the four characters of the codec's sample entry ("avc1",
// "mp4a" for AAC and MP3), or "codec(N)".
func (c Codec) String() string {
	switch c {
	case CodecAVC:
		return "avc1"
	case CodecHEVC:
		return "hvc1"
	case CodecAV1:
		return "av01"
	case CodecVP9:
		return "vp09"
	case CodecAAC, CodecMP3:
		return "mp4a"
	case CodecOpus:
		return "Opus"
	case CodecFLAC:
		return "fLaC"
	case CodecAC3:
		return "ac-3"
	case CodecEAC3:
		return "ec-3"
	}
	return fmt.Sprintf("codec(%d)", uint8(c))
}

// CodecForFourCC returns the codec of an Enhanced RTMP FourCC, stored
// big-endian as the flv package's FourCC holds it ("avc1" is 0x61766331;
// MP3 is ".mp3"), and whether there is one.
func CodecForFourCC(fourCC uint32) (Codec, bool) {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], fourCC)
	switch string(b[:]) {
	case "avc1":
		return CodecAVC, true
	case "hvc1":
		return CodecHEVC, true
	case "av01":
		return CodecAV1, true
	case "vp09":
		return CodecVP9, true
	case "mp4a":
		return CodecAAC, true
	case "Opus":
		return CodecOpus, true
	case "fLaC":
		return CodecFLAC, true
	case "ac-3":
		return CodecAC3, true
	case "ec-3":
		return CodecEAC3, true
	case ".mp3":
		return CodecMP3, true
	}
	return 0, false
}

// IsVideo reports whether the codec is a video codec.
func (c Codec) IsVideo() bool {
	return c >= CodecAVC && c <= CodecVP9
}

// DefaultVideoTimescale is the media timescale of a video track that does
// not set one: 90 kHz, as in MPEG-TS, so RTMP's millisecond timestamps and
// 29.97 fps frame durations are both exact.
const DefaultVideoTimescale = 90000

// Track describes one track of an init section.
type Track struct {
	// ID is the track_ID, unique in the init section and not 0; fragments
	// refer to the track by it.
	ID uint32
	// Codec selects the sample entry.
	Codec Codec
	// Timescale is the media timescale in units per second. 0 means
	// DefaultVideoTimescale for video and the sample rate for audio.
	Timescale uint32
	// Width and Height are the video size in pixels (required for video).
	Width, Height int
	// SampleRate (Hz) and Channels describe audio. When 0 they are taken
	// from Config where it carries them (Opus: 48000 and the head's
	// channel count; FLAC: STREAMINFO; AC-3 and E-AC-3: the syncframe;
	// MP3: the frame header); AAC needs them from the caller.
	SampleRate, Channels int
	// Config is the decoder configuration as the Enhanced RTMP sequence
	// start carries it:
	//   - AVC: the AVCDecoderConfigurationRecord (avcC body);
	//   - HEVC: the HEVCDecoderConfigurationRecord (hvcC body);
	//   - AV1: the AV1CodecConfigurationRecord (av1C body);
	//   - VP9: the VPCodecConfigurationRecord, bare or behind its vpcC
	//     version and flags;
	//   - AAC: the AudioSpecificConfig;
	//   - Opus: the Opus identification header (OpusHead, RFC 7845);
	//   - FLAC: the STREAMINFO block, bare, behind its block header or
	//     behind "fLaC";
	//   - AC-3 and E-AC-3, which have no sequence start: the first syncframe
	//     of the stream (its header gives dac3 and dec3);
	//   - MP3: optional, the first frame (its header gives the sample rate
	//     and channels when the caller leaves them 0).
	Config []byte
}

// Init is an init section (a CMAF header): ftyp and moov, ready to be
// marshalled any number of times. It holds its own copy of the decoder
// configurations and is immutable.
type Init struct {
	ftyp box
	moov box
}

// majorBrand is the ftyp major brand: ISO BMFF with the features of
// edition 6 (tfdt, default-base-is-moof, signed composition offsets).
const majorBrand = "iso6"

// NewInit checks the tracks and builds their init section. Tracks appear in
// the given order; an error wraps ErrInvalidTrack, ErrUnsupportedCodec,
// ErrInvalidHeader or ErrTruncated and names the track.
func NewInit(tracks []Track) (*Init, error) {
	if len(tracks) == 0 {
		return nil, fmt.Errorf("init section without tracks: %w", ErrInvalidTrack)
	}
	in := &Init{ftyp: ftypBox()}
	var traks, trexs []box
	var nextID uint32
	for i, t := range tracks {
		if t.ID == 0 {
			return nil, fmt.Errorf("track %d: track ID 0: %w", i, ErrInvalidTrack)
		}
		for _, u := range tracks[:i] {
			if u.ID == t.ID {
				return nil, fmt.Errorf("track %d: track ID %d used twice: %w", i, t.ID, ErrInvalidTrack)
			}
		}
		entry, err := newSampleEntry(&t)
		if err != nil {
			return nil, fmt.Errorf("track %d (ID %d, %s): %w", i, t.ID, t.Codec, err)
		}
		traks = append(traks, trakBox(t, entry))
		trexs = append(trexs, trexBox(t.ID))
		nextID = max(nextID, t.ID)
	}
	if nextID < math.MaxUint32 {
		nextID++ // else all ones: a writer adding a track searches for a free ID
	}
	in.moov = box{typ: "moov", children: append([]box{mvhdBox(nextID)}, traks...)}
	in.moov.children = append(in.moov.children, box{typ: "mvex", children: trexs})
	return in, nil
}

// Size returns the encoded size of the init section.
func (in *Init) Size() int { return in.ftyp.Size() + in.moov.Size() }

// MarshalTo writes the init section into b, which must hold Size bytes, and
// returns the number of bytes written.
func (in *Init) MarshalTo(b []byte) int {
	n := in.ftyp.MarshalTo(b)
	return n + in.moov.MarshalTo(b[n:])
}

// Append appends the encoded init section to dst.
func (in *Init) Append(dst []byte) []byte {
	n := len(dst)
	dst = grow(dst, in.Size())
	in.MarshalTo(dst[n:])
	return dst
}

// grow extends b by n bytes, reallocating only when its capacity is short.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), 2*cap(b)+n)
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}

// ftypBox returns the file type box of a CMAF header: compatible with
// iso6, the CMAF structural brand cmfc, and mp41 for older readers.
func ftypBox() box {
	p := []byte(majorBrand)
	p = binary.BigEndian.AppendUint32(p, 0) // minor_version
	for _, brand := range []string{"iso6", "cmfc", "mp41"} {
		p = append(p, brand...)
	}
	return box{typ: "ftyp", payload: p}
}

// movieTimescale is the mvhd timescale; the movie has no duration (the
// samples are in fragments), so it only has to be valid.
const movieTimescale = 1000

// appendUnityMatrix appends the identity transformation matrix of mvhd
// and tkhd.
func appendUnityMatrix(p []byte) []byte {
	for _, v := range [9]uint32{0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000} {
		p = binary.BigEndian.AppendUint32(p, v)
	}
	return p
}

// mvhdBox returns the movie header (version 0, no duration).
func mvhdBox(nextTrackID uint32) box {
	p := make([]byte, 0, 96)
	p = binary.BigEndian.AppendUint32(p, 0) // creation_time
	p = binary.BigEndian.AppendUint32(p, 0) // modification_time
	p = binary.BigEndian.AppendUint32(p, movieTimescale)
	p = binary.BigEndian.AppendUint32(p, 0)          // duration
	p = binary.BigEndian.AppendUint32(p, 0x00010000) // rate 1.0
	p = binary.BigEndian.AppendUint16(p, 0x0100)     // volume 1.0
	p = append(p, make([]byte, 10)...)               // reserved
	p = appendUnityMatrix(p)
	p = append(p, make([]byte, 24)...) // pre_defined
	p = binary.BigEndian.AppendUint32(p, nextTrackID)
	return box{typ: "mvhd", full: true, payload: p}
}

// Track header flags: track_enabled, track_in_movie.
const tkhdEnabledInMovie = 0x3

// tkhdBox returns the track header (version 0, no duration).
func tkhdBox(t Track) box {
	p := make([]byte, 0, 80)
	p = binary.BigEndian.AppendUint32(p, 0) // creation_time
	p = binary.BigEndian.AppendUint32(p, 0) // modification_time
	p = binary.BigEndian.AppendUint32(p, t.ID)
	p = binary.BigEndian.AppendUint32(p, 0) // reserved
	p = binary.BigEndian.AppendUint32(p, 0) // duration
	p = append(p, make([]byte, 8)...)       // reserved
	p = binary.BigEndian.AppendUint16(p, 0) // layer
	p = binary.BigEndian.AppendUint16(p, 0) // alternate_group
	volume := uint16(0)
	if !t.Codec.IsVideo() {
		volume = 0x0100
	}
	p = binary.BigEndian.AppendUint16(p, volume)
	p = binary.BigEndian.AppendUint16(p, 0) // reserved
	p = appendUnityMatrix(p)
	p = binary.BigEndian.AppendUint32(p, uint32(t.Width)<<16) // 16.16
	p = binary.BigEndian.AppendUint32(p, uint32(t.Height)<<16)
	return box{typ: "tkhd", full: true, flags: tkhdEnabledInMovie, payload: p}
}

// languageUndetermined is "und" packed as ISO 639-2/T in three 5-bit letters.
const languageUndetermined = ('u'-0x60)<<10 | ('n'-0x60)<<5 | ('d' - 0x60)

// mdhdBox returns the media header (version 0, no duration).
func mdhdBox(timescale uint32) box {
	p := make([]byte, 0, 20)
	p = binary.BigEndian.AppendUint32(p, 0) // creation_time
	p = binary.BigEndian.AppendUint32(p, 0) // modification_time
	p = binary.BigEndian.AppendUint32(p, timescale)
	p = binary.BigEndian.AppendUint32(p, 0) // duration
	p = binary.BigEndian.AppendUint16(p, languageUndetermined)
	p = binary.BigEndian.AppendUint16(p, 0) // pre_defined
	return box{typ: "mdhd", full: true, payload: p}
}

// hdlrBox returns the handler box of a video or audio track.
func hdlrBox(video bool) box {
	handler, name := "soun", "SoundHandler"
	if video {
		handler, name = "vide", "VideoHandler"
	}
	p := binary.BigEndian.AppendUint32(nil, 0) // pre_defined
	p = append(p, handler...)
	p = append(p, make([]byte, 12)...) // reserved
	p = append(p, name...)
	p = append(p, 0)
	return box{typ: "hdlr", full: true, payload: p}
}

// mediaHeaderBox returns vmhd (flags 1, copy mode) or smhd (balance 0).
func mediaHeaderBox(video bool) box {
	if video {
		return box{typ: "vmhd", full: true, flags: 1, payload: make([]byte, 8)}
	}
	return box{typ: "smhd", full: true, payload: make([]byte, 4)}
}

// dinfBox returns the data information box: one data reference, the file
// itself (url with flags 1).
func dinfBox() box {
	url := box{typ: "url ", full: true, flags: 1}
	dref := box{typ: "dref", full: true, payload: binary.BigEndian.AppendUint32(nil, 1), children: []box{url}}
	return box{typ: "dinf", children: []box{dref}}
}

// stblBox returns the sample table: the sample description and empty
// tables, the samples being in fragments.
func stblBox(entry box) box {
	count := func(typ string, zeros int) box {
		return box{typ: typ, full: true, payload: make([]byte, zeros)}
	}
	stsd := box{typ: "stsd", full: true, payload: binary.BigEndian.AppendUint32(nil, 1), children: []box{entry}}
	return box{typ: "stbl", children: []box{
		stsd,
		count("stts", 4), // entry_count
		count("stsc", 4), // entry_count
		count("stsz", 8), // sample_size, sample_count
		count("stco", 4), // entry_count
	}}
}

// trakBox returns the track box of t, whose Timescale NewInit has set.
func trakBox(t Track, entry box) box {
	video := t.Codec.IsVideo()
	minf := box{typ: "minf", children: []box{mediaHeaderBox(video), dinfBox(), stblBox(entry)}}
	mdia := box{typ: "mdia", children: []box{mdhdBox(t.Timescale), hdlrBox(video), minf}}
	return box{typ: "trak", children: []box{tkhdBox(t), mdia}}
}

// trexBox returns the track extends box: sample description 1 and no
// defaults, every fragment giving its own.
func trexBox(trackID uint32) box {
	p := binary.BigEndian.AppendUint32(nil, trackID)
	p = binary.BigEndian.AppendUint32(p, 1) // default_sample_description_index
	p = append(p, make([]byte, 12)...)      // default duration, size, flags
	return box{typ: "trex", full: true, payload: p}
}
