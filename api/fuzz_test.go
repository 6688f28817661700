package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzHandler sends arbitrary methods, paths, queries, Authorization
// headers and remote addresses: the API never panics (nothing recovers a
// panic, so one fails the fuzzer), always answers a known status, and every error is a
// JSON error document with a known code.
func FuzzHandler(f *testing.F) {
	f.Add("GET", "/api/v1/streams", "page=2&per_page=5", "", "127.0.0.1:1")
	f.Add("DELETE", "/api/v1/streams/live/cam", "", "Bearer tok", "203.0.113.1:9")
	f.Add("GET", "/api/v1/sessions", "stream=live/cam&role=viewer", "bearer tok", "[::1]:1")
	f.Add("PUT", "/api/v1/sessions/flv-1", "", "Basic eA==", "127.0.0.1:1")
	f.Add("GET", "/api/v1/streams/%2e%2e/x", "page=-1", "", "127.0.0.1:1")
	f.Add("GET", "/api/v1/server", "", "Bearer", "pipe")
	f.Fuzz(func(t *testing.T, method, path, query, auth, remote string) {
		if !validMethod(method) {
			return
		}
		u := &url.URL{Path: path, RawQuery: query}
		target := u.RequestURI()
		if !strings.HasPrefix(target, "/") {
			return
		}
		fx := newFixture(t, "")
		if strings.HasPrefix(auth, "Bearer tok") {
			fx = newFixture(t, "tok")
		}
		req := httptest.NewRequest(method, "/", nil)
		req.URL = u
		req.RequestURI = target
		req.RemoteAddr = remote
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		fx.handler.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK, http.StatusNoContent:
			return
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden,
			http.StatusNotFound, http.StatusMethodNotAllowed:
		default:
			t.Fatalf("%s %q from %q: status %d: %s", method, target, remote, rec.Code, rec.Body)
		}
		var doc errorDoc
		if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
			t.Fatalf("%s %q: error body %q: %v", method, target, rec.Body, err)
		}
		switch doc.Error.Code {
		case CodeBadRequest, CodeUnauthorized, CodeForbidden, CodeNotFound, CodeMethodNotAllowed:
		default:
			t.Fatalf("%s %q: code %q", method, target, doc.Error.Code)
		}
	})
}

// validMethod reports whether m is a token net/http accepts as a method.
func validMethod(m string) bool {
	if m == "" || len(m) > 16 {
		return false
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}
