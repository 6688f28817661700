package apisource

import (
	"slices"
	"strconv"

	"github.com/mediaserver/mediaserver/api"
	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/stream"
)

// tracks is what the headers of a stream tell.
type tracks struct {
	video   *api.VideoTrack
	audio   *api.AudioTrack
	list    []api.Track
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

// trackKey identifies a track of a stream.
type trackKey struct {
	kind string
	id   uint8
}

// describeTracks reads the sequence headers and metadata of a stream. A
// default track is reported when its sequence header arrived or its frames
// are flowing; every other track when its sequence start arrived. Missing
// details stay zero.
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
	found := map[trackKey]*api.Track{}
	add := func(f *stream.Frame, kind string) {
		for _, tr := range frameTracks(f) {
			t := &api.Track{ID: int(tr.ID), Kind: kind}
			if kind == api.KindVideo {
				describeVideoConfig(t, tr, f)
			} else {
				describeAudioConfig(t, tr, f)
			}
			found[trackKey{kind, tr.ID}] = t
		}
	}
	if h.Video != nil {
		add(h.Video, api.KindVideo)
	}
	if h.Audio != nil {
		add(h.Audio, api.KindAudio)
	}
	for _, f := range h.Tracks {
		switch {
		case f.IsSequenceStart() && f.Type == flv.TagVideo:
			add(f, api.KindVideo)
		case f.IsSequenceStart() && f.Type == flv.TagAudio:
			add(f, api.KindAudio)
		}
	}
	applyColorInfo(found, h.Tracks)
	videoTracks := 0
	for k := range found {
		if k.kind == api.KindVideo {
			videoTracks++
		}
	}
	if v := found[trackKey{api.KindVideo, 0}]; v != nil || st.VideoFrames > 0 {
		if v == nil {
			v = &api.Track{Kind: api.KindVideo}
			found[trackKey{api.KindVideo, 0}] = v
		}
		fillVideoFromMetadata(v, md)
		if videoTracks <= 1 || v.FPS == 0 {
			v.FPS = st.VideoFPS // measured over every video frame: one track's rate only without others
		}
		out.video = &api.VideoTrack{Codec: v.Codec, CodecString: v.CodecString, Profile: v.Profile, Level: v.Level,
			Width: v.Width, Height: v.Height, FPS: v.FPS}
	}
	if a := found[trackKey{api.KindAudio, 0}]; a != nil || st.AudioFrames > 0 {
		if a == nil {
			a = &api.Track{Kind: api.KindAudio}
			found[trackKey{api.KindAudio, 0}] = a
		}
		fillAudioFromMetadata(a, md)
		out.audio = &api.AudioTrack{Codec: a.Codec, CodecString: a.CodecString, SampleRate: a.SampleRate, Channels: a.Channels}
	}
	for _, t := range found {
		out.list = append(out.list, *t)
	}
	slices.SortFunc(out.list, func(a, b api.Track) int {
		if a.Kind != b.Kind {
			if a.Kind == api.KindVideo {
				return -1
			}
			return 1
		}
		return a.ID - b.ID
	})
	return out
}

// frameTracks returns the tracks a header frame carries: one for a
// single-track tag (id 0), every listed one for a multitrack tag. A frame
// that does not parse yields its codec alone, as track f.Track.
func frameTracks(f *stream.Frame) []flv.Track {
	switch f.Type {
	case flv.TagVideo:
		if h, err := flv.ParseVideoTagHeader(f.Payload); err == nil {
			if ts := h.TrackList(f.Payload); len(ts) > 0 {
				return ts
			}
		}
	case flv.TagAudio:
		if h, err := flv.ParseAudioTagHeader(f.Payload); err == nil {
			if ts := h.TrackList(f.Payload); len(ts) > 0 {
				return ts
			}
		}
	}
	return []flv.Track{{ID: f.Track, Codec: f.Codec}}
}

