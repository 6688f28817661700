package hls

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/browsertest"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

// Renditions with real peers: FFmpeg 8.1 (the Enhanced RTMP peer) sends
// one multitrack stream of three H.264 renditions and AAC, or three
// Debian ffmpeg publishers form a group; the multivariant playlist is
// checked attribute by attribute, ffmpeg decodes every media playlist,
// hls-parser (strict) reads them all, and hls.js plays while it is made to
// switch levels.

// streamInfRE matches a variant: its attributes and its URI.
var streamInfRE = regexp.MustCompile(`(?m)^#EXT-X-STREAM-INF:(.*)\n(.*)$`)

// attributes splits an attribute list (A=1,B="x,y") into a map, quotes
// removed.
func attributes(list string) map[string]string {
	out := map[string]string{}
	for list != "" {
		name, rest, _ := strings.Cut(list, "=")
		var value string
		if strings.HasPrefix(rest, `"`) {
			end := strings.IndexByte(rest[1:], '"') + 1
			value, rest = rest[1:end], rest[end+1:]
		} else {
			value, rest, _ = strings.Cut(rest, ",")
			rest = "," + rest
		}
		out[name] = value
		list = strings.TrimPrefix(rest, ",")
	}
	return out
}

// variantAttrs is one parsed EXT-X-STREAM-INF.
type variantAttrs struct {
	uri   string
	attrs map[string]string
}

// parseVariants returns the variants of a multivariant playlist.
func parseVariants(body []byte) []variantAttrs {
	var out []variantAttrs
	for _, m := range streamInfRE.FindAllStringSubmatch(string(body), -1) {
		out = append(out, variantAttrs{uri: m[2], attrs: attributes(m[1])})
	}
	return out
}

// checkVariant checks the measured and declared attributes of a variant
// of the given size (25 fps H.264 + AAC).
func checkVariant(t *testing.T, v variantAttrs, width, height int) {
	t.Helper()
	a := v.attrs
	peak, _ := strconv.Atoi(a["BANDWIDTH"])
	avg, _ := strconv.Atoi(a["AVERAGE-BANDWIDTH"])
	if res := fmt.Sprintf("%dx%d", width, height); a["RESOLUTION"] != res {
		t.Errorf("%s: RESOLUTION %q, want %s", v.uri, a["RESOLUTION"], res)
	}
	if fps, err := strconv.ParseFloat(a["FRAME-RATE"], 64); err != nil || fps < 24 || fps > 26 {
		t.Errorf("%s: FRAME-RATE %q, want about 25", v.uri, a["FRAME-RATE"])
	}
	if !regexp.MustCompile(`^avc1\.[0-9a-f]{6},mp4a\.40\.2$`).MatchString(a["CODECS"]) {
		t.Errorf("%s: CODECS %q, want avc1 and mp4a.40.2", v.uri, a["CODECS"])
	}
	if avg <= 0 || peak < avg {
		t.Errorf("%s: BANDWIDTH %d, AVERAGE-BANDWIDTH %d", v.uri, peak, avg)
	}
	if a["AUDIO"] != audioGroupID {
		t.Errorf("%s: AUDIO %q", v.uri, a["AUDIO"])
	}
}

