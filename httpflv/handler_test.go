package httpflv

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

func TestRequestErrors(t *testing.T) {
	f := newFixture(t, Config{}, stream.Config{})
	for _, tc := range []struct {
		name, method, path string
		code               int
		reason             string
	}{
		{"stream not found", "GET", "/live/missing.flv", http.StatusNotFound, "stream live/missing not found"},
		{"HEAD of a missing stream", "HEAD", "/live/missing.flv", http.StatusNotFound, ""},
		{"other app", "GET", "/other/test.flv", http.StatusNotFound, "stream other/test not found"},
		{"no app", "GET", "/test.flv", http.StatusNotFound, "no stream at this path"},
		{"bad name", "GET", "/live/te%20st.flv", http.StatusNotFound, "no stream at this path"},
		{"method", "POST", "/live/test.flv", http.StatusMethodNotAllowed, "method POST not allowed"},
		{"unknown track", "GET", "/live/test.flv?track=3", http.StatusNotFound, "track 3 of live/test: stream: unknown track"},
		{"unknown video track", "GET", "/live/test.flv?video=1", http.StatusNotFound, "video track 1 of live/test: stream: unknown track"},
		{"track not a number", "GET", "/live/test.flv?audio=x", http.StatusNotFound, "unknown track"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, f.url(tc.path), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.code {
				t.Fatalf("status %d %q, want %d", resp.StatusCode, body, tc.code)
			}
			if !strings.Contains(string(body), tc.reason) || (tc.method != "HEAD" && len(body) > 200) {
				t.Fatalf("body %q, want a short reason containing %q", body, tc.reason)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Fatalf("Content-Type %q", ct)
			}
			if tc.code == http.StatusMethodNotAllowed && resp.Header.Get("Allow") != "GET, HEAD, OPTIONS" {
				t.Fatalf("Allow %q", resp.Header.Get("Allow"))
			}
		})
	}
}

