package flv

import (
	"fmt"
	"strconv"
)

// VideoConfigInfo summarises a video decoder configuration (the body of a
// video SequenceStart packet) in codec-neutral terms, for APIs, logs and
// playlists.
type VideoConfigInfo struct {
	Codec FourCC
	// Profile is the codec's own profile number (H.264 profile_idc, H.265
	// general_profile_idc, AV1 seq_profile, VP9 profile); ProfileName its
	// name ("High", "Main 10", "Professional", "Profile 2"), "" if unknown.
	Profile     uint8
	ProfileName string
	// Level is the codec's own level number as signalled (H.264 level_idc
	// 31, H.265 general_level_idc 93, AV1 seq_level_idx 5, VP9 level 31 all
	// mean level 3.1); LevelName is the dotted level ("3.1", "1b", "max").
	Level     uint8
	LevelName string
	// HighTier is the H.265 or AV1 high tier.
	HighTier bool
	// Width and Height are the display size in pixels (cropping applied); 0
	// when the configuration does not carry them (VP9: see
	// ParseVP9FrameSize).
	Width, Height int
	// BitDepth is the luma bit depth.
	BitDepth int
	// ChromaFormat is 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4.
	ChromaFormat int
	// FrameRate comes from the bitstream's timing information; 0 when not
	// signalled.
	FrameRate float64
	// CodecString is the RFC 6381 codecs parameter ("avc1.64001f",
	// "hvc1.1.6.L93.90", "av01.0.05M.08", "vp09.00.31.08").
	CodecString string
}

// ParseVideoConfig decodes the decoder configuration of a video codec:
// avcC (avc1, with its first SPS), hvcC (hvc1, with its first SPS), av1C
// (av01, with the sequence header OBU when present) and vpcC (vp09, vp08).
// A malformed record, or a malformed SPS or sequence header inside it, is an
// error (ErrTruncated, ErrInvalidConfig, ErrInvalidSPS); other FourCCs fail
// with ErrUnsupportedCodec.
func ParseVideoConfig(codec FourCC, config []byte) (VideoConfigInfo, error) {
	switch codec {
	case FourCCAVC:
		return avcConfigInfo(config)
	case FourCCHEVC:
		return hevcConfigInfo(config)
	case FourCCAV1:
		return av1ConfigInfo(config)
	case FourCCVP9, FourCCVP8:
		return vpConfigInfo(codec, config)
	}
	return VideoConfigInfo{}, fmt.Errorf("video codec %q: %w", codec, ErrUnsupportedCodec)
}

func avcConfigInfo(config []byte) (VideoConfigInfo, error) {
	c, err := ParseAVCDecoderConfig(config)
	if err != nil {
		return VideoConfigInfo{}, err
	}
	v := VideoConfigInfo{
		Codec: FourCCAVC, Profile: c.Profile, ProfileName: AVCProfileName(c.Profile, c.Compatibility),
		Level: c.Level, LevelName: avcLevelName(c.Level, c.Profile, c.Compatibility),
		BitDepth: 8, ChromaFormat: 1, CodecString: c.CodecString(),
	}
	if c.HasExtension {
		v.BitDepth, v.ChromaFormat = int(c.BitDepthLuma), int(c.ChromaFormat)
	}
	if len(c.SPS) == 0 {
		return v, nil
	}
	s, err := ParseSPS(c.SPS[0])
	if err != nil {
		return VideoConfigInfo{}, fmt.Errorf("avcC: %w", err)
	}
	v.Width, v.Height, v.BitDepth, v.ChromaFormat, v.FrameRate = s.Width, s.Height, s.BitDepth, s.ChromaFormat, s.FrameRate
	return v, nil
}

