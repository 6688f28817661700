package hls

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/mediaserver/mediaserver/internal/mediahttp"
	"github.com/mediaserver/mediaserver/stream"
)

// serveVariantPlaylist answers a playlist request for key that is not a
// plain media playlist and reports true: the multivariant playlist of a
// group (Config.Groups) or of a multitrack stream, or the media playlist
// of a rendition ({name}~vN). It reports false, having answered nothing,
// for every other key.
func (m *Manager) serveVariantPlaylist(w http.ResponseWriter, r *http.Request, key stream.Key) bool {
	if members, ok := m.groups.members[key]; ok {
		if m.authorize(w, r, key) {
			m.serveGroup(w, r, key, members)
		}
		return true
	}
	if m.hub == nil {
		return false
	}
	if m.leftGroup(key) {
		mediahttp.Error(w, http.StatusNotFound, "stream not live: it left its group")
		return true
	}
	if base, id, ok := parseRenditionKey(key); ok {
		if s, live := m.hub.Lookup(key); live && !s.Ended() {
			return false // a stream published under that very name
		}
		if !m.authorize(w, r, base) {
			return true
		}
		st := m.renditionStateFor(key, base, id)
		if st == nil {
			mediahttp.Error(w, http.StatusNotFound, "stream not found")
			return true
		}
		m.serveMediaPlaylist(w, r, key, st)
		return true
	}
	ids := m.renditionTracks(key)
	if len(ids) < 2 {
		return false
	}
	if m.authorize(w, r, key) {
		m.serveRenditions(w, r, key, ids)
	}
	return true
}

// renditionReport is one EXT-X-RENDITION-REPORT: another rendition of the
// same multivariant playlist.
type renditionReport struct {
	uri string
	st  *streamState
}

// siblings returns the other renditions of the multivariant playlist st
// belongs to (a multitrack stream's or a group's), with their URIs
// relative to st's media playlist.
func (m *Manager) siblings(st *streamState) []renditionReport {
	base, own := st.key, uint8(0)
	if b, id, ok := parseRenditionKey(st.key); ok {
		base, own = b, id
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []renditionReport
	if ids := m.renditions[base]; len(ids) > 1 {
		for _, id := range ids {
			if id == own {
				continue
			}
			if s := m.states[renditionStateKey(base, id)]; s != nil {
				out = append(out, renditionReport{uri: renditionKey(base, id).Name + playlistSuffix, st: s})
			}
		}
		return out
	}
	group, ok := m.groups.of[st.key]
	if !ok {
		return nil
	}
	for _, mk := range m.groups.members[group] {
		if s := m.states[mk]; s != nil && mk != st.key {
			out = append(out, renditionReport{uri: memberURI(st.key, mk), st: s})
		}
	}
	return out
}

// withRenditionReports returns the lowlatency playlist body of st with an
// EXT-X-RENDITION-REPORT for each other live rendition of its
// multivariant playlist appended (body itself when there is none).
func (m *Manager) withRenditionReports(body []byte, st *streamState) []byte {
	reports := m.siblings(st)
	if len(reports) == 0 {
		return body
	}
	out := slices.Clip(body)
	for _, rep := range reports {
		msn, part, ok := rep.st.lastPosition()
		if !ok {
			continue
		}
		out = append(out, `#EXT-X-RENDITION-REPORT:URI="`...)
		out = append(out, rep.uri...)
		out = append(out, `",LAST-MSN=`...)
		out = strconv.AppendUint(out, msn, 10)
		if part >= 0 {
			out = append(out, ",LAST-PART="...)
			out = strconv.AppendInt(out, int64(part), 10)
		}
		out = append(out, '\n')
	}
	return out
}

// lastPosition returns the media sequence number of the last segment of
// st's live playlist (the one in progress when it has parts) and the index
// of its last part (-1 when it has none); ok is false when the playlist is
// not live or lists nothing.
func (st *streamState) lastPosition() (msn uint64, part int, ok bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.freed || st.endList || st.playlist == nil {
		return 0, 0, false
	}
	if len(st.pending) > 0 {
		return st.nextSeq, len(st.pending) - 1, true
	}
	win := st.windowEntries()
	if len(win) == 0 {
		return 0, 0, false
	}
	last := win[len(win)-1]
	return last.seq, len(last.parts) - 1, true
}

// leftGroup reports whether key is a group member whose publisher is
// gone or away: its media playlist is 404 until one comes, so that a
// player of the group switches to another variant at once (a 4xx is not
// retried) instead of waiting on a playlist that no longer grows.
func (m *Manager) leftGroup(key stream.Key) bool {
	if _, ok := m.groups.of[key]; !ok || m.hub == nil {
		return false
	}
	s, ok := m.hub.Lookup(key)
	return !ok || s.State() != stream.StateLive
}
