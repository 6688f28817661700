package writev

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/testenv"
)

// parkedConn returns a parked Conn on the server end of a loopback pair
// with small buffers (see pair), and the client end.
func parkedConn(t *testing.T, cfg ConnConfig) (*Conn, *net.TCPConn, *net.TCPConn) {
	t.Helper()
	server, client := pair(t)
	if cfg.Timeout == 0 {
		cfg.Timeout = testTimeout
	}
	c := NewConn(server, cfg)
	if !c.CanTryWrite() {
		t.Fatal("a Conn on a TCP socket cannot TryWrite")
	}
	if err := c.Park(); err != nil {
		t.Fatalf("Park: %v", err)
	}
	return c, server, client
}

// readAll reads the client end until the server end closes and sends
// what it read.
func readAll(client net.Conn) <-chan []byte {
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(client)
		got <- b
	}()
	return got
}

// cutBatch has TryWrite write part of a batch larger than the socket
// buffers hold, and returns the batch's bytes.
func cutBatch(t *testing.T, c *Conn) []byte {
	t.Helper()
	iov := [][]byte{pattern(100, 1), {}, pattern(1<<20, 2), pattern(3, 3)}
	want := bytes.Join(iov, nil)
	n, err := c.TryWrite(iov)
	if !errors.Is(err, ErrWouldBlock) || n <= 0 || n >= len(want) {
		t.Fatalf("TryWrite of %d bytes nobody reads = %d, %v; want a part and ErrWouldBlock", len(want), n, err)
	}
	clear(iov) // the Conn keeps its own references
	return want
}

// waitForWaiters waits until n writers wait for a Flush.
func waitForWaiters(t *testing.T, c *Conn, n int) {
	t.Helper()
	testenv.WaitFor(t, 10*time.Second, "the writers to wait for the flush", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.waiting == n
	})
}

func TestConnFlushWritesTheRestOfAPartialWrite(t *testing.T) {
	testenv.CheckGoroutines(t)
	c, server, client := parkedConn(t, ConnConfig{})
	want := cutBatch(t, c)
	got := readAll(client)
	n, err := c.Flush()
	if err != nil {
		t.Fatalf("Flush: %v", err)
	}
	server.Close()
	b := <-got
	if !bytes.Equal(b, want) {
		t.Fatalf("the peer got %d bytes, not the %d of the batch", len(b), len(want))
	}
	if n <= 0 || n >= len(want) {
		t.Fatalf("Flush wrote %d bytes, want the rest of %d", n, len(want))
	}
}

func TestConnTryWriteToAFullSocketKeepsTheWholeBatch(t *testing.T) {
	testenv.CheckGoroutines(t)
	c, server, client := parkedConn(t, ConnConfig{})
	// Fill the socket, past the Conn, until it takes nothing even after
	// what was in flight has settled.
	var filler []byte
	raw := New(server)
	for i, empty := 0, 0; empty < 3; i++ {
		p := pattern(64<<10, byte(i))
		n, err := raw.Try([][]byte{p})
		if err != nil {
			t.Fatal(err)
		}
		filler = append(filler, p[:n]...)
		if n == 0 {
			empty++
			time.Sleep(10 * time.Millisecond)
		}
	}
	batch := pattern(5000, 7)
	if n, err := c.TryWrite([][]byte{batch}); n != 0 || !errors.Is(err, ErrWouldBlock) {
		t.Fatalf("TryWrite to a full socket = %d, %v; want 0, ErrWouldBlock", n, err)
	}
	got := readAll(client)
	// Nothing of the batch is on the wire: a control frame may go first.
	control := []byte("control")
	if _, err := c.WriteControl([][]byte{control}); err != nil {
		t.Fatalf("WriteControl: %v", err)
	}
	if n, err := c.Flush(); n != len(batch) || err != nil {
		t.Fatalf("Flush = %d, %v; want %d, nil", n, err, len(batch))
	}
	server.Close()
	if b, want := <-got, testenv.Cat(filler, control, batch); !bytes.Equal(b, want) {
		t.Fatalf("the peer got %d bytes, want %d: the filler, the control frame, the batch", len(b), len(want))
	}
}

func TestConnControlFrameWaitsForTheRestOfACutBatch(t *testing.T) {
	for name, write := range map[string]func(c *Conn, server net.Conn, p []byte) error{
		"WriteControl": func(c *Conn, _ net.Conn, p []byte) error {
			_, err := c.WriteControl([][]byte{p})
			return err
		},
		"Control": func(c *Conn, server net.Conn, p []byte) error {
			return c.Control(func() error {
				_, err := server.Write(p)
				return err
			})
		},
	} {
		t.Run(name, func(t *testing.T) {
			testenv.CheckGoroutines(t)
			c, server, client := parkedConn(t, ConnConfig{})
			want := cutBatch(t, c)
			control := []byte("ping")
			done := make(chan error, 1)
			go func() { done <- write(c, server, control) }()
			waitForWaiters(t, c, 1)
			got := readAll(client)
			if _, err := c.Flush(); err != nil {
				t.Fatalf("Flush: %v", err)
			}
			if err := <-done; err != nil {
				t.Fatalf("the control frame: %v", err)
			}
			server.Close()
			if b := <-got; !bytes.Equal(b, testenv.Cat(want, control)) {
				t.Fatalf("the peer got %d bytes, not the batch then the control frame (%d)", len(b), len(want)+len(control))
			}
		})
	}
}

