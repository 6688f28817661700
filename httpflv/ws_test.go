package httpflv

import (
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

// TestWebSocketFLV: binary messages carry the same FLV bytes as HTTP-FLV,
// batched, and the stream's end is a close frame.
func TestWebSocketFLV(t *testing.T) {
	f := newFixture(t, Config{}, stream.Config{})
	f.publish(metaFrame(t, true, true), videoHeaderFrame(t), audioHeaderFrame(t))
	for ts := uint32(0); ts < 200; ts += 20 {
		f.publish(videoFrame(t, ts, ts == 0, 300), audioFrame(t, ts, 30))
	}
	httpTags := readTags(get(t, f.url("/live/test.flv")).Body)
	ws := newWSReader(wsDial(t, f.wsURL("/live/test.flv"), nil))
	wsTags := readTags(ws)
	if h := wsTags.waitHeader(t); h != (flv.Header{HasAudio: true, HasVideo: true}) {
		t.Fatalf("FLV header %+v", h)
	}
	wsTags.waitTags(t, 23)
	if sizes := ws.messageSizes(); len(sizes) != 1 {
		t.Fatalf("cached frames came in %d messages %v, want one batch", len(sizes), sizes)
	}
	for ts := uint32(200); ts < 400; ts += 20 {
		f.publish(videoFrame(t, ts, false, 300), audioFrame(t, ts, 30))
	}
	f.pub.Close()
	ce := ws.closeError(t)
	if ce.Code != websocket.CloseNormalClosure || ce.Text != closeTextEnded {
		t.Fatalf("close frame %d %q, want %d %q", ce.Code, ce.Text, websocket.CloseNormalClosure, closeTextEnded)
	}
	got, err := wsTags.waitEnd(t)
	if err != io.EOF {
		t.Fatalf("WS FLV ended with %v", err)
	}
	want, err := httpTags.waitEnd(t)
	if err != io.EOF {
		t.Fatalf("HTTP FLV ended with %v", err)
	}
	if len(got) != 3+40 || describeTags(got) != describeTags(want) {
		t.Fatalf("WS tags %s\nHTTP tags %s", describeTags(got), describeTags(want))
	}
	checkMonotonic(t, got)
	testenv.WaitFor(t, waitTimeout, "sessions to end", func() bool { return len(f.h.Sessions()) == 0 })
}

// TestWebSocketPing: the server pings; a viewer that never reads (so never
// answers) is disconnected, one that reads stays.
func TestWebSocketPing(t *testing.T) {
	// A short header wait: the audio-only viewer is written by the delivery
	// goroutine soon after it joins.
	f := newFixture(t, Config{PingInterval: 400 * time.Millisecond, WriteTimeout: 100 * time.Millisecond,
		HeaderWait: 10 * time.Millisecond}, stream.Config{})
	f.publish(audioHeaderFrame(t), audioFrame(t, 0, 10))

	var pings atomic.Int32
	live := wsDial(t, f.wsURL("/live/test.flv"), nil)
	live.SetPingHandler(func(data string) error {
		pings.Add(1)
		return live.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	liveTags := readTags(newWSReader(live))
	testenv.WaitFor(t, waitTimeout, "live viewer", func() bool { return len(f.h.Sessions()) == 1 })
	liveID := f.h.Sessions()[0].ID

	deaf := wsDial(t, f.wsURL("/live/test.flv"), nil) // never reads, so never answers a ping
	_ = deaf
	testenv.WaitFor(t, waitTimeout, "deaf viewer", func() bool { return len(f.h.Sessions()) == 2 })
	testenv.WaitFor(t, waitTimeout, "deaf viewer to be dropped", func() bool {
		s := f.h.Sessions()
		return len(s) == 1 && s[0].ID == liveID
	})
	// The reading viewer answers pings and stays: more pings keep coming.
	liveTags.waitTags(t, 2)
	n := pings.Load()
	testenv.WaitFor(t, waitTimeout, "more pings", func() bool { return pings.Load() >= n+2 })
	// A frame published longer than the write timeout after a ping still
	// arrives: the ping must not leave a deadline behind on the socket of
	// a viewer the stream's delivery goroutine writes to.
	n = pings.Load()
	testenv.WaitFor(t, waitTimeout, "a ping", func() bool { return pings.Load() > n })
	time.Sleep(250 * time.Millisecond) // past the write timeout, before the next ping
	f.publish(audioFrame(t, 100, 10))
	liveTags.waitTags(t, 3)
	if s := f.h.Sessions(); len(s) != 1 || s[0].ID != liveID {
		t.Fatalf("sessions %+v, want only %s", s, liveID)
	}
}

func TestKick(t *testing.T) {
	f := newFixture(t, Config{}, stream.Config{})
	f.publish(audioHeaderFrame(t), audioFrame(t, 0, 10))
	flvTags := readTags(get(t, f.url("/live/test.flv")).Body)
	testenv.WaitFor(t, waitTimeout, "HTTP viewer", func() bool { return len(f.h.Sessions()) == 1 })
	ws := newWSReader(wsDial(t, f.wsURL("/live/test.flv"), nil))
	go func() { _, _ = io.Copy(io.Discard, ws) }()
	testenv.WaitFor(t, waitTimeout, "WS viewer", func() bool { return len(f.h.Sessions()) == 2 })

	s := f.h.Sessions()
	if s[0].ID != "flv-1" || s[0].Protocol != ProtocolFLV || s[1].ID != "ws-2" || s[1].Protocol != ProtocolWS {
		t.Fatalf("sessions %+v", s)
	}
	for _, x := range s {
		if x.Stream != "live/test" || x.RemoteAddr == "" || x.Start.IsZero() {
			t.Fatalf("session %+v", x)
		}
	}
	flvTags.waitTags(t, 2)
	testenv.WaitFor(t, waitTimeout, "bytes out", func() bool {
		s := f.h.Sessions()
		return len(s) == 2 && s[0].BytesOut >= 13+2*flv.TagHeaderSize && s[0].Frames == 2
	})

	if f.h.Kick("flv-99") {
		t.Fatal("Kick of an unknown ID reported true")
	}
	if !f.h.Kick("flv-1") {
		t.Fatal("Kick(flv-1) = false")
	}
	if _, err := flvTags.waitEnd(t); err != io.EOF {
		t.Fatalf("kicked HTTP-FLV response ended with %v, want a clean end", err)
	}
	if !f.h.Kick("ws-2") {
		t.Fatal("Kick(ws-2) = false")
	}
	if ce := ws.closeError(t); ce.Code != websocket.ClosePolicyViolation || ce.Text != closeTextKicked {
		t.Fatalf("close frame %d %q", ce.Code, ce.Text)
	}
	testenv.WaitFor(t, waitTimeout, "sessions to end", func() bool { return len(f.h.Sessions()) == 0 })
	if f.h.Kick("ws-2") {
		t.Fatal("Kick of an ended viewer reported true")
	}
}

// TestCloseEndsViewers: Close ends every viewer, waits for them, and refuses
// new ones.
func TestCloseEndsViewers(t *testing.T) {
	f := newFixture(t, Config{}, stream.Config{})
	f.publish(audioHeaderFrame(t), audioFrame(t, 0, 10))
	flvTags := readTags(get(t, f.url("/live/test.flv")).Body)
	ws := newWSReader(wsDial(t, f.wsURL("/live/test.flv"), nil))
	go func() { _, _ = io.Copy(io.Discard, ws) }()
	testenv.WaitFor(t, waitTimeout, "viewers", func() bool { return len(f.h.Sessions()) == 2 })
	// Both are playing (a viewer registers before it has written anything).
	flvTags.waitTags(t, 2)
	testenv.WaitFor(t, waitTimeout, "WS bytes", func() bool {
		s := f.h.Sessions()
		return len(s) == 2 && s[1].BytesOut > 0
	})

	f.h.Close()
	if n := len(f.h.Sessions()); n != 0 {
		t.Fatalf("%d sessions after Close", n)
	}
	if _, err := flvTags.waitEnd(t); err != io.EOF {
		t.Fatalf("HTTP-FLV response ended with %v, want a clean end", err)
	}
	if ce := ws.closeError(t); ce.Code != websocket.CloseGoingAway || ce.Text != closeTextShutdown {
		t.Fatalf("close frame %d %q", ce.Code, ce.Text)
	}
	resp, err := http.Get(f.url("/live/test.flv"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("GET after Close: %s", resp.Status)
	}
	f.h.Close()
}
