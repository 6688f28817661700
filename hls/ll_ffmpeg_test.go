package hls

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
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

// The serving side of the MP4 variants with a real publisher (ffmpeg) and
// real readers: ffmpeg decodes, hls-parser parses every playlist kind, and
// blocking reloads and preload hints are checked against real parts.

// httpGet fetches url and returns the status, header and body.
func httpGet(t *testing.T, url string) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, resp.Header, body
}

// liveEdge is where a lowlatency playlist ends: the last finished segment,
// how many parts of the next one it lists, and the hinted part's URI.
type liveEdge struct {
	lastMSN uint64
	parts   int
	hint    string
}

var (
	mediaSeqRE = regexp.MustCompile(`(?m)^#EXT-X-MEDIA-SEQUENCE:(\d+)$`)
	hintRE     = regexp.MustCompile(`(?m)^#EXT-X-PRELOAD-HINT:TYPE=PART,URI="([^"]+)"$`)
)

// edgeOf reads the live edge of a lowlatency playlist.
func edgeOf(t *testing.T, playlist []byte) liveEdge {
	t.Helper()
	text := string(playlist)
	m := mediaSeqRE.FindStringSubmatch(text)
	h := hintRE.FindStringSubmatch(text)
	if m == nil || h == nil {
		t.Fatalf("no media sequence or preload hint:\n%s", text)
	}
	seq, _ := strconv.ParseUint(m[1], 10, 64)
	segs := strings.Count(text, "#EXTINF:")
	tail := text[strings.LastIndex(text, "#EXTINF:"):]
	return liveEdge{lastMSN: seq + uint64(segs) - 1, parts: strings.Count(tail, "#EXT-X-PART:"), hint: h[1]}
}

// decodeClean decodes d of url with ffmpeg -v error and fails the test
// when ffmpeg says anything.
func decodeClean(t *testing.T, url string, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d+60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, testenv.Tool(t, "ffmpeg"), "-hide_banner", "-nostdin", "-v", "error",
		"-i", url, "-t", strconv.FormatFloat(d.Seconds(), 'f', 3, 64), "-f", "null", "-").CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("ffmpeg decoding %s: %v\n%s", url, err, out)
	}
}

// waitSegments waits until the playlist at url lists at least n segments
// and returns it.
func waitSegments(t *testing.T, url string, n int) []byte {
	t.Helper()
	var body []byte
	testenv.WaitFor(t, 60*time.Second, strconv.Itoa(n)+" segments", func() bool {
		var status int
		status, _, body = httpGet(t, url)
		return status == http.StatusOK && bytes.Count(body, []byte("#EXTINF:")) >= n
	})
	return body
}

