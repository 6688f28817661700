package apisource

import (
	"github.com/mediaserver/mediaserver/api"
	"github.com/mediaserver/mediaserver/hls"
	"github.com/mediaserver/mediaserver/stream"
)

// Reconnecter asks a publisher to reconnect; *rtmp.Server is one. The RTMP
// dependency is used when it implements it.
type Reconnecter interface {
	// RequestReconnect asks the publisher of key to reconnect and reports
	// whether one that can was found.
	RequestReconnect(key stream.Key) bool
}

// HLSTracks reports which tracks the HLS rendition carries; *hls.Manager is
// one. The HLS dependency is used when it implements it.
type HLSTracks interface {
	// Stats returns the HLS counters of key.
	Stats(key stream.Key) (hls.StreamStats, bool)
}

var _ api.PublisherReconnecter = (*Source)(nil)

// ReconnectPublisher implements api.PublisherReconnecter.
func (s *Source) ReconnectPublisher(app, name string) (live, asked bool) {
	key := stream.Key{App: app, Name: name}
	if _, ok := s.deps.Hub.Lookup(key); !ok {
		return false, false
	}
	rc, ok := s.deps.RTMP.(Reconnecter)
	return true, ok && rc.RequestReconnect(key)
}

// notDefaultTrack is why tracks other than track 0 are not in HLS.
const notDefaultTrack = "the MPEG-TS HLS rendition carries track 0 of each kind only"

// hlsStatus marks each track with whether the HLS rendition carries it.
func (s *Source) hlsStatus(key stream.Key, list []api.Track) {
	h, ok := s.deps.HLS.(HLSTracks)
	if !ok {
		return
	}
	stats, found := h.Stats(key)
	for i := range list {
		t := &list[i]
		if s.renditionStatus(key, t) {
			continue // a rendition of its own (renditions.go)
		}
		if t.ID != 0 {
			t.HLS, t.HLSReason = api.HLSLeftOut, notDefaultTrack
			continue
		}
		if !found {
			continue
		}
		st := stats.Segmenter.Video
		if t.Kind == api.KindAudio {
			st = stats.Segmenter.Audio
		}
		switch {
		case st.Included:
			t.HLS = api.HLSIncluded
		case st.Reason != "":
			t.HLS, t.HLSReason = api.HLSLeftOut, st.Reason
		}
	}
}

// publisherCaps converts what an Enhanced RTMP publisher declared.
func publisherCaps(info stream.PublisherInfo) (names, fourCCs []string) {
	return info.Caps.Names(), info.Caps.Codecs
}
