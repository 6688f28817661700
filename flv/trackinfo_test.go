package flv

import (
	"testing"

	"github.com/mediaserver/mediaserver/amf"
)

func TestTrackInfoFromTrackIdInfoMaps(t *testing.T) {
	in := Metadata{Properties: amf.Object{
		{Key: "audioTrackIdInfoMap", Value: amf.ECMAArray{
			{Key: "0", Value: amf.Object{{Key: "name", Value: "English"}, {Key: "language", Value: "en"}}},
			{Key: "1", Value: amf.Object{{Key: "title", Value: "Commentary"}, {Key: "lang", Value: "de"}}},
			{Key: "2", Value: 3.0},
		}},
		{Key: "videoTrackIdInfoMap", Value: amf.Object{{Key: "1", Value: amf.Object{{Key: "width", Value: 640.0}}}}},
	}}
	payload, err := in.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	md, err := ParseMetadata(payload)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		id   uint8
		want TrackInfo
		ok   bool
	}{
		{0, TrackInfo{Name: "English", Language: "en"}, true},
		{1, TrackInfo{Name: "Commentary", Language: "de"}, true},
		{2, TrackInfo{}, false}, // not an object
		{3, TrackInfo{}, false},
	} {
		got, ok := md.AudioTrackInfo(c.id)
		if got != c.want || ok != c.ok {
			t.Errorf("audio track %d: %+v, %v; want %+v, %v", c.id, got, ok, c.want, c.ok)
		}
	}
	if got, ok := md.VideoTrackInfo(1); !ok || got != (TrackInfo{}) {
		t.Errorf("video track 1: %+v, %v", got, ok)
	}
	if _, ok := (Metadata{}).AudioTrackInfo(0); ok {
		t.Error("metadata without the map has track info")
	}
}
