package server_test

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mediaserver/mediaserver/internal/server"
	"github.com/mediaserver/mediaserver/internal/servertest"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

// startLogged is servertest.Start with the log kept in a buffer, so tests
// can find logged reasons (and shown when the test fails).
func startLogged(t *testing.T, edit func(*server.Config)) (*server.Server, *testenv.LogBuffer) {
	t.Helper()
	logs := &testenv.LogBuffer{}
	// Registered first, so it runs after the shutdown and shows its log too.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return servertest.StartWithLogger(t, edit, logs.Logger(slog.LevelInfo)), logs
}

// metric returns the /metrics line that starts with prefix.
func metric(t *testing.T, srv *server.Server, prefix string) string {
	t.Helper()
	for _, line := range strings.Split(fetch(t, "http://"+srv.HTTPAddr()+"/metrics"), "\n") {
		if strings.HasPrefix(line, prefix) {
			return line
		}
	}
	return ""
}

func TestHTTPBadInputKeepsViewersWatching(t *testing.T) {
	const headerTimeout, maxConnsPerIP = time.Second, 64
	srv, logs := startLogged(t, func(c *server.Config) {
		c.HTTP.ReadHeaderTimeout = headerTimeout
		c.HTTP.MaxConnsPerIP = maxConnsPerIP
		c.FLV.WSReadLimit = 1024
	})
	testenv.Publish(t, "rtmp://"+srv.RTMPAddr()+"/live/legit", testenv.Source{Duration: 60 * time.Second})
	testenv.WaitFor(t, 20*time.Second, "the stream to go live", func() bool {
		st, ok := srv.Hub().Lookup(stream.Key{App: "live", Name: "legit"})
		return ok && st.Stats().Keyframes > 0
	})
	base := "http://" + srv.HTTPAddr()
	viewer := watchFLV(t, base+"/live/legit.flv")

	t.Run("a 1 MiB path", func(t *testing.T) {
		conn, err := net.Dial("tcp", srv.HTTPAddr())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		start := time.Now()
		go func() {
			_, _ = io.WriteString(conn, "GET /"+strings.Repeat("a", 1<<20)+" HTTP/1.1\r\nHost: x\r\n\r\n")
		}()
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("status %d, want 431", resp.StatusCode)
		}
		t.Logf("431 after %v", time.Since(start).Round(time.Millisecond))
		testenv.WaitFor(t, 5*time.Second, "the refusal logged", func() bool {
			return strings.Contains(logs.String(), "reason="+server.LimitHTTPHeaderSize)
		})
	})

	t.Run("slowloris", func(t *testing.T) {
		conn, err := net.Dial("tcp", srv.HTTPAddr())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_, _ = io.WriteString(conn, "GET /live/legit.flv HTTP/1.1\r\nHost: x\r\n")
		for range 3 { // a header line now and then, never the end
			time.Sleep(headerTimeout / 3)
			_, _ = io.WriteString(conn, "X-Slow: 1\r\n")
		}
		expectEOF(t, conn, 5*time.Second)
		testenv.WaitFor(t, 5*time.Second, "the header timeout logged", func() bool {
			return strings.Contains(logs.String(), "reason="+server.LimitHTTPHeaderTimeout)
		})
	})

	t.Run("a connection that never sends", func(t *testing.T) {
		conn, err := net.Dial("tcp", srv.HTTPAddr())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		expectEOF(t, conn, headerTimeout+5*time.Second)
	})

	t.Run("a WebSocket upgrade with a bogus key", func(t *testing.T) {
		conn, err := net.Dial("tcp", srv.HTTPAddr())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_, _ = io.WriteString(conn, "GET /live/legit.flv HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"+
			"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: not base64!\r\n\r\n")
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("status %d, want 400", resp.StatusCode)
		}
		testenv.WaitFor(t, 5*time.Second, "the failed handshake logged", func() bool {
			return strings.Contains(logs.String(), "websocket handshake")
		})
	})

	t.Run("a WebSocket message over the limit", func(t *testing.T) {
		ws, _, err := websocket.DefaultDialer.Dial("ws://"+srv.HTTPAddr()+"/live/legit.flv", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		_ = ws.WriteMessage(websocket.BinaryMessage, make([]byte, 64<<10))
		_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					t.Fatal("WebSocket viewer not cut off")
				}
				break
			}
		}
		testenv.WaitFor(t, 5*time.Second, "the limit counted", func() bool {
			return strings.HasSuffix(metric(t, srv, `mediaserver_limit_hits_total{component="flv",limit="ws_message_size"}`), " 1")
		})
	})

	t.Run("thousands of connections at once", func(t *testing.T) {
		const n = 2000
		conns := make([]net.Conn, 0, n)
		defer func() {
			for _, c := range conns {
				_ = c.Close()
			}
		}()
		for range n {
			c, err := net.Dial("tcp", srv.HTTPAddr())
			if err != nil {
				t.Fatalf("dial %d: %v", len(conns), err)
			}
			conns = append(conns, c)
		}
		// Over the cap: closed at once; the others at the header timeout.
		for _, c := range conns {
			expectEOF(t, c, headerTimeout+5*time.Second)
		}
		line := metric(t, srv, `mediaserver_limit_hits_total{component="http",limit="connections_per_ip"}`)
		var refused int
		if _, err := fmt.Sscanf(line[strings.LastIndex(line, " ")+1:], "%d", &refused); err != nil || refused < n-maxConnsPerIP {
			t.Errorf("refusals %q, want at least %d", line, n-maxConnsPerIP)
		}
		if logged := strings.Count(logs.String(), "reason="+server.LimitHTTPConnsPerIP); logged != 1 {
			t.Errorf("refusals logged %d times, want once (rate-limited)", logged)
		}
	})

	// The legitimate viewer kept watching, without a gap.
	before := len(viewer.snapshot())
	time.Sleep(time.Second)
	if ended, err := viewer.ended(); ended {
		t.Fatalf("legitimate viewer disconnected: %v", err)
	}
	tags := viewer.snapshot()
	if len(tags) <= before {
		t.Fatal("legitimate viewer stopped receiving")
	}
	if problems := timelineProblems(tags, 200); len(problems) > 0 {
		t.Errorf("legitimate viewer timestamps: %v", problems)
	}
	if got, want := metric(t, srv, `mediaserver_limit_hits_total{component="http",limit="header_size"}`),
		`mediaserver_limit_hits_total{component="http",limit="header_size"} 1`; got != want {
		t.Errorf("metric %q, want %q", got, want)
	}
	if got := metric(t, srv, `mediaserver_limit_hits_total{component="http",limit="header_timeout"}`); strings.HasSuffix(got, " 0") || got == "" {
		t.Errorf("header timeouts not counted: %q", got)
	}
}

// expectEOF waits until the server closes conn.
func expectEOF(t *testing.T, conn net.Conn, within time.Duration) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(within))
	_, err := io.Copy(io.Discard, conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("server did not close the connection within %v", within)
	}
}
