package httpflv

import (
	"testing"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/stream"
)

// TestTrackSet walks frame sequences as a viewer of a starting stream sees
// them and checks when the FLV header may be written and with which flags.
func TestTrackSet(t *testing.T) {
	meta := func(a, v bool) *stream.Frame { return metaFrame(t, a, v) }
	vh, ah := videoHeaderFrame(t), audioHeaderFrame(t)
	key, aud := videoFrame(t, 0, true, 20), audioFrame(t, 0, 10)
	badMeta := mustFrame(t, flv.TagScript, 0, []byte{0x02, 0x00, 0x0a, 'o', 'n', 'M', 'e', 't', 'a', 'D', 'a', 't', 'a', 0x08})
	av := flv.Header{HasAudio: true, HasVideo: true}
	for _, tc := range []struct {
		name   string
		frames []*stream.Frame
		// readyAfter is how many frames make the set ready (-1: never).
		readyAfter int
		want       flv.Header
	}{
		{"nothing", nil, -1, av},
		{"metadata for both, then headers", []*stream.Frame{meta(true, true), vh, ah, key}, 3, av},
		{"metadata for both, video header only", []*stream.Frame{meta(true, true), vh, key}, -1, flv.Header{HasVideo: true}},
		{"metadata for audio", []*stream.Frame{meta(true, false), ah, aud}, 2, flv.Header{HasAudio: true}},
		{"metadata for video", []*stream.Frame{meta(false, true), vh, key}, 2, flv.Header{HasVideo: true}},
		{"metadata without tracks", []*stream.Frame{meta(false, false)}, -1, av},
		{"unparsable metadata, audio", []*stream.Frame{badMeta, ah, aud}, 3, flv.Header{HasAudio: true}},
		{"no metadata, both headers", []*stream.Frame{vh, ah}, 2, av},
		{"no metadata, audio", []*stream.Frame{ah, aud}, 2, flv.Header{HasAudio: true}},
		{"no metadata, video", []*stream.Frame{vh, key}, 2, flv.Header{HasVideo: true}},
		{"no metadata, media without header", []*stream.Frame{aud}, 1, flv.Header{HasAudio: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ts trackSet
			got := -1
			for i, f := range tc.frames {
				ts.add(f)
				if got < 0 && ts.ready() {
					got = i + 1
				}
			}
			if got != tc.readyAfter {
				t.Fatalf("ready after %d frames, want %d", got, tc.readyAfter)
			}
			if h := ts.header(); h != tc.want {
				t.Fatalf("header %+v, want %+v", h, tc.want)
			}
		})
	}
	t.Run("stream headers", func(t *testing.T) {
		var ts trackSet
		ts.addHeaders(stream.Headers{Metadata: meta(true, false), Audio: ah}, stream.TrackSelection{})
		if !ts.ready() || ts.header() != (flv.Header{HasAudio: true}) {
			t.Fatalf("ready %v, header %+v", ts.ready(), ts.header())
		}
	})
	// A multitrack stream whose only audio is track 1: a viewer of the
	// default tracks is told of video alone, one of audio track 1 of both.
	t.Run("selected tracks", func(t *testing.T) {
		p, err := flv.AppendAudioTag(nil, flv.AudioTagHeader{SoundFormat: flv.SoundFormatExHeader, Enhanced: true,
			Codec: flv.FourCCAAC, PacketType: flv.PacketSequenceStart, Multitrack: true,
			Tracks: []flv.Track{{ID: 1, Codec: flv.FourCCAAC, Data: []byte{0x11, 0x90}}}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		h := stream.Headers{Video: vh, Tracks: []*stream.Frame{mustFrame(t, flv.TagAudio, 0, p)}}
		for _, c := range []struct {
			sel  stream.TrackSelection
			want flv.Header
		}{
			{stream.DefaultTracks(), flv.Header{HasVideo: true}},
			{stream.TrackSelection{Single: true, Audio: 1}, av},
			{stream.TrackSelection{}, av},
		} {
			var ts trackSet
			ts.addHeaders(h, c.sel)
			if ts.header() != c.want {
				t.Errorf("%v: header %+v, want %+v", c.sel, ts.header(), c.want)
			}
		}
	})
}
