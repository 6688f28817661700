package mediahttp

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mediaserver/mediaserver/internal/cors"
	"github.com/mediaserver/mediaserver/stream"
)

// refuseAll refuses every request and remembers the last.
type refuseAll struct{ got *stream.AccessRequest }

func (a refuseAll) Authorize(_ context.Context, req stream.AccessRequest) error {
	*a.got = req
	return errors.New("bad token")
}

func TestAdmit(t *testing.T) {
	only := cors.Policy{AllowedOrigins: []string{"https://player.example"}}
	for _, tc := range []struct {
		name       string
		front      Front
		method     string
		origin     string
		admitted   bool
		code       int
		body, allo string
	}{
		{"get", Front{}, http.MethodGet, "", true, 200, "", "*"},
		{"head", Front{}, http.MethodHead, "https://any.example", true, 200, "", "*"},
		{"preflight", Front{}, http.MethodOptions, "https://any.example", false, http.StatusNoContent, "", "*"},
		{"post", Front{}, http.MethodPost, "", false, http.StatusMethodNotAllowed, "method not allowed\n", ""},
		{"post named", Front{NameMethod: true}, http.MethodPost, "", false, http.StatusMethodNotAllowed, "method POST not allowed\n", ""},
		{"origin refused", Front{CORS: only}, http.MethodGet, "https://evil.example", false, http.StatusForbidden, "origin not allowed\n", ""},
		{"origin allowed", Front{CORS: only}, http.MethodGet, "https://player.example", true, 200, "", "https://player.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "/live/cam.flv", nil)
			if tc.origin != "" {
				r.Header.Set("Origin", tc.origin)
			}
			w := httptest.NewRecorder()
			if got := tc.front.Admit(w, r); got != tc.admitted {
				t.Fatalf("admitted %v, want %v", got, tc.admitted)
			}
			if w.Code != tc.code || w.Body.String() != tc.body {
				t.Errorf("answer %d %q, want %d %q", w.Code, w.Body, tc.code, tc.body)
			}
			if got := w.Header().Get("Access-Control-Allow-Origin"); got != tc.allo {
				t.Errorf("Access-Control-Allow-Origin %q, want %q", got, tc.allo)
			}
			if tc.code == http.StatusMethodNotAllowed && w.Header().Get("Allow") != "GET, HEAD, OPTIONS" {
				t.Errorf("Allow %q", w.Header().Get("Allow"))
			}
			if !tc.admitted && tc.code >= 400 && w.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("error answer Cache-Control %q, want no-store", w.Header().Get("Cache-Control"))
			}
		})
	}
}

func TestKey(t *testing.T) {
	w := httptest.NewRecorder()
	key, ok := Key(w, "/live/cam.m3u8", ".m3u8", "")
	if !ok || key != (stream.Key{App: "live", Name: "cam"}) || w.Body.Len() != 0 {
		t.Fatalf("key %v %v, answer %q", key, ok, w.Body)
	}
	w = httptest.NewRecorder()
	if _, ok := Key(w, "/cam.flv", ".flv", "no stream at this path: "); ok || w.Code != http.StatusNotFound ||
		w.Header().Get("Content-Type") != "text/plain; charset=utf-8" || w.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("bad path: ok %v, answer %d %v %q", ok, w.Code, w.Header(), w.Body)
	}
	if got := w.Body.String(); len(got) < 23 || got[:23] != "no stream at this path:" {
		t.Errorf("body %q", got)
	}
}

func TestAuthorize(t *testing.T) {
	req := stream.AccessRequest{Action: stream.ActionPlay, Protocol: stream.ProtocolHLS, Key: stream.Key{App: "live", Name: "cam"}}
	var seen stream.AccessRequest
	f := Front{Authorizer: refuseAll{got: &seen}}

	w := httptest.NewRecorder()
	if err := f.Authorize(w, httptest.NewRequest(http.MethodHead, "/live/cam.m3u8", nil), req); err != nil || seen.Key != (stream.Key{}) {
		t.Fatalf("HEAD asked the authorizer (%v, %+v)", err, seen)
	}
	w = httptest.NewRecorder()
	err := f.Authorize(w, httptest.NewRequest(http.MethodGet, "/live/cam.m3u8", nil), req)
	if err == nil || seen != req {
		t.Fatalf("GET: err %v, authorizer saw %+v", err, seen)
	}
	if w.Code != http.StatusForbidden || w.Body.String() != "playing live/cam is not allowed: bad token\n" {
		t.Errorf("refusal answered %d %q", w.Code, w.Body)
	}
	if err := (Front{}).Authorize(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil), req); err != nil {
		t.Errorf("no authorizer: %v", err)
	}
}
