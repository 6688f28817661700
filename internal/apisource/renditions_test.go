package apisource

import (
	"reflect"
	"testing"

	"github.com/mediaserver/mediaserver/api"
	"github.com/mediaserver/mediaserver/hls"
	"github.com/mediaserver/mediaserver/stream"
)

// fakeHLSRenditions serves video tracks 0 and 1 as renditions; track 1's
// segmenter includes it.
type fakeHLSRenditions struct{ fakeHLSTracks }

func (f fakeHLSRenditions) Rendition(key stream.Key, id uint8) (hls.Rendition, bool) {
	switch id {
	case 0:
		return hls.Rendition{Playlist: "/live/x~v0.m3u8", Stats: f.stats}, true
	case 1:
		return hls.Rendition{Playlist: "/live/x~v1.m3u8", Stats: hls.StreamStats{Segmenter: hls.SegmenterStats{
			Video: hls.TrackStatus{Included: true}}}}, true
	}
	return hls.Rendition{}, false
}

// TestRenditionStatus: video tracks served as HLS renditions are included
// with their media playlist; other tracks keep the single-rendition rule.
func TestRenditionStatus(t *testing.T) {
	src := New(Deps{HLS: fakeHLSRenditions{fakeHLSTracks{stats: hls.StreamStats{Segmenter: hls.SegmenterStats{
		Video: hls.TrackStatus{Included: true}, Audio: hls.TrackStatus{Included: true},
	}}}}})
	list := []api.Track{{ID: 0, Kind: "video"}, {ID: 1, Kind: "video"}, {ID: 2, Kind: "video"},
		{ID: 0, Kind: "audio"}, {ID: 1, Kind: "audio"}}
	src.hlsStatus(stream.Key{App: "live", Name: "x"}, list)
	want := []api.Track{
		{ID: 0, Kind: "video", HLS: api.HLSIncluded, HLSPlaylist: "/live/x~v0.m3u8"},
		{ID: 1, Kind: "video", HLS: api.HLSIncluded, HLSPlaylist: "/live/x~v1.m3u8"},
		{ID: 2, Kind: "video", HLS: api.HLSLeftOut, HLSReason: notDefaultTrack},
		{ID: 0, Kind: "audio", HLS: api.HLSIncluded},
		{ID: 1, Kind: "audio", HLS: api.HLSLeftOut, HLSReason: notDefaultTrack},
	}
	if !reflect.DeepEqual(list, want) {
		t.Fatalf("got  %+v\nwant %+v", list, want)
	}
}
