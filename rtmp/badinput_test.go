package rtmp_test

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/rtmp"
	"github.com/mediaserver/mediaserver/rtmp/chunk"
	"github.com/mediaserver/mediaserver/rtmp/handshake"
	"github.com/mediaserver/mediaserver/stream"
)

// expectClosed waits until the server closes conn, reading and discarding
// whatever it sends first.
func expectClosed(t *testing.T, conn net.Conn, within time.Duration) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(within))
	_, err := io.Copy(io.Discard, conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("server did not close the connection within %v", within)
	}
}

// rawConn dials the server and completes the handshake.
func rawConn(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if _, err := handshake.Client(conn, handshake.ClientConfig{}); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	return conn
}

func TestBadInputClosesOnlyItsOwnConnection(t *testing.T) {
	s := startServer(t, rtmp.ServerConfig{HandshakeTimeout: time.Second, RefusalDelay: 200 * time.Millisecond})
	testenv.Publish(t, s.url("legit"), testenv.Source{Duration: 30 * time.Second})
	st := s.waitLive(t, "legit")
	viewer := play(t, s.url("legit"), "legit")

	cases := []struct {
		name   string
		reason string // expected in the server log
		run    func(t *testing.T)
	}{
		{"random bytes", "handshake", func(t *testing.T) {
			conn, err := net.Dial("tcp", s.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			junk := make([]byte, 4000)
			_, _ = rand.Read(junk)
			junk[0] = 0xEE // not an RTMP version
			_, _ = conn.Write(junk)
			expectClosed(t, conn, 5*time.Second)
		}},
		{"truncated handshake", "handshake", func(t *testing.T) {
			conn, err := net.Dial("tcp", s.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_, _ = conn.Write(append([]byte{3}, make([]byte, 700)...)) // C0 and half of C1, then silence
			expectClosed(t, conn, 5*time.Second)
		}},
		{"message length beyond the cap", "message too large", func(t *testing.T) {
			conn := rawConn(t, s.addr)
			// fmt 0 on chunk stream 3: timestamp 0, length 0xFFFFFF, type 20, stream 0.
			_, _ = conn.Write([]byte{0x03, 0, 0, 0, 0xFF, 0xFF, 0xFF, 20, 0, 0, 0, 0})
			expectClosed(t, conn, 5*time.Second)
		}},
		{"unknown command", "unknown command", func(t *testing.T) {
			c, err := rtmp.Dial(context.Background(), s.url(""), rtmp.ClientConfig{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.Call("formatHardDisk", nil); !errors.Is(err, rtmp.ErrStatus) {
				t.Errorf("unknown command answered with %v, want an _error", err)
			}
			expectClosed(t, c.Conn(), 5*time.Second)
		}},
		{"malformed AMF", "amf", func(t *testing.T) {
			c, err := rtmp.Dial(context.Background(), s.url(""), rtmp.ClientConfig{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			// A long string claiming 4 GiB, then five bytes.
			bad := []byte{0x0C, 0xFF, 0xFF, 0xFF, 0xFF, 'h', 'e', 'l', 'l', 'o'}
			_ = c.WriteMessage(&chunk.Message{Type: chunk.TypeCommandAMF0, ChunkStreamID: 3, Payload: bad})
			expectClosed(t, c.Conn(), 5*time.Second)
		}},
		{"media before publish", "without publish", func(t *testing.T) {
			c, err := rtmp.Dial(context.Background(), s.url(""), rtmp.ClientConfig{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.WriteMessage(&chunk.Message{Type: chunk.TypeVideo, ChunkStreamID: 6, StreamID: 1, Payload: []byte{0x17, 1, 0, 0, 0}})
			expectClosed(t, c.Conn(), 5*time.Second)
		}},
		{"publish on a live name", "already being published", func(t *testing.T) {
			c, err := rtmp.Dial(context.Background(), s.url(""), rtmp.ClientConfig{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.Publish("legit"); !errors.Is(err, rtmp.ErrStatus) || !strings.Contains(err.Error(), "BadName") {
				t.Errorf("publish on a live name: %v, want BadName", err)
			}
			expectClosed(t, c.Conn(), 5*time.Second)
		}},
		{"play of a missing stream", "not found", func(t *testing.T) {
			c, err := rtmp.Dial(context.Background(), s.url(""), rtmp.ClientConfig{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.Play("nothing-here"); !errors.Is(err, rtmp.ErrStatus) || !strings.Contains(err.Error(), "StreamNotFound") {
				t.Errorf("play of a missing stream: %v, want StreamNotFound", err)
			}
			expectClosed(t, c.Conn(), 5*time.Second)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t)
			waitFor(t, 5*time.Second, "a logged reason containing "+tc.reason, func() bool {
				for _, line := range strings.Split(s.logs.String(), "\n") {
					if strings.Contains(line, "connection closed") && strings.Contains(line, tc.reason) {
						return true
					}
				}
				return false
			})
		})
	}

	// The legitimate viewer kept receiving, with no gap and no drop.
	before := len(viewer.snapshot())
	time.Sleep(time.Second)
	frames := viewer.snapshot()
	if len(frames) <= before {
		t.Fatal("legitimate viewer stopped receiving frames")
	}
	if gaps := videoGaps(frames, 100); len(gaps) > 0 {
		t.Errorf("legitimate viewer saw timestamp gaps: %v", gaps)
	}
	if d := st.Stats().Dropped; d != 0 {
		t.Errorf("legitimate viewer dropped %d frames", d)
	}
	if _, ok := s.hub.Lookup(stream.Key{App: "live", Name: "legit"}); !ok {
		t.Error("legitimate stream is gone")
	}
}
