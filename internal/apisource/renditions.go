package apisource

import (
	"github.com/mediaserver/mediaserver/api"
	"github.com/mediaserver/mediaserver/hls"
	"github.com/mediaserver/mediaserver/stream"
)

// HLSRenditions tells which video tracks of a multitrack stream HLS serves
// as renditions; *hls.Manager is one. The HLS dependency is used when it
// implements it.
type HLSRenditions interface {
	// Rendition returns the rendition of video track id of key, if the
	// stream is served as renditions.
	Rendition(key stream.Key, id uint8) (hls.Rendition, bool)
}

// renditionStatus marks each video track that HLS serves as a rendition
// with its media playlist and whether its segmenter includes it; it
// reports whether t is one.
func (s *Source) renditionStatus(key stream.Key, t *api.Track) bool {
	h, ok := s.deps.HLS.(HLSRenditions)
	if !ok || t.Kind != api.KindVideo || t.ID < 0 || t.ID > 255 {
		return false
	}
	r, ok := h.Rendition(key, uint8(t.ID))
	if !ok {
		return false
	}
	t.HLSPlaylist = r.Playlist
	switch v := r.Stats.Segmenter.Video; {
	case v.Included:
		t.HLS, t.HLSReason = api.HLSIncluded, ""
	case v.Reason != "":
		t.HLS, t.HLSReason = api.HLSLeftOut, v.Reason
	default:
		t.HLS, t.HLSReason = api.HLSUnknown, ""
	}
	return true
}
