package httpflv

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

// gatedWriter is an http.ResponseWriter whose viewer stops reading: its
// second Write blocks until release is closed.
type gatedWriter struct {
	hdr     http.Header
	blocked chan struct{} // closed when the second Write starts
	release chan struct{}

	mu     sync.Mutex
	writes int
	body   bytes.Buffer
}

func newGatedWriter() *gatedWriter {
	return &gatedWriter{hdr: http.Header{}, blocked: make(chan struct{}), release: make(chan struct{})}
}

func (w *gatedWriter) Header() http.Header                { return w.hdr }
func (w *gatedWriter) WriteHeader(int)                    {}
func (w *gatedWriter) Flush()                             {}
func (w *gatedWriter) SetWriteDeadline(t time.Time) error { return nil }

func (w *gatedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.writes++
	n := w.writes
	w.mu.Unlock()
	if n == 2 {
		close(w.blocked)
		<-w.release
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.body.Write(p)
}

func (w *gatedWriter) writeCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.writes
}

// gop returns one 200 ms GOP starting at ts: a keyframe and 9 inter frames
// (every 20 ms), each followed by an audio frame.
func gop(t testing.TB, ts uint32, size int) []*stream.Frame {
	var out []*stream.Frame
	for i := range uint32(10) {
		out = append(out, videoFrame(t, ts+20*i, i == 0, size), audioFrame(t, ts+20*i, 20))
	}
	return out
}

func frameTags(frames []*stream.Frame) []string {
	out := make([]string, len(frames))
	for i, f := range frames {
		out[i] = describeTag(flv.Tag{Type: f.Type, Timestamp: f.Time, Data: f.Payload})
	}
	return out
}

func tagNames(tags []flv.Tag) []string {
	out := make([]string, len(tags))
	for i, tag := range tags {
		out[i] = describeTag(tag)
	}
	return out
}

// TestSlowViewerResyncsWhileOtherSeesNoGap: a viewer that stops reading
// falls out of the stream's bounded cache while the publisher goes on; when
// it reads again it resumes at a keyframe with the skipped frames counted,
// and a second viewer meanwhile gets every frame in order.
func TestSlowViewerResyncsWhileOtherSeesNoGap(t *testing.T) {
	f := newFixture(t, Config{}, stream.Config{GOPCacheFrames: 64})
	f.publish(metaFrame(t, true, true), videoHeaderFrame(t), audioHeaderFrame(t))
	var published []*stream.Frame
	publishGOP := func(ts uint32) {
		g := gop(t, ts, 500)
		f.publish(g...)
		published = append(published, g...)
	}
	publishGOP(0)

	// The healthy viewer reads over a real connection.
	healthy := readTags(get(t, f.url("/live/test.flv")).Body)
	healthy.waitTags(t, 3+20)

	// The slow one is served directly through a writer that stalls.
	slow := newGatedWriter()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan struct{})
	go func() {
		defer close(served)
		f.h.ServeHTTP(slow, httptest.NewRequestWithContext(ctx, "GET", "/live/test.flv", nil))
	}()
	testenv.WaitFor(t, waitTimeout, "slow viewer's first batch", func() bool { return slow.writeCount() == 1 })

	// 30 more GOPs, 600 frames against a cache of 64. The publisher only
	// waits for the healthy viewer, never for the slow one.
	for i := range uint32(30) {
		publishGOP(200 * (i + 1))
		want := 3 + len(published)
		healthy.waitTags(t, want)
		if i == 0 {
			<-slow.blocked
		}
	}
	var slowID string
	for _, s := range f.h.Sessions() {
		if s.ID != "flv-1" {
			slowID = s.ID
		}
	}
	close(slow.release)
	testenv.WaitFor(t, waitTimeout, "the slow viewer to resync", func() bool {
		for _, s := range f.h.Sessions() {
			if s.ID == slowID && s.Dropped > 0 {
				return true
			}
		}
		return false
	})
	dropped := func() uint64 {
		for _, s := range f.h.Sessions() {
			if s.ID == slowID {
				return s.Dropped
			}
		}
		return 0
	}()
	publishGOP(200 * 31)
	f.pub.Close()
	<-served

	// The healthy viewer: every frame, in order.
	tags, err := healthy.waitEnd(t)
	if err != io.EOF {
		t.Fatalf("healthy viewer ended with %v", err)
	}
	checkMonotonic(t, tags)
	want := append([]string{"d0", "vH0", "aH0"}, frameTags(published)...)
	if got := tagNames(tags); !slices.Equal(got, want) {
		t.Fatalf("healthy viewer got\n%v\nwant\n%v", got, want)
	}

	// The slow viewer: monotonic, a subsequence of the stream that jumps
	// to a keyframe, and exactly the frames it did not get were counted.
	fr := flv.NewReader(bufio.NewReader(bytes.NewReader(slow.body.Bytes())))
	if h, err := fr.ReadHeader(); err != nil || h != (flv.Header{HasAudio: true, HasVideo: true}) {
		t.Fatalf("slow viewer header %+v %v", h, err)
	}
	var slowTags []flv.Tag
	for {
		tag, err := fr.ReadTag()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("slow viewer body: %v", err)
		}
		slowTags = append(slowTags, tag)
	}
	checkMonotonic(t, slowTags)
	names := tagNames(slowTags)
	if len(names) < 3 || !slices.Equal(names[:3], []string{"d0", "vH0", "aH0"}) {
		t.Fatalf("slow viewer starts %v", names)
	}
	media := names[3:]
	pos := slices.Index(want, media[0])
	jumps := 0
	for i, name := range media {
		if want[pos] == name {
			pos++
			continue
		}
		next := slices.Index(want[pos:], name)
		if next < 0 {
			t.Fatalf("slow viewer tag %d %s is not in the stream after %s", i+3, name, want[pos-1])
		}
		if name[:2] != "vK" {
			t.Fatalf("slow viewer resumed at %s, not at a keyframe: %v", name, media)
		}
		pos += next + 1
		jumps++
	}
	if jumps != 1 {
		t.Fatalf("slow viewer skipped %d times, want once: %v", jumps, media)
	}
	first := slices.Index(want, media[0])
	if skipped := (len(want) - first) - len(media); uint64(skipped) != dropped {
		t.Fatalf("slow viewer skipped %d frames, Dropped = %d", skipped, dropped)
	}
	t.Logf("slow viewer: %d frames, %d dropped", len(media), dropped)
}

