package relay_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/relay"
	"github.com/mediaserver/mediaserver/rtmp"
	"github.com/mediaserver/mediaserver/stream"
)

// slowConn reads normally until after bytes were read, then at rate
// bytes a second, or with rate 0 never again (a Read blocks until Close):
// a server on a slow link, or one that took the publish and stopped
// reading.
type slowConn struct {
	net.Conn
	after, rate int
	read        int
	slowSince   time.Time
	closed      chan struct{}
	closeOnce   sync.Once
}

func (c *slowConn) Read(b []byte) (int, error) {
	if c.read < c.after {
		n, err := c.Conn.Read(b[:min(len(b), c.after-c.read)])
		c.read += n
		return n, err
	}
	if c.rate == 0 {
		<-c.closed
		return 0, net.ErrClosed
	}
	if c.slowSince.IsZero() {
		c.slowSince = time.Now()
	}
	due := c.slowSince.Add(time.Duration(c.read-c.after) * time.Second / time.Duration(c.rate))
	select {
	case <-time.After(time.Until(due)):
	case <-c.closed:
		return 0, net.ErrClosed
	}
	n, err := c.Conn.Read(b[:min(len(b), 4<<10)])
	c.read += n
	return n, err
}

func (c *slowConn) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

// slowTarget runs an RTMP server (this package's, on a hub of its own)
// whose connections read at rate bytes a second (0: not at all) once they
// read after bytes, and returns its port and hub.
func slowTarget(t *testing.T, after, rate int) (int, *stream.Registry) {
	t.Helper()
	hub, err := stream.NewRegistry(stream.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 0; ; n++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetReadBuffer(64 << 10) // no autotuned megabytes in the kernel
			}
			sc, err := rtmp.NewServerConn(&slowConn{Conn: c, after: after, rate: rate, closed: make(chan struct{})},
				fmt.Sprintf("stalled-%d", n), rtmp.ServerConfig{}, hub, nil)
			if err != nil {
				t.Error(err)
				_ = c.Close()
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = sc.Serve(ctx)
			}()
		}
	}()
	t.Cleanup(func() {
		cancel()
		_ = ln.Close()
		wg.Wait()
		hub.Close()
	})
	return ln.Addr().(*net.TCPAddr).Port, hub
}

// flvWatch is what an HTTP-FLV viewer saw.
type flvWatch struct {
	videoTags int
	gaps      []string // jumps between consecutive video timestamps
	err       error
}

// watchFLV plays url over HTTP-FLV for d and reports the video tags and
// every jump of more than maxStep between consecutive video timestamps.
func watchFLV(url string, d, maxStep time.Duration) flvWatch {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var w flvWatch
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		w.err = err
		return w
	}
	resp, err := noKeepAlive().Do(req)
	if err != nil {
		w.err = err
		return w
	}
	defer resp.Body.Close()
	r := flv.NewReader(resp.Body)
	if _, err := r.ReadHeader(); err != nil {
		w.err = err
		return w
	}
	var last uint32
	for {
		tag, err := r.ReadTag()
		if err != nil {
			if ctx.Err() == nil {
				w.err = err
			}
			return w
		}
		if tag.Type != flv.TagVideo {
			continue
		}
		if w.videoTags > 0 && time.Duration(tag.Timestamp-last)*time.Millisecond > maxStep {
			w.gaps = append(w.gaps, fmt.Sprintf("%d→%d ms", last, tag.Timestamp))
		}
		last = tag.Timestamp
		w.videoTags++
	}
}

