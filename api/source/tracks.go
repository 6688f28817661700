package source

import (
	"strconv"

	"github.com/mediaserver/mediaserver/api"
	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/stream"
)

// tracks is what the headers of a stream tell.
type tracks struct {
	video   *api.VideoTrack
	audio   *api.AudioTrack
	encoder string
}

// codecNames are display names of FourCCs.
var codecNames = map[flv.FourCC]string{
	flv.FourCCAVC: "H.264", flv.FourCCHEVC: "H.265", flv.FourCCAV1: "AV1", flv.FourCCVP9: "VP9",
	flv.FourCCVP8: "VP8", flv.FourCCAAC: "AAC", flv.FourCCOpus: "Opus", flv.FourCCFLAC: "FLAC",
	flv.FourCCAC3: "AC-3", flv.FourCCEAC3: "E-AC-3", flv.FourCCMP3: "MP3",
}

// codecName returns the display name of a FourCC, or its text.
func codecName(c flv.FourCC) string {
	if n, ok := codecNames[c]; ok {
		return n
	}
	if c == 0 {
		return ""
	}
	return c.String()
}

// legacyRates maps the legacy SoundRate bits to Hz.
var legacyRates = [4]int{5512, 11025, 22050, 44100}

// describeTracks reads the sequence headers and metadata of a stream. A
// track is reported when its sequence header arrived or its frames are
// flowing; missing details stay zero.
func describeTracks(h stream.Headers, st stream.Stats) tracks {
	var md flv.Metadata
	haveMD := false
	if h.Metadata != nil {
		if m, err := flv.ParseMetadata(h.Metadata.Payload); err == nil {
			md, haveMD = m, true
		}
	}
	var out tracks
	if haveMD {
		out.encoder = md.Encoder
	}
	if h.Video != nil || st.VideoFrames > 0 {
		out.video = describeVideo(h.Video, md)
		out.video.FPS = st.VideoFPS
	}
	if h.Audio != nil || st.AudioFrames > 0 {
		out.audio = describeAudio(h.Audio, md)
	}
	return out
}

// describeVideo reads a video sequence header (nil when absent), with the
// metadata as fallback.
func describeVideo(f *stream.Frame, md flv.Metadata) *api.VideoTrack {
	v := &api.VideoTrack{}
	codec := md.VideoFourCC
	if f != nil {
		codec = f.Codec
		if hdr, err := flv.ParseVideoTagHeader(f.Payload); err == nil && hdr.HeaderLen <= len(f.Payload) {
			body := f.Payload[hdr.HeaderLen:]
			if f.Codec == flv.FourCCAVC {
				describeAVC(v, body)
			}
		}
	}
	v.Codec = codecName(codec)
	if v.Codec == "" {
		v.Codec = md.VideoCodec
	}
	if v.Width == 0 && v.Height == 0 && md.Width > 0 && md.Height > 0 && md.Width < 1<<16 && md.Height < 1<<16 {
		v.Width, v.Height = int(md.Width), int(md.Height)
	}
	return v
}

// describeAVC fills v from an AVCDecoderConfigurationRecord.
func describeAVC(v *api.VideoTrack, body []byte) {
	cfg, err := flv.ParseAVCDecoderConfig(body)
	if err != nil {
		return
	}
	v.CodecString = cfg.CodecString()
	v.Profile = avcProfileName(cfg.Profile, cfg.Compatibility)
	v.Level = avcLevel(cfg.Level)
	if len(cfg.SPS) == 0 {
		return
	}
	sps, err := flv.ParseSPS(cfg.SPS[0])
	if err != nil {
		return
	}
	v.Width, v.Height = sps.Width, sps.Height
	v.Profile = avcProfileName(sps.Profile, sps.Constraints)
	v.Level = avcLevel(sps.Level)
}

// avcProfileName names an H.264 profile_idc (constraints: the
// constraint_set flags byte).
func avcProfileName(profile, constraints uint8) string {
	switch profile {
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
	case 0:
		return ""
	}
	return strconv.Itoa(int(profile))
}

// avcLevel formats an H.264 level_idc ("3.1").
func avcLevel(level uint8) string {
	if level == 0 {
		return ""
	}
	return strconv.Itoa(int(level)/10) + "." + strconv.Itoa(int(level)%10)
}

// describeAudio reads an audio sequence header (nil when absent: MP3 and
// other legacy formats have none), with the metadata as fallback.
func describeAudio(f *stream.Frame, md flv.Metadata) *api.AudioTrack {
	a := &api.AudioTrack{}
	codec := md.AudioFourCC
	if f != nil {
		codec = f.Codec
		if hdr, err := flv.ParseAudioTagHeader(f.Payload); err == nil && hdr.HeaderLen <= len(f.Payload) {
			if f.Codec == flv.FourCCAAC {
				if cfg, err := flv.ParseAACConfig(f.Payload[hdr.HeaderLen:]); err == nil {
					a.CodecString = cfg.CodecString()
					a.SampleRate, a.Channels = cfg.SampleRate, cfg.Channels
					if cfg.ExtensionSampleRate > 0 {
						a.SampleRate = cfg.ExtensionSampleRate
					}
				}
			} else if !hdr.Enhanced && int(hdr.SoundRate) < len(legacyRates) {
				a.SampleRate, a.Channels = legacyRates[hdr.SoundRate], int(hdr.SoundType)+1
			}
		}
	}
	a.Codec = codecName(codec)
	if a.Codec == "" {
		a.Codec = md.AudioCodec
	}
	if a.SampleRate == 0 && md.AudioSampleRate > 0 && md.AudioSampleRate < 1<<20 {
		a.SampleRate = int(md.AudioSampleRate)
	}
	if a.Channels == 0 && md.AudioSampleRate > 0 {
		a.Channels = 1
		if md.Stereo {
			a.Channels = 2
		}
	}
	return a
}
