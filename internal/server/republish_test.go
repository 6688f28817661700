package server_test

import (
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/hls"
	"github.com/mediaserver/mediaserver/internal/browsertest"
	"github.com/mediaserver/mediaserver/internal/server"
	"github.com/mediaserver/mediaserver/internal/servertest"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

// TestRepublishAfterPublisherKilled kills ffmpeg with SIGKILL while an
// HTTP-FLV viewer and hls.js watch, and publishes again within 2 s: the FLV
// viewer keeps its connection with monotonic timestamps and decodes without
// error, and hls.js plays on across the discontinuity (the MPEG-TS variant,
// whose player keeps segments buffered enough to ride through the gap).
func TestRepublishAfterPublisherKilled(t *testing.T) {
	browsertest.RequireTools(t)
	srv := servertest.Start(t, func(c *server.Config) {
		c.HLS.SegmentDuration = time.Second
		c.HLS.Variant = hls.VariantMPEGTS
	})
	key := stream.Key{App: "live", Name: "cam"}
	url := "rtmp://" + srv.RTMPAddr() + "/live/cam"
	base := "http://" + srv.HTTPAddr() + "/live/cam"
	src := testenv.Source{FPS: 25, GOP: 25, Duration: 60 * time.Second}

	first := testenv.Publish(t, url, src)
	var st *stream.Stream
	testenv.WaitFor(t, 20*time.Second, "the stream to go live", func() bool {
		var ok bool
		st, ok = srv.Hub().Lookup(key)
		return ok && st.Stats().Keyframes > 0
	})
	testenv.WaitFor(t, 20*time.Second, "two HLS segments", func() bool { return playlistSegments(t, base+".m3u8") >= 2 })

	viewer := watchFLV(t, base+".flv")
	// Play fails the test from its goroutine when the harness breaks; the
	// deferred send still tells the test goroutine.
	hlsDone := make(chan *browsertest.Result, 1)
	const watch = 16 * time.Second
	go func() {
		var res *browsertest.Result
		defer func() { hlsDone <- res }()
		r := browsertest.Play(t, browsertest.HLS, base+".m3u8", watch)
		res = &r
	}()

	time.Sleep(5 * time.Second)
	first.Kill() // SIGKILL: no FCUnpublish, no deleteStream, the TCP connection just drops
	testenv.WaitFor(t, 5*time.Second, "the stream to wait for its publisher", func() bool {
		return st.State() == stream.StateWaiting
	})
	before := len(viewer.snapshot())
	time.Sleep(time.Second)
	testenv.Publish(t, url, src)
	testenv.WaitFor(t, 20*time.Second, "the new publisher's frames at the viewer", func() bool {
		return len(viewer.snapshot()) > before+50
	})
	if now, ok := srv.Hub().Lookup(key); !ok || now != st || st.Republishes() != 1 {
		t.Fatalf("the new publisher did not continue the stream (same %v, republishes %d)", now == st, st.Republishes())
	}

	res := <-hlsDone
	if res == nil {
		t.Fatal("the hls.js harness failed")
	}
	time.Sleep(time.Second)
	if ended, err := viewer.ended(); ended {
		t.Fatalf("FLV viewer disconnected: %v", err)
	}
	viewer.Stop()

	tags := viewer.snapshot()
	if problems := timelineProblems(tags, 500); len(problems) > 0 {
		t.Errorf("FLV viewer timestamps not monotonic without gaps: %v", problems)
	}
	videoHeaders := 0
	for _, tag := range tags {
		if tag.header && tag.typ == flv.TagVideo {
			videoHeaders++
		}
	}
	if videoHeaders != 2 {
		t.Errorf("FLV viewer got %d video sequence headers, want 2 (one per publisher)", videoHeaders)
	}
	out, err := exec.Command(testenv.Tool(t, "ffmpeg"), "-hide_banner", "-nostdin", "-v", "error",
		"-i", viewer.file, "-f", "null", "-").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("ffmpeg decoding the viewer's stream: %v\n%s", err, out)
	}

	for _, e := range res.Errors {
		if strings.Contains(e, "fatal") || strings.Contains(e, "video error") {
			t.Errorf("hls.js: %s", e)
		}
	}
	// The last 6 s of samples are after the switch: the video played on.
	if n := len(res.Samples); n < 12 || res.Samples[n-1][1]-res.Samples[n-13][1] < 3 {
		t.Errorf("hls.js did not keep playing after the republish: samples %v", res.Samples)
	}
	body := fetch(t, base+".m3u8")
	if !strings.Contains(body, "#EXT-X-DISCONTINUITY") || strings.Contains(body, "#EXT-X-MEDIA-SEQUENCE:0\n") {
		t.Errorf("playlist after the republish lacks a discontinuity or restarted its sequence:\n%s", body)
	}
}

// fetch GETs url and returns the body.
func fetch(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

// playlistSegments counts the segments of a media playlist (0 when it is
// not available yet).
func playlistSegments(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return 0
	}
	return strings.Count(string(body), "#EXTINF")
}
