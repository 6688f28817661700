package stream

import (
	"slices"
	"time"

	"github.com/mediaserver/mediaserver/flv"
)

// A multitrack stream carries renditions: several video tracks of one
// picture (1080p, 720p …) and audio tracks, which a multivariant HLS
// playlist offers as variants. Each track's bitrate and frame rate are
// measured on the frames that arrive, over the window of the stream's
// rates; the keyframes of the video tracks are compared to tell whether
// segments of all renditions can be cut on the same timestamps.

const (
	// maxMeteredTracks bounds the tracks measured per stream: a publisher
	// naming many track ids cannot make the meter grow further.
	maxMeteredTracks = 32
	// keyHistory is how many keyframe timestamps are kept per video track
	// to compare the tracks' keyframes.
	keyHistory = 8
)

// KeyframeAlignment tells whether the keyframes of a stream's video tracks
// fall on the same timestamps.
type KeyframeAlignment uint8

// Keyframe alignments.
const (
	// AlignmentUnknown: fewer than two video tracks, or not enough
	// keyframes of each seen yet to compare.
	AlignmentUnknown KeyframeAlignment = iota
	// AlignmentAligned: over the recent keyframes, every video track has
	// its keyframes on the same timestamps as the others.
	AlignmentAligned
	// AlignmentUnaligned: some track has a keyframe where another has
	// none.
	AlignmentUnaligned
)

// String returns "unknown", "aligned" or "unaligned".
func (a KeyframeAlignment) String() string {
	switch a {
	case AlignmentAligned:
		return "aligned"
	case AlignmentUnaligned:
		return "unaligned"
	}
	return "unknown"
}

// Rendition describes one video or audio track of a stream: what its
// decoder configuration says and what was measured.
type Rendition struct {
	// Track is the Enhanced RTMP track id (0 for the default track).
	Track uint8
	// Codec is the track's FourCC; CodecString its RFC 6381 codecs
	// parameter ("avc1.64001f", "mp4a.40.2"), empty when the configuration
	// does not tell.
	Codec       flv.FourCC
	CodecString string
	// Width and Height are the picture size (video; 0 when unknown).
	Width, Height int
	// FPS is the measured frame rate (video), or the one the bitstream
	// signals while none was measured yet.
	FPS float64
	// SampleRate (Hz) and Channels describe audio.
	SampleRate, Channels int
	// Bitrate is the measured payload rate in bits per second over the
	// last seconds (HLS AVERAGE-BANDWIDTH); PeakBitrate the highest rate
	// of one second in that window (HLS BANDWIDTH).
	Bitrate, PeakBitrate float64
}

// Renditions are a stream's tracks as renditions.
type Renditions struct {
	// Video and Audio list the tracks whose sequence start arrived, by
	// track id.
	Video, Audio []Rendition
	// KeyframeAlignment compares the keyframes of the video tracks.
	KeyframeAlignment KeyframeAlignment
}

// trackBucket accumulates one second of one track's frames.
type trackBucket struct {
	sec    uint32
	valid  bool
	frames uint32
	bytes  uint64
}

// trackMeter measures one track. It is guarded by Stream.statsMu.
type trackMeter struct {
	typ     flv.TagType
	id      uint8
	buckets [bucketCount]trackBucket
	// keys holds the newest keyframe timestamps (video), keyN of them in
	// all; the newest is at keys[(keyN-1)%keyHistory].
	keys [keyHistory]uint32
	keyN int
}

// recordTrack counts the media frame f (payload bytes size, in second
// sec of the window) for each track it carries.
func (m *meter) recordTrack(f *Frame, sec uint32, size uint64) {
	if f.moreTracks == nil {
		m.trackMeter(f.Type, f.Track).add(f, sec, size)
		return
	}
	for _, t := range frameTrackList(f) {
		m.trackMeter(f.Type, t.ID).add(f, sec, uint64(len(t.Data)))
	}
}

// frameTrackList returns the tracks of a multitrack message.
func frameTrackList(f *Frame) []flv.Track {
	switch f.Type {
	case flv.TagVideo:
		if h, err := flv.ParseVideoTagHeader(f.Payload); err == nil {
			return h.Tracks
		}
	case flv.TagAudio:
		if h, err := flv.ParseAudioTagHeader(f.Payload); err == nil {
			return h.Tracks
		}
	}
	return nil
}

// trackMeter returns the meter of track id of type typ, added on first
// use; past maxMeteredTracks a track shares a scratch meter nobody reads.
func (m *meter) trackMeter(typ flv.TagType, id uint8) *trackMeter {
	for i := range m.tracks {
		if t := &m.tracks[i]; t.typ == typ && t.id == id {
			return t
		}
	}
	if len(m.tracks) >= maxMeteredTracks {
		m.overflow = trackMeter{}
		return &m.overflow
	}
	m.tracks = append(m.tracks, trackMeter{typ: typ, id: id})
	return &m.tracks[len(m.tracks)-1]
}

// add counts one frame of the track.
func (t *trackMeter) add(f *Frame, sec uint32, size uint64) {
	b := &t.buckets[sec&bucketMask]
	if !b.valid || b.sec != sec {
		*b = trackBucket{sec: sec, valid: true}
	}
	b.frames++
	b.bytes += size
	if f.codedKey {
		if t.keyN == 0 || t.keys[(t.keyN-1)%keyHistory] != f.Time {
			t.keys[t.keyN%keyHistory] = f.Time
			t.keyN++
		}
	}
}

