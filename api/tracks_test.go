package api

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// reconnectingStreams is fakeStreams whose publisher of live/cam can
// reconnect.
type reconnectingStreams struct {
	*fakeStreams
	asked []string
}

func (r *reconnectingStreams) ReconnectPublisher(app, name string) (live, asked bool) {
	if _, ok := r.Stream(app, name); !ok {
		return false, false
	}
	if app+"/"+name != "live/cam" {
		return true, false
	}
	r.asked = append(r.asked, app+"/"+name)
	return true, true
}

func TestReconnectStream(t *testing.T) {
	f := newFixture(t, "")
	src := &reconnectingStreams{fakeStreams: f.streams}
	h := newHandler(t, Config{}, Deps{Streams: src})
	if rec := serve(h, httptestRequest(http.MethodPost, "/api/v1/streams/live/cam/reconnect")); rec.Code != http.StatusAccepted || rec.Body.Len() != 0 {
		t.Fatalf("status %d body %q", rec.Code, rec.Body)
	}
	if !reflect.DeepEqual(src.asked, []string{"live/cam"}) {
		t.Fatalf("asked %v", src.asked)
	}
	wantError(t, serve(h, httptestRequest(http.MethodPost, "/api/v1/streams/live/audio-only/reconnect")), http.StatusConflict, CodeConflict)
	wantError(t, serve(h, httptestRequest(http.MethodPost, "/api/v1/streams/live/nope/reconnect")), http.StatusNotFound, CodeNotFound)
	wantError(t, serve(h, httptestRequest(http.MethodPost, "/api/v1/streams/live/.x/reconnect")), http.StatusBadRequest, CodeBadRequest)
	wantError(t, serve(h, httptestRequest(http.MethodGet, "/api/v1/streams/live/cam/reconnect")), http.StatusMethodNotAllowed, CodeMethodNotAllowed)

	// A source that cannot ask anyone: a live stream is a conflict.
	wantError(t, f.do(t, http.MethodPost, "/api/v1/streams/live/cam/reconnect", "", ""), http.StatusConflict, CodeConflict)
	wantError(t, f.do(t, http.MethodPost, "/api/v1/streams/live/nope/reconnect", "", ""), http.StatusNotFound, CodeNotFound)
}

func TestStreamTrackList(t *testing.T) {
	f := newFixture(t, "")
	cam := camStream()
	cam.Publisher.Capabilities = []string{"reconnect", "multitrack"}
	cam.Publisher.FourCCs = []string{"av01", "hvc1"}
	cam.Tracks = []Track{
		{ID: 0, Kind: KindVideo, Codec: "H.265", FourCC: "hvc1", CodecString: "hvc1.1.6.L93.90", Profile: "Main", Level: "3.1",
			Width: 1280, Height: 720, BitDepth: 8, FPS: 29.968, HDR: "PQ", HLS: HLSIncluded},
		{ID: 1, Kind: KindVideo, Codec: "AV1", FourCC: "av01", Width: 640, Height: 360, BitDepth: 10, HLS: HLSLeftOut, HLSReason: "no fMP4",
			Bitrate: 800123.4, PeakBitrate: 1200000},
		{ID: 0, Kind: KindAudio, Codec: "AAC", FourCC: "mp4a", SampleRate: 48000, Channels: 2},
	}
	cam.KeyframeAlignment = AlignmentAligned
	f.streams.list[0] = cam
	var doc streamDoc
	decode(t, f.do(t, http.MethodGet, "/api/v1/streams/live/cam", "", ""), &doc)
	want := []trackDoc{
		{ID: 0, Kind: "video", Codec: "H.265", FourCC: "hvc1", CodecString: "hvc1.1.6.L93.90", Profile: "Main", Level: "3.1",
			Width: 1280, Height: 720, BitDepth: 8, FPS: 29.97, HDR: "PQ", HLS: "included"},
		{ID: 1, Kind: "video", Codec: "AV1", FourCC: "av01", Width: 640, Height: 360, BitDepth: 10, HLS: "left_out", HLSReason: "no fMP4",
			BitrateBPS: 800123, PeakBPS: 1200000},
		{ID: 0, Kind: "audio", Codec: "AAC", FourCC: "mp4a", SampleRate: 48000, Channels: 2, HLS: "unknown"},
	}
	if !reflect.DeepEqual(doc.Tracks.List, want) {
		t.Fatalf("tracks\n got %+v\nwant %+v", doc.Tracks.List, want)
	}
	if doc.Tracks.KeyframeAlignment != "aligned" {
		t.Errorf("keyframe alignment %q", doc.Tracks.KeyframeAlignment)
	}
	if !reflect.DeepEqual(doc.Publisher.Capabilities, []string{"reconnect", "multitrack"}) || !reflect.DeepEqual(doc.Publisher.FourCCs, []string{"av01", "hvc1"}) {
		t.Fatalf("publisher %+v", doc.Publisher)
	}
	// A stream without tracks lists none, as [] rather than null.
	rec := f.do(t, http.MethodGet, "/api/v1/streams/live/audio-only", "", "")
	if body := rec.Body.String(); !strings.Contains(body, `"list":[]`) || !strings.Contains(body, `"capabilities":[]`) ||
		!strings.Contains(body, `"keyframe_alignment":"unknown"`) {
		t.Fatalf("body %s", body)
	}
}