// describeVideoConfig fills t from a video track's sequence start (f is
// the frame it came in; a frame that is not a sequence start gives the
// codec alone).
func describeVideoConfig(t *api.Track, tr flv.Track, f *stream.Frame) {
	t.FourCC, t.Codec = tr.Codec.String(), codecName(tr.Codec)
	if !f.IsSequenceStart() {
		return
	}
	c, err := flv.ParseVideoConfig(tr.Codec, tr.Data)
	if err != nil {
		return
	}
	t.CodecString, t.Profile, t.Level = c.CodecString, c.ProfileName, c.LevelName
	if t.Profile == "" && c.Profile != 0 {
		t.Profile = strconv.Itoa(int(c.Profile))
	}
	t.Width, t.Height, t.BitDepth, t.FPS = c.Width, c.Height, c.BitDepth, c.FrameRate
}

// describeAudioConfig fills t from an audio track's sequence start, or
// from the legacy header bits of a frame without one (MP3, PCM …).
func describeAudioConfig(t *api.Track, tr flv.Track, f *stream.Frame) {
	t.FourCC, t.Codec = tr.Codec.String(), codecName(tr.Codec)
	if f.IsSequenceStart() {
		if c, err := flv.ParseAudioConfig(tr.Codec, tr.Data); err == nil {
			t.CodecString, t.SampleRate, t.Channels = c.CodecString, c.SampleRate, c.Channels
		}
		return
	}
	if h, err := flv.ParseAudioTagHeader(f.Payload); err == nil && !h.Enhanced && int(h.SoundRate) < len(legacyRates) {
		t.SampleRate, t.Channels = legacyRates[h.SoundRate], int(h.SoundType)+1
	}
}

// applyColorInfo reads the video Metadata (colorInfo) of each track.
func applyColorInfo(found map[trackKey]*api.Track, frames []*stream.Frame) {
	for _, f := range frames {
		if f.Type != flv.TagVideo || f.Packet != flv.PacketMetadata {
			continue
		}
		for _, tr := range frameTracks(f) {
			t := found[trackKey{api.KindVideo, tr.ID}]
			if t == nil {
				continue
			}
			if c, ok, err := flv.ParseVideoMetadata(tr.Data); err == nil && ok {
				t.HDR = c.HDR()
			}
		}
	}
}

// fillVideoFromMetadata completes the default video track from onMetaData.
func fillVideoFromMetadata(v *api.Track, md flv.Metadata) {
	if v.Codec == "" {
		v.Codec, v.FourCC = codecName(md.VideoFourCC), md.VideoFourCC.String()
	}
	if v.Codec == "" {
		v.Codec = md.VideoCodec
	}
	if v.Width == 0 && v.Height == 0 && md.Width > 0 && md.Height > 0 && md.Width < 1<<16 && md.Height < 1<<16 {
		v.Width, v.Height = int(md.Width), int(md.Height)
	}
}

// fillAudioFromMetadata completes the default audio track from onMetaData.
func fillAudioFromMetadata(a *api.Track, md flv.Metadata) {
	if a.Codec == "" {
		a.Codec, a.FourCC = codecName(md.AudioFourCC), md.AudioFourCC.String()
	}
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
}

// avcProfileName names an H.264 profile_idc (constraints: the
// constraint_set flags byte) as flv does, falling back to the number for a
// profile flv does not know.
func avcProfileName(profile, constraints uint8) string {
	if name := flv.AVCProfileName(profile, constraints); name != "" || profile == 0 {
		return name
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

// applyRenditions adds what was measured on each track (bit rates, and the
// frame rate of video tracks) to the API's track list.
func applyRenditions(list []api.Track, rs stream.Renditions) {
	for i := range list {
		t := &list[i]
		rends := rs.Audio
		if t.Kind == api.KindVideo {
			rends = rs.Video
		}
		for _, r := range rends {
			if int(r.Track) != t.ID {
				continue
			}
			t.Bitrate, t.PeakBitrate = r.Bitrate, r.PeakBitrate
			if t.Kind == api.KindVideo && r.FPS > 0 {
				t.FPS = r.FPS
			}
		}
	}
}

// alignmentName is the API's name of a keyframe alignment.
func alignmentName(a stream.KeyframeAlignment) string {
	switch a {
	case stream.AlignmentAligned:
		return api.AlignmentAligned
	case stream.AlignmentUnaligned:
		return api.AlignmentUnaligned
	}
	return api.AlignmentUnknown
}
