package httpflv

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/rtmp"
	"github.com/mediaserver/mediaserver/stream"
)

// liveServer is an RTMP server and the HTTP-FLV handler over one registry,
// both on loopback ports.
type liveServer struct {
	reg      *stream.Registry
	rtmpAddr string
	h        *Handler
	http     *httptest.Server
}

// startLive starts the servers; wrap, when not nil, wraps the HTTP listener.
func startLive(t *testing.T, cfg Config, wrap func(net.Listener) net.Listener) *liveServer {
	t.Helper()
	return startLiveStreams(t, cfg, stream.Config{}, wrap)
}

// startLiveStreams is startLive with the registry configured by scfg.
func startLiveStreams(t *testing.T, cfg Config, scfg stream.Config, wrap func(net.Listener) net.Listener) *liveServer {
	t.Helper()
	logs := &testenv.LogBuffer{} // shown when the test fails
	log := logs.Logger(slog.LevelDebug)
	reg, err := stream.NewRegistry(scfg, log)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := rtmp.NewServer(rtmp.ServerConfig{}, reg, log)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- rs.Serve(ln) }()
	h, err := New(cfg, reg, log)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(h)
	if wrap != nil {
		hs.Listener = wrap(hs.Listener)
	}
	hs.Start()
	t.Cleanup(func() {
		h.Close()
		hs.Close()
		if err := rs.Close(); err != nil {
			t.Errorf("rtmp close: %v", err)
		}
		<-served
		reg.Close()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return &liveServer{reg: reg, rtmpAddr: ln.Addr().String(), h: h, http: hs}
}

func (s *liveServer) publishURL(name string) string { return "rtmp://" + s.rtmpAddr + "/live/" + name }
func (s *liveServer) flvURL(name string) string     { return s.http.URL + "/live/" + name + ".flv" }
func (s *liveServer) wsURL(name string) string {
	return "ws" + strings.TrimPrefix(s.http.URL, "http") + "/live/" + name + ".flv"
}

// waitStream waits until the stream exists and, with media, until it has
// media frames.
func (s *liveServer) waitStream(t *testing.T, name string, media bool) *stream.Stream {
	t.Helper()
	var st *stream.Stream
	testenv.WaitFor(t, waitTimeout, "stream "+name, func() bool {
		var ok bool
		st, ok = s.reg.Lookup(stream.Key{App: "live", Name: name})
		if !ok || !media {
			return ok
		}
		stats := st.Stats()
		return stats.VideoFrames+stats.AudioFrames > 0
	})
	return st
}

// wsRelay serves a WebSocket-FLV stream as plain HTTP, so that ffprobe and
// ffmpeg, which have no WebSocket client, can read what the Go WebSocket
// client receives: every binary message is written and flushed as it comes.
func wsRelay(t *testing.T, wsURL string) string {
	t.Helper()
	relay := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _, err := websocket.DefaultDialer.DialContext(r.Context(), wsURL, nil)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer c.Close()
		go func() { <-r.Context().Done(); c.Close() }()
		w.Header().Set("Content-Type", "video/x-flv")
		for {
			typ, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			if typ != websocket.BinaryMessage {
				t.Errorf("relay: message type %d", typ)
				return
			}
			if _, err := w.Write(msg); err != nil {
				return
			}
			http.NewResponseController(w).Flush()
		}
	}))
	t.Cleanup(relay.Close)
	return relay.URL + "/relay.flv"
}

