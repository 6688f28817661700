package hls

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestViewerCountFloodOfUserAgents pins the viewer count that a request
// flood inflated: 5,000 playlist and segment requests from one address,
// each with another User-Agent, count as one viewer.
func TestViewerCountFloodOfUserAgents(t *testing.T) {
	tm := startManager(t, Config{ViewerTimeout: time.Hour})
	pub := tm.publish(t, camKey)
	writeFrames(pub, source{fps: 30, gop: 30}.frames(t, 2100))
	pl := tm.waitPlaylist(t, "/live/cam.m3u8", "a segment", func(p parsedPlaylist) bool { return len(p.segments) > 0 })
	before := tm.m.Viewers(camKey) // the test's own HTTP client
	paths := []string{"/live/cam.m3u8", "/live/" + pl.segments[0].uri}
	for i := range 5000 {
		r := httptest.NewRequest(http.MethodGet, paths[i%2], nil)
		r.RemoteAddr = fmt.Sprintf("198.51.100.77:%d", 1024+i%60000)
		r.Header.Set("User-Agent", fmt.Sprintf("Player/%d (flood)", i))
		w := httptest.NewRecorder()
		tm.m.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			t.Fatalf("request %d for %s: status %d", i, paths[i%2], w.Code)
		}
	}
	if n := tm.m.Viewers(camKey); n != before+1 {
		t.Fatalf("Viewers = %d after a flood from one address, want %d", n, before+1)
	}
	if st, _ := tm.m.Stats(camKey); st.Viewers != before+1 {
		t.Fatalf("Stats().Viewers = %d, want %d", st.Viewers, before+1)
	}
}

// TestViewerCountFloodFromIPv6Prefix: addresses of one IPv6 /64, which
// one site picks at will, count as one viewer; another /64 is another.
func TestViewerCountFloodFromIPv6Prefix(t *testing.T) {
	tm := startManager(t, Config{ViewerTimeout: time.Hour})
	pub := tm.publish(t, camKey)
	writeFrames(pub, source{fps: 30, gop: 30}.frames(t, 2100))
	tm.waitPlaylist(t, "/live/cam.m3u8", "a segment", func(p parsedPlaylist) bool { return len(p.segments) > 0 })
	before := tm.m.Viewers(camKey) // the test's own HTTP client
	get := func(remote string) {
		t.Helper()
		r := httptest.NewRequest(http.MethodGet, "/live/cam.m3u8", nil)
		r.RemoteAddr = remote
		w := httptest.NewRecorder()
		tm.m.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			t.Fatalf("request from %s: status %d", remote, w.Code)
		}
	}
	for i := range 5000 {
		get(fmt.Sprintf("[2001:db8:1:2:%x:%x::1]:443", i>>8, i&0xff))
	}
	get("[2001:db8:1:3::1]:443")
	get("[::ffff:192.0.2.1]:443")
	get("192.0.2.1:444") // the same client as the mapped address above
	if n := tm.m.Viewers(camKey); n != before+3 {
		t.Fatalf("Viewers = %d, want %d: one per /64 and one IPv4 address", n, before+3)
	}
}
