package rtmp_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/amf"
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

// rawCommand encodes an AMF0 command message for chunk stream 3 in chunks
// of chunkSize.
func rawCommand(t *testing.T, chunkSize int, streamID uint32, cmd rtmp.Command) []byte {
	t.Helper()
	payload, err := rtmp.AppendCommand(nil, cmd)
	if err != nil {
		t.Fatal(err)
	}
	return chunk.AppendMessage(nil, &chunk.Message{
		Type: chunk.TypeCommandAMF0, ChunkStreamID: 3, StreamID: streamID, Payload: payload,
	}, chunkSize)
}

// connectCommand is a minimal connect to app "live".
func connectCommand() rtmp.Command {
	return rtmp.Command{Name: "connect", TransactionID: 1, Object: amf.Object{
		{Key: "app", Value: "live"}, {Key: "tcUrl", Value: "rtmp://127.0.0.1/live"},
	}}
}

// nestedAMF returns a connect command body whose command object nests
// depth objects.
func nestedAMF(depth int) []byte {
	b := []byte{0x02, 0, 7}
	b = append(b, "connect"...)
	b = append(b, 0x00, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0) // transaction id 1
	for range depth {
		b = append(b, 0x03, 0, 1, 'a')
	}
	b = append(b, 0x05)
	for range depth {
		b = append(b, 0, 0, 0x09)
	}
	return b
}

// Limits of the bad-input server: short timeouts so that the cases that
// wait for one finish quickly, and a per-address connection cap (every test
// client is 127.0.0.1).
const (
	badHandshakeTimeout = time.Second
	badSetupTimeout     = 2 * time.Second
	badMaxConnsPerIP    = 32
)

func TestBadInputClosesOnlyItsOwnConnection(t *testing.T) {
	s := startServer(t, rtmp.ServerConfig{
		HandshakeTimeout: badHandshakeTimeout, SetupTimeout: badSetupTimeout, RefusalDelay: 200 * time.Millisecond,
		MaxConnsPerIP: badMaxConnsPerIP,
	})
	testenv.Publish(t, s.url("legit"), testenv.Source{Duration: 60 * time.Second})
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
		{"truncated handshake", "handshake timeout", func(t *testing.T) {
			conn, err := net.Dial("tcp", s.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_, _ = conn.Write(append([]byte{3}, make([]byte, 700)...)) // C0 and half of C1, then silence
			expectClosed(t, conn, 5*time.Second)
		}},
		{"a connection that never sends", "limit=" + rtmp.LimitHandshakeTimeout, func(t *testing.T) {
			conn, err := net.Dial("tcp", s.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			expectClosed(t, conn, 5*time.Second)
		}},
		{"garbage after the handshake", "before the previous message is complete", func(t *testing.T) {
			conn := rawConn(t, s.addr)
			// fmt 0 headers on chunk stream 2 over and over: each announces
			// a 196354-byte message and the next cuts it short.
			_, _ = conn.Write(bytes.Repeat([]byte{0x02, 0xFF}, 2000))
			expectClosed(t, conn, 5*time.Second)
		}},
		{"type-3 chunk with no previous header", "missing previous header", func(t *testing.T) {
			conn := rawConn(t, s.addr)
			_, _ = conn.Write([]byte{0xC7, 1, 2, 3, 4})
			expectClosed(t, conn, 5*time.Second)
		}},
		{"chunk size of 1", "limit=" + rtmp.LimitSetupTimeout, func(t *testing.T) {
			// A chunk size of 1 is legal: the connect must work, one byte
			// per chunk. The client then idles until the setup timeout.
			conn := rawConn(t, s.addr)
			msg := chunk.AppendMessage(nil, &chunk.Message{
				Type: chunk.TypeSetChunkSize, ChunkStreamID: 2, Payload: chunk.AppendSetChunkSize(nil, 1),
			}, 128)
			msg = append(msg, rawCommand(t, 1, 0, connectCommand())...)
			if _, err := conn.Write(msg); err != nil {
				t.Fatal(err)
			}
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			r := chunk.NewReader(conn, chunk.ReaderConfig{})
			for {
				m, err := r.ReadMessage()
				if err != nil {
					t.Fatalf("no answer to connect in 1-byte chunks: %v", err)
				}
				if m.Type != chunk.TypeCommandAMF0 {
					continue
				}
				cmd, err := rtmp.ParseCommand(&m)
				if err != nil || cmd.Name != "_result" {
					t.Fatalf("connect answered %q, %v", cmd.Name, err)
				}
				break
			}
			expectClosed(t, conn, badSetupTimeout+3*time.Second)
		}},
		{"deeply nested AMF objects", "nesting too deep", func(t *testing.T) {
			conn := rawConn(t, s.addr)
			_, _ = conn.Write(chunk.AppendMessage(nil, &chunk.Message{
				Type: chunk.TypeCommandAMF0, ChunkStreamID: 3, Payload: nestedAMF(100_000),
			}, 128))
			expectClosed(t, conn, 5*time.Second)
		}},
		{"unknown message type", "message type 80", func(t *testing.T) {
			conn := rawConn(t, s.addr)
			_, _ = conn.Write(chunk.AppendMessage(nil, &chunk.Message{
				Type: 80, ChunkStreamID: 3, Payload: []byte("hello"),
			}, 128))
			expectClosed(t, conn, 5*time.Second)
		}},
		{"publish with no connect", "publish before connect", func(t *testing.T) {
			conn := rawConn(t, s.addr)
			_, _ = conn.Write(rawCommand(t, 128, 1, rtmp.Command{Name: "publish", Args: []any{nil, "legit", "live"}}))
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
			testenv.WaitFor(t, 5*time.Second, "a logged reason containing "+tc.reason, func() bool {
				for _, line := range strings.Split(s.logs.String(), "\n") {
					if strings.Contains(line, "connection closed") && strings.Contains(line, tc.reason) {
						return true
					}
				}
				return false
			})
		})
	}

	t.Run("thousands of connections at once", func(t *testing.T) {
		const n = 2000
		conns := make([]net.Conn, 0, n)
		defer func() {
			for _, c := range conns {
				_ = c.Close()
			}
		}()
		floodStart := time.Now()
		for range n {
			c, err := net.Dial("tcp", s.addr)
			if err != nil {
				t.Fatalf("dial %d: %v", len(conns), err)
			}
			conns = append(conns, c)
		}
		flood := time.Since(floodStart)
		// Every connection ends: the ones over the cap at once, the others
		// at the handshake timeout.
		for _, c := range conns {
			_ = c.SetReadDeadline(time.Now().Add(badHandshakeTimeout + 5*time.Second))
			_, err := c.Read(make([]byte, 1))
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("a connection of the flood was never closed")
			}
		}
		refused := s.srv.LimitsHit()[rtmp.LimitConnsPerIP]
		t.Logf("%d connections: %d refused at once", n, refused)
		// The legitimate publisher and viewer hold 2 of the slots. On a slow
		// machine the flood outlasts the handshake timeout, and every
		// timeout period frees at most the cap's worth of slots again.
		periods := 1 + int(flood/badHandshakeTimeout)
		if want := n - badMaxConnsPerIP*periods; int(refused) < want {
			t.Errorf("%d connections refused (flood took %v), want at least %d", refused, flood, want)
		}
		if logged := strings.Count(s.logs.String(), "reason="+rtmp.LimitConnsPerIP); logged != 1 {
			t.Errorf("refusals logged %d times, want once (rate-limited)", logged)
		}
	})

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
