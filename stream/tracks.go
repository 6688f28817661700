package stream

import (
	"slices"

	"github.com/mediaserver/mediaserver/flv"
)

// Enhanced RTMP carries several tracks of one kind in a stream (multitrack
// video and audio, each track with an id; 0 is the default track) and
// configuration packets besides the sequence start (video Metadata with HDR
// colorInfo, audio MultichannelConfig). Every such configuration is kept in
// the header set under its own slot, so that a new viewer gets the
// configuration of every track, not only the latest one.

// headerSlot names the place of a header frame in a Headers set: its kind,
// its track id and whether it is a side configuration (video Metadata,
// audio MultichannelConfig) rather than the sequence start.
type headerSlot struct {
	kind  headerKind
	track uint8
	side  bool
}

// isDefault reports whether the slot is one of the Metadata, Video and
// Audio fields of Headers (the sequence start of track 0, or onMetaData).
func (k headerSlot) isDefault() bool { return k.track == 0 && !k.side }

// compare orders slots: video before audio, by track id, the sequence start
// before side configuration.
func (k headerSlot) compare(o headerSlot) int {
	switch {
	case k.kind != o.kind:
		return int(k.kind) - int(o.kind)
	case k.track != o.track:
		return int(k.track) - int(o.track)
	case k.side == o.side:
		return 0
	case o.side:
		return -1
	}
	return 1
}

// slot returns the Headers slot of a header frame (kind kindNone for a
// frame that is not a header).
func (f *Frame) slot() headerSlot {
	return headerSlot{kind: f.kind(), track: f.Track, side: f.isSideConfig()}
}

// isSideConfig reports whether f is a configuration packet other than a
// sequence start: video Metadata (colorInfo) or audio MultichannelConfig.
func (f *Frame) isSideConfig() bool {
	return f.Type == flv.TagVideo && f.Packet == flv.PacketMetadata ||
		f.Type == flv.TagAudio && f.Packet == flv.PacketMultichannelConfig
}

// IsSequenceStart reports whether f is a video or audio sequence start: the
// decoder configuration record (avcC, hvcC, av1C, vpcC,
// AudioSpecificConfig, OpusHead, FLAC STREAMINFO) of its track or tracks.
func (f *Frame) IsSequenceStart() bool {
	return f.Header && f.Type != flv.TagScript && f.Packet == flv.PacketSequenceStart
}

// seqEndSlot returns the slot a sequence end frame ends.
func (f *Frame) seqEndSlot() headerSlot {
	k := kindVideo
	if f.Type == flv.TagAudio {
		k = kindAudio
	}
	return headerSlot{kind: k, track: f.Track}
}

// classifyVideo fills the frame fields read from a video tag header.
// Keyframe is set only for a key frame that carries the default track
// (id 0): readers start at it, and a key frame of another track alone
// would leave the default track starting mid-GOP.
func (f *Frame) classifyVideo(h flv.VideoTagHeader) {
	f.Codec = h.Codec
	f.CompositionTime = h.CompositionTime
	f.Packet = h.PacketType
	f.Multitrack = h.Multitrack
	f.noteTracks(h.Multitrack, h.Tracks)
	if h.IsCommand() {
		return
	}
	switch h.PacketType {
	case flv.PacketSequenceStart, flv.PacketMetadata:
		f.Header = true
	case flv.PacketCodedFrames, flv.PacketCodedFramesX:
		f.codedKey = h.Keyframe()
		f.Keyframe = f.codedKey && carriesDefaultTrack(h.Multitrack, h.Tracks)
	case flv.PacketSequenceEnd:
		f.seqEnd = true
	}
}

