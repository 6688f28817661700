package hls

import (
	"net/http"
	"testing"
	"time"
)

// TestRegressionEndedPlaylistComesBackToLife: once a playlist carries
// EXT-X-ENDLIST, a publisher returning under the same name never makes it
// drop ENDLIST and grow. The URL answers "starting" until the new
// publisher's first segment, then a new playlist whose media sequence
// starts after the ended one's; the ended playlist's segments stay
// fetchable for the players playing them out.
func TestRegressionEndedPlaylistComesBackToLife(t *testing.T) {
	tm := startManager(t, Config{EndListDelay: 100 * time.Millisecond, SegmentDuration: time.Second})
	pub := tm.publish(t, camKey)
	writeFrames(pub, source{fps: 30, gop: 30, audio: true, start: 1000}.frames(t, 2500))
	pub.Close()
	ended := tm.waitPlaylist(t, "/live/cam.m3u8", "EXT-X-ENDLIST", func(p parsedPlaylist) bool { return p.ended })
	last := ended.segments[len(ended.segments)-1].seq

	pub = tm.publish(t, camKey) // back, after the playlist ended
	defer pub.Close()
	resp, body := tm.get(t, http.MethodGet, "/live/cam.m3u8")
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("before the new publisher's first segment: %d (Retry-After %q), want 503 with Retry-After:\n%s",
			resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	writeFrames(pub, source{fps: 30, gop: 30, audio: true}.frames(t, 3500))
	fresh := tm.waitPlaylist(t, "/live/cam.m3u8", "the new publisher's playlist", func(p parsedPlaylist) bool {
		return !p.ended && len(p.segments) >= 2
	})
	_, body = tm.get(t, http.MethodGet, "/live/cam.m3u8")
	if fresh.ended || fresh.mediaSeq != last+1 {
		t.Errorf("new playlist: ended %v, media sequence %d, want a live playlist from %d:\n%s",
			fresh.ended, fresh.mediaSeq, last+1, body)
	}
	for _, s := range fresh.segments {
		if s.seq <= last || s.disc {
			t.Errorf("new playlist lists segment %d (discontinuity %v) of the ended one:\n%s", s.seq, s.disc, body)
		}
	}
	for _, s := range ended.segments {
		if resp, _ := tm.get(t, http.MethodGet, "/live/"+s.uri); resp.StatusCode != http.StatusOK {
			t.Errorf("segment %s of the ended playlist: %d", s.uri, resp.StatusCode)
		}
	}
}