// checkTracks fails unless the probe found exactly the wanted codecs.
func checkTracks(t *testing.T, p testenv.Probe, video, audio string) {
	t.Helper()
	var got []string
	for _, s := range p.Streams {
		got = append(got, s.CodecType+":"+s.CodecName)
	}
	var want []string
	if video != "" {
		want = append(want, "video:"+video)
	}
	if audio != "" {
		want = append(want, "audio:"+audio)
	}
	if strings.Join(sorted(got), ",") != strings.Join(sorted(want), ",") {
		t.Fatalf("ffprobe streams %v, want %v", got, want)
	}
	if v := p.Video(); v != nil && (v.Width != 640 || v.Height != 360) {
		t.Fatalf("video %dx%d, want 640x360", v.Width, v.Height)
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// checkTimeline fails when a track's timestamps go back or a video step
// exceeds maxVideoStep.
func checkTimeline(t *testing.T, tags []flv.Tag, maxVideoStep uint32) {
	t.Helper()
	last := map[flv.TagType]uint32{}
	seen := map[flv.TagType]bool{}
	for i, tag := range tags {
		if tag.Type == flv.TagScript {
			continue
		}
		if seen[tag.Type] {
			if tag.Timestamp < last[tag.Type] {
				t.Fatalf("tag %d: %s timestamp %d after %d", i, tag.Type, tag.Timestamp, last[tag.Type])
			}
			isHeader := len(tag.Data) > 1 && tag.Data[1] == 0
			if tag.Type == flv.TagVideo && !isHeader && tag.Timestamp-last[tag.Type] > maxVideoStep {
				t.Fatalf("tag %d: video gap %d→%d ms", i, last[tag.Type], tag.Timestamp)
			}
		}
		last[tag.Type], seen[tag.Type] = tag.Timestamp, true
	}
}

func TestFFmpegPublishHTTPAndWebSocketFLV(t *testing.T) {
	s := startLive(t, Config{}, nil)
	pub := testenv.Publish(t, s.publishURL("cam"), testenv.Source{Duration: 14 * time.Second})
	s.waitStream(t, "cam", true)

	// Two viewers that stay until the stream ends.
	httpTags := readTags(get(t, s.flvURL("cam")).Body)
	ws := newWSReader(wsDial(t, s.wsURL("cam"), nil))
	wsTags := readTags(ws)
	for name, tr := range map[string]*tagReader{"HTTP": httpTags, "WS": wsTags} {
		if h := tr.waitHeader(t); h != (flv.Header{HasAudio: true, HasVideo: true}) {
			t.Fatalf("%s FLV header %+v, want audio and video", name, h)
		}
	}

	relay := wsRelay(t, s.wsURL("cam"))
	t.Run("readers", func(t *testing.T) {
		for _, tc := range []struct{ name, url string }{{"HTTP", s.flvURL("cam")}, {"WS", relay}} {
			t.Run("ffprobe "+tc.name, func(t *testing.T) {
				t.Parallel()
				p, err := testenv.FFprobe(t, tc.url, 20*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				checkTracks(t, p, "h264", "aac")
			})
			t.Run("ffmpeg decode "+tc.name, func(t *testing.T) {
				t.Parallel()
				out, err := testenv.Decode(t, tc.url, 4*time.Second)
				if err != nil {
					t.Fatalf("ffmpeg -xerror: %v\n%s", err, out)
				}
				if strings.Contains(strings.ToLower(out), "error") {
					t.Fatalf("ffmpeg reported errors:\n%s", out)
				}
			})
		}
	})

	if exited, err := pub.Wait(30 * time.Second); !exited || err != nil {
		t.Fatalf("publisher: exited %v, %v", exited, err)
	}
	if ce := ws.closeError(t); ce.Code != websocket.CloseNormalClosure {
		t.Fatalf("WS close frame %d %q, want %d", ce.Code, ce.Text, websocket.CloseNormalClosure)
	}
	for name, tr := range map[string]*tagReader{"HTTP": httpTags, "WS": wsTags} {
		tags, err := tr.waitEnd(t)
		if err != io.EOF {
			t.Fatalf("%s viewer ended with %v, want a clean end", name, err)
		}
		checkTimeline(t, tags, 100)
		if len(tags) < 300 {
			t.Fatalf("%s viewer got only %d tags", name, len(tags))
		}
		t.Logf("%s viewer: %d tags, %s … %s", name, len(tags), describeTags(tags[:4]), describeTag(tags[len(tags)-1]))
	}
}

// TestFFmpegSingleTrackHeaderFlags: audio-only and video-only publishes get
// FLV headers that announce only their track, also for a viewer that
// attaches the moment the stream appears, and ffprobe reads them.
func TestFFmpegSingleTrackHeaderFlags(t *testing.T) {
	for _, tc := range []struct {
		name         string
		src          testenv.Source
		want         flv.Header
		video, audio string
	}{
		{"audio only", testenv.Source{NoVideo: true, Duration: 10 * time.Second}, flv.Header{HasAudio: true}, "", "aac"},
		{"video only", testenv.Source{NoAudio: true, Duration: 10 * time.Second}, flv.Header{HasVideo: true}, "h264", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startLive(t, Config{}, nil)
			testenv.Publish(t, s.publishURL("one"), tc.src)
			// Attach as soon as the stream exists, before it has media.
			s.waitStream(t, "one", false)
			early := readTags(get(t, s.flvURL("one")).Body)
			if h := early.waitHeader(t); h != tc.want {
				t.Fatalf("early viewer: FLV header %+v, want %+v", h, tc.want)
			}
			s.waitStream(t, "one", true)
			ws := readTags(newWSReader(wsDial(t, s.wsURL("one"), nil)))
			if h := ws.waitHeader(t); h != tc.want {
				t.Fatalf("WS viewer: FLV header %+v, want %+v", h, tc.want)
			}
			t.Run("ffprobe", func(t *testing.T) {
				t.Parallel()
				p, err := testenv.FFprobe(t, s.flvURL("one"), 20*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				checkTracks(t, p, tc.video, tc.audio)
			})
			t.Run("ffmpeg decode", func(t *testing.T) {
				t.Parallel()
				out, err := testenv.Decode(t, s.flvURL("one"), 3*time.Second)
				if err != nil {
					t.Fatalf("ffmpeg -xerror: %v\n%s", err, out)
				}
			})
		})
	}
}

// TestFFmpegStalledViewer: a viewer that stops reading is disconnected
// after the write timeout while another viewer's video has no gap.
func TestFFmpegStalledViewer(t *testing.T) {
	s := startLive(t, Config{WriteTimeout: 2 * time.Second}, func(l net.Listener) net.Listener { return smallBufListener{l} })
	testenv.Publish(t, s.publishURL("cam"), testenv.Source{Duration: 10 * time.Second,
		Extra: []string{"-b:v", "2M"}})
	s.waitStream(t, "cam", true)

	healthy := readTags(get(t, s.flvURL("cam")).Body)
	conn, err := net.Dial("tcp", s.http.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.(*net.TCPConn).SetReadBuffer(4 << 10)
	if _, err := fmt.Fprintf(conn, "GET /live/cam.flv HTTP/1.1\r\nHost: test\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	// Read the response header only, then stop reading.
	if line, err := bufio.NewReader(conn).ReadString('\n'); err != nil || !strings.Contains(line, "200") {
		t.Fatalf("stalled viewer: %q %v", line, err)
	}
	testenv.WaitFor(t, waitTimeout, "two viewers", func() bool { return len(s.h.Sessions()) == 2 })
	stalled := s.h.Sessions()[1]
	testenv.WaitFor(t, waitTimeout, "the stalled viewer to be dropped", func() bool {
		for _, x := range s.h.Sessions() {
			if x.ID == stalled.ID {
				return false
			}
		}
		return true
	})
	tags, err := healthy.waitEnd(t)
	if err != io.EOF {
		t.Fatalf("healthy viewer ended with %v", err)
	}
	checkTimeline(t, tags, 100)
	t.Logf("healthy viewer: %d tags, last at %d ms", len(tags), tags[len(tags)-1].Timestamp)
}