func hevcConfigInfo(config []byte) (VideoConfigInfo, error) {
	c, err := ParseHEVCDecoderConfig(config)
	if err != nil {
		return VideoConfigInfo{}, err
	}
	v := VideoConfigInfo{
		Codec: FourCCHEVC, Profile: c.Profile, ProfileName: hevcProfileName(c.Profile),
		Level: c.Level, LevelName: hevcLevelName(c.Level), HighTier: c.HighTier,
		BitDepth: int(c.BitDepthLuma), ChromaFormat: int(c.ChromaFormat), CodecString: c.CodecString(),
	}
	if c.AvgFrameRate > 0 {
		v.FrameRate = float64(c.AvgFrameRate) / 256
	}
	sps := c.SPS()
	if sps == nil {
		return v, nil
	}
	s, err := ParseHEVCSPS(sps)
	if err != nil {
		return VideoConfigInfo{}, fmt.Errorf("hvcC: %w", err)
	}
	v.Width, v.Height, v.BitDepth, v.ChromaFormat = s.Width, s.Height, s.BitDepth, s.ChromaFormat
	if s.FrameRate > 0 {
		v.FrameRate = s.FrameRate
	}
	return v, nil
}

func av1ConfigInfo(config []byte) (VideoConfigInfo, error) {
	c, err := ParseAV1CodecConfig(config)
	if err != nil {
		return VideoConfigInfo{}, err
	}
	v := VideoConfigInfo{
		Codec: FourCCAV1, Profile: c.SeqProfile, ProfileName: av1ProfileName(c.SeqProfile),
		Level: c.SeqLevelIdx0, LevelName: av1LevelName(c.SeqLevelIdx0), HighTier: c.SeqTier0 == 1,
		BitDepth: c.BitDepth(), CodecString: c.CodecString(),
	}
	switch {
	case c.Monochrome:
		v.ChromaFormat = 0
	case c.ChromaSubsamplingX && c.ChromaSubsamplingY:
		v.ChromaFormat = 1
	case c.ChromaSubsamplingX:
		v.ChromaFormat = 2
	default:
		v.ChromaFormat = 3
	}
	if len(c.ConfigOBUs) == 0 {
		return v, nil
	}
	s, err := c.SequenceHeader()
	if err != nil {
		return VideoConfigInfo{}, fmt.Errorf("av1C: %w", err)
	}
	v.Profile, v.ProfileName = s.Profile, av1ProfileName(s.Profile)
	v.Level, v.LevelName, v.HighTier = s.Level, av1LevelName(s.Level), s.Tier == 1
	v.Width, v.Height = s.MaxFrameWidth, s.MaxFrameHeight
	v.BitDepth, v.ChromaFormat, v.FrameRate = s.BitDepth, s.ChromaFormat(), s.FrameRate()
	v.CodecString = s.CodecString()
	return v, nil
}

func vpConfigInfo(codec FourCC, config []byte) (VideoConfigInfo, error) {
	c, err := ParseVPCodecConfig(config)
	if err != nil {
		return VideoConfigInfo{}, err
	}
	v := VideoConfigInfo{
		Codec: codec, Profile: c.Profile, ProfileName: "Profile " + strconv.Itoa(int(c.Profile)),
		Level: c.Level, BitDepth: int(c.BitDepth), ChromaFormat: c.ChromaFormat(), CodecString: c.CodecString(),
	}
	if c.Level > 0 {
		v.LevelName = strconv.Itoa(int(c.Level)/10) + "." + strconv.Itoa(int(c.Level)%10)
	}
	if codec == FourCCVP8 {
		v.ProfileName, v.CodecString = "", "vp8"
	}
	return v, nil
}

// AVCProfileName names an H.264 profile_idc (Annex A); constraints is the
// constraint_set flags byte, which tells Constrained Baseline from Baseline.
// It returns "" for a profile_idc it does not know.
func AVCProfileName(p, constraints uint8) string {
	switch p {
	case 66:
		if constraints&0x40 != 0 {
			return "Constrained Baseline"
		}
		return "Baseline"
	case 77:
		return "Main"
	case 88:
		return "Extended"
	case 100:
		return "High"
	case 110:
		return "High 10"
	case 122:
		return "High 4:2:2"
	case 244:
		return "High 4:4:4 Predictive"
	case 44:
		return "CAVLC 4:4:4 Intra"
	}
	return ""
}

