package record_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/server"
	"github.com/mediaserver/mediaserver/internal/servertest"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/record"
)

// startServer runs the whole server recording into dir as rec says, with
// streams ending as soon as their publisher leaves.
func startServer(t *testing.T, rec record.Config) *server.Server {
	t.Helper()
	return servertest.Start(t, func(c *server.Config) {
		c.Stream.RepublishWindow = 0
		c.Record = rec
	})
}

// hookSink is an HTTP server standing for on_record_done.
type hookSink struct {
	url    string
	mu     sync.Mutex
	events []record.DoneEvent
}

// newHookSink starts a hook receiver on loopback.
func newHookSink(t *testing.T) *hookSink {
	t.Helper()
	h := &hookSink{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev record.DoneEvent
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("hook called with %s, content type %q", r.Method, r.Header.Get("Content-Type"))
		}
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			t.Errorf("hook body: %v", err)
		}
		h.mu.Lock()
		h.events = append(h.events, ev)
		h.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	h.url = srv.URL
	return h
}

// Events returns the calls received so far.
func (h *hookSink) Events() []record.DoneEvent {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]record.DoneEvent(nil), h.events...)
}

// apiCall sends an API request and returns the status and body.
func apiCall(t *testing.T, srv *server.Server, method, path string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+srv.HTTPAddr()+"/api/v1"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// recordingDoc is a recording as the API lists it.
type recordingDoc struct {
	ID              string  `json:"id"`
	Path            string  `json:"path"`
	Stream          string  `json:"stream"`
	Format          string  `json:"format"`
	DurationSeconds float64 `json:"duration_seconds"`
	Size            int64   `json:"size"`
	State           string  `json:"state"`
	Reason          string  `json:"reason"`
}

// listRecordings returns GET /recordings.
func listRecordings(t *testing.T, srv *server.Server) []recordingDoc {
	t.Helper()
	status, body := apiCall(t, srv, http.MethodGet, "/recordings?per_page=100")
	if status != http.StatusOK {
		t.Fatalf("GET /recordings: %d %s", status, body)
	}
	var doc struct {
		Items []recordingDoc `json:"items"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Items
}

// runTool runs a tool to completion and returns its combined output.
func runTool(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, testenv.Tool(t, name), args...).CombinedOutput()
	return string(bytes.TrimSpace(out)), err
}

// checkDecodes fails unless ffmpeg decodes the whole file without a word.
func checkDecodes(t *testing.T, path string) {
	t.Helper()
	out, err := runTool(t, "ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "null", "-")
	if err != nil || out != "" {
		t.Errorf("ffmpeg -v error -i %s -f null -: %v\n%s", filepath.Base(path), err, out)
	}
}

// mp4boxReport is what testdata/mp4box.mjs prints.
type mp4boxReport struct {
	Tracks []struct {
		ID    uint32 `json:"id"`
		Codec string `json:"codec"`
	} `json:"tracks"`
	Samples map[string]struct {
		Count, Sync int
	} `json:"samples"`
	Moofs  int      `json:"moofs"`
	Errors []string `json:"errors"`
}

// runMP4Box parses a file with the npm package mp4box.
func runMP4Box(t *testing.T, path string) mp4boxReport {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	here := filepath.Dir(file)
	if _, err := os.Stat(filepath.Join(here, "..", "node_modules", "mp4box", "package.json")); err != nil {
		t.Fatalf("the npm package mp4box is required (make test runs npm ci): %v", err)
	}
	out, err := runTool(t, "node", filepath.Join(here, "testdata", "mp4box.mjs"), path)
	if err != nil {
		t.Fatalf("node mp4box.mjs: %v\n%s", err, out)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	var last string
	for sc.Scan() {
		last = sc.Text()
	}
	var r mp4boxReport
	if err := json.Unmarshal([]byte(last), &r); err != nil {
		t.Fatalf("mp4box.mjs output %q: %v", out, err)
	}
	return r
}
