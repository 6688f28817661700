package stream

import (
	"fmt"
	"net/url"
	"strconv"

	"github.com/mediaserver/mediaserver/flv"
)

// A player that does not understand Enhanced RTMP multitrack (every FLV
// demuxer before FFmpeg 8, flv.js, mpegts.js, most RTMP players) gets one
// video and one audio track of a multitrack stream: a reader with a
// TrackSelection delivers the selected tracks only, each message rewritten
// as an ordinary single-track tag (legacy for H.264 and AAC, Enhanced RTMP
// without multitrack for other codecs), at its own timestamp. It joins at a
// keyframe of its video track. The rewritten frames are built once per
// frame and track and shared by every reader that selects that track. They
// are copies (the single-track header differs from the multitrack one) held
// by the frame while it is cached: at most maxTrackViews per frame, and
// not counted in Config.MemoryBudget, which counts what publishers sent.

// TrackSelection picks the tracks a Reader delivers. The zero value
// delivers every track unchanged, for readers that understand multitrack
// (the HLS segmenter, relays, recorders, Enhanced RTMP players that
// declared multitrack support).
type TrackSelection struct {
	// Single is set for a reader that takes one video and one audio track,
	// Video and Audio (Enhanced RTMP track ids; 0 is the default track).
	Single       bool
	Video, Audio uint8
}

// DefaultTracks selects the default video and audio tracks (0).
func DefaultTracks() TrackSelection { return TrackSelection{Single: true} }

// String describes the selection ("all", "video 1 audio 0").
func (sel TrackSelection) String() string {
	if !sel.Single {
		return "all"
	}
	return "video " + strconv.Itoa(int(sel.Video)) + " audio " + strconv.Itoa(int(sel.Audio))
}

// TrackRequest is what a player asked for in its query: ?track=N (the video
// and audio track N), or ?video=N and/or ?audio=M, or ?track=all (every
// track unchanged, for a player that reads multitrack). A number is -1 when
// not given.
type TrackRequest struct {
	Track, Video, Audio int
	All                 bool
}

// Given reports whether the request names tracks at all.
func (r TrackRequest) Given() bool { return r.All || r.Track >= 0 || r.Video >= 0 || r.Audio >= 0 }

// ParseTrackQuery reads the track parameters (track, video, audio) of a
// raw query string. A value that is not a track id (0 to 255, or "all" for
// track) fails with ErrUnknownTrack; other parameters, and parts of the
// query that do not parse, are ignored.
func ParseTrackQuery(rawQuery string) (TrackRequest, error) {
	req := TrackRequest{Track: -1, Video: -1, Audio: -1}
	if rawQuery == "" {
		return req, nil
	}
	// A query a player passes for others (an auth token with a stray "%"
	// or ";") may not parse as a whole: the parameters that do are read.
	q, _ := url.ParseQuery(rawQuery)
	for _, p := range [...]struct {
		name string
		dst  *int
	}{{"track", &req.Track}, {"video", &req.Video}, {"audio", &req.Audio}} {
		v := q[p.name]
		if len(v) == 0 {
			continue
		}
		if p.name == "track" && v[0] == "all" {
			req.All = true
			continue
		}
		n, err := strconv.ParseUint(v[0], 10, 8)
		if err != nil {
			return req, fmt.Errorf("%s=%q is not a track id: %w", p.name, v[0], ErrUnknownTrack)
		}
		*p.dst = int(n)
	}
	return req, nil
}

// SelectTracks turns a player's request into the selection of its reader:
// the default tracks when it asked for none; for ?track=N the video track N
// and the audio track N, or the default track of a kind that has no track
// N; for ?video=N&audio=M those tracks (the default one of a kind not
// named); for ?track=all every track. A track the stream does not have
// (no sequence start of it has arrived) fails with ErrUnknownTrack; the
// default track is always known.
func (s *Stream) SelectTracks(req TrackRequest) (TrackSelection, error) {
	sel := DefaultTracks()
	switch {
	case req.All:
		return TrackSelection{}, nil
	case !req.Given():
		return sel, nil
	}
	h := s.Headers()
	video, audio := headerTracks(h, flv.TagVideo), headerTracks(h, flv.TagAudio)
	if req.Track >= 0 {
		id := uint8(req.Track)
		hasV, hasA := video[id] || id == 0, audio[id] || id == 0
		if !hasV && !hasA {
			return sel, fmt.Errorf("track %d of %s: %w", id, s.key, ErrUnknownTrack)
		}
		if hasV {
			sel.Video = id
		}
		if hasA {
			sel.Audio = id
		}
	}
	for _, c := range [...]struct {
		want  int
		known map[uint8]bool
		dst   *uint8
		kind  string
	}{{req.Video, video, &sel.Video, "video"}, {req.Audio, audio, &sel.Audio, "audio"}} {
		if c.want < 0 {
			continue
		}
		id := uint8(c.want)
		if id != 0 && !c.known[id] {
			return sel, fmt.Errorf("%s track %d of %s: %w", c.kind, id, s.key, ErrUnknownTrack)
		}
		*c.dst = id
	}
	return sel, nil
}

// headerTracks returns the ids of the tracks of type t whose sequence start
// is in h.
func headerTracks(h Headers, t flv.TagType) map[uint8]bool {
	ids := map[uint8]bool{}
	for _, f := range h.All() {
		if f.Type == t && f.IsSequenceStart() {
			f.trackIDs(func(id uint8) { ids[id] = true })
		}
	}
	return ids
}

// Selects reports whether a reader with this selection gets anything of
// f: every frame for the zero selection; for a single-track selection
// script data and the frames that carry a selected track.
func (sel TrackSelection) Selects(f *Frame) bool { return sel.apply(f) != nil }

