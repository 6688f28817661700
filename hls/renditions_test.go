package hls

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/stream"
)

func TestMultivariantPlaylistListsVariantsAndAudioGroup(t *testing.T) {
	vs := []variantEntry{
		{uri: "show~v0.m3u8", peak: 3000000, average: 2500000, width: 1280, height: 720, fps: 25,
			codecs: "avc1.64001f,mp4a.40.2", audio: true, independent: true},
		{uri: "show~v1.m3u8", peak: 900000, average: 800000, width: 640, height: 360, fps: 29.97,
			codecs: "avc1.64001e,mp4a.40.2", audio: true, independent: true},
	}
	got := string(appendMultivariant(nil, vs, audioRendition{name: `Eng"lish`, language: "en", channels: 2}))
	want := "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n" +
		`#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2"` + "\n" +
		`#EXT-X-STREAM-INF:BANDWIDTH=3000000,AVERAGE-BANDWIDTH=2500000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=25.000,AUDIO="audio"` + "\n" +
		"show~v0.m3u8\n" +
		`#EXT-X-STREAM-INF:BANDWIDTH=900000,AVERAGE-BANDWIDTH=800000,CODECS="avc1.64001e,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=29.970,AUDIO="audio"` + "\n" +
		"show~v1.m3u8\n"
	if got != want {
		t.Fatalf("multivariant playlist:\n%s\nwant:\n%s", got, want)
	}
	// A variant that is not independent takes the tag away; one without
	// audio or measurements lists what it has.
	vs = []variantEntry{{uri: "a.m3u8", independent: false}}
	got = string(appendMultivariant(nil, vs, audioRendition{name: "main"}))
	if strings.Contains(got, "INDEPENDENT") || strings.Contains(got, "EXT-X-MEDIA") ||
		!strings.Contains(got, "#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n") {
		t.Fatalf("playlist of a bare variant:\n%s", got)
	}
}

func TestRenditionKeysRoundTrip(t *testing.T) {
	base := stream.Key{App: "live", Name: "show"}
	for _, id := range []uint8{0, 1, 2, 255} {
		k := renditionKey(base, id)
		b, got, ok := parseRenditionKey(k)
		if !ok || b != base || got != id {
			t.Errorf("parseRenditionKey(%v) = %v, %d, %v", k, b, got, ok)
		}
	}
	for _, name := range []string{"show", "~v1", "show~v", "show~v01", "show~v256", "show~vx", "show~v-1"} {
		if _, _, ok := parseRenditionKey(stream.Key{App: "live", Name: name}); ok {
			t.Errorf("%q parsed as a rendition", name)
		}
	}
	if sel := renditionSelection(renditionKey(base, 2)); !sel.Single || sel.Video != 2 || sel.Audio != 0 {
		t.Errorf("selection of track 2: %v", sel)
	}
	if sel := renditionSelection(base); sel.Single {
		t.Errorf("selection of the stream itself: %v", sel)
	}
	if k := (&Manager{}).authKey(renditionKey(base, 1)); k != base {
		t.Errorf("rendition authorised as %v", k)
	}
}

func TestGroupsConfigIsValidated(t *testing.T) {
	for _, groups := range []map[string][]string{
		{"show": {"live/a"}},
		{"live/show": nil},
		{"live/show": {"live/a", "bad name/x"}},
		{"live/show": {"live/show"}},
		{"live/show": {"live/a"}, "live/other": {"live/a"}},
	} {
		err := Config{Groups: groups}.WithDefaults().Validate()
		if !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("groups %v: %v, want ErrInvalidConfig", groups, err)
		}
	}
	g, err := parseGroups(map[string][]string{"live/show": {"live/show_720", "other/show_360"}})
	if err != nil {
		t.Fatal(err)
	}
	group := stream.Key{App: "live", Name: "show"}
	if !slices.Equal(g.members[group], []stream.Key{{App: "live", Name: "show_720"}, {App: "other", Name: "show_360"}}) ||
		g.of[stream.Key{App: "other", Name: "show_360"}] != group {
		t.Fatalf("parsed groups %+v", g)
	}
	if u := memberURI(group, stream.Key{App: "other", Name: "show_360"}); u != "../other/show_360.m3u8" {
		t.Errorf("URI of a member in another app: %q", u)
	}
}

// segmentStarts feeds frames to a segmenter with aligned cuts and returns
// the source timestamps (ms) the segments after the first start at.
func segmentStarts(t *testing.T, frames []*stream.Frame, align bool) []int64 {
	t.Helper()
	s := NewSegmenter(SegmenterConfig{TargetDuration: 2 * time.Second, Variant: VariantFMP4})
	if align {
		s.alignCutsToSource()
	}
	var starts []int64
	at := int64(-1)
	for _, f := range frames {
		seg, err := s.WriteFrame(f)
		if err != nil {
			t.Fatal(err)
		}
		if at < 0 && !f.Header {
			at = int64(f.Time)
		}
		if seg != nil {
			at += seg.Duration.Milliseconds()
			starts = append(starts, at)
		}
	}
	return starts
}

// TestAlignedCutsFollowTheSourceTimestamps: two renditions whose segmenters
// start one keyframe apart (GOP 1 s, target 2 s) cut on the same source
// timestamps with aligned cuts, and would not without.
func TestAlignedCutsFollowTheSourceTimestamps(t *testing.T) {
	all := source{fps: 25, gop: 25, audio: true}.frames(t, 12000)
	var late []*stream.Frame // the headers, then from the keyframe at 1 s
	for _, f := range all {
		if f.Header || f.Time >= 1000 {
			late = append(late, f)
		}
	}
	a, b := segmentStarts(t, all, true), segmentStarts(t, late, true)
	if len(a) < 4 || len(b) < 4 {
		t.Fatalf("segments start at %v and %v", a, b)
	}
	for _, ms := range b {
		if !slices.Contains(a, ms) || ms%2000 != 0 {
			t.Errorf("aligned: a rendition starting at 1 s cuts at %v, the other at %v", b, a)
			break
		}
	}
	a, b = segmentStarts(t, all, false), segmentStarts(t, late, false)
	if slices.Contains(a, b[0]) {
		t.Errorf("without alignment the cuts are %v and %v: the test cannot tell", a, b)
	}
}