// smallBufListener shrinks the send buffer of accepted connections so a
// viewer that stops reading blocks the server's writes quickly.
type smallBufListener struct{ net.Listener }

func (l smallBufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(16 << 10)
	}
	return c, err
}

// TestStalledViewerIsDropped: a viewer that stops reading entirely is
// disconnected once a write has been blocked for WriteTimeout, while the
// publisher and a second viewer go on without a gap.
func TestStalledViewerIsDropped(t *testing.T) {
	reg, err := stream.NewRegistry(stream.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	pub, err := reg.Publish(testKey, stream.PublisherInfo{})
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Config{WriteTimeout: time.Second}, reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = smallBufListener{srv.Listener}
	srv.Start()
	defer srv.Close()
	defer h.Close()

	pub.WriteFrame(videoHeaderFrame(t))
	pub.WriteFrame(audioHeaderFrame(t))
	want := []string{"vH0", "aH0"}
	publishGOP := func(ts uint32) {
		g := gop(t, ts, 16<<10)
		for _, fr := range g {
			pub.WriteFrame(fr)
		}
		want = append(want, frameTags(g)...)
	}
	publishGOP(0)

	healthy := readTags(get(t, srv.URL+"/live/test.flv").Body)

	// The stalled viewer sends its request and never reads the response.
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.(*net.TCPConn).SetReadBuffer(4 << 10)
	if _, err := fmt.Fprintf(conn, "GET /live/test.flv HTTP/1.1\r\nHost: test\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, waitTimeout, "two viewers", func() bool { return len(h.Sessions()) == 2 })
	stalledID := h.Sessions()[1].ID

	// Publish (at about 10 GOPs a second, never waiting for the stalled
	// viewer) until the stalled viewer is gone.
	deadline := time.Now().Add(20 * time.Second)
	for ts := uint32(200); ; ts += 200 {
		publishGOP(ts)
		healthy.waitTags(t, len(want))
		s := h.Sessions()
		if len(s) == 1 && s[0].ID != stalledID {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stalled viewer still connected after %d frames: %+v", len(want), s)
		}
		time.Sleep(100 * time.Millisecond)
	}
	pub.Close()
	tags, err := healthy.waitEnd(t)
	if err != io.EOF {
		t.Fatalf("healthy viewer ended with %v", err)
	}
	checkMonotonic(t, tags)
	if got := tagNames(tags); !slices.Equal(got, want) {
		t.Fatalf("healthy viewer got %d tags, want %d:\n%v", len(got), len(want), got)
	}
	t.Logf("stalled viewer dropped after %d frames were published", len(want))
}

// pausingReader reads in bursts: after every `every` bytes it stops reading
// for pause, so the server's socket fills up now and then.
type pausingReader struct {
	r     io.Reader
	every int
	pause time.Duration
	n     int
}

func (p *pausingReader) Read(b []byte) (int, error) {
	if p.n >= p.every {
		time.Sleep(p.pause)
		p.n = 0
	}
	n, err := p.r.Read(b[:min(len(b), p.every-p.n)])
	p.n += n
	return n, err
}

// TestViewerWithFullSocketGetsEveryByte: a viewer over a real connection
// that reads in bursts keeps filling its socket, so the stream's delivery
// goroutine hands it back to its own goroutine (often in the middle of a
// batch) and takes it again once it has caught up. The viewer still gets
// every frame, byte for byte, in order, and a clean end: over HTTP-FLV,
// and over WebSocket-FLV with pings every few milliseconds, which must
// never land inside a message.
func TestViewerWithFullSocketGetsEveryByte(t *testing.T) {
	// A fixed receive buffer (no autotuning): every burst of frames fills
	// the socket. (Much smaller ones stall loopback TCP itself: the window
	// stays below the segment size until the persist timer fires.)
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(64 << 10)
		}
		return c, err
	}
	for _, proto := range []stream.Protocol{ProtocolFLV, ProtocolWS} {
		t.Run(string(proto), func(t *testing.T) {
			testenv.CheckGoroutines(t)
			reg, err := stream.NewRegistry(stream.Config{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer reg.Close()
			pub, err := reg.Publish(testKey, stream.PublisherInfo{})
			if err != nil {
				t.Fatal(err)
			}
			h, err := New(Config{WriteTimeout: 10 * time.Second, PingInterval: 5 * time.Millisecond}, reg, nil)
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewUnstartedServer(h)
			srv.Listener = smallBufListener{srv.Listener}
			srv.Start()
			defer srv.Close()
			defer h.Close()

			var published []*stream.Frame
			publish := func(fs ...*stream.Frame) {
				for _, f := range fs {
					pub.WriteFrame(f)
				}
				published = append(published, fs...)
			}
			publish(videoHeaderFrame(t), audioHeaderFrame(t))
			publish(gop(t, 0, 16<<10)...)

			var body io.Reader
			var ws *wsReader
			if proto == ProtocolWS {
				d := websocket.Dialer{NetDialContext: dial}
				c, _, err := d.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/live/test.flv", nil)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				ws = newWSReader(c)
				body = ws
			} else {
				client := &http.Client{Transport: &http.Transport{DialContext: dial}}
				resp, err := client.Get(srv.URL + "/live/test.flv")
				if err != nil {
					t.Fatal(err)
				}
				body = resp.Body
			}
			tags := readTags(&pausingReader{r: body, every: 64 << 10, pause: time.Millisecond})
			testenv.WaitFor(t, waitTimeout, "the viewer", func() bool { return len(h.Sessions()) == 1 })
			for ts := uint32(200); ts < 200*30; ts += 200 {
				publish(gop(t, ts, 32<<10)...) // 320 KiB at once
				time.Sleep(30 * time.Millisecond)
			}
			var sess *session
			h.mu.Lock()
			for _, s := range h.sessions {
				sess = s
			}
			h.mu.Unlock()
			pub.Close()
			got, err := tags.waitEnd(t)
			if err != io.EOF {
				t.Fatalf("viewer ended with %v, want a clean end", err)
			}
			if ws != nil {
				if ce := ws.closeError(t); ce.Code != websocket.CloseNormalClosure {
					t.Fatalf("close frame %d %q, want %d", ce.Code, ce.Text, websocket.CloseNormalClosure)
				}
			}
			if len(got) != len(published) {
				t.Fatalf("viewer got %d tags, want %d", len(got), len(published))
			}
			for i, tag := range got {
				f := published[i]
				if tag.Type != f.Type || tag.Timestamp != f.Time || !bytes.Equal(tag.Data, f.Payload) {
					t.Fatalf("tag %d: %s with %d bytes, want %s with %d", i, describeTag(tag), len(tag.Data),
						frameTags(published[i : i+1])[0], len(f.Payload))
				}
			}
			full := sess.fullSocket.Load()
			if full < 5 {
				t.Fatalf("the viewer's socket filled %d times: the test did not exercise the hand-back enough", full)
			}
			t.Logf("%d tags; the delivery goroutine found the socket full %d times", len(got), full)
		})
	}
}