// rates returns the track's frame rate, average and peak bit rate over
// the window [from, to) of span seconds.
func (t *trackMeter) rates(from, to uint32, span float64) (fps, bitrate, peak float64) {
	var frames, bytes, top uint64
	for sec := from; sec < to; sec++ {
		b := &t.buckets[sec&bucketMask]
		if !b.valid || b.sec != sec {
			continue
		}
		frames += uint64(b.frames)
		bytes += b.bytes
		top = max(top, b.bytes)
	}
	return float64(frames) / span, float64(bytes*8) / span, float64(top * 8)
}

// keyTimes returns the track's kept keyframe timestamps, oldest first.
func (t *trackMeter) keyTimes() []uint32 {
	n := min(t.keyN, keyHistory)
	out := make([]uint32, 0, n)
	for i := t.keyN - n; i < t.keyN; i++ {
		out = append(out, t.keys[i%keyHistory])
	}
	return out
}

// keyframeAlignment compares the keyframes of the video tracks: on the
// stretch of time every track's kept keyframes cover, each track must have
// its keyframes on the same timestamps, and at least two of them.
func keyframeAlignment(tracks [][]uint32) KeyframeAlignment {
	if len(tracks) < 2 {
		return AlignmentUnknown
	}
	var from, to uint32
	for i, keys := range tracks {
		if len(keys) < 2 {
			return AlignmentUnknown
		}
		if i == 0 || keys[0] > from {
			from = keys[0]
		}
		if last := keys[len(keys)-1]; i == 0 || last < to {
			to = last
		}
	}
	if from > to {
		return AlignmentUnknown
	}
	within := func(keys []uint32) []uint32 {
		return slices.DeleteFunc(slices.Clone(keys), func(k uint32) bool { return k < from || k > to })
	}
	ref := within(tracks[0])
	if len(ref) < 2 {
		return AlignmentUnknown
	}
	for _, keys := range tracks[1:] {
		if !slices.Equal(within(keys), ref) {
			return AlignmentUnaligned
		}
	}
	return AlignmentAligned
}

// Renditions returns the stream's video and audio tracks with what their
// decoder configurations say and the rates measured over the last
// seconds, and whether the video tracks' keyframes are aligned.
func (s *Stream) Renditions() Renditions {
	var out Renditions
	for _, f := range s.Headers().All() {
		if !f.IsSequenceStart() {
			continue
		}
		for _, t := range headerTrackList(f) {
			r := Rendition{Track: t.ID, Codec: t.Codec}
			if f.Type == flv.TagVideo {
				if c, err := flv.ParseVideoConfig(t.Codec, t.Data); err == nil {
					r.CodecString, r.Width, r.Height, r.FPS = c.CodecString, c.Width, c.Height, c.FrameRate
				}
				out.Video = append(out.Video, r)
				continue
			}
			if c, err := flv.ParseAudioConfig(t.Codec, t.Data); err == nil {
				r.CodecString, r.SampleRate, r.Channels = c.CodecString, c.SampleRate, c.Channels
			}
			out.Audio = append(out.Audio, r)
		}
	}
	byTrack := func(a, b Rendition) int { return int(a.Track) - int(b.Track) }
	slices.SortFunc(out.Video, byTrack)
	slices.SortFunc(out.Audio, byTrack)

	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	m := &s.meter
	from, to, span := m.window(time.Now())
	var keys [][]uint32
	for i := range m.tracks {
		t := &m.tracks[i]
		list := out.Audio
		if t.typ == flv.TagVideo {
			list = out.Video
			keys = append(keys, t.keyTimes())
		}
		j := slices.IndexFunc(list, func(r Rendition) bool { return r.Track == t.id })
		if j < 0 || span == 0 {
			continue
		}
		fps, bitrate, peak := t.rates(from, to, span)
		list[j].Bitrate, list[j].PeakBitrate = bitrate, peak
		if t.typ == flv.TagVideo && fps > 0 {
			list[j].FPS = fps
		}
	}
	out.KeyframeAlignment = keyframeAlignment(keys)
	return out
}

// headerTrackList returns the tracks of a sequence start: one, with id 0,
// for a single-track message.
func headerTrackList(f *Frame) []flv.Track {
	switch f.Type {
	case flv.TagVideo:
		if h, err := flv.ParseVideoTagHeader(f.Payload); err == nil {
			return h.TrackList(f.Payload)
		}
	case flv.TagAudio:
		if h, err := flv.ParseAudioTagHeader(f.Payload); err == nil {
			return h.TrackList(f.Payload)
		}
	}
	return nil
}

// CodecString returns the RFC 6381 codecs parameter of track id of type
// typ (flv.TagVideo or flv.TagAudio) from its sequence start in h:
// "avc1.64001f", "hvc1.1.6.L93.90", "mp4a.40.2" …; "" when h has no
// sequence start of that track or it does not tell.
func (h Headers) CodecString(typ flv.TagType, id uint8) string {
	for _, f := range h.All() {
		if f.Type != typ || !f.IsSequenceStart() || !f.carries(id) {
			continue
		}
		for _, t := range headerTrackList(f) {
			if t.ID != id {
				continue
			}
			if typ == flv.TagVideo {
				c, _ := flv.ParseVideoConfig(t.Codec, t.Data)
				return c.CodecString
			}
			c, _ := flv.ParseAudioConfig(t.Codec, t.Data)
			return c.CodecString
		}
	}
	return ""
}