func TestLowLatencyFromFFmpeg(t *testing.T) {
	s := startStack(t, Config{Variant: VariantLowLatency, SegmentDuration: time.Second, PlaylistLength: 10,
		EndListDelay: 3 * time.Second})
	pub := testenv.Publish(t, s.rtmpURL("ll"), testenv.Source{Width: 320, Height: 240, FPS: 25,
		Duration: 30 * time.Second})
	defer pub.Kill()
	url := s.playlistURL("ll")
	base := s.httpURL + "/live/"
	plain := waitSegments(t, url, 3)

	// A blocking reload for the part after the last listed one, and a GET of
	// the hinted part, both sent before that part exists: the playlist that
	// answers lists the hinted part, which the GET returns whole.
	edge := edgeOf(t, plain)
	start := time.Now()
	hinted := make(chan []byte, 1)
	go func() {
		_, _, b := httpGet(t, base+edge.hint)
		hinted <- b
	}()
	status, header, blocked := httpGet(t, url+"?_HLS_msn="+strconv.FormatUint(edge.lastMSN+1, 10)+
		"&_HLS_part="+strconv.Itoa(edge.parts))
	waited := time.Since(start)
	if status != http.StatusOK || !bytes.Contains(blocked, []byte(`#EXT-X-PART:`)) ||
		!bytes.Contains(blocked, []byte(`URI="`+edge.hint+`"`)) || hintRE.Find(blocked) == nil ||
		string(hintRE.FindSubmatch(blocked)[1]) == edge.hint {
		t.Fatalf("blocking reload for msn %d part %d (hint %s): %d\n%s", edge.lastMSN+1, edge.parts, edge.hint,
			status, blocked)
	}
	if cc := header.Get("Cache-Control"); cc != blockingCacheControl {
		t.Errorf("blocking answer Cache-Control %q", cc)
	}
	t.Logf("blocking reload for msn %d part %d answered after %v", edge.lastMSN+1, edge.parts, waited)
	part, firstHint := <-hinted, edge.hint
	t.Logf("preload hint GET of %s: %d bytes after %v", edge.hint, len(part), time.Since(start))
	if len(part) < 8 || string(part[4:8]) != "moof" {
		t.Fatalf("hinted part is no fragment: %d bytes % x", len(part), part[:min(16, len(part))])
	}

	// Delta updates need more than CAN-SKIP-UNTIL (6 s) of segments.
	plain = waitSegments(t, url, 9)
	edge = edgeOf(t, plain)
	dir := t.TempDir()
	files := map[string]string{}
	for kind, query := range map[string]string{
		"plain":    "",
		"blocking": "?_HLS_msn=" + strconv.FormatUint(edge.lastMSN+1, 10) + "&_HLS_part=" + strconv.Itoa(edge.parts),
		"segment":  "?_HLS_msn=" + strconv.FormatUint(edge.lastMSN+1, 10),
		"delta":    "?_HLS_msn=" + strconv.FormatUint(edge.lastMSN+1, 10) + "&_HLS_skip=YES",
	} {
		status, _, body := httpGet(t, url+query)
		if status != http.StatusOK {
			t.Fatalf("%s playlist: %d %s", kind, status, body)
		}
		files[kind] = filepath.Join(dir, kind+".m3u8")
		if err := os.WriteFile(files[kind], body, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	paths := make([]string, 0, len(files))
	for _, f := range files {
		paths = append(paths, f)
	}
	reports := runHLSParser(t, paths)
	for kind, f := range files {
		r := reports[f]
		if body, _ := os.ReadFile(f); r.Error != "" || r.Parts == 0 || r.Hints != 1 || (kind == "delta") != (r.Skipped > 0) {
			t.Errorf("%s playlist: %+v\n%s", kind, r, body)
		}
	}

	// The part fetched through the hint is the part a plain GET returns
	// once its segment is finished (a byte range of the stored segment).
	status, header, again := httpGet(t, base+firstHint)
	if status != http.StatusOK || header.Get("Cache-Control") != segmentCacheControl || !bytes.Equal(again, part) {
		t.Errorf("part %s of a finished segment: %d %q, %d bytes, through the hint %d", firstHint, status,
			header.Get("Cache-Control"), len(again), len(part))
	}
	decodeClean(t, url, 4*time.Second)
}

func TestFMP4FromFFmpeg(t *testing.T) {
	s := startStack(t, Config{Variant: VariantFMP4, SegmentDuration: time.Second, EndListDelay: 3 * time.Second})
	pub := testenv.Publish(t, s.rtmpURL("f"), testenv.Source{Width: 320, Height: 240, FPS: 25,
		Duration: 20 * time.Second})
	defer pub.Kill()
	url := s.playlistURL("f")
	body := waitSegments(t, url, 3)
	if !bytes.Contains(body, []byte("#EXT-X-MAP:URI=")) || bytes.Contains(body, []byte("#EXT-X-PART")) {
		t.Errorf("fmp4 playlist:\n%s", body)
	}
	decodeClean(t, url, 4*time.Second)
}

func TestLowLatencyHLSJSPlays(t *testing.T) {
	s := startStack(t, Config{Variant: VariantLowLatency, SegmentDuration: time.Second, EndListDelay: 3 * time.Second})
	pub := testenv.Publish(t, s.rtmpURL("lljs"), testenv.Source{Width: 320, Height: 240, FPS: 25,
		Duration: 40 * time.Second})
	defer pub.Kill()
	playLowLatency(t, s.playlistURL("lljs"))
}

// TestLowLatencyHLSJSPlaysAV1Opus plays AV1 and Opus, published by FFmpeg 8
// over Enhanced RTMP, in hls.js in low-latency mode.
func TestLowLatencyHLSJSPlaysAV1Opus(t *testing.T) {
	browsertest.RequireTools(t)
	clip := testenv.EncodeClip(t, t.TempDir(), testenv.Clip{Video: "av1", Audio: "opus", Duration: 30 * time.Second})
	s := startStack(t, Config{Variant: VariantLowLatency, SegmentDuration: time.Second, EndListDelay: 3 * time.Second})
	pub := testenv.PublishEnhanced(t, clip, s.rtmpURL("av1"))
	defer pub.Kill()
	playLowLatency(t, s.playlistURL("av1"))
}

// playLowLatency plays url (a 320x240 stream) in hls.js in low-latency mode
// for 12 s: the picture must advance by 6 s, and the latency hls.js measures
// is logged and must stay below 5 s.
func playLowLatency(t *testing.T, url string) {
	t.Helper()
	waitSegments(t, url, 2)
	r := browsertest.PlayLowLatency(t, url, 12*time.Second)
	advanced := 0.0
	if len(r.Samples) > 1 {
		advanced = r.Samples[len(r.Samples)-1][1] - r.Samples[0][1]
	}
	if advanced < 6 || len(fatalPlayerErrors(r)) > 0 || r.VideoWidth != 320 {
		t.Fatalf("hls.js low-latency: currentTime advanced %.2f s, %dx%d, errors %v", advanced, r.VideoWidth,
			r.VideoHeight, r.Errors)
	}
	if len(r.Latencies) == 0 {
		t.Fatalf("hls.js measured no latency (no EXT-X-PROGRAM-DATE-TIME?)")
	}
	lat := slices.Clone(r.Latencies)
	slices.Sort(lat)
	median := lat[len(lat)/2]
	t.Logf("hls.js low-latency: median latency %.0f ms over %d samples (min %.0f, max %.0f)", median, len(lat),
		lat[0], lat[len(lat)-1])
	if median >= 5000 {
		t.Errorf("hls.js plays %.0f ms behind live", median)
	}
}

// TestLowLatencyRepublishIsADiscontinuity drops a publisher mid-GOP and
// publishes again within the republish window while the lowlatency
// playlist is reloaded all along: every version of it parses strictly, the
// media sequence goes on, and every part is listed in the same
// discontinuity sequence in every version that lists it (the parts of the
// new publisher's first segment follow EXT-X-DISCONTINUITY from the first).
func TestLowLatencyRepublishIsADiscontinuity(t *testing.T) {
	s := startStackWithHub(t, Config{Variant: VariantLowLatency, SegmentDuration: time.Second, PlaylistLength: 20,
		EndListDelay: 3 * time.Second}, stream.Config{RepublishWindow: 10 * time.Second})
	url := s.playlistURL("again")
	dir := t.TempDir()
	var files []string
	stop, polled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(polled)
		etag := ""
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			resp, err := http.Get(url)
			if err != nil {
				continue
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") == etag || len(files) >= 400 {
				continue
			}
			etag = resp.Header.Get("ETag")
			f := filepath.Join(dir, strconv.Itoa(len(files))+".m3u8")
			if os.WriteFile(f, body, 0o600) == nil {
				files = append(files, f)
			}
		}
	}()
	first := testenv.Publish(t, s.rtmpURL("again"), testenv.Source{Width: 320, Height: 240, FPS: 25})
	waitSegments(t, url, 3)
	first.Kill() // the connection drops mid-GOP
	second := testenv.Publish(t, s.rtmpURL("again"), testenv.Source{Width: 320, Height: 240, FPS: 25,
		Duration: 5 * time.Second})
	if exited, err := second.Wait(40 * time.Second); !exited || err != nil {
		t.Fatalf("second publisher: exited %v, %v", exited, err)
	}
	testenv.WaitFor(t, 30*time.Second, "EXT-X-ENDLIST", func() bool {
		_, _, body := httpGet(t, url)
		return bytes.Contains(body, []byte("#EXT-X-ENDLIST"))
	})
	close(stop)
	<-polled
	_, _, final := httpGet(t, url)
	if !bytes.Contains(final, []byte("#EXT-X-DISCONTINUITY\n")) || !bytes.Contains(final, []byte("#EXT-X-MEDIA-SEQUENCE:1\n")) {
		t.Errorf("final playlist:\n%s", final)
	}
	reports := runHLSParser(t, files)
	discOf := map[string]int{} // part URI → discontinuities before it
	for _, f := range files {
		body, _ := os.ReadFile(f)
		if r := reports[f]; r.Error != "" {
			t.Errorf("%s: hls-parser: %s\n%s", f, r.Error, body)
			continue
		}
		n := 0
		for line := range strings.Lines(string(body)) {
			switch {
			case strings.HasPrefix(line, "#EXT-X-DISCONTINUITY-SEQUENCE:"):
				n, _ = strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "#EXT-X-DISCONTINUITY-SEQUENCE:")))
			case line == "#EXT-X-DISCONTINUITY\n":
				n++
			case strings.HasPrefix(line, "#EXT-X-PART:"):
				uri := line[strings.Index(line, `URI="`):]
				if was, ok := discOf[uri]; ok && was != n {
					t.Errorf("%s: part %s in discontinuity sequence %d, %d before\n%s", f, uri, n, was, body)
				}
				discOf[uri] = n
			}
		}
	}
	t.Logf("%d playlist versions, %d parts checked", len(files), len(discOf))
}
