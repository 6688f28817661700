package relay_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/server"
	"github.com/mediaserver/mediaserver/internal/servertest"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/relay"
)

// TestOnForwardHookPicksTargets: the on_forward hook is asked with the
// stream and its configured targets, and the targets of its answer are
// forwarded to instead; a hook that fails leaves the configured ones.
func TestOnForwardHookPicksTargets(t *testing.T) {
	var mu sync.Mutex
	var asked []relay.ForwardHookRequest
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req relay.ForwardHookRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		asked = append(asked, req)
		mu.Unlock()
		if req.Name == "broken" {
			http.Error(w, "no", http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(relay.ForwardHookAnswer{Targets: []string{"rtmp://127.0.0.1:1/picked/" + req.Name + "-x"}})
	}))
	defer hook.Close()
	srv := servertest.Start(t, func(c *server.Config) {
		c.Forward.Apps = map[string][]string{"live": {"rtmp://127.0.0.1:1/configured/{name}"}}
		c.Forward.OnForward = hook.URL
	})
	for _, name := range []string{"cam", "broken"} {
		testenv.Publish(t, "rtmp://"+srv.RTMPAddr()+"/live/"+name, testenv.Source{Duration: 30 * time.Second})
	}
	for name, want := range map[string]struct{ url, origin string }{
		"cam":    {"rtmp://127.0.0.1:1/picked/cam-…", relay.OriginHook},
		"broken": {"rtmp://127.0.0.1:1/configured/brok…", relay.OriginConfig},
	} {
		testenv.WaitFor(t, 30*time.Second, "the target of live/"+name, func() bool {
			return len(forwards(t, srv, "live", name)) == 1
		})
		if fs := forwards(t, srv, "live", name); fs[0].URL != want.url || fs[0].Origin != want.origin {
			t.Errorf("live/%s target %+v, want %s from %s", name, fs[0], want.url, want.origin)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, req := range asked {
		if req.Action != "forward" || req.App != "live" || len(req.Targets) != 1 ||
			req.Targets[0] != fmt.Sprintf("rtmp://127.0.0.1:1/configured/%s", req.Name) {
			t.Errorf("hook request %+v", req)
		}
	}
	if len(asked) != 2 {
		t.Errorf("hook asked %d times, want 2", len(asked))
	}
}
