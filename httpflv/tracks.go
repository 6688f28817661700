package httpflv

import (
	"strings"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/stream"
)

// trackSet gathers what a viewer knows about the tracks of a stream before
// it writes the FLV file header, whose HasAudio and HasVideo flags must be
// honest: players such as flv.js and mpegts.js wait forever for a track the
// header announces.
type trackSet struct {
	audio, video bool // the track is known to exist: a header or frame was seen
	media        bool // a media frame (not decoder configuration) was seen
	metadata     bool // onMetaData was seen and parsed
	metaAudio    bool // onMetaData announces an audio track
	metaVideo    bool // onMetaData announces a video track
}

// addHeaders records the stream's current header set: the configuration
// of the tracks the viewer gets (sel) of a multitrack stream.
func (t *trackSet) addHeaders(h stream.Headers, sel stream.TrackSelection) {
	for _, f := range h.All() {
		if sel.Selects(f) {
			t.add(f)
		}
	}
}

// add records one frame delivered to the viewer.
func (t *trackSet) add(f *stream.Frame) {
	switch f.Type {
	case flv.TagVideo:
		t.video = true
	case flv.TagAudio:
		t.audio = true
	case flv.TagScript:
		if f.Header && !t.metadata {
			t.addMetadata(f.Payload)
		}
		return
	}
	if !f.Header {
		t.media = true
	}
}

// addMetadata notes which tracks an onMetaData payload announces. A payload
// that does not parse is ignored.
func (t *trackSet) addMetadata(payload []byte) {
	md, err := flv.ParseMetadata(payload)
	if err != nil {
		return
	}
	t.metadata = true
	for _, p := range md.Properties {
		switch {
		case strings.EqualFold(p.Key, "videocodecid"):
			t.metaVideo = true
		case strings.EqualFold(p.Key, "audiocodecid"):
			t.metaAudio = true
		}
	}
}

// ready reports whether the header can be written now: both tracks are
// known, or every track the metadata announces is known, or (without
// metadata) media has started, which publishers do only after sending the
// sequence headers of all their tracks.
func (t *trackSet) ready() bool {
	switch {
	case t.audio && t.video:
		return true
	case !t.audio && !t.video:
		return false
	case t.metadata:
		return (t.audio || !t.metaAudio) && (t.video || !t.metaVideo)
	default:
		return t.media
	}
}

// header returns the FLV file header for what is known. With no track known
// at all (a publisher that has sent nothing usable), it trusts the metadata,
// and without metadata announces both tracks, the common case.
func (t *trackSet) header() flv.Header {
	switch {
	case t.audio || t.video:
		return flv.Header{HasAudio: t.audio, HasVideo: t.video}
	case t.metadata && (t.metaAudio || t.metaVideo):
		return flv.Header{HasAudio: t.metaAudio, HasVideo: t.metaVideo}
	default:
		return flv.Header{HasAudio: true, HasVideo: true}
	}
}
