package server_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/server"
	"github.com/mediaserver/mediaserver/internal/servertest"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

// adminRequest sends one request to the server with the given Host header
// ("" keeps the address dialled) and bearer token, and returns the status
// and body.
func adminRequest(t *testing.T, srv *server.Server, method, path, host, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+srv.HTTPAddr()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// TestRebindingHostRefused: with no token (the default), a request from
// this machine addressed to another name (a page whose name was rebound
// to 127.0.0.1) is refused by the API, the dashboard, /metrics and the
// profiler; the same requests addressed to the loopback address work.
func TestRebindingHostRefused(t *testing.T) {
	srv := servertest.Start(t, func(c *server.Config) { c.HTTP.Pprof = true })
	const rebound = "rebind.attacker.example:8080"
	for _, r := range []struct{ method, path string }{
		{http.MethodDelete, "/api/v1/streams/live/victim"},
		{http.MethodGet, "/api/v1/server"},
		{http.MethodGet, "/"},
		{http.MethodGet, "/metrics"},
		{http.MethodGet, "/debug/pprof/"},
	} {
		status, body := adminRequest(t, srv, r.method, r.path, rebound, "")
		if status != http.StatusForbidden || !strings.Contains(body, "api.allowed_hosts") {
			t.Errorf("%s %s with Host %s: status %d, body %q; want 403 saying how to allow a name", r.method, r.path, rebound, status, body)
		}
	}
	if status, body := adminRequest(t, srv, http.MethodDelete, "/api/v1/streams/live/victim", "", ""); status != http.StatusNotFound {
		t.Errorf("DELETE with the loopback Host: status %d, body %q; want 404 (no such stream)", status, body)
	}
	for _, path := range []string{"/api/v1/server", "/", "/metrics", "/debug/pprof/"} {
		if status, body := adminRequest(t, srv, http.MethodGet, path, "localhost", ""); status != http.StatusOK {
			t.Errorf("GET %s with Host localhost: status %d, body %.200q", path, status, body)
		}
	}
	// Media is public: no Host check.
	if status, _ := adminRequest(t, srv, http.MethodGet, "/healthz", rebound, ""); status != http.StatusOK {
		t.Errorf("healthz with a foreign Host: status %d", status)
	}
}

// TestCrossOriginReconnectRefused: a page on another origin that posts to
// the reconnect route (a request browsers send without a preflight) is
// refused, with or without a token; the dashboard's own origin gets
// through to the route (404: no such stream).
func TestCrossOriginReconnectRefused(t *testing.T) {
	const token = "csrf-token"
	for _, tok := range []string{"", token} {
		srv := servertest.Start(t, func(c *server.Config) { c.API.Token = tok })
		post := func(origin, site string) (int, string) {
			t.Helper()
			req, err := http.NewRequest(http.MethodPost, "http://"+srv.HTTPAddr()+"/api/v1/streams/live/cam/reconnect", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Origin", origin)
			req.Header.Set("Sec-Fetch-Site", site)
			if tok != "" {
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(body)
		}
		if status, body := post("http://evil.example", "cross-site"); status != http.StatusForbidden || !strings.Contains(body, "cross-origin") {
			t.Errorf("token %q: cross-origin POST: status %d, body %q; want 403", tok, status, body)
		}
		if status, body := post("http://"+srv.HTTPAddr(), "same-origin"); status != http.StatusNotFound {
			t.Errorf("token %q: same-origin POST: status %d, body %q; want 404 from the route", tok, status, body)
		}
	}
}

// TestMetricsFollowAPIToken: with api.token set, /metrics and the profiler
// need it too, unless metrics.public is set.
func TestMetricsFollowAPIToken(t *testing.T) {
	const token = "metrics-token"
	srv := servertest.Start(t, func(c *server.Config) {
		c.API.Token = token
		c.HTTP.Pprof = true
	})
	for _, path := range []string{"/metrics", "/debug/pprof/"} {
		if status, body := adminRequest(t, srv, http.MethodGet, path, "", ""); status != http.StatusUnauthorized {
			t.Errorf("GET %s without the token: status %d, body %.200q; want 401", path, status, body)
		}
		if status, _ := adminRequest(t, srv, http.MethodGet, path, "", "wrong"); status != http.StatusUnauthorized {
			t.Errorf("GET %s with a wrong token: status %d; want 401", path, status)
		}
		if status, _ := adminRequest(t, srv, http.MethodGet, path, "", token); status != http.StatusOK {
			t.Errorf("GET %s with the token: status %d", path, status)
		}
	}
	// The dashboard's page asks for the token itself.
	if status, _ := adminRequest(t, srv, http.MethodGet, "/", "", ""); status != http.StatusOK {
		t.Errorf("dashboard page without the token: status %d", status)
	}

	public := servertest.Start(t, func(c *server.Config) {
		c.API.Token = token
		c.Metrics.Public = true
	})
	status, body := adminRequest(t, public, http.MethodGet, "/metrics", "", "")
	if status != http.StatusOK || !strings.Contains(body, "mediaserver_streams") {
		t.Errorf("public /metrics without the token: status %d, body %.200q", status, body)
	}
}

// TestWrongTokenFloodLogsAFewLines: a flood of wrong tokens is answered
// 401 each time and counted in /metrics, but logged a few lines at most
// (the log used to take one line per attempt).
func TestWrongTokenFloodLogsAFewLines(t *testing.T) {
	const token, flood = "flood-token", 300
	var logs testenv.LogBuffer
	srv := servertest.StartWithLogger(t, func(c *server.Config) { c.API.Token = token }, logs.Logger(slog.LevelDebug))
	before := strings.Count(logs.String(), "\n")
	for i := range flood {
		if status, _ := adminRequest(t, srv, http.MethodGet, "/api/v1/streams", "", "wrong"); status != http.StatusUnauthorized {
			t.Fatalf("request %d: status %d", i, status)
		}
	}
	text := logs.String()
	var refusals []string
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, "refused") {
			refusals = append(refusals, line)
		}
	}
	if len(refusals) > 3 || strings.Count(text, "\n")-before > 3 {
		t.Fatalf("%d wrong tokens logged %d lines (%d about refusals):\n%s", flood, strings.Count(text, "\n")-before, len(refusals), text)
	}
	if len(refusals) == 0 || !strings.Contains(refusals[0], "reason=token_invalid") {
		t.Fatalf("the first refusal is not logged with its reason:\n%s", text)
	}
	_, body := adminRequest(t, srv, http.MethodGet, "/metrics", "", token)
	if want := `mediaserver_admin_refusals_total{reason="token_invalid"} 300`; !strings.Contains(body, want) {
		t.Fatalf("metrics lack %s:\n%s", want, body)
	}
}

// TestRefusedViewerFloodLogsAFewLines: HTTP-FLV viewers refused by
// on_play are answered 403 each time but logged a few lines at most (the
// access checker and the HTTP-FLV handler each logged a line per request).
func TestRefusedViewerFloodLogsAFewLines(t *testing.T) {
	const flood = 100
	var logs testenv.LogBuffer
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no", http.StatusForbidden)
	}))
	defer refuse.Close()
	srv := servertest.StartWithLogger(t, func(c *server.Config) {
		c.Access.OnPlay = refuse.URL
	}, logs.Logger(slog.LevelInfo))
	testenv.Publish(t, "rtmp://"+srv.RTMPAddr()+"/live/cam", testenv.Source{Duration: 20 * time.Second})
	testenv.WaitFor(t, 20*time.Second, "stream to go live", func() bool {
		st, ok := srv.Hub().Lookup(stream.Key{App: "live", Name: "cam"})
		return ok && st.Stats().Keyframes > 0
	})
	before := strings.Count(logs.String(), "\n")
	for i := range flood {
		if status, _ := adminRequest(t, srv, http.MethodGet, fmt.Sprintf("/live/cam.flv?attempt=%d", i), "", ""); status != http.StatusForbidden {
			t.Fatalf("request %d: status %d", i, status)
		}
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")[before:]
	var refusals []string
	for _, line := range lines {
		if strings.Contains(line, "refused") {
			refusals = append(refusals, line)
		}
	}
	if len(refusals) > 3 {
		t.Fatalf("%d refused viewers logged %d lines about refusals:\n%s", flood, len(refusals), strings.Join(refusals, "\n"))
	}
}
