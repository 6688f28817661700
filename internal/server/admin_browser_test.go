package server_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mediaserver/mediaserver/internal/browsertest"
	"github.com/mediaserver/mediaserver/internal/servertest"
)

// TestCrossOriginPageCannotReconnect: in Chromium, a page of another site
// (localhost, another port) and a page of the same site on another port
// post to the reconnect route the way a cross-site request forgery does
// (no-cors: no preflight, the answer hidden; with and without a text/plain
// body). The server refuses each one before the route; the server's own
// page (the dashboard's origin) reaches the route.
func TestCrossOriginPageCannotReconnect(t *testing.T) {
	srv := servertest.Start(t, nil)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, "<!doctype html><title>another origin</title>")
	}))
	defer other.Close()
	_, otherPort, _ := net.SplitHostPort(other.Listener.Addr().String())
	target := "http://" + srv.HTTPAddr() + "/api/v1/streams/live/cam/reconnect"

	forged := []browsertest.Fetch{
		{URL: target, Method: http.MethodPost, Mode: "no-cors"},
		{URL: target, Method: http.MethodPost, Mode: "no-cors", Body: `{"x":1}`, ContentType: "text/plain"},
	}
	for _, page := range []string{"http://localhost:" + otherPort + "/", other.URL + "/"} {
		for i, r := range browsertest.FetchFrom(t, page, forged) {
			if r.Error != "" {
				t.Fatalf("page %s, fetch %d: %s", page, i, r.Error)
			}
		}
	}
	_, metrics := adminRequest(t, srv, http.MethodGet, "/metrics", "", "")
	if want := `mediaserver_admin_refusals_total{reason="cross_origin"} 4`; !strings.Contains(metrics, want) {
		t.Fatalf("the forged requests were not refused as cross-origin; metrics lack %s:\n%s", want, grepLines(metrics, "admin_refusals"))
	}

	own := browsertest.FetchFrom(t, "http://"+srv.HTTPAddr()+"/", []browsertest.Fetch{{URL: target, Method: http.MethodPost}})
	if own[0].Status != http.StatusNotFound {
		t.Fatalf("the server's own page: %+v; want 404 from the route (no such stream)", own[0])
	}
}

// grepLines returns the lines of text that contain s.
func grepLines(text, s string) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
