package hls

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/stream"
)

// listingStore is a store that records, each time a stream's files are
// removed, whether its manager still lists the stream at that moment.
type listingStore struct {
	store
	m *Manager

	mu     sync.Mutex
	listed []bool
}

func (s *listingStore) removeStream(key stream.Key, token string) {
	_, listed := s.m.Stats(key)
	s.mu.Lock()
	s.listed = append(s.listed, listed)
	s.mu.Unlock()
	s.store.removeStream(key, token)
}

// TestStreamUnlistedBeforeItsDirectoryIsRemoved pins the order in which
// an ended stream is freed: its files go first, and only then does it
// leave the listing, so that a stream no longer listed has left nothing
// on disk.
func TestStreamUnlistedBeforeItsDirectoryIsRemoved(t *testing.T) {
	dir := t.TempDir()
	tm := startManager(t, Config{Storage: StorageDisk, Dir: dir, PlaylistLength: 2, RetainAfterWindow: 1,
		EndListDelay: -1, EndedRetention: 300 * time.Millisecond})
	ls := &listingStore{store: tm.m.store, m: tm.m}
	tm.m.store = ls // before the first publisher: nothing uses the store yet

	pub := tm.publish(t, camKey)
	writeFrames(pub, source{fps: 30, gop: 30, audio: true}.frames(t, 4100))
	tm.waitPlaylist(t, "/live/cam.m3u8", "a segment", func(p parsedPlaylist) bool { return len(p.segments) > 0 })
	pub.Close()
	waitFor(t, "the stream to be freed", func() bool {
		_, ok := tm.m.Stats(camKey)
		return !ok
	})
	if _, err := os.Stat(filepath.Join(dir, "live", "cam")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stream directory left behind after the stream was unlisted: %v", err)
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if len(ls.listed) != 1 || !ls.listed[0] {
		t.Errorf("stream listed while its files were removed: %v, want [true]", ls.listed)
	}
}

// TestPublisherDuringFileRemovalGetsANewState publishes a stream again
// between the janitor freeing its state and removing its files: the
// publisher gets a state of its own, which continues the media sequence
// and stays listed once the removal is done.
func TestPublisherDuringFileRemovalGetsANewState(t *testing.T) {
	// The janitor never frees on its own here: the test sweeps an hour on.
	tm := startManager(t, Config{Storage: StorageDisk, Dir: t.TempDir(), PlaylistLength: 2, RetainAfterWindow: 1,
		EndListDelay: -1, EndedRetention: time.Hour})
	pub := tm.publish(t, camKey)
	frames := source{fps: 30, gop: 30, audio: true}.frames(t, 4100)
	writeFrames(pub, frames)
	tm.waitPlaylist(t, "/live/cam.m3u8", "a segment", func(p parsedPlaylist) bool { return len(p.segments) > 0 })
	pub.Close()
	waitFor(t, "the segmenter to stop", func() bool {
		st, ok := tm.m.Stats(camKey)
		return ok && !st.Live
	})
	freed := tm.m.sweep(time.Now().Add(2 * time.Hour))
	if len(freed) != 1 {
		t.Fatalf("sweep freed %d states, want 1", len(freed))
	}
	if _, ok := tm.m.Stats(camKey); !ok {
		t.Fatal("stream unlisted before its files were removed")
	}
	if resp, _ := tm.get(t, http.MethodGet, "/live/cam.m3u8"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("playlist of a freed stream: %d, want 404", resp.StatusCode)
	}

	again := tm.publish(t, camKey)
	defer again.Close()
	tm.m.release(freed[0])
	writeFrames(again, frames)
	got := tm.waitPlaylist(t, "/live/cam.m3u8", "a segment of the new publisher", func(p parsedPlaylist) bool { return len(p.segments) > 0 })
	if got.mediaSeq == 0 {
		t.Errorf("media sequence starts again at 0")
	}
	for _, s := range got.segments {
		if strings.HasPrefix(s.uri, "cam/"+freed[0].st.token+"-") {
			t.Errorf("segment %s of the freed state listed", s.uri)
		}
	}
	if st, ok := tm.m.Stats(camKey); !ok || !st.Live {
		t.Errorf("new state listed %v, live %v", ok, st.Live)
	}
}