func TestConnTryWriteDuringAControlFrameKeepsTheWholeBatch(t *testing.T) {
	testenv.CheckGoroutines(t)
	c, server, client := parkedConn(t, ConnConfig{})
	got := readAll(client)
	control := []byte("pong")
	entered, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- c.Control(func() error {
			close(entered)
			<-release
			_, err := server.Write(control)
			return err
		})
	}()
	<-entered
	batch := pattern(3000, 9)
	if n, err := c.TryWrite([][]byte{batch[:1000], batch[1000:]}); n != 0 || !errors.Is(err, ErrWouldBlock) {
		t.Fatalf("TryWrite during a control frame = %d, %v; want 0, ErrWouldBlock", n, err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Control: %v", err)
	}
	if n, err := c.Flush(); n != len(batch) || err != nil {
		t.Fatalf("Flush = %d, %v; want %d, nil", n, err, len(batch))
	}
	server.Close()
	if b := <-got; !bytes.Equal(b, testenv.Cat(control, batch)) {
		t.Fatalf("the peer got %q…, not the control frame then the batch", b[:min(len(b), 8)])
	}
}

func TestConnKickWhileParked(t *testing.T) {
	t.Run("caught up", func(t *testing.T) {
		// The owner takes the connection back with nothing kept and sends
		// a close frame.
		testenv.CheckGoroutines(t)
		c, server, client := parkedConn(t, ConnConfig{})
		got := readAll(client)
		frame := pattern(2000, 4)
		if n, err := c.TryWrite([][]byte{frame}); n != len(frame) || err != nil {
			t.Fatalf("TryWrite = %d, %v; want %d, nil", n, err, len(frame))
		}
		closing := []byte("close")
		if _, err := c.WriteControl([][]byte{closing}); err != nil {
			t.Fatalf("WriteControl while parked: %v", err)
		}
		server.Close()
		if b := <-got; !bytes.Equal(b, testenv.Cat(frame, closing)) {
			t.Fatalf("the peer got %d bytes, not the frame then the close frame", len(b))
		}
	})
	t.Run("with a cut batch", func(t *testing.T) {
		// The session is stopped while a batch is cut and a close frame
		// waits: the owner's Flush is refused, and the close frame must
		// not land in the middle of the batch.
		testenv.CheckGoroutines(t)
		errStopped := errors.New("stopped")
		stopped := false
		c, server, _ := parkedConn(t, ConnConfig{Arm: func() error {
			if stopped {
				return errStopped
			}
			return nil
		}})
		cutBatch(t, c)
		done := make(chan error, 1)
		go func() {
			_, err := c.WriteControl([][]byte{[]byte("close")})
			done <- err
		}()
		waitForWaiters(t, c, 1)
		stopped = true // Arm runs with the lock held: Flush reads it after
		_ = server.SetWriteDeadline(time.Now())
		if _, err := c.Flush(); !errors.Is(err, errStopped) {
			t.Fatalf("Flush after the stop = %v, want the Arm's refusal", err)
		}
		if err := <-done; !errors.Is(err, ErrCut) || !errors.Is(err, net.ErrClosed) {
			t.Fatalf("the close frame after a cut batch: %v, want ErrCut, a net.ErrClosed", err)
		}
		if _, err := c.Write([][]byte{[]byte("more")}); !errors.Is(err, ErrCut) {
			t.Fatalf("Write after a cut batch: %v, want ErrCut", err)
		}
	})
}

func TestConnTryWriteAllocatesNothing(t *testing.T) {
	testenv.CheckGoroutines(t)
	c, server, client := parkedConn(t, ConnConfig{})
	go func() { _, _ = io.Copy(io.Discard, client) }()
	head, payload, tail := pattern(11, 1), pattern(1400, 2), pattern(4, 3)
	iov := make([][]byte, 0, 3)
	allocs := testing.AllocsPerRun(200, func() {
		iov = append(iov[:0], head, payload, tail)
		if _, err := c.TryWrite(iov); errors.Is(err, ErrWouldBlock) {
			if _, err := c.Flush(); err != nil {
				t.Fatal(err)
			}
			_ = c.Park()
		} else if err != nil {
			t.Fatal(err)
		}
	})
	server.Close()
	if allocs != 0 {
		t.Fatalf("TryWrite allocates %v times per batch, want 0", allocs)
	}
}
