package relay_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/server"
	"github.com/mediaserver/mediaserver/internal/testenv"
)

// listenTarget starts ffmpeg as an RTMP server on port that copies what
// is published to it into out.
func listenTarget(t *testing.T, port int, out string) *testenv.Process {
	t.Helper()
	args := []string{"-hide_banner", "-nostdin", "-loglevel", "error", "-listen", "1",
		"-i", fmt.Sprintf("rtmp://127.0.0.1:%d/app/key", port), "-c", "copy", "-y", "-f", "flv", out}
	// Until ffmpeg listens, the forward fails to connect and retries.
	return testenv.Start(t, "ffmpeg", args...)
}

// tlsFront accepts TLS connections with the certificate and key on a
// loopback port and relays each, decrypted, to the TCP port backend. It
// stands in front of ffmpeg 5.1, whose RTMP listener cannot take rtmps
// ("rtmp_listen not available for rtmps"). It returns the port.
func tlsFront(t *testing.T, certFile, keyFile string, backend int) int {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			front, err := ln.Accept()
			if err != nil {
				return
			}
			back, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", backend))
			if err != nil {
				_ = front.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, front, back)
			mu.Unlock()
			for _, pair := range [][2]net.Conn{{back, front}, {front, back}} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, _ = io.Copy(pair[0], pair[1])
					_ = pair[0].Close()
					_ = pair[1].Close()
				}()
			}
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().(*net.TCPAddr).Port
}

// forwardDoc is a forward target as the API shows it.
type forwardDoc struct {
	ID        string  `json:"id"`
	URL       string  `json:"url"`
	Origin    string  `json:"origin"`
	State     string  `json:"state"`
	Bytes     uint64  `json:"bytes"`
	Bitrate   float64 `json:"bitrate"`
	Retries   uint64  `json:"retries"`
	Dropped   uint64  `json:"dropped"`
	LastError string  `json:"last_error"`
}

// noKeepAlive returns the tests' HTTP client: it leaves no idle
// connection behind, which the goroutine checks would count.
func noKeepAlive() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
}

// apiCall sends a request to the server's API and returns the status and
// body.
func apiCall(t *testing.T, srv *server.Server, method, path, body string) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+srv.HTTPAddr()+"/api/v1"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := noKeepAlive().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, data
}

// forwards lists the targets of app/name through the API.
func forwards(t *testing.T, srv *server.Server, app, name string) []forwardDoc {
	t.Helper()
	status, body := apiCall(t, srv, http.MethodGet, "/streams/"+app+"/"+name+"/forwards", "")
	if status != http.StatusOK {
		return nil
	}
	var doc struct {
		Items []forwardDoc `json:"items"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("forwards: %v: %s", err, body)
	}
	return doc.Items
}

// waitState waits until the stream's only target is in state, and
// returns it.
func waitState(t *testing.T, srv *server.Server, app, name, state string, timeout time.Duration) forwardDoc {
	t.Helper()
	var last forwardDoc
	testenv.WaitFor(t, timeout, "a forward target "+state, func() bool {
		fs := forwards(t, srv, app, name)
		if len(fs) != 1 {
			return false
		}
		last = fs[0]
		return last.State == state
	})
	return last
}

// decodeClean runs `ffmpeg -v error -i file -f null -` and fails the
// test when it prints anything or fails.
func decodeClean(t *testing.T, file string) {
	t.Helper()
	out, err := exec.Command(testenv.Tool(t, "ffmpeg"), "-hide_banner", "-nostdin", "-v", "error", "-i", file, "-f", "null", "-").CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("decoding %s: %v\n%s", filepath.Base(file), err, out)
	}
}
