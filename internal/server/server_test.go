package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mediaserver/mediaserver/internal/access"
	"github.com/mediaserver/mediaserver/internal/server"
	"github.com/mediaserver/mediaserver/internal/servertest"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

// hookServer answers play hooks: 2xx when the query carries token=good,
// 403 otherwise; it records play_stop notifications.
type hookServer struct {
	mu    sync.Mutex
	stops []access.HookRequest
}

func (h *hookServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req access.HookRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	switch req.Action {
	case access.HookPlayStop:
		h.mu.Lock()
		h.stops = append(h.stops, req)
		h.mu.Unlock()
	case access.HookPlay:
		if req.Query != "token=good" {
			http.Error(w, "subscribers only", http.StatusForbidden)
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *hookServer) stopped(protocol string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.stops {
		if s.Protocol == protocol && s.Bytes != nil && *s.Bytes > 0 {
			return true
		}
	}
	return false
}

func TestPlayHookGuardsEveryProtocol(t *testing.T) {
	hooks := &hookServer{}
	hookSrv := httptest.NewServer(hooks)
	defer hookSrv.Close()
	srv := servertest.Start(t, func(c *server.Config) {
		c.Access.OnPlay = hookSrv.URL
		c.Access.OnPlayStop = hookSrv.URL
		c.Access.ExposeHookReason = true // the hook's reason reaches the viewer
	})
	testenv.Publish(t, "rtmp://"+srv.RTMPAddr()+"/live/cam", testenv.Source{Duration: 20 * time.Second})
	testenv.WaitFor(t, 20*time.Second, "stream to go live", func() bool {
		st, ok := srv.Hub().Lookup(stream.Key{App: "live", Name: "cam"})
		return ok && st.Stats().Keyframes > 0
	})
	base := "http://" + srv.HTTPAddr() + "/live/cam"

	t.Run("HTTP-FLV", func(t *testing.T) {
		resp, err := http.Get(base + ".flv?token=bad")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "subscribers only") {
			t.Errorf("bad token: %d %q, want 403 with the hook's reason", resp.StatusCode, body)
		}
		resp, err = http.Get(base + ".flv?token=good")
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("good token: %d", resp.StatusCode)
		}
		if _, err := io.CopyN(io.Discard, resp.Body, 64<<10); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		testenv.WaitFor(t, 10*time.Second, "on_play_stop for the FLV viewer", func() bool { return hooks.stopped("flv") })
	})

	t.Run("WebSocket-FLV", func(t *testing.T) {
		wsURL := "ws" + strings.TrimPrefix(base, "http") + ".flv"
		_, resp, err := websocket.DefaultDialer.Dial(wsURL+"?token=bad", nil)
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("bad token: %v, %v; want a refused handshake with 403", err, resp)
		}
		conn, _, err := websocket.DefaultDialer.Dial(wsURL+"?token=good", nil)
		if err != nil {
			t.Fatal(err)
		}
		typ, msg, err := conn.ReadMessage()
		if err != nil || typ != websocket.BinaryMessage || !strings.HasPrefix(string(msg), "FLV") {
			t.Fatalf("first message: %d %q %v", typ, msg[:min(len(msg), 8)], err)
		}
		conn.Close()
		testenv.WaitFor(t, 10*time.Second, "on_play_stop for the WS viewer", func() bool { return hooks.stopped("ws") })
	})

	t.Run("HLS playlist", func(t *testing.T) {
		resp, err := http.Get(base + ".m3u8?token=bad")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("bad token: %d, want 403", resp.StatusCode)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+".m3u8?token=good", nil)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "#EXTM3U") {
			t.Errorf("good token: %d %q", resp.StatusCode, body)
		}
	})

	t.Run("metrics count segments and refusals", func(t *testing.T) {
		resp, err := http.Get("http://" + srv.HTTPAddr() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{"mediaserver_hls_segments_total ", `mediaserver_auth_failures_total{action="play"} 3`, `mediaserver_sent_bytes_total{protocol="httpflv"}`} {
			if !strings.Contains(string(body), want) {
				t.Errorf("/metrics lacks %q", want)
			}
		}
	})
}
