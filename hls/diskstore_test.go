package hls

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/mediaserver/mediaserver/stream"
)

// withUmask runs the test under umask 022, the usual one, so that the
// modes the store asks for are the modes it gets.
func withUmask(t *testing.T) {
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })
}

// TestDiskStoreFollowsNoSymlink pins disk HLS following a symbolic link
// planted in hls.dir: an app directory that is a link to another
// directory gets no segment written through it, and a segment file that
// is a link is replaced, never written through, and never read from.
func TestDiskStoreFollowsNoSymlink(t *testing.T) {
	withUmask(t)
	dir, outside := t.TempDir(), t.TempDir()
	victim := filepath.Join(outside, "victim")
	if err := os.WriteFile(victim, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "live")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "news", "cam"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(dir, "news", "cam", "tok-1.ts")); err != nil {
		t.Fatal(err)
	}
	s, err := newDiskStore(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()

	// The app directory is a link: refused, nothing written outside.
	if _, err := s.put(stream.Key{App: "live", Name: "cam"}, "tok-1.ts", []byte("segment")); !errors.Is(err, ErrUnsafePath) {
		t.Errorf("put through a linked app directory: %v, want ErrUnsafePath", err)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 1 {
		t.Errorf("written outside hls.dir: %v", entries)
	}
	// The segment file is a link: replaced by a file of its own.
	news := stream.Key{App: "news", Name: "cam"}
	body, err := s.put(news, "tok-1.ts", []byte("segment"))
	if err != nil {
		t.Fatalf("put over a planted link: %v", err)
	}
	if got, _ := os.ReadFile(victim); string(got) != "keep me" {
		t.Errorf("the link's target was written: %q", got)
	}
	if fi, err := os.Lstat(filepath.Join(dir, "news", "cam", "tok-1.ts")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("segment file: %v; want a regular file", err)
	}
	// A link swapped in after the write is not served.
	path := filepath.Join(dir, "news", "cam", "tok-1.ts")
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, path); err != nil {
		t.Fatal(err)
	}
	if rc, err := body.open(); err == nil {
		data, _ := io.ReadAll(rc)
		rc.Close()
		t.Errorf("a segment that became a link was read: %q", data)
	}
	// Clean-up removes the link, not its target.
	s.removeStream(news, "tok")
	if got, _ := os.ReadFile(victim); string(got) != "keep me" {
		t.Errorf("the link's target was touched by the clean-up: %q", got)
	}
}

// TestDiskStoreModes pins disk HLS's world-readable files: segment files
// are 0640 and the directories created for them 0750.
func TestDiskStoreModes(t *testing.T) {
	withUmask(t)
	dir := filepath.Join(t.TempDir(), "hls")
	tm := startManager(t, Config{Storage: StorageDisk, Dir: dir, EndListDelay: -1})
	pub := tm.publish(t, camKey)
	defer pub.Close()
	writeFrames(pub, source{fps: 30, gop: 30, audio: true}.frames(t, 2100))
	p := tm.waitPlaylist(t, "/live/cam.m3u8", "a segment", func(p parsedPlaylist) bool { return len(p.segments) > 0 })
	for _, d := range []string{dir, filepath.Join(dir, "live"), filepath.Join(dir, "live", "cam")} {
		if fi, err := os.Lstat(d); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o750 {
			t.Errorf("directory %s: %v, %v; want a directory 0750", d, fi.Mode(), err)
		}
	}
	file := filepath.Join(dir, "live", p.segments[0].uri)
	if fi, err := os.Lstat(file); err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o640 {
		t.Errorf("segment %s: %v, %v; want a file 0640", file, fi.Mode(), err)
	}
}

// TestDiskStoreLinkedAppDirectory: with the app directory a link planted
// in hls.dir, a live stream gets no segment on disk and nothing is written
// where the link points; the stream's other outputs go on.
func TestDiskStoreLinkedAppDirectory(t *testing.T) {
	withUmask(t)
	dir, outside := t.TempDir(), t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, "live")); err != nil {
		t.Fatal(err)
	}
	tm := startManager(t, Config{Storage: StorageDisk, Dir: dir, EndListDelay: -1})
	pub := tm.publish(t, camKey)
	defer pub.Close()
	writeFrames(pub, source{fps: 30, gop: 30, audio: true}.frames(t, 4100))
	waitFor(t, "a segment cut", func() bool {
		st := tm.m.existing(camKey)
		if st == nil {
			return false
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		return st.missing || len(st.windowEntries()) > 0
	})
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("segments written through the link: %v", entries)
	}
}
