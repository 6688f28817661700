package api

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeKeys is a KeySource over a map.
type fakeKeys struct {
	mu      sync.Mutex
	keys    map[string]KeyInfo
	next    int
	revoked []string
}

func (f *fakeKeys) Keys() []KeyInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []KeyInfo
	for _, k := range f.keys {
		out = append(out, k)
	}
	return out
}

func (f *fakeKeys) CreateKey(app, name string) (KeyInfo, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next++
	k := KeyInfo{ID: fmt.Sprintf("k%d", f.next), App: app, Name: name, Masked: "live_…000" + fmt.Sprint(f.next), Created: testNow, Updated: testNow}
	f.keys[k.ID] = k
	return k, fmt.Sprintf("live_secret%d000%d", f.next, f.next), nil
}

func (f *fakeKeys) RotateKey(id string) (KeyInfo, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k, ok := f.keys[id]
	if !ok {
		return KeyInfo{}, "", ErrKeyNotFound
	}
	return k, "live_rotated" + id, nil
}

func (f *fakeKeys) RevokeKey(id string) (KeyInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k, ok := f.keys[id]
	if !ok {
		return KeyInfo{}, fmt.Errorf("revoke: %w", ErrKeyNotFound)
	}
	delete(f.keys, id)
	f.revoked = append(f.revoked, id)
	return k, nil
}

func keyRequest(method, target, contentType, body string) *http.Request {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.Host = localHost
	req.RemoteAddr = "127.0.0.1:1"
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

// TestKeyRoutes: a key is created with its secret shown once, listed
// masked, rotated and revoked.
func TestKeyRoutes(t *testing.T) {
	keys := &fakeKeys{keys: map[string]KeyInfo{}}
	h := newHandler(t, Config{}, Deps{Keys: keys})

	rec := serve(h, keyRequest(http.MethodPost, BasePath+"/keys", "application/json", `{"app":"live","name":"mystream"}`))
	if rec.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	var created secretKeyDoc
	decode(t, rec, &created)
	if created.ID != "k1" || created.Key != "live_secret10001" || created.StreamKey != "mystream?key=live_secret10001" ||
		created.App != "live" || created.Name != "mystream" || rec.Header().Get("Location") != BasePath+"/keys/k1" {
		t.Fatalf("created %+v, Location %q", created, rec.Header().Get("Location"))
	}

	rec = serve(h, httptestRequest(http.MethodGet, BasePath+"/keys"))
	if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), created.Key) {
		t.Fatalf("list: %d %s (must not show the secret)", rec.Code, rec.Body)
	}
	var list listDoc[keyDoc]
	decode(t, rec, &list)
	if list.Total != 1 || list.Items[0].ID != "k1" || list.Items[0].MaskedKey != "live_…0001" {
		t.Fatalf("list %+v", list)
	}

	rec = serve(h, httptestRequest(http.MethodPost, BasePath+"/keys/k1/rotate"))
	var rotated secretKeyDoc
	decode(t, rec, &rotated)
	if rec.Code != http.StatusOK || rotated.Key != "live_rotatedk1" {
		t.Fatalf("rotate: %d %+v", rec.Code, rotated)
	}
	if rec := serve(h, httptestRequest(http.MethodDelete, BasePath+"/keys/k1")); rec.Code != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", rec.Code, rec.Body)
	}
	wantError(t, serve(h, httptestRequest(http.MethodDelete, BasePath+"/keys/k1")), http.StatusNotFound, CodeNotFound)
	wantError(t, serve(h, httptestRequest(http.MethodPost, BasePath+"/keys/nope/rotate")), http.StatusNotFound, CodeNotFound)
	wantError(t, serve(h, httptestRequest(http.MethodDelete, BasePath+"/keys/a%20b")), http.StatusBadRequest, CodeBadRequest)

	for _, tc := range []struct{ ct, body string }{
		{"", `{"app":"live","name":"x"}`},
		{"text/plain", `{"app":"live","name":"x"}`},
		{"application/x-www-form-urlencoded", `app=live&name=x`},
	} {
		rec := serve(h, keyRequest(http.MethodPost, BasePath+"/keys", tc.ct, tc.body))
		wantError(t, rec, http.StatusUnsupportedMediaType, CodeUnsupportedMediaType)
	}
	for _, body := range []string{`{"app":"live"}`, `{"app":"live","name":"a/b"}`, `{"app":"live","name":"x","extra":1}`, `not json`} {
		wantError(t, serve(h, keyRequest(http.MethodPost, BasePath+"/keys", "application/json", body)), http.StatusBadRequest, CodeBadRequest)
	}
	if keys.next != 1 {
		t.Errorf("%d keys created, want 1", keys.next)
	}
}

// TestKeyRoutesWithoutStore: a server without a key store lists none and
// says it cannot make one.
func TestKeyRoutesWithoutStore(t *testing.T) {
	h := newHandler(t, Config{}, Deps{})
	wantError(t, serve(h, keyRequest(http.MethodPost, BasePath+"/keys", "application/json", `{"app":"live","name":"x"}`)),
		http.StatusServiceUnavailable, CodeUnavailable)
	if rec := serve(h, httptestRequest(http.MethodGet, BasePath+"/keys")); rec.Code != http.StatusOK {
		t.Errorf("list: %d", rec.Code)
	}
}
