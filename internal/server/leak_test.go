package server_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mediaserver/mediaserver/internal/server"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/rtmp"
	"github.com/mediaserver/mediaserver/rtmp/handshake"
	"github.com/mediaserver/mediaserver/stream"
)

// settledGoroutines waits for the goroutine count to stop changing and
// returns it.
func settledGoroutines() int {
	n := runtime.NumGoroutine()
	for range 20 {
		time.Sleep(100 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m == n {
			return n
		}
		n = m
	}
	return n
}

// heapInUse returns the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// TestNoLeakAfterHundredsOfClients connects and drops hundreds of RTMP,
// HTTP-FLV and WebSocket-FLV clients, cleanly and not, and checks that the
// goroutine count comes back to what it was with only the publisher.
func TestNoLeakAfterHundredsOfClients(t *testing.T) {
	// Every client comes from 127.0.0.1, and a phase's dropped clients may
	// still count against the per-address caps while the next phase
	// connects: the caps are lifted, the test is about leaks.
	srv, _ := startLogged(t, func(c *server.Config) {
		c.RTMP.MaxConnsPerIP = -1
		c.HTTP.MaxConnsPerIP = -1
	})
	testenv.Publish(t, "rtmp://"+srv.RTMPAddr()+"/live/cam", testenv.Source{Duration: 90 * time.Second})
	testenv.WaitFor(t, 20*time.Second, "the stream to go live", func() bool {
		st, ok := srv.Hub().Lookup(stream.Key{App: "live", Name: "cam"})
		return ok && st.Stats().Keyframes > 0
	})
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	flvURL := "http://" + srv.HTTPAddr() + "/live/cam.flv"
	// One viewer of each kind first, so that lazily started machinery
	// (the HLS segmenter, pools) is part of the baseline.
	if resp, err := client.Get(flvURL); err == nil {
		_, _ = io.CopyN(io.Discard, resp.Body, 4096)
		resp.Body.Close()
	}
	base := settledGoroutines()
	heapBase := heapInUse()

	clients := []struct {
		name string
		run  func() error
	}{
		{"rtmp half handshake", func() error {
			c, err := net.Dial("tcp", srv.RTMPAddr())
			if err != nil {
				return err
			}
			_, err = c.Write(append([]byte{3}, make([]byte, 600)...))
			_ = c.Close()
			return err
		}},
		{"rtmp connect and leave", func() error {
			c, err := net.Dial("tcp", srv.RTMPAddr())
			if err != nil {
				return err
			}
			defer c.Close()
			_, err = handshake.Client(c, handshake.ClientConfig{})
			return err
		}},
		{"rtmp player", func() error {
			c, err := rtmp.Dial(context.Background(), "rtmp://"+srv.RTMPAddr()+"/live", rtmp.ClientConfig{})
			if err != nil {
				return err
			}
			defer c.Close()
			if err := c.Play("cam"); err != nil {
				return err
			}
			for range 5 {
				if _, err := c.ReadMessage(); err != nil {
					return err
				}
			}
			return nil
		}},
		{"flv viewer", func() error {
			resp, err := client.Get(flvURL)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			_, err = io.CopyN(io.Discard, resp.Body, 16<<10)
			return err
		}},
		{"ws viewer", func() error {
			ws, _, err := websocket.DefaultDialer.Dial("ws://"+srv.HTTPAddr()+"/live/cam.flv", nil)
			if err != nil {
				return err
			}
			defer ws.Close()
			_, _, err = ws.ReadMessage()
			return err
		}},
	}
	const perKind, parallel = 100, 25
	for _, kind := range clients {
		var wg sync.WaitGroup
		sem := make(chan struct{}, parallel)
		var mu sync.Mutex
		var failures []error
		for range perKind {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				if err := kind.run(); err != nil {
					mu.Lock()
					failures = append(failures, err)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(failures) > 0 {
			t.Errorf("%s: %d of %d failed, first: %v", kind.name, len(failures), perKind, failures[0])
		}
	}

	deadline := time.Now().Add(30 * time.Second)
	n := runtime.NumGoroutine()
	for n > base && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	if n > base {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Fatalf("%d goroutines after the clients left, %d before:\n%s", n, base, buf)
	}
	heap := heapInUse()
	t.Logf("goroutines %d → %d; heap in use %d KiB → %d KiB", base, n, heapBase>>10, heap>>10)
	// The GOP cache changes size with the picture; the viewers' buffers
	// must not stay.
	if heap > heapBase+16<<20 {
		t.Errorf("heap in use grew from %d KiB to %d KiB", heapBase>>10, heap>>10)
	}
}