// avcLevelName turns level_idc into "3.1"; level 1b is level_idc 9, or 11
// with constraint_set3_flag in the Baseline, Main and Extended profiles.
func avcLevelName(level, profile, constraints uint8) string {
	if level == 9 || level == 11 && constraints&0x10 != 0 && !avcHighProfile(profile) {
		return "1b"
	}
	return dottedLevel(int(level)/10, int(level)%10)
}

// hevcLevelName turns general_level_idc (30 × level) into "3.1".
func hevcLevelName(level uint8) string {
	if level == 0 {
		return ""
	}
	return dottedLevel(int(level)/30, int(level)%30/3)
}

// av1LevelName turns seq_level_idx into "3.1" (2.0 + idx/4 . idx%4); 31
// is "max".
func av1LevelName(idx uint8) string {
	if idx == 31 {
		return "max"
	}
	return dottedLevel(2+int(idx)/4, int(idx)%4)
}

func dottedLevel(major, minor int) string {
	return strconv.Itoa(major) + "." + strconv.Itoa(minor)
}

// AudioConfigInfo summarises an audio decoder configuration (the body of an
// audio SequenceStart packet).
type AudioConfigInfo struct {
	Codec FourCC
	// SampleRate is the decoder output rate in Hz (48000 for Opus, the SBR
	// rate for HE-AAC); 0 when the configuration does not carry it.
	SampleRate int
	// Channels is the output channel count; 0 when unknown.
	Channels int
	// BitsPerSample is the FLAC sample size; 0 for lossy codecs.
	BitsPerSample int
	// CodecString is the RFC 6381 codecs parameter ("mp4a.40.2", "Opus",
	// "fLaC", "ac-3", "ec-3", "mp4a.40.34").
	CodecString string
}

// ParseAudioConfig decodes the decoder configuration of an audio codec:
// AudioSpecificConfig (mp4a), the Opus identification header (Opus; a
// comment header gives the codec alone), the FLAC STREAMINFO block (fLaC).
// AC-3, E-AC-3 and MP3 configurations carry nothing to decode: the result
// names the codec and config is ignored. Other FourCCs fail with
// ErrUnsupportedCodec.
func ParseAudioConfig(codec FourCC, config []byte) (AudioConfigInfo, error) {
	switch codec {
	case FourCCAAC:
		c, err := ParseAACConfig(config)
		if err != nil {
			return AudioConfigInfo{}, err
		}
		a := AudioConfigInfo{Codec: codec, SampleRate: c.SampleRate, Channels: c.Channels, CodecString: c.CodecString()}
		if c.ExtensionSampleRate > 0 {
			a.SampleRate = c.ExtensionSampleRate
		}
		if c.ObjectType == AACObjectPS && c.ChannelConfig == 1 {
			a.Channels = 2 // parametric stereo decodes a mono core to stereo
		}
		return a, nil
	case FourCCOpus:
		a := AudioConfigInfo{Codec: codec, CodecString: "Opus"}
		if isOpusTags(config) {
			return a, nil
		}
		h, err := ParseOpusHead(config)
		if err != nil {
			return AudioConfigInfo{}, err
		}
		a.SampleRate, a.Channels = OpusSampleRate, int(h.Channels)
		return a, nil
	case FourCCFLAC:
		s, err := ParseFLACStreamInfo(config)
		if err != nil {
			return AudioConfigInfo{}, err
		}
		return AudioConfigInfo{Codec: codec, SampleRate: int(s.SampleRate), Channels: int(s.Channels),
			BitsPerSample: int(s.BitsPerSample), CodecString: "fLaC"}, nil
	case FourCCAC3:
		return AudioConfigInfo{Codec: codec, CodecString: "ac-3"}, nil
	case FourCCEAC3:
		return AudioConfigInfo{Codec: codec, CodecString: "ec-3"}, nil
	case FourCCMP3:
		return AudioConfigInfo{Codec: codec, CodecString: "mp4a.40.34"}, nil
	}
	return AudioConfigInfo{}, fmt.Errorf("audio codec %q: %w", codec, ErrUnsupportedCodec)
}
