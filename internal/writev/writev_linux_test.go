package writev

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/testenv"
)

// pair returns both ends of a loopback TCP connection; the server end's
// send buffer and the client's receive buffer are small, so they fill
// quickly.
func pair(t *testing.T) (server, client *net.TCPConn) {
	t.Helper()
	s, c := testenv.LoopbackPair(t, nil)
	_ = s.(*net.TCPConn).SetWriteBuffer(16 << 10)
	_ = c.(*net.TCPConn).SetReadBuffer(16 << 10)
	return s.(*net.TCPConn), c.(*net.TCPConn)
}

// pattern returns n bytes that differ from position to position.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) + seed
	}
	return b
}

func TestTryStopsAtAFullSocketAndAllFinishes(t *testing.T) {
	server, client := pair(t)
	w := New(server)
	// More than the socket buffers hold: Try writes part and returns.
	iov := [][]byte{pattern(100, 1), {}, pattern(1<<20, 2), pattern(3, 3)}
	want := bytes.Join(iov, nil)
	n, err := w.Try(iov)
	if err != nil {
		t.Fatalf("Try: %v", err)
	}
	if n <= 0 || n >= len(want) {
		t.Fatalf("Try wrote %d of %d bytes, want a part", n, len(want))
	}
	// Nobody reads: Try soon writes nothing, and never waits.
	rest := AppendRest(nil, iov, n)
	for i := 0; ; i++ {
		m, err := w.Try(rest)
		if err != nil {
			t.Fatalf("Try: %v", err)
		}
		if m == 0 {
			break
		}
		if i == 100 {
			t.Fatal("Try keeps writing to a socket nobody reads")
		}
		n += m
		rest = AppendRest(nil, rest, m)
	}
	if Len(rest) != len(want)-n {
		t.Fatalf("rest holds %d bytes, want %d", Len(rest), len(want)-n)
	}
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(client)
		got <- b
	}()
	_ = server.SetWriteDeadline(time.Now().Add(10 * time.Second))
	m, err := w.All(rest)
	if err != nil || m != len(want)-n {
		t.Fatalf("All: %d, %v; want %d", m, err, len(want)-n)
	}
	server.Close()
	if b := <-got; !bytes.Equal(b, want) {
		t.Fatalf("the reader got %d bytes, not the %d written", len(b), len(want))
	}
}

func TestAllHonoursTheDeadline(t *testing.T) {
	server, _ := pair(t)
	w := New(server)
	_ = server.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := w.All([][]byte{pattern(8<<20, 0)}); err == nil {
		t.Fatal("All to a socket nobody reads returned no error")
	}
}