// trackView is one cached single-track form of a frame: the frame of
// track id, or nil when the frame does not carry it or the track's packet
// has no single-track form.
type trackView struct {
	id    uint8
	frame *Frame
}

// maxTrackViews bounds the single-track forms cached per frame; further
// ones are built on every call.
const maxTrackViews = 4

// apply returns the form of f the selection delivers: f itself for a
// reader of every track, for script data and for a single-track message of
// the selected track; the single-track form of a multitrack message
// carrying the selected track; nil for a frame to skip.
func (sel TrackSelection) apply(f *Frame) *Frame {
	if !sel.Single {
		return f
	}
	id := sel.Video
	switch f.Type {
	case flv.TagScript:
		return f
	case flv.TagAudio:
		id = sel.Audio
	}
	if !f.Multitrack {
		if id == 0 {
			return f
		}
		return nil
	}
	if !f.carries(id) {
		return nil
	}
	return f.trackView(id)
}

// trackView returns the single-track form of track id of the multitrack
// message f, built on first use and shared.
func (f *Frame) trackView(id uint8) *Frame {
	f.encMu.Lock()
	defer f.encMu.Unlock()
	for _, v := range f.views {
		if v.id == id {
			return v.frame
		}
	}
	g := f.buildTrackView(id)
	if len(f.views) < maxTrackViews {
		f.views = append(f.views, trackView{id: id, frame: g})
	}
	return g
}

// buildTrackView rewrites track id of the multitrack message f as a
// single-track message of the same type and timestamp, or returns nil
// when f does not carry it or the packet has no single-track form.
func (f *Frame) buildTrackView(id uint8) *Frame {
	var payload []byte
	var err error
	switch f.Type {
	case flv.TagVideo:
		payload, err = singleVideoTrack(f.Payload, id)
	case flv.TagAudio:
		payload, err = singleAudioTrack(f.Payload, id)
	}
	if err != nil || payload == nil {
		return nil
	}
	g, err := NewFrame(f.Type, f.Time, payload)
	if err != nil {
		return nil
	}
	g.gen = f.gen
	return g
}

// findTrack returns the track id of a multitrack message's track list.
func findTrack(tracks []flv.Track, id uint8) (flv.Track, bool) {
	for _, t := range tracks {
		if t.ID == id {
			return t, true
		}
	}
	return flv.Track{}, false
}

// singleVideoTrack returns the video tag payload carrying track id of the
// multitrack video payload p alone: a legacy AVC tag for H.264 (Metadata,
// which legacy AVC cannot carry, is left out: nil), an Enhanced RTMP
// single-track tag otherwise.
func singleVideoTrack(p []byte, id uint8) ([]byte, error) {
	h, err := flv.ParseVideoTagHeader(p)
	if err != nil {
		return nil, fmt.Errorf("video track %d: %w", id, err)
	}
	t, ok := findTrack(h.Tracks, id)
	if !ok {
		return nil, nil
	}
	out := flv.VideoTagHeader{FrameType: h.FrameType, Codec: t.Codec, PacketType: h.PacketType,
		CompositionTime: t.CompositionTime}
	switch {
	case t.Codec == flv.FourCCAVC && h.PacketType == flv.PacketMetadata:
		return nil, nil
	case t.Codec == flv.FourCCAVC:
		out.LegacyCodecID = flv.VideoCodecAVC
		if out.PacketType == flv.PacketCodedFramesX {
			out.PacketType = flv.PacketCodedFrames
		}
	default:
		out.Enhanced = true
		out.ModEx = h.ModEx
	}
	return flv.AppendVideoTag(make([]byte, 0, 16+len(t.Data)), out, t.Data)
}

// singleAudioTrack returns the audio tag payload carrying track id of the
// multitrack audio payload p alone: a legacy AAC or MP3 tag (what legacy
// AAC cannot carry, MultichannelConfig and SequenceEnd, is left out: nil),
// an Enhanced RTMP single-track tag for other codecs.
func singleAudioTrack(p []byte, id uint8) ([]byte, error) {
	h, err := flv.ParseAudioTagHeader(p)
	if err != nil {
		return nil, fmt.Errorf("audio track %d: %w", id, err)
	}
	t, ok := findTrack(h.Tracks, id)
	if !ok {
		return nil, nil
	}
	// The legacy sound bits of AAC and MP3 say 44 kHz 16-bit stereo:
	// decoders take the real values from the stream.
	legacy := flv.AudioTagHeader{SoundRate: 3, SoundSize: 1, SoundType: 1, PacketType: h.PacketType}
	switch {
	case (t.Codec == flv.FourCCAAC || t.Codec == flv.FourCCMP3) && h.PacketType != flv.PacketSequenceStart &&
		h.PacketType != flv.PacketCodedFrames:
		return nil, nil
	case t.Codec == flv.FourCCAAC:
		legacy.SoundFormat = flv.SoundFormatAAC
	case t.Codec == flv.FourCCMP3 && h.PacketType == flv.PacketCodedFrames:
		legacy.SoundFormat = flv.SoundFormatMP3
	case t.Codec == flv.FourCCMP3:
		return nil, nil // MP3 has no decoder configuration
	default:
		out := flv.AudioTagHeader{SoundFormat: flv.SoundFormatExHeader, Enhanced: true, Codec: t.Codec,
			PacketType: h.PacketType, ModEx: h.ModEx}
		return flv.AppendAudioTag(make([]byte, 0, 16+len(t.Data)), out, t.Data)
	}
	return flv.AppendAudioTag(make([]byte, 0, 2+len(t.Data)), legacy, t.Data)
}
