package hls

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/amf"
	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

// mediaLineRE matches the URI line of a segment.
var mediaLineRE = regexp.MustCompile(`(?m)^[^#].*\.(m4s|ts)\?user=good$`)

// multitrackAVC returns an Enhanced RTMP multitrack (one track) avc1 video
// tag body carrying track id.
func multitrackAVC(t *testing.T, id uint8, pt flv.PacketType, key bool, body []byte) []byte {
	t.Helper()
	ft := flv.FrameInter
	if key {
		ft = flv.FrameKey
	}
	p, err := flv.AppendVideoTag(nil, flv.VideoTagHeader{FrameType: ft, Enhanced: true, PacketType: pt,
		Codec: flv.FourCCAVC, Multitrack: true, MultitrackType: flv.MultitrackOneTrack,
		Tracks: []flv.Track{{ID: id, Codec: flv.FourCCAVC, Data: body}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// unalignedMultitrack returns ms of a stream with onMetaData naming its
// audio track, video track 0 (legacy AVC, a keyframe every second on the
// second), video track 1 (multitrack avc1, a keyframe every second 480 ms
// later: not aligned) and AAC.
func unalignedMultitrack(t *testing.T, ms int) []*stream.Frame {
	return multitrackFrames(t, source{fps: 25, gop: 25, audio: true}, ms, 12)
}

// multitrackFrames returns ms of src with onMetaData naming its audio
// track and a second video track (multitrack avc1, track 1) beside its
// video, whose keyframes come phase frames after track 0's (0: aligned).
func multitrackFrames(t *testing.T, src source, ms, phase int) []*stream.Frame {
	t.Helper()
	md, err := flv.Metadata{Properties: amf.Object{{Key: "audioTrackIdInfoMap", Value: amf.Object{
		{Key: "0", Value: amf.Object{{Key: "name", Value: "English"}, {Key: "language", Value: "en"}}},
	}}}}.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	out := []*stream.Frame{frame(t, flv.TagScript, src.start, md)}
	n := 0
	for _, f := range src.frames(t, ms) {
		out = append(out, f)
		if f.Type != flv.TagVideo {
			continue
		}
		if f.Header {
			config := avcHeaderPayload(testSPS, testPPS)[5:]
			out = append(out, frame(t, flv.TagVideo, f.Time, multitrackAVC(t, 1, flv.PacketSequenceStart, true, config)))
			continue
		}
		key := n%src.gop == phase
		out = append(out, frame(t, flv.TagVideo, f.Time,
			multitrackAVC(t, 1, flv.PacketCodedFramesX, key, avcc(nil, slice(key, 300, byte(n))))))
		n++
	}
	return out
}

// publishRenditions writes frames to p: the first second, then, once the
// manager serves key as renditions, the rest in small steps so that no
// reader falls behind.
func publishRenditions(t *testing.T, tm *testManager, p *stream.Publisher, key stream.Key, frames []*stream.Frame) {
	t.Helper()
	first := 0
	for first < len(frames) && frames[first].Time < frames[0].Time+1000 {
		first++
	}
	writeFrames(p, frames[:first])
	testenv.WaitFor(t, 10*time.Second, "two renditions", func() bool { return len(tm.m.renditionTracks(key)) == 2 })
	for i := first; i < len(frames); i += 20 {
		writeFrames(p, frames[i:min(i+20, len(frames))])
		time.Sleep(2 * time.Millisecond)
	}
}

// TestRenditionsShareTheStreamTimeline pins renditions that started on a
// timeline of their own: the stream's segmenter read only headers in its
// first batch and its first media frame (audio) came 19 ms before the
// first keyframe, where the rendition's segmenter starts; the rendition's
// segments then started 19 ms off the stream's.
func TestRenditionsShareTheStreamTimeline(t *testing.T) {
	tm := startManager(t, Config{Variant: VariantLowLatency, SegmentDuration: 2 * time.Second})
	key := stream.Key{App: "live", Name: "tl"}
	p := tm.publish(t, key)
	frames := multitrackFrames(t, source{fps: 25, gop: 25, audio: true, start: 40}, 12000, 0)
	media := slices.IndexFunc(frames, func(f *stream.Frame) bool { return !f.Header })
	writeFrames(p, frames[:media]) // headers alone, likely a batch of their own
	time.Sleep(50 * time.Millisecond)
	early := frame(t, flv.TagAudio, 21, audioPayload(50, 0))
	publishRenditions(t, tm, p, key, append([]*stream.Frame{early}, frames[media:]...))
	_, body := tm.get(t, http.MethodGet, "/live/tl.m3u8")
	vs := parseVariants(body)
	if len(vs) != 2 {
		t.Fatalf("multivariant playlist:\n%s", body)
	}
	checkAlignedSegments(t, tm.srv.URL+"/live/", vs)
	p.Close()
}

// streamAuthorizer allows playing one stream with the query "user=good".
type streamAuthorizer struct{ key stream.Key }

func (a streamAuthorizer) Authorize(_ context.Context, req stream.AccessRequest) error {
	if req.Key != a.key || req.Query != "user=good" {
		return errors.New("refused")
	}
	return nil
}

// TestUnalignedRenditionsStayValid: renditions whose keyframes are not
// aligned are still listed, their playlists still parse strictly, and the
// stream says they are not aligned; the audio group is named from
// audioTrackIdInfoMap. Every request is authorised as the stream, with the
// query the multivariant playlist propagated. So in every variant.
func TestUnalignedRenditionsStayValid(t *testing.T) {
	for _, v := range []Variant{VariantLowLatency, VariantFMP4, VariantMPEGTS} {
		t.Run(string(v), func(t *testing.T) { checkUnalignedRenditions(t, v) })
	}
}

func checkUnalignedRenditions(t *testing.T, variant Variant) {
	key := stream.Key{App: "live", Name: "mt"}
	tm := startManager(t, Config{Variant: variant, SegmentDuration: 2 * time.Second,
		Authorizer: streamAuthorizer{key}})
	p := tm.publish(t, key)
	publishRenditions(t, tm, p, key, unalignedMultitrack(t, 12000))
	if resp, _ := tm.get(t, http.MethodGet, "/live/mt~v1.m3u8?user=bad"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("rendition playlist for a refused client: %d, want 403", resp.StatusCode)
	}
	resp, body := tm.get(t, http.MethodGet, "/live/mt.m3u8?user=good")
	vs := parseVariants(body)
	if resp.StatusCode != http.StatusOK || len(vs) != 2 || vs[0].uri != "mt~v0.m3u8?user=good" ||
		vs[1].uri != "mt~v1.m3u8?user=good" {
		t.Fatalf("multivariant playlist: %d\n%s", resp.StatusCode, body)
	}
	if !strings.Contains(string(body), `NAME="English",LANGUAGE="en"`) {
		t.Errorf("audio group not named from audioTrackIdInfoMap:\n%s", body)
	}
	s, ok := tm.hub.Lookup(key)
	if !ok {
		t.Fatal("stream gone")
	}
	if a := s.Renditions().KeyframeAlignment; a != stream.AlignmentUnaligned {
		t.Errorf("keyframe alignment %v, want unaligned", a)
	}
	dir := t.TempDir()
	files := []string{filepath.Join(dir, "mv.m3u8")}
	if err := os.WriteFile(files[0], body, 0o600); err != nil {
		t.Fatal(err)
	}
	for i, v := range vs {
		resp, media := tm.get(t, http.MethodGet, "/live/"+v.uri)
		if resp.StatusCode != http.StatusOK || strings.Count(string(media), "#EXTINF:") < 3 {
			t.Fatalf("%s: %d\n%s", v.uri, resp.StatusCode, media)
		}
		// The first segment it lists, with the propagated query.
		line := mediaLineRE.FindString(string(media))
		if resp, _ := tm.get(t, http.MethodGet, "/live/"+line); line == "" || resp.StatusCode != http.StatusOK {
			t.Errorf("%s: segment %q: %d", v.uri, line, resp.StatusCode)
		}
		f := filepath.Join(dir, fmt.Sprintf("m%d.m3u8", i))
		if err := os.WriteFile(f, media, 0o600); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	for file, r := range runHLSParser(t, files) {
		if r.Error != "" {
			t.Errorf("hls-parser: %s: %s", filepath.Base(file), r.Error)
		}
	}
	p.Close()
}
