package flv

import "strconv"

// TagType is the type of an FLV tag (and of the RTMP message carrying it).
type TagType uint8

// Tag types defined by the FLV specification.
const (
	TagAudio  TagType = 8
	TagVideo  TagType = 9
	TagScript TagType = 18
)

// String returns "audio", "video", "script" or the number.
func (t TagType) String() string {
	switch t {
	case TagAudio:
		return "audio"
	case TagVideo:
		return "video"
	case TagScript:
		return "script"
	}
	return "tagtype(" + strconv.Itoa(int(t)) + ")"
}

// FourCC is a four-character code stored big-endian, as Enhanced RTMP puts it
// on the wire ("avc1" is 0x61766331). Zero means "no FourCC".
type FourCC uint32

// FourCC codes of the codecs Enhanced RTMP v2 defines.
const (
	FourCCAVC  FourCC = 'a'<<24 | 'v'<<16 | 'c'<<8 | '1'
	FourCCHEVC FourCC = 'h'<<24 | 'v'<<16 | 'c'<<8 | '1'
	FourCCAV1  FourCC = 'a'<<24 | 'v'<<16 | '0'<<8 | '1'
	FourCCVP9  FourCC = 'v'<<24 | 'p'<<16 | '0'<<8 | '9'
	FourCCVP8  FourCC = 'v'<<24 | 'p'<<16 | '0'<<8 | '8'
	FourCCAAC  FourCC = 'm'<<24 | 'p'<<16 | '4'<<8 | 'a'
	FourCCOpus FourCC = 'O'<<24 | 'p'<<16 | 'u'<<8 | 's'
	FourCCFLAC FourCC = 'f'<<24 | 'L'<<16 | 'a'<<8 | 'C'
	FourCCAC3  FourCC = 'a'<<24 | 'c'<<16 | '-'<<8 | '3'
	FourCCEAC3 FourCC = 'e'<<24 | 'c'<<16 | '-'<<8 | '3'
	FourCCMP3  FourCC = '.'<<24 | 'm'<<16 | 'p'<<8 | '3'
)

// MakeFourCC returns the FourCC of a four-byte string, or 0 when s is not
// exactly four bytes long.
func MakeFourCC(s string) FourCC {
	if len(s) != 4 {
		return 0
	}
	return FourCC(s[0])<<24 | FourCC(s[1])<<16 | FourCC(s[2])<<8 | FourCC(s[3])
}

// String returns the four characters when they are all printable ASCII, ""
// for zero, and a 0x-prefixed hex number otherwise.
func (f FourCC) String() string {
	if f == 0 {
		return ""
	}
	b := [4]byte{byte(f >> 24), byte(f >> 16), byte(f >> 8), byte(f)}
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return "0x" + strconv.FormatUint(uint64(f), 16)
		}
	}
	return string(b[:])
}

// Legacy video codec ids (VideoTagHeader CodecID).
const (
	VideoCodecH263     uint8 = 2
	VideoCodecScreen   uint8 = 3
	VideoCodecVP6      uint8 = 4
	VideoCodecVP6Alpha uint8 = 5
	VideoCodecScreen2  uint8 = 6
	VideoCodecAVC      uint8 = 7
	// VideoCodecHEVC is the non-standard legacy HEVC id used by many Chinese
	// CDNs and ffmpeg forks; it is laid out exactly like AVC.
	VideoCodecHEVC uint8 = 12
)

// Legacy sound formats (AudioTagHeader SoundFormat).
const (
	SoundFormatPCM          uint8 = 0
	SoundFormatADPCM        uint8 = 1
	SoundFormatMP3          uint8 = 2
	SoundFormatPCMLE        uint8 = 3
	SoundFormatNellymoser16 uint8 = 4
	SoundFormatNellymoser8  uint8 = 5
	SoundFormatNellymoser   uint8 = 6
	SoundFormatG711ALaw     uint8 = 7
	SoundFormatG711MuLaw    uint8 = 8
	// SoundFormatExHeader switches the audio tag into Enhanced RTMP FourCC mode.
	SoundFormatExHeader uint8 = 9
	SoundFormatAAC      uint8 = 10
	SoundFormatSpeex    uint8 = 11
	SoundFormatMP38k    uint8 = 14
	SoundFormatNative   uint8 = 15
)

// Video frame types (VideoTagHeader FrameType).
const (
	FrameKey          uint8 = 1 // seekable frame
	FrameInter        uint8 = 2 // non-seekable frame
	FrameDisposable   uint8 = 3 // disposable inter frame (H.263 only)
	FrameGeneratedKey uint8 = 4 // generated key frame (server use)
	FrameCommand      uint8 = 5 // video info / command frame
)

// Video commands carried by command frames (FrameCommand).
const (
	VideoCommandStartSeek uint8 = 0
	VideoCommandEndSeek   uint8 = 1
)

// LegacyVideoFourCC maps a legacy video codec id to its FourCC: 7 → avc1,
// 12 → hvc1, anything else → 0.
func LegacyVideoFourCC(codecID uint8) FourCC {
	switch codecID {
	case VideoCodecAVC:
		return FourCCAVC
	case VideoCodecHEVC:
		return FourCCHEVC
	}
	return 0
}

// LegacyAudioFourCC maps a legacy sound format to its FourCC: 10 → mp4a,
// 2 → .mp3, anything else → 0.
func LegacyAudioFourCC(soundFormat uint8) FourCC {
	switch soundFormat {
	case SoundFormatAAC:
		return FourCCAAC
	case SoundFormatMP3:
		return FourCCMP3
	}
	return 0
}
