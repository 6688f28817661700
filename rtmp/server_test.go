package rtmp_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/rtmp"
	"github.com/mediaserver/mediaserver/rtmp/chunk"
	"github.com/mediaserver/mediaserver/stream"
)

type testServer struct {
	addr string
	hub  *stream.Registry
	srv  *rtmp.Server
	logs *testenv.LogBuffer // so tests can assert that a closed connection was logged with its reason
}

// startServer runs an RTMP server on a free loopback port.
func startServer(t *testing.T, cfg rtmp.ServerConfig) *testServer {
	t.Helper()
	return startServerWith(t, cfg, stream.Config{})
}

// startServerWith is startServer with a hub configured by scfg.
func startServerWith(t *testing.T, cfg rtmp.ServerConfig, scfg stream.Config) *testServer {
	t.Helper()
	logs := &testenv.LogBuffer{}
	log := logs.Logger(slog.LevelDebug)
	hub, err := stream.NewRegistry(scfg, log)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := rtmp.NewServer(cfg, hub, log)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		if err := <-done; err != rtmp.ErrServerClosed {
			t.Errorf("serve: %v", err)
		}
		hub.Close()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		} else if testing.Verbose() {
			for _, l := range strings.Split(logs.String(), "\n") {
				if strings.Contains(l, "closed") {
					t.Log(l)
				}
			}
		}
	})
	return &testServer{addr: ln.Addr().String(), hub: hub, srv: srv, logs: logs}
}

func (s *testServer) url(name string) string { return "rtmp://" + s.addr + "/live/" + name }

// waitLive waits until a stream has published its first keyframe.
func (s *testServer) waitLive(t *testing.T, name string) *stream.Stream {
	t.Helper()
	var st *stream.Stream
	testenv.WaitFor(t, 20*time.Second, "stream "+name+" to go live", func() bool {
		var ok bool
		st, ok = s.hub.Lookup(stream.Key{App: "live", Name: name})
		return ok && st.Headers().Video != nil && st.Stats().VideoFrames > 0
	})
	return st
}

// player is a Go RTMP client that plays a stream and records what arrives.
type player struct {
	c      *rtmp.Client
	mu     sync.Mutex
	frames []recv
	err    error
	done   chan struct{}
}

type recv struct {
	typ chunk.MessageType
	ts  uint32
	key bool // video keyframe (not a sequence header)
	hdr bool // sequence header
	at  time.Time
}

func play(t *testing.T, url, name string) *player {
	t.Helper()
	c, err := rtmp.Dial(context.Background(), url, rtmp.ClientConfig{})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Play(name); err != nil {
		t.Fatalf("play: %v", err)
	}
	p := &player{c: c, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for {
			msg, err := c.ReadMessage()
			if err != nil {
				p.mu.Lock()
				p.err = err
				p.mu.Unlock()
				return
			}
			if msg.Type != chunk.TypeAudio && msg.Type != chunk.TypeVideo {
				continue
			}
			r := recv{typ: msg.Type, ts: msg.Timestamp, at: time.Now()}
			if msg.Type == chunk.TypeVideo && len(msg.Payload) > 1 {
				r.key = msg.Payload[0]>>4 == 1 && msg.Payload[1] == 1
				r.hdr = msg.Payload[1] == 0
			}
			if msg.Type == chunk.TypeAudio && len(msg.Payload) > 1 {
				r.hdr = msg.Payload[1] == 0
			}
			p.mu.Lock()
			p.frames = append(p.frames, r)
			p.mu.Unlock()
		}
	}()
	return p
}

func (p *player) snapshot() []recv {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]recv(nil), p.frames...)
}

// videoGaps returns the places where consecutive video timestamps jump by
// more than max or go backwards.
func videoGaps(frames []recv, maxStep uint32) []string {
	var gaps []string
	var last uint32
	seen := false
	for _, f := range frames {
		if f.typ != chunk.TypeVideo || f.hdr {
			continue
		}
		if seen && (f.ts < last || f.ts-last > maxStep) {
			gaps = append(gaps, fmt.Sprintf("%d→%d", last, f.ts))
		}
		last, seen = f.ts, true
	}
	return gaps
}

