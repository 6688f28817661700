package rtmp_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/rtmp"
	"github.com/mediaserver/mediaserver/rtmp/chunk"
	"github.com/mediaserver/mediaserver/stream"
)

// ownerAuth lets everyone in and vouches that every publisher owns its key.
type ownerAuth struct{}

func (ownerAuth) Authorize(context.Context, stream.AccessRequest) error { return nil }
func (ownerAuth) ChecksPublisher(stream.Key) bool                       { return true }

// Minimal AVC frames: sequence header, keyframe, inter frame.
var (
	avcHeader = []byte{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff, 0xe0}
	avcKey    = []byte{0x17, 1, 0, 0, 0, 0, 0, 0, 1, 0x65}
	avcInter  = []byte{0x27, 1, 0, 0, 0, 0, 0, 0, 1, 0x41}
)

// publishClient connects and publishes name, then sends a sequence header
// and frames from t0, 40 ms apart.
func publishClient(t *testing.T, s *testServer, name string, t0 uint32, frames int) *rtmp.Client {
	t.Helper()
	c, err := rtmp.Dial(context.Background(), s.url(""), rtmp.ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Publish(name); err != nil {
		t.Fatalf("publish %s: %v", name, err)
	}
	sendFrames(t, c, t0, frames)
	return c
}

// sendFrames sends a sequence header, a keyframe and inter frames.
func sendFrames(t *testing.T, c *rtmp.Client, t0 uint32, frames int) {
	t.Helper()
	if err := c.WriteMedia(chunk.TypeVideo, t0, avcHeader); err != nil {
		t.Fatal(err)
	}
	for i := range frames {
		p := avcInter
		if i == 0 {
			p = avcKey
		}
		if err := c.WriteMedia(chunk.TypeVideo, t0+uint32(i)*40, p); err != nil {
			t.Fatal(err)
		}
	}
}

// statusCodes reads messages until the connection ends and returns the
// onStatus codes and user control events received.
func statusCodes(t *testing.T, c *rtmp.Client, within time.Duration) (codes []string, events []uint16) {
	t.Helper()
	_ = c.Conn().SetReadDeadline(time.Now().Add(within))
	for {
		m, err := c.ReadMessage()
		if err != nil {
			if isTimeout(err) {
				t.Fatalf("connection not closed within %v (got %v)", within, codes)
			}
			return codes, events
		}
		switch m.Type {
		case chunk.TypeUserControl:
			if ev, err := chunk.ParseUserControl(m.Payload); err == nil {
				events = append(events, uint16(ev.Type))
			}
		case chunk.TypeCommandAMF0:
			cmd, err := rtmp.ParseCommand(&m)
			if err != nil || cmd.Name != "onStatus" {
				continue
			}
			if obj, ok := cmd.Arg(0).(interface{ String(string) (string, bool) }); ok {
				code, _ := obj.String("code")
				codes = append(codes, code)
			}
		}
	}
}

func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne) && ne.Timeout()
}

func TestTakeoverClosesOldPublisher(t *testing.T) {
	s := startServerWith(t, rtmp.ServerConfig{Authorizer: ownerAuth{}}, stream.Config{Takeover: stream.TakeoverAllow})
	old := publishClient(t, s, "cam", 0, 3)
	st := s.waitLive(t, "cam")
	viewer := play(t, s.url("cam"), "cam")
	testenv.WaitFor(t, 5*time.Second, "viewer frames", func() bool { return len(viewer.snapshot()) > 0 })

	publishClient(t, s, "cam", 0, 3)
	codes, _ := statusCodes(t, old, 5*time.Second)
	if len(codes) == 0 || codes[len(codes)-1] != "NetStream.Unpublish.Success" {
		t.Errorf("old publisher got %v, want NetStream.Unpublish.Success before the close", codes)
	}
	testenv.WaitFor(t, 5*time.Second, "the cut-off logged", func() bool {
		return strings.Contains(s.logs.String(), "another publisher took the stream over")
	})
	if now, ok := s.hub.Lookup(stream.Key{App: "live", Name: "cam"}); !ok || now != st || st.Republishes() != 1 {
		t.Fatal("takeover did not continue the same stream")
	}
	testenv.WaitFor(t, 5*time.Second, "the viewer to get the new publisher's frames", func() bool {
		return len(viewer.snapshot()) >= 6
	})
	if gaps := videoGaps(viewer.snapshot(), 100); len(gaps) > 0 {
		t.Errorf("viewer timestamps across the takeover: %v", gaps)
	}
}