func TestHEADAnswersWithoutBody(t *testing.T) {
	f := newFixture(t, Config{}, stream.Config{})
	resp, err := http.Head(f.url("/live/test.flv"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "video/x-flv" || len(body) != 0 {
		t.Fatalf("HEAD: %s %q, body %d bytes", resp.Status, resp.Header.Get("Content-Type"), len(body))
	}
	if n := len(f.h.Sessions()); n != 0 {
		t.Fatalf("HEAD left %d sessions", n)
	}
}

func TestCORS(t *testing.T) {
	do := func(t *testing.T, f *fixture, method, origin string, hdr map[string]string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, f.url("/live/test.flv"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	t.Run("default allows any origin", func(t *testing.T) {
		f := newFixture(t, Config{}, stream.Config{})
		f.publish(metaFrame(t, true, false), audioHeaderFrame(t), audioFrame(t, 0, 10))
		resp := do(t, f, "GET", "https://player.example", nil)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Fatalf("%s, Access-Control-Allow-Origin %q", resp.Status, resp.Header.Get("Access-Control-Allow-Origin"))
		}
		resp = do(t, f, "GET", "https://player.example", map[string]string{"Range": "bytes=0-"})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET with Range: %s", resp.Status)
		}
	})
	t.Run("preflight", func(t *testing.T) {
		f := newFixture(t, Config{}, stream.Config{})
		resp := do(t, f, "OPTIONS", "https://player.example", map[string]string{
			"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "range"})
		h := resp.Header
		if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "*" ||
			!strings.Contains(h.Get("Access-Control-Allow-Methods"), "GET") || h.Get("Access-Control-Allow-Headers") != "range" {
			t.Fatalf("preflight: %s %v", resp.Status, h)
		}
	})
	t.Run("configured origins", func(t *testing.T) {
		f := newFixture(t, Config{AllowedOrigins: []string{"https://good.example"}}, stream.Config{})
		f.publish(metaFrame(t, true, false), audioHeaderFrame(t), audioFrame(t, 0, 10))
		resp := do(t, f, "GET", "https://good.example", nil)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "https://good.example" ||
			resp.Header.Get("Vary") != "Origin" {
			t.Fatalf("allowed origin: %s %v", resp.Status, resp.Header)
		}
		resp = do(t, f, "GET", "https://evil.example", nil)
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("other origin: %s %v", resp.Status, resp.Header)
		}
		resp = do(t, f, "OPTIONS", "https://evil.example", map[string]string{"Access-Control-Request-Method": "GET"})
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("preflight from other origin: %s", resp.Status)
		}
		// WebSocket: the Origin check refuses the handshake.
		_, resp, err := websocket.DefaultDialer.Dial(f.wsURL("/live/test.flv"), http.Header{"Origin": {"https://evil.example"}})
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("WebSocket from other origin: %v %v", err, resp)
		}
		resp.Body.Close()
		c := wsDial(t, f.wsURL("/live/test.flv"), http.Header{"Origin": {"https://good.example"}})
		if _, _, err := c.ReadMessage(); err != nil {
			t.Fatalf("WebSocket from allowed origin: %v", err)
		}
		// Without an Origin header (not a browser) the request is served.
		resp = do(t, f, "GET", "", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("no Origin: %s", resp.Status)
		}
	})
}

// TestHeaderFlags checks that the FLV header announces exactly the tracks
// the stream has, for viewers attaching to a running stream and for viewers
// that attach before the publisher sent anything.
func TestHeaderFlags(t *testing.T) {
	type publishFn func(t *testing.T, f *fixture)
	av := func(meta bool) publishFn {
		return func(t *testing.T, f *fixture) {
			if meta {
				f.publish(metaFrame(t, true, true))
			}
			f.publish(videoHeaderFrame(t), audioHeaderFrame(t), videoFrame(t, 0, true, 100), audioFrame(t, 10, 20),
				videoFrame(t, 33, false, 50))
		}
	}
	audioOnly := func(meta bool) publishFn {
		return func(t *testing.T, f *fixture) {
			if meta {
				f.publish(metaFrame(t, true, false))
			}
			f.publish(audioHeaderFrame(t), audioFrame(t, 0, 20), audioFrame(t, 23, 20))
		}
	}
	videoOnly := func(meta bool) publishFn {
		return func(t *testing.T, f *fixture) {
			if meta {
				f.publish(metaFrame(t, false, true))
			}
			f.publish(videoHeaderFrame(t), videoFrame(t, 0, true, 100), videoFrame(t, 33, false, 50))
		}
	}
	for _, tc := range []struct {
		name    string
		publish publishFn
		want    flv.Header
		// first tags the viewer must get, as describeTag prints them;
		// firstRunning, when set, for a viewer attaching to the running
		// stream (an audio-only viewer starts at the newest frame, and gets
		// the sequence header at its time).
		first, firstRunning string
	}{
		{"audio+video with metadata", av(true), flv.Header{HasAudio: true, HasVideo: true}, "[d0 vH0 aH0 vK0 a10 v33]", ""},
		{"audio+video without metadata", av(false), flv.Header{HasAudio: true, HasVideo: true}, "[vH0 aH0 vK0 a10 v33]", ""},
		{"audio only with metadata", audioOnly(true), flv.Header{HasAudio: true}, "[d0 aH0", "[d0 aH23 a23]"},
		{"audio only without metadata", audioOnly(false), flv.Header{HasAudio: true}, "[aH0", "[aH23 a23]"},
		{"video only with metadata", videoOnly(true), flv.Header{HasVideo: true}, "[d0 vH0 vK0 v33]", ""},
		{"video only without metadata", videoOnly(false), flv.Header{HasVideo: true}, "[vH0 vK0 v33]", ""},
	} {
		for _, attach := range []string{"running", "before publish"} {
			t.Run(tc.name+"/"+attach, func(t *testing.T) {
				// HeaderWait is long: the header must be decided by what
				// arrives, not by the wait running out.
				f := newFixture(t, Config{HeaderWait: time.Minute}, stream.Config{})
				var tr *tagReader
				if attach == "running" {
					tc.publish(t, f)
					tr = readTags(get(t, f.url("/live/test.flv")).Body)
				} else {
					tr = readTags(get(t, f.url("/live/test.flv")).Body)
					testenv.WaitFor(t, waitTimeout, "viewer", func() bool { return len(f.h.Sessions()) == 1 })
					tc.publish(t, f)
				}
				if h := tr.waitHeader(t); h != tc.want {
					t.Fatalf("FLV header %+v, want %+v", h, tc.want)
				}
				f.pub.Close()
				tags, err := tr.waitEnd(t)
				if err != io.EOF {
					t.Fatalf("response ended with %v, want a clean end", err)
				}
				first := tc.first
				if attach == "running" && tc.firstRunning != "" {
					first = tc.firstRunning
				}
				if got := describeTags(tags); !strings.HasPrefix(got, first) {
					t.Fatalf("tags %s, want them to start %s", got, first)
				}
				checkMonotonic(t, tags)
			})
		}
	}
}

// TestHeaderWaitIsBounded: a stream whose video has no keyframe yet gets its
// header once HeaderWait runs out, with the flags of what is known, and the
// video starts at the first keyframe.
func TestHeaderWaitIsBounded(t *testing.T) {
	f := newFixture(t, Config{HeaderWait: 50 * time.Millisecond}, stream.Config{})
	f.publish(metaFrame(t, false, true), videoHeaderFrame(t), videoFrame(t, 0, false, 50))
	tr := readTags(get(t, f.url("/live/test.flv")).Body)
	if h := tr.waitHeader(t); h != (flv.Header{HasVideo: true}) {
		t.Fatalf("FLV header %+v, want video only", h)
	}
	f.publish(videoFrame(t, 33, false, 50), videoFrame(t, 66, true, 50), videoFrame(t, 100, false, 50))
	f.pub.Close()
	tags, err := tr.waitEnd(t)
	if err != io.EOF {
		t.Fatal(err)
	}
	if got, want := describeTags(tags), "[d0 vH66 vK66 v100]"; got != want {
		t.Fatalf("tags %s, want %s", got, want)
	}
}

// TestMonotonicAcrossCacheToLive: a viewer joining mid-GOP gets the cached
// GOP from its keyframe and then live frames with no gap and no step back.
func TestMonotonicAcrossCacheToLive(t *testing.T) {
	f := newFixture(t, Config{}, stream.Config{})
	f.publish(metaFrame(t, true, true), videoHeaderFrame(t), audioHeaderFrame(t))
	var want []string
	emit := func(ts uint32) {
		var fr []*stream.Frame
		if ts%40 == 0 {
			fr = append(fr, videoFrame(t, ts, ts%400 == 0, 200))
		}
		fr = append(fr, audioFrame(t, ts, 20))
		for _, x := range fr {
			f.publish(x)
			if ts >= 800 {
				want = append(want, describeTag(flv.Tag{Type: x.Type, Timestamp: x.Time, Data: x.Payload}))
			}
		}
	}
	for ts := uint32(0); ts < 1000; ts += 20 { // keyframes at 0, 400, 800
		emit(ts)
	}
	tr := readTags(get(t, f.url("/live/test.flv")).Body)
	tr.waitTags(t, 3+len(want))
	for ts := uint32(1000); ts < 2000; ts += 20 {
		emit(ts)
	}
	f.pub.Close()
	tags, err := tr.waitEnd(t)
	if err != io.EOF {
		t.Fatal(err)
	}
	checkMonotonic(t, tags)
	if got, want := describeTags(tags), "[d0 vH800 aH800 "+strings.Join(want, " ")+"]"; got != want {
		t.Fatalf("tags\n%s\nwant\n%s", got, want)
	}
}

// TestHTTP10ViewerGetsABareBody: an HTTP/1.0 client gets the FLV stream as
// the bare body, ended by closing the connection, written directly like a
// chunked one.
func TestHTTP10ViewerGetsABareBody(t *testing.T) {
	f := newFixture(t, Config{}, stream.Config{})
	f.publish(videoHeaderFrame(t), audioHeaderFrame(t))
	f.publish(gop(t, 0, 1000)...)
	conn, err := net.Dial("tcp", strings.TrimPrefix(f.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /live/test.flv HTTP/1.0\r\nHost: test\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.ProtoMinor != 0 || len(resp.TransferEncoding) != 0 {
		t.Fatalf("response %s %s, transfer encoding %v", resp.Proto, resp.Status, resp.TransferEncoding)
	}
	tags := readTags(resp.Body)
	tags.waitTags(t, 2+20)
	more := gop(t, 200, 1000)
	f.publish(more...) // live frames, written by the delivery goroutine
	tags.waitTags(t, 2+40)
	f.pub.Close()
	got, err := tags.waitEnd(t)
	if err != io.EOF {
		t.Fatalf("body ended with %v, want the connection's end at a tag boundary", err)
	}
	if len(got) != 42 {
		t.Fatalf("got %d tags, want 42", len(got))
	}
	checkMonotonic(t, got)
}
