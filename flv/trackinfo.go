package flv

import (
	"strconv"

	"github.com/mediaserver/mediaserver/amf"
)

// Enhanced RTMP v2 describes the tracks of a multitrack stream in
// onMetaData: audioTrackIdInfoMap and videoTrackIdInfoMap map a track id
// (as a string) to an object of that track's properties.

// TrackInfo is what onMetaData says of one track of a multitrack stream.
type TrackInfo struct {
	// Name and Language are the track's "name" (or "title") and
	// "language" (or "lang") strings; empty when not sent.
	Name, Language string
}

// AudioTrackInfo returns what audioTrackIdInfoMap says of audio track id;
// ok is false when the metadata has no entry for it.
func (m Metadata) AudioTrackInfo(id uint8) (info TrackInfo, ok bool) {
	return m.trackInfo("audioTrackIdInfoMap", id)
}

// VideoTrackInfo returns what videoTrackIdInfoMap says of video track id;
// ok is false when the metadata has no entry for it.
func (m Metadata) VideoTrackInfo(id uint8) (info TrackInfo, ok bool) {
	return m.trackInfo("videoTrackIdInfoMap", id)
}

func (m Metadata) trackInfo(mapName string, id uint8) (TrackInfo, bool) {
	v, ok := metaGet(m.Properties, mapName)
	if !ok {
		return TrackInfo{}, false
	}
	tracks, ok := asObject(v)
	if !ok {
		return TrackInfo{}, false
	}
	v, ok = metaGet(tracks, strconv.Itoa(int(id)))
	if !ok {
		return TrackInfo{}, false
	}
	props, ok := asObject(v)
	if !ok {
		return TrackInfo{}, false
	}
	var info TrackInfo
	for _, k := range [...]string{"name", "title"} {
		if s, ok := metaString(props, k); ok && info.Name == "" {
			info.Name = s
		}
	}
	for _, k := range [...]string{"language", "lang"} {
		if s, ok := metaString(props, k); ok && info.Language == "" {
			info.Language = s
		}
	}
	return info, true
}

// asObject returns the properties of an object or ECMA array value.
func asObject(v any) (amf.Object, bool) {
	switch o := v.(type) {
	case amf.Object:
		return o, true
	case amf.ECMAArray:
		return amf.Object(o), true
	case amf.TypedObject:
		return o.Object, true
	}
	return nil, false
}

// metaString returns the string property key of p.
func metaString(p amf.Object, key string) (string, bool) {
	v, ok := metaGet(p, key)
	if !ok {
		return "", false
	}
	s, ok := v.(string)
	return s, ok
}