func TestTakeoverRefusedWithoutOwnership(t *testing.T) {
	// No authoriser that vouches for owners: a live name stays busy.
	s := startServerWith(t, rtmp.ServerConfig{RefusalDelay: 10 * time.Millisecond}, stream.Config{Takeover: stream.TakeoverAllow})
	publishClient(t, s, "cam", 0, 1)
	s.waitLive(t, "cam")
	c, err := rtmp.Dial(context.Background(), s.url(""), rtmp.ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Publish("cam"); !errors.Is(err, rtmp.ErrStatus) || !strings.Contains(err.Error(), "BadName") {
		t.Fatalf("publish on a live name: %v, want BadName", err)
	}
}

func TestRepublishKeepsRTMPPlayer(t *testing.T) {
	s := startServerWith(t, rtmp.ServerConfig{}, stream.Config{RepublishWindow: 10 * time.Second})
	first := publishClient(t, s, "cam", 1000, 5)
	st := s.waitLive(t, "cam")
	viewer := play(t, s.url("cam"), "cam")
	testenv.WaitFor(t, 5*time.Second, "viewer frames", func() bool { return len(viewer.snapshot()) >= 5 })
	_ = first.Close() // the encoder's connection drops
	testenv.WaitFor(t, 5*time.Second, "the stream to wait", func() bool { return st.State() == stream.StateWaiting })

	publishClient(t, s, "cam", 0, 5) // the encoder is back, its clock restarted
	testenv.WaitFor(t, 5*time.Second, "frames after the republish", func() bool { return len(viewer.snapshot()) >= 11 })
	frames := viewer.snapshot()
	if gaps := videoGaps(frames, 100); len(gaps) > 0 {
		t.Errorf("viewer timestamps across the republish: %v", gaps)
	}
	headers := 0
	for _, f := range frames {
		if f.hdr {
			headers++
		}
	}
	if headers != 2 {
		t.Errorf("viewer got %d video sequence headers, want 2 (one per publisher)", headers)
	}
	select {
	case <-viewer.done:
		t.Fatalf("viewer disconnected: %v", viewer.err)
	default:
	}
}

func TestIdlePublisherTimeout(t *testing.T) {
	s := startServer(t, rtmp.ServerConfig{IdleTimeout: 500 * time.Millisecond})
	c := publishClient(t, s, "cam", 0, 1)
	// Data messages keep coming, but no media: the publisher is idle.
	stop := time.After(10 * time.Second)
	meta, err := rtmp.AppendCommand(nil, rtmp.Command{Name: "onCuePoint"})
	if err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(s.logs.String(), "limit="+rtmp.LimitIdleTimeout) {
		select {
		case <-stop:
			t.Fatal("idle publisher not cut off")
		case <-time.After(100 * time.Millisecond):
		}
		_ = c.WriteMedia(chunk.TypeDataAMF0, 0, meta)
	}
	if n := s.srv.LimitsHit()[rtmp.LimitIdleTimeout]; n != 1 {
		t.Errorf("idle timeouts counted %d, want 1", n)
	}
}

func TestShutdownSaysGoodbye(t *testing.T) {
	s := startServer(t, rtmp.ServerConfig{})
	pub := publishClient(t, s, "cam", 0, 3)
	s.waitLive(t, "cam")
	viewer, err := rtmp.Dial(context.Background(), s.url(""), rtmp.ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer viewer.Close()
	if err := viewer.Play("cam"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.srv.Shutdown(ctx) }()

	codes, _ := statusCodes(t, pub, 5*time.Second)
	if !contains(codes, "NetStream.Unpublish.Success") || !contains(codes, "NetConnection.Connect.Closed") {
		t.Errorf("publisher got %v, want NetStream.Unpublish.Success and NetConnection.Connect.Closed", codes)
	}
	codes, events := statusCodes(t, viewer, 5*time.Second)
	if !contains(codes, "NetStream.Play.UnpublishNotify") || !containsEvent(events, uint16(chunk.EventStreamEOF)) {
		t.Errorf("player got %v and events %v, want NetStream.Play.UnpublishNotify and StreamEOF", codes, events)
	}
	if err := <-done; err != nil {
		t.Errorf("shutdown: %v", err)
	}
	if n := len(s.srv.Sessions()); n != 0 {
		t.Errorf("%d sessions left after shutdown", n)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func containsEvent(list []uint16, e uint16) bool {
	for _, v := range list {
		if v == e {
			return true
		}
	}
	return false
}
