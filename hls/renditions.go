package hls

import (
	"slices"
	"strconv"
	"strings"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/stream"
)

// A multitrack stream (Enhanced RTMP, several video tracks of one picture)
// is served as renditions: each video track is segmented on its own, by a
// feeder whose reader selects that track and the default audio track (the
// segmenter sees a plain stream), into a media playlist of its own, and
// /{app}/{name}.m3u8 becomes the multivariant playlist over them. Track 0
// is the stream's usual state (key {app}/{name}), whose media playlist is
// also served as /{app}/{name}~v0.m3u8; track N is the state of key
// {app}/{name}~vN. The segment URIs of every rendition are relative to
// /{app}/, so all media playlists sit beside the multivariant one.

// renditionSep separates a stream's name from a video track id in the name
// of a rendition ("show~v1").
const renditionSep = "~v"

// renditionKey returns the key of the media playlist of video track id of
// the stream key.
func renditionKey(key stream.Key, id uint8) stream.Key {
	return stream.Key{App: key.App, Name: key.Name + renditionSep + strconv.Itoa(int(id))}
}

// parseRenditionKey splits a rendition key ("show~v1") into the stream's
// key and the video track id; ok is false for any other key.
func parseRenditionKey(key stream.Key) (base stream.Key, id uint8, ok bool) {
	i := strings.LastIndex(key.Name, renditionSep)
	if i <= 0 {
		return key, 0, false
	}
	num := key.Name[i+len(renditionSep):]
	n, err := strconv.ParseUint(num, 10, 8)
	if err != nil || strconv.FormatUint(n, 10) != num {
		return key, 0, false
	}
	return stream.Key{App: key.App, Name: key.Name[:i]}, uint8(n), true
}

// renditionSelection returns the tracks the reader of the state of key
// delivers: video track N and the default audio track for a rendition
// ~vN (N > 0), every track for others (the segmenter takes track 0 of
// each kind).
func renditionSelection(key stream.Key) stream.TrackSelection {
	if _, id, ok := parseRenditionKey(key); ok && id > 0 {
		return stream.TrackSelection{Single: true, Video: id}
	}
	return stream.TrackSelection{}
}

// authKey returns the key a request for key is authorised as: the
// stream's own key for one of its renditions (unless a stream is published
// under that very name).
func (m *Manager) authKey(key stream.Key) stream.Key {
	base, _, ok := parseRenditionKey(key)
	if !ok {
		return key
	}
	if m.hub != nil {
		if s, live := m.hub.Lookup(key); live && !s.Ended() {
			return key
		}
	}
	return base
}

// videoTrackIDs returns the ids of the video tracks whose sequence start
// is in h, in order.
func videoTrackIDs(h stream.Headers) []uint8 {
	var ids []uint8
	for _, f := range h.All() {
		if f.Type != flv.TagVideo || !f.IsSequenceStart() {
			continue
		}
		hdr, err := flv.ParseVideoTagHeader(f.Payload)
		if err != nil {
			continue
		}
		for _, t := range hdr.TrackList(f.Payload) {
			if !slices.Contains(ids, t.ID) {
				ids = append(ids, t.ID)
			}
		}
	}
	slices.Sort(ids)
	return ids
}

// noteRenditions is called by the feeder f of a stream's own state (key
// without ~vN) after each batch: when the video tracks of its stream
// changed and it has some besides the default one, it records them as the
// stream's renditions and starts a feeder for each rendition that has none
// reading the stream. A stream with one video track has no renditions
// (again, after a publisher with several left).
func (m *Manager) noteRenditions(st *streamState, f *feeder) {
	if _, _, ok := parseRenditionKey(st.key); ok {
		return
	}
	src := f.src
	ids := videoTrackIDs(src.Headers())
	if f.videoTracks != nil && slices.Equal(ids, f.videoTracks) {
		return
	}
	f.videoTracks = ids
	if f.videoTracks == nil {
		f.videoTracks = []uint8{} // seen: none
	}
	multi := len(ids) > 1 && ids[0] == 0
	// The renditions' segmenters start on the timeline of this one (the
	// same output time for the same source timestamp), which its first
	// media frame sets: until then, look again after the next batch.
	offset, anchored := st.seg.timelineOffset() // this is st's feeder goroutine, the one using st.seg
	if multi && !anchored {
		f.videoTracks = nil
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	if !multi {
		delete(m.renditions, st.key)
		return
	}
	m.renditions[st.key] = ids
	st.seg.alignCutsToSource()
	for _, id := range ids[1:] {
		key := renditionKey(st.key, id)
		rs := m.listedLocked(key)
		if rs == nil {
			rs = m.newStateLocked(key)
		} else if rs.feeder != nil && rs.feeder.src == src {
			continue
		} else if rs.feeder == nil && rs.hadFeeder && m.cfg.Start == StartOnRequest && m.idle(rs) {
			continue // stopped for want of viewers; a request starts it again
		}
		m.ensureSegmenterLocked(rs)
		rs.seg.anchorTimeline(offset) // before its feeder starts
		m.startFeederLocked(rs, src)
	}
}

// idle reports whether no request for st came within Config.IdleTimeout.
func (m *Manager) idle(st *streamState) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.waiting == 0 && m.now().Sub(st.lastRequest) >= m.cfg.IdleTimeout
}

// renditionTracks returns the video track ids of the live stream key
// when it is served as renditions, or nil.
func (m *Manager) renditionTracks(key stream.Key) []uint8 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.renditions[key])
}

// renditionStateFor returns the state of rendition key for a playlist
// request, starting its feeder again when it was stopped (hls.start:
// request) and the stream still has that track; nil when there is none.
func (m *Manager) renditionStateFor(key, base stream.Key, id uint8) *streamState {
	if id == 0 {
		st, _ := m.stateFor(base)
		return st
	}
	var live *stream.Stream
	if m.hub != nil {
		if s, ok := m.hub.Lookup(base); ok && !s.Ended() && slices.Contains(videoTrackIDs(s.Headers()), id) {
			live = s
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	st := m.listedLocked(key)
	if st == nil || st.feeder != nil || live == nil {
		return st
	}
	m.startFeederLocked(st, live)
	return st
}

// alignedCuts reports whether the segmenter of key cuts on the source
// timestamps' grid (alignedcuts.go) from its start: a rendition of a
// multitrack stream or a member of a group. m.mu must be held.
func (m *Manager) alignedCuts(key stream.Key) bool {
	if _, _, ok := parseRenditionKey(key); ok {
		return true
	}
	_, ok := m.groups.of[key]
	return ok
}

// Rendition is the HLS rendition of one video track of a stream served as
// renditions.
type Rendition struct {
	// Playlist is the URL path of its media playlist
	// ("/live/show~v1.m3u8").
	Playlist string
	// Stats are its HLS counters (Live is unset when it has none yet).
	Stats StreamStats
}

// Rendition returns the rendition of video track id of the stream key
// when the stream is served as renditions (it has several video tracks)
// and id is one of them.
func (m *Manager) Rendition(key stream.Key, id uint8) (Rendition, bool) {
	if !slices.Contains(m.renditionTracks(key), id) {
		return Rendition{}, false
	}
	rk := renditionKey(key, id)
	r := Rendition{Playlist: "/" + rk.App + "/" + rk.Name + playlistSuffix}
	r.Stats, _ = m.Stats(renditionStateKey(key, id))
	return r, true
}
