package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// fakeForwards is a ForwardSource over a list of targets of live/cam.
type fakeForwards struct {
	targets []ForwardInfo
	addErr  error
	added   []string
	removed []string
}

func (f *fakeForwards) Forwards(app, name string) ([]ForwardInfo, bool) {
	if app+"/"+name != "live/cam" {
		return nil, false
	}
	return f.targets, true
}

func (f *fakeForwards) AddForward(app, name, url string) (ForwardInfo, error) {
	if f.addErr != nil {
		return ForwardInfo{}, f.addErr
	}
	f.added = append(f.added, app+"/"+name+" "+url)
	return ForwardInfo{ID: "fwd-2", URL: url, Origin: "api", State: "connecting", Since: testNow}, nil
}

func (f *fakeForwards) RemoveForward(app, name, id string) error {
	if app+"/"+name != "live/cam" || id != "fwd-1" {
		return ErrForwardNotFound
	}
	f.removed = append(f.removed, id)
	return nil
}

// TestForwardRoutes: the forwards of a live stream are listed, added with
// a JSON body and removed by id; each failure of the source has its
// status.
func TestForwardRoutes(t *testing.T) {
	src := &fakeForwards{targets: []ForwardInfo{{ID: "fwd-1", URL: "rtmp://a.example/live2/abcd…", Origin: "config",
		State: "retrying", Since: testNow.Add(-time.Minute), Bytes: 1234, Bitrate: 2.5e6, Retries: 3, Dropped: 7,
		LastError: "connect: refused"}}}
	h := newHandler(t, Config{}, Deps{Streams: &fakeStreams{list: []StreamInfo{camStream()}}, Forwards: src})
	send := func(method, target, body string) *http.Response {
		req := httptestRequest(method, target)
		if body != "" {
			req = httptest.NewRequest(method, target, strings.NewReader(body))
			req.Host, req.RemoteAddr = localHost, "127.0.0.1:1"
			req.Header.Set("Content-Type", "application/json")
		}
		return serve(h, req).Result()
	}

	rec := serve(h, httptestRequest(http.MethodGet, BasePath+"/streams/live/cam/forwards"))
	var list forwardsDoc
	decode(t, rec, &list)
	if len(list.Items) != 1 || list.Items[0] != newForwardDoc(src.targets[0]) {
		t.Errorf("list %+v", list)
	}
	if rec := serve(h, httptestRequest(http.MethodGet, BasePath+"/streams/live/gone/forwards")); rec.Code != http.StatusNotFound {
		t.Errorf("GET of a stream not live: %d", rec.Code)
	}

	resp := send(http.MethodPost, BasePath+"/streams/live/cam/forwards", `{"url":"rtmp://b.example/app/KEY"}`)
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Location") != BasePath+"/streams/live/cam/forwards/fwd-2" ||
		len(src.added) != 1 || src.added[0] != "live/cam rtmp://b.example/app/KEY" {
		t.Errorf("POST: %d %q, added %v", resp.StatusCode, resp.Header.Get("Location"), src.added)
	}
	for _, c := range []struct {
		body string
		err  error
		want int
	}{
		{`{"url":""}`, nil, http.StatusBadRequest},
		{`{"url":"x","extra":1}`, nil, http.StatusBadRequest},
		{`[]`, nil, http.StatusBadRequest},
		{`{"url":"http://x/a/b"}`, fmt.Errorf("wrapped: %w", ErrForwardURL), http.StatusBadRequest},
		{`{"url":"rtmp://x/a/b"}`, ErrForwardStreamNotLive, http.StatusNotFound},
		{`{"url":"rtmp://x/a/b"}`, ErrTooManyForwards, http.StatusConflict},
		{`{"url":"rtmp://x/a/b"}`, errors.New("broken"), http.StatusInternalServerError},
	} {
		src.addErr = c.err
		if resp := send(http.MethodPost, BasePath+"/streams/live/cam/forwards", c.body); resp.StatusCode != c.want {
			t.Errorf("POST %s with %v: %d, want %d", c.body, c.err, resp.StatusCode, c.want)
		}
	}

	for _, c := range []struct {
		target string
		want   int
	}{
		{"/streams/live/cam/forwards/fwd-9", http.StatusNotFound},
		{"/streams/live/cam/forwards/" + strings.Repeat("x", MaxForwardIDLength+1), http.StatusBadRequest},
		{"/streams/live/cam/forwards/a%20b", http.StatusBadRequest},
		{"/streams/live/cam/forwards/fwd-1", http.StatusNoContent},
	} {
		if resp := send(http.MethodDelete, BasePath+c.target, ""); resp.StatusCode != c.want {
			t.Errorf("DELETE %s: %d, want %d", c.target, resp.StatusCode, c.want)
		}
	}
	if len(src.removed) != 1 {
		t.Errorf("removed %v", src.removed)
	}
}

// TestForwardRoutesWithoutSource: with no ForwardSource a live stream has
// no targets and none can be added.
func TestForwardRoutesWithoutSource(t *testing.T) {
	h := newHandler(t, Config{}, Deps{Streams: &fakeStreams{list: []StreamInfo{camStream()}}})
	rec := serve(h, httptestRequest(http.MethodGet, BasePath+"/streams/live/cam/forwards"))
	var list forwardsDoc
	decode(t, rec, &list)
	if rec.Code != http.StatusOK || len(list.Items) != 0 {
		t.Errorf("GET: %d %+v", rec.Code, list)
	}
}