// TestForwardTargetThatStopsReadingLeavesViewersWhole: a target that takes
// the publish and then never reads again does not disturb the stream's
// HTTP-FLV viewer, which sees every frame without a gap and drops
// nothing; the forward gives up on the stalled connection after
// forward.timeout and retries.
func TestForwardTargetThatStopsReadingLeavesViewersWhole(t *testing.T) {
	testenv.CheckGoroutines(t)
	port, _ := slowTarget(t, 64<<10, 0)
	srv := forwardServer(t, fmt.Sprintf("rtmp://127.0.0.1:%d/app/key", port), func(c *relay.ForwardConfig) {
		c.Timeout = 3 * time.Second
		c.MinBackoff, c.MaxBackoff = time.Second, 2*time.Second
	})
	key := stream.Key{App: "live", Name: "cam"}
	testenv.Publish(t, "rtmp://"+srv.RTMPAddr()+"/live/cam", testenv.Source{Duration: 60 * time.Second,
		Extra: []string{"-b:v", "2M"}})
	var st *stream.Stream
	testenv.WaitFor(t, 30*time.Second, "the stream to go live", func() bool {
		var ok bool
		st, ok = srv.Hub().Lookup(key)
		return ok && st.Stats().Keyframes > 0
	})
	waitState(t, srv, "live", "cam", relay.StateLive, 30*time.Second)

	watched := make(chan flvWatch, 1)
	go func() {
		watched <- watchFLV("http://"+srv.HTTPAddr()+"/live/cam.flv", 12*time.Second, 500*time.Millisecond)
	}()
	failed := waitState(t, srv, "live", "cam", relay.StateRetrying, 30*time.Second)
	if !strings.Contains(failed.LastError, "timeout") {
		t.Errorf("stalled target's error %q: want a write timeout", failed.LastError)
	}
	checkWholeFLVViewer(t, <-watched, st)
}

// TestSlowForwardTargetLosesFramesToKeyframes: a target on a link slower
// than the stream stays live, and its forward skips ahead to keyframes,
// the skipped frames counted in the API, while the publisher's HTTP-FLV
// viewer drops nothing.
func TestSlowForwardTargetLosesFramesToKeyframes(t *testing.T) {
	testenv.CheckGoroutines(t)
	port, targetHub := slowTarget(t, 64<<10, 48<<10)
	srv := forwardServer(t, fmt.Sprintf("rtmp://127.0.0.1:%d/app/key", port), func(c *relay.ForwardConfig) {
		c.Timeout = 30 * time.Second // slow, not stalled: no write waits this long
	})
	key := stream.Key{App: "live", Name: "cam"}
	// 2 Mbit/s, about 260 KB/s with the audio: five times the target's link.
	testenv.Publish(t, "rtmp://"+srv.RTMPAddr()+"/live/cam", testenv.Source{Duration: 60 * time.Second,
		Extra: []string{"-b:v", "2M"}})
	var st *stream.Stream
	testenv.WaitFor(t, 30*time.Second, "the stream to go live", func() bool {
		var ok bool
		st, ok = srv.Hub().Lookup(key)
		return ok && st.Stats().Keyframes > 0
	})
	watched := make(chan flvWatch, 1)
	go func() {
		watched <- watchFLV("http://"+srv.HTTPAddr()+"/live/cam.flv", 15*time.Second, 500*time.Millisecond)
	}()
	var slow forwardDoc
	testenv.WaitFor(t, 40*time.Second, "the slow target to skip frames", func() bool {
		fs := forwards(t, srv, "live", "cam")
		if len(fs) == 1 {
			slow = fs[0]
		}
		return slow.Dropped > 0
	})
	if slow.State != relay.StateLive || slow.Retries != 0 {
		t.Errorf("slow target %+v: want it live throughout", slow)
	}
	if _, ok := targetHub.Lookup(stream.Key{App: "app", Name: "key"}); !ok {
		t.Error("the target has no stream")
	}
	checkWholeFLVViewer(t, <-watched, st)
}

// checkWholeFLVViewer checks that the HTTP-FLV viewer of st that w watched
// got the whole stream: no error, at least 150 video tags, no timestamp
// gaps, no frame dropped.
func checkWholeFLVViewer(t *testing.T, w flvWatch, st *stream.Stream) {
	t.Helper()
	if w.err != nil {
		t.Fatalf("viewer: %v", w.err)
	}
	if w.videoTags < 150 || len(w.gaps) > 0 {
		t.Errorf("viewer saw %d video tags with %d gaps %v; want a whole stream", w.videoTags, len(w.gaps), w.gaps)
	}
	for _, r := range st.Readers() {
		if r.Info().Protocol == stream.ProtocolFLV {
			if d := r.Stats().Dropped; d != 0 {
				t.Errorf("the HTTP-FLV viewer dropped %d frames", d)
			}
		}
	}
}
