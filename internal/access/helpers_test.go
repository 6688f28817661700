package access

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// hookServer is a test hook endpoint: it records every request and
// answers with status (and body), optionally after release is closed.
type hookServer struct {
	*httptest.Server
	t *testing.T

	mu       sync.Mutex
	status   int
	body     string
	requests []HookRequest
	inFlight int
	maxIn    int

	// received gets one value per request as it arrives.
	received chan HookRequest
	// release, when not nil, holds every answer until it is closed (or the
	// client gives up).
	release chan struct{}
}

// newHookServer starts a hook answering status.
func newHookServer(t *testing.T, status int, body string) *hookServer {
	t.Helper()
	h := &hookServer{t: t, status: status, body: body, received: make(chan HookRequest, 1000)}
	h.Server = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.Close)
	return h
}

// blocking makes the hook hold its answers until unblock.
func (h *hookServer) blocking() *hookServer {
	h.release = make(chan struct{})
	return h
}

// unblock releases held answers (once).
func (h *hookServer) unblock() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.release != nil {
		select {
		case <-h.release:
		default:
			close(h.release)
		}
	}
}

func (h *hookServer) serve(w http.ResponseWriter, r *http.Request) {
	var req HookRequest
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		h.t.Errorf("hook got %s with Content-Type %q", r.Method, r.Header.Get("Content-Type"))
	}
	raw, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(raw, &req); err != nil {
		h.t.Errorf("hook body %q: %v", raw, err)
	}
	h.mu.Lock()
	h.requests = append(h.requests, req)
	h.inFlight++
	h.maxIn = max(h.maxIn, h.inFlight)
	release, status, body := h.release, h.status, h.body
	h.mu.Unlock()
	h.received <- req
	defer func() {
		h.mu.Lock()
		h.inFlight--
		h.mu.Unlock()
	}()
	if release != nil {
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// count returns the number of requests received.
func (h *hookServer) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.requests)
}

// maxInFlight returns the most requests seen at once.
func (h *hookServer) maxInFlight() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.maxIn
}

// next waits for the next request (failing after a generous delay).
func (h *hookServer) next(t *testing.T) HookRequest {
	t.Helper()
	select {
	case req := <-h.received:
		return req
	case <-time.After(10 * time.Second):
		t.Fatal("hook was not called")
		return HookRequest{}
	}
}

// newChecker builds a Checker closed at the end of the test.
func newChecker(t *testing.T, cfg Config) *Checker {
	t.Helper()
	c, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}