// checkMediaPlaylists fetches the multivariant playlist at url (with a
// query that must reach every URI) and each of its media playlists, checks
// that each reports the other renditions, has hls-parser read them all in
// strict mode and ffmpeg decode each media playlist.
func checkMediaPlaylists(t *testing.T, base, url string, vs []variantAttrs) {
	t.Helper()
	dir := t.TempDir()
	_, _, mv := httpGet(t, url+"?token=abc")
	for _, v := range parseVariants(mv) {
		if !strings.HasSuffix(v.uri, "?token=abc") {
			t.Errorf("variant URI %q lost the playlist's query", v.uri)
		}
	}
	files := []string{filepath.Join(dir, "multivariant.m3u8")}
	if err := os.WriteFile(files[0], mv, 0o600); err != nil {
		t.Fatal(err)
	}
	for i, v := range vs {
		code, _, body := httpGet(t, base+v.uri+"?token=abc")
		if code != 200 || !strings.Contains(string(body), "#EXT-X-PART:") {
			t.Fatalf("%s: %d\n%s", v.uri, code, body)
		}
		for j, o := range vs {
			report := `#EXT-X-RENDITION-REPORT:URI="` + o.uri + `?token=abc",LAST-MSN=`
			if has := strings.Contains(string(body), report); has != (i != j) {
				t.Errorf("%s: rendition report of %s: %v, want %v\n%s", v.uri, o.uri, has, i != j, body)
			}
		}
		f := filepath.Join(dir, fmt.Sprintf("media%d.m3u8", i))
		if err := os.WriteFile(f, body, 0o600); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	for file, r := range runHLSParser(t, files) {
		master := strings.HasSuffix(file, "multivariant.m3u8")
		if r.Error != "" || r.Master != master || master && r.Variants != len(vs) || !master && r.Parts == 0 {
			t.Errorf("hls-parser: %s: %+v", filepath.Base(file), r)
		}
	}
	for _, v := range vs {
		decodeClean(t, base+v.uri, 4*time.Second)
	}
}

// checkSwitching plays url with hls.js, switching level every 3 s, and
// checks that it saw want levels, switched to at least two of them and
// kept playing after the last switch.
func checkSwitching(t *testing.T, url string, want int) {
	t.Helper()
	r := browsertest.PlaySwitchingLevels(t, url, 16*time.Second, 3*time.Second)
	if len(r.Levels) != want {
		t.Errorf("hls.js found levels %v, want %d", r.Levels, want)
	}
	var levels []float64
	for _, s := range r.Switched {
		if !slices.Contains(levels, s[1]) {
			levels = append(levels, s[1])
		}
	}
	if len(levels) < 2 {
		t.Errorf("hls.js switched to levels %v only", r.Switched)
	}
	if errs := fatalPlayerErrors(r); len(errs) > 0 {
		t.Errorf("hls.js errors: %v", errs)
	}
	if len(r.Switched) == 0 || len(r.Samples) == 0 {
		t.Fatalf("no switch or no sample: %+v", r)
	}
	last := r.Switched[len(r.Switched)-1][0]
	var after [][2]float64
	for _, s := range r.Samples {
		if s[0] >= last {
			after = append(after, s)
		}
	}
	if len(after) < 2 || after[len(after)-1][1] <= after[0][1] {
		t.Errorf("currentTime did not advance after the switch at %.0f ms: samples %v", last, r.Samples)
	}
}

// segmentLineRE matches the URI line of a segment in a media playlist.
var segmentLineRE = regexp.MustCompile(`(?m)^[^#\n]+\.m4s$`)

// segmentStartTimes returns the decode time of the first track fragment
// (tfdt) of each segment the media playlist at url lists.
func segmentStartTimes(t *testing.T, base, url string) []uint64 {
	t.Helper()
	_, _, body := httpGet(t, url)
	var out []uint64
	for _, uri := range segmentLineRE.FindAllString(string(body), -1) {
		_, _, seg := httpGet(t, base+uri)
		i := bytes.Index(seg, []byte("tfdt"))
		if i < 4 || len(seg) < i+16 {
			t.Fatalf("%s: no tfdt", uri)
		}
		if seg[i+4] == 1 {
			out = append(out, binary.BigEndian.Uint64(seg[i+8:]))
		} else {
			out = append(out, uint64(binary.BigEndian.Uint32(seg[i+8:])))
		}
	}
	return out
}

// checkAlignedSegments checks that the segments of every variant are cut
// at the same decode times, over the time all their playlists cover (the
// start of a playlist's first segment is no cut: a rendition that started
// later begins at a later keyframe).
func checkAlignedSegments(t *testing.T, base string, vs []variantAttrs) {
	t.Helper()
	starts := make([][]uint64, len(vs))
	from, to := uint64(0), uint64(math.MaxUint64)
	for i, v := range vs {
		starts[i] = segmentStartTimes(t, base, base+v.uri)
		if len(starts[i]) < 3 {
			t.Fatalf("%s lists %d segments", v.uri, len(starts[i]))
		}
		starts[i] = starts[i][1:]
		from, to = max(from, starts[i][0]), min(to, starts[i][len(starts[i])-1])
	}
	var common []uint64
	for _, ts := range starts[0] {
		if ts >= from && ts <= to {
			common = append(common, ts)
		}
	}
	for i := range vs {
		var mine []uint64
		for _, ts := range starts[i] {
			if ts >= from && ts <= to {
				mine = append(mine, ts)
			}
		}
		if len(common) < 2 || !slices.Equal(mine, common) {
			t.Errorf("segments of %s are cut at %v, of %s at %v", vs[i].uri, starts[i], vs[0].uri, starts[0])
		}
	}
}

func TestMultitrackRenditionsFromFFmpeg8(t *testing.T) {
	s := startStack(t, Config{Variant: VariantLowLatency, SegmentDuration: 2 * time.Second, EndListDelay: 3 * time.Second})
	sizes := []testenv.Rendition{{Width: 1280, Height: 720}, {Width: 640, Height: 360}, {Width: 320, Height: 180}}
	file := testenv.EncodeRenditions(t, t.TempDir(), 45*time.Second, sizes...)
	t.Setenv("MEDIASERVER_PEER_TIMEOUT_MS", "45000")
	pub := testenv.PublishEnhanced(t, file, s.rtmpURL("abr"))
	defer pub.Kill()
	url := s.playlistURL("abr")
	var vs []variantAttrs
	var body []byte
	testenv.WaitFor(t, 60*time.Second, "three variants", func() bool {
		var code int
		code, _, body = httpGet(t, url)
		vs = parseVariants(body)
		return code == 200 && len(vs) == 3
	})
	text := string(body)
	for _, tag := range []string{"#EXT-X-INDEPENDENT-SEGMENTS\n", `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="main",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2"` + "\n"} {
		if !strings.Contains(text, tag) {
			t.Errorf("multivariant playlist without %q:\n%s", tag, text)
		}
	}
	for i, v := range vs {
		if want := fmt.Sprintf("abr~v%d.m3u8", i); v.uri != want {
			t.Errorf("variant %d: URI %q, want %q", i, v.uri, want)
		}
		checkVariant(t, v, sizes[i].Width, sizes[i].Height)
	}
	bw := func(v variantAttrs) int { n, _ := strconv.Atoi(v.attrs["AVERAGE-BANDWIDTH"]); return n }
	if !(bw(vs[0]) > bw(vs[1]) && bw(vs[1]) > bw(vs[2])) {
		t.Errorf("average bandwidths %d, %d, %d do not follow the picture sizes", bw(vs[0]), bw(vs[1]), bw(vs[2]))
	}
	key := stream.Key{App: "live", Name: "abr"}
	for id := range uint8(3) {
		r, ok := s.hls.Rendition(key, id)
		if want := fmt.Sprintf("/live/abr~v%d.m3u8", id); !ok || r.Playlist != want || !r.Stats.Segmenter.Video.Included {
			t.Errorf("rendition of track %d: %+v, %v; want %s with its video included", id, r, ok, want)
		}
	}
	if _, ok := s.hls.Rendition(key, 3); ok {
		t.Error("a rendition of track 3, which the stream does not have")
	}
	checkMediaPlaylists(t, s.httpURL+"/live/", url, vs)
	checkAlignedSegments(t, s.httpURL+"/live/", vs)
	checkSwitching(t, url, 3)
}