func TestFFmpegPublishProbeAndPlay(t *testing.T) {
	s := startServer(t, rtmp.ServerConfig{})
	pub := testenv.Publish(t, s.url("cam"), testenv.Source{
		Width: 1280, Height: 720, FPS: 30, GOP: 120, SampleRate: 44100, Duration: 12 * time.Second,
	})
	s.waitLive(t, "cam")

	t.Run("ffprobe", func(t *testing.T) {
		probe, err := testenv.FFprobe(t, s.url("cam"), 20*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		v, a := probe.Video(), probe.Audio()
		if v == nil || v.CodecName != "h264" || v.Width != 1280 || v.Height != 720 {
			t.Errorf("video stream = %+v, want h264 1280x720", v)
		}
		if a == nil || a.CodecName != "aac" || a.SampleRate != "44100" {
			t.Errorf("audio stream = %+v, want aac 44100 Hz", a)
		}
	})

	t.Run("mid-stream join starts on a keyframe at once", func(t *testing.T) {
		// The keyframe interval is 4 s, so only the GOP cache can start a
		// player within a second.
		start := time.Now()
		p := play(t, s.url("cam"), "cam")
		testenv.WaitFor(t, 5*time.Second, "first video frame", func() bool {
			for _, f := range p.snapshot() {
				if f.typ == chunk.TypeVideo && !f.hdr {
					return true
				}
			}
			return false
		})
		var first *recv
		frames := p.snapshot()
		for i := range frames {
			if frames[i].typ == chunk.TypeVideo && !frames[i].hdr {
				first = &frames[i]
				break
			}
		}
		if !first.key {
			t.Errorf("first video frame is not a keyframe")
		}
		if wait := first.at.Sub(start); wait > time.Second {
			t.Errorf("first keyframe after %v, want within 1s", wait)
		}
		if len(frames) == 0 || !frames[0].hdr {
			t.Errorf("first media message is not a sequence header: %+v", frames[0])
		}
	})

	t.Run("ffmpeg decodes the stream without error", func(t *testing.T) {
		out, err := testenv.Decode(t, s.url("cam"), 4*time.Second)
		if err != nil {
			t.Fatalf("ffmpeg -xerror: %v\n%s", err, out)
		}
	})

	// A player watching when the publisher finishes ends cleanly.
	p := play(t, s.url("cam"), "cam")
	if exited, err := pub.Wait(30 * time.Second); !exited || err != nil {
		t.Fatalf("publisher: exited %v, err %v", exited, err)
	}
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		t.Fatal("player still connected 5s after the publisher left")
	}
	if gaps := videoGaps(p.snapshot(), 100); len(gaps) > 0 {
		t.Errorf("player saw timestamp gaps: %v", gaps)
	}
	if !strings.Contains(s.logs.String(), "play ended: stream unpublished") {
		t.Error("no log of the play ending with the stream")
	}
	testenv.WaitFor(t, 5*time.Second, "name to be free", func() bool {
		_, ok := s.hub.Lookup(stream.Key{App: "live", Name: "cam"})
		return !ok
	})
}

func TestFFplayStyleStopEndsPlayer(t *testing.T) {
	s := startServer(t, rtmp.ServerConfig{})
	pub := testenv.Publish(t, s.url("stop"), testenv.Source{})
	s.waitLive(t, "stop")
	// ffmpeg as a player: it must exit by itself when the publisher stops.
	reader := testenv.Start(t, "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
		"-i", s.url("stop"), "-c", "copy", "-f", "null", "-")
	// Stop the publisher once the player is well into the stream: attached
	// and fed for a while (on a slow machine ffmpeg takes seconds to start).
	testenv.WaitFor(t, 30*time.Second, "the ffmpeg player to be playing", func() bool {
		for _, sess := range s.srv.Sessions() {
			if sess.Role == "player" && sess.BytesOut > 300_000 && time.Since(sess.Start) > time.Second {
				return true
			}
		}
		return false
	})
	if err := pub.Stop(10 * time.Second); err != nil {
		t.Fatalf("stop publisher: %v", err)
	}
	exited, err := reader.Wait(10 * time.Second)
	if !exited {
		t.Fatal("ffmpeg player did not end after the publisher stopped")
	}
	if err != nil {
		t.Fatalf("ffmpeg player: %v\n%s", err, reader.Output())
	}
}