// classifyAudio fills the frame fields read from an audio tag header.
func (f *Frame) classifyAudio(h flv.AudioTagHeader) {
	f.Codec = h.Codec
	f.Packet = h.PacketType
	f.Multitrack = h.Multitrack
	f.noteTracks(h.Multitrack, h.Tracks)
	switch h.PacketType {
	case flv.PacketSequenceStart, flv.PacketMultichannelConfig:
		f.Header = true
	case flv.PacketSequenceEnd:
		f.seqEnd = true
	}
}

// noteTracks records the track ids of a multitrack message: the first in
// Track, the others in moreTracks.
func (f *Frame) noteTracks(multitrack bool, tracks []flv.Track) {
	if !multitrack || len(tracks) == 0 {
		return
	}
	f.Track = tracks[0].ID
	if len(tracks) > 1 {
		f.moreTracks = make([]uint8, len(tracks)-1)
		for i, t := range tracks[1:] {
			f.moreTracks[i] = t.ID
		}
	}
}

// carries reports whether f carries track id: a single-track message
// carries the default track (0) only.
func (f *Frame) carries(id uint8) bool {
	if !f.Multitrack {
		return id == 0
	}
	return f.Track == id || slices.Contains(f.moreTracks, id)
}

// trackIDs calls fn with the id of every track f carries.
func (f *Frame) trackIDs(fn func(uint8)) {
	fn(f.Track)
	for _, id := range f.moreTracks {
		fn(id)
	}
}

// carriesDefaultTrack reports whether a message carries track 0: every
// single-track message does; a multitrack one when it lists track 0.
func carriesDefaultTrack(multitrack bool, tracks []flv.Track) bool {
	if !multitrack {
		return true
	}
	for _, t := range tracks {
		if t.ID == 0 {
			return true
		}
	}
	return false
}

// get returns the frame in slot k, or nil.
func (h *Headers) get(k headerSlot) *Frame {
	if !k.isDefault() {
		for _, f := range h.Tracks {
			if f.slot() == k {
				return f
			}
		}
		return nil
	}
	switch k.kind {
	case kindMetadata:
		return h.Metadata
	case kindVideo:
		return h.Video
	case kindAudio:
		return h.Audio
	}
	return nil
}

// set stores f in slot k. Tracks is copied before it changes: header sets
// held by a stream are shared and immutable.
func (h *Headers) set(k headerSlot, f *Frame) {
	if !k.isDefault() {
		i, found := slices.BinarySearchFunc(h.Tracks, k, func(g *Frame, k headerSlot) int { return g.slot().compare(k) })
		tracks := slices.Clone(h.Tracks)
		if found {
			tracks[i] = f
		} else {
			tracks = slices.Insert(tracks, i, f)
		}
		h.Tracks = tracks
		return
	}
	switch k.kind {
	case kindMetadata:
		h.Metadata = f
	case kindVideo:
		h.Video = f
	case kindAudio:
		h.Audio = f
	}
}

// All returns every header frame of the set in delivery order: metadata,
// the default video and audio sequence starts, then the other tracks'
// configuration (video before audio, by track id).
func (h Headers) All() []*Frame {
	out := make([]*Frame, 0, 3+len(h.Tracks))
	for _, f := range [...]*Frame{h.Metadata, h.Video, h.Audio} {
		if f != nil {
			out = append(out, f)
		}
	}
	return append(out, h.Tracks...)
}

// markSeqEnded notes that the sequence of f's track ended: the next header
// of that slot is appended even when identical to the one in effect.
// s.mu must be held exclusively.
func (s *Stream) markSeqEnded(f *Frame) {
	if s.seqEnded == nil {
		s.seqEnded = make(map[headerSlot]bool)
	}
	s.seqEnded[f.seqEndSlot()] = true
}

// noteHeader records that slot k holds a fresh header. Slots stay in the
// map (set to false) so that a pass over it reaches every slot in use.
// s.mu must be held exclusively.
func (s *Stream) noteHeader(k headerSlot) {
	if s.seqEnded == nil {
		s.seqEnded = make(map[headerSlot]bool)
	}
	s.seqEnded[k] = false
}
