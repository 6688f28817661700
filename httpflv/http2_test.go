package httpflv

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

// serveHTTP2 serves f's handler over HTTPS with HTTP/2 too, and returns
// the server; its Client speaks HTTP/2 to it.
func serveHTTP2(t *testing.T, f *fixture) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(f.h)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(func() {
		f.h.Close()
		srv.Close()
	})
	return srv
}

// getHTTP2 starts a GET over HTTP/2 and checks it is a live FLV response.
func getHTTP2(t *testing.T, srv *httptest.Server, path string) *http.Response {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.ProtoMajor != 2 || resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "video/x-flv" {
		t.Fatalf("GET %s: %s %s (%s); want a live FLV response over HTTP/2", path, resp.Proto, resp.Status,
			resp.Header.Get("Content-Type"))
	}
	return resp
}

// TestHTTP2ViewerEndsCleanly: an HTTP/2 viewer, which cannot be taken
// over, is written through the response writer; when it is kicked while
// it waits for frames, and when its stream ends, its response ends as a
// response does (END_STREAM), not with a stream reset.
func TestHTTP2ViewerEndsCleanly(t *testing.T) {
	f := newFixture(t, Config{}, stream.Config{})
	srv := serveHTTP2(t, f)
	f.publish(metaFrame(t, true, true), videoHeaderFrame(t), audioHeaderFrame(t))
	f.publish(gop(t, 0, 500)...)

	kicked := readTags(getHTTP2(t, srv, "/live/test.flv").Body)
	ended := readTags(getHTTP2(t, srv, "/live/test.flv").Body)
	kicked.waitTags(t, 3+20)
	ended.waitTags(t, 3+20)
	if !f.h.Kick("flv-1") {
		t.Fatalf("kick flv-1: no such viewer in %+v", f.h.Sessions())
	}
	if _, err := kicked.waitEnd(t); !errors.Is(err, io.EOF) {
		t.Fatalf("the kicked HTTP/2 viewer's body ended with %v, want a clean end", err)
	}
	f.publish(gop(t, 200, 500)...)
	ended.waitTags(t, 3+40)
	f.pub.Close()
	if _, err := ended.waitEnd(t); !errors.Is(err, io.EOF) {
		t.Fatalf("the HTTP/2 viewer of an ended stream: body ended with %v, want a clean end", err)
	}
}

// TestHTTP2ViewerThatStopsReadingIsCutOff: an HTTP/2 viewer that stops
// reading fills its stream's flow-control window; its write then waits
// for at most the write timeout and the viewer is cut off, while the
// publisher never waits and a viewer that reads gets every frame.
func TestHTTP2ViewerThatStopsReadingIsCutOff(t *testing.T) {
	f := newFixture(t, Config{WriteTimeout: time.Second}, stream.Config{})
	srv := serveHTTP2(t, f)
	f.publish(metaFrame(t, true, true), videoHeaderFrame(t), audioHeaderFrame(t))
	f.publish(gop(t, 0, 500)...)

	healthy := readTags(getHTTP2(t, srv, "/live/test.flv").Body)
	getHTTP2(t, srv, "/live/test.flv") // never read
	healthy.waitTags(t, 3+20)
	testenv.WaitFor(t, waitTimeout, "both viewers to join", func() bool { return len(f.h.Sessions()) == 2 })

	// 16 MB in 200 ms GOPs of 64 KB frames: well past the 4 MB window
	// Go's HTTP/2 client gives a stream, which the stalled viewer never
	// opens again.
	published := 20
	for i := range uint32(25) {
		f.publish(gop(t, 200*(i+1), 64<<10)...)
		published += 20
		healthy.waitTags(t, 3+published)
	}
	testenv.WaitFor(t, waitTimeout, "the stalled viewer to be cut off", func() bool {
		return len(f.h.Sessions()) == 1
	})
	if s := f.h.Sessions()[0]; s.ID != "flv-1" {
		t.Fatalf("viewer %s is left, want the healthy flv-1", s.ID)
	}
	f.pub.Close()
	tags, err := healthy.waitEnd(t)
	if !errors.Is(err, io.EOF) || len(tags) != 3+published {
		t.Fatalf("the healthy viewer got %d tags (%v), want all %d and a clean end", len(tags), err, 3+published)
	}
}
