package hls

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/mediaserver/mediaserver/stream"
)

// segmentFileRE matches the names of segment files this package writes
// ("{token}-{seq}.ts"); nothing else is ever deleted from Config.Dir.
var segmentFileRE = regexp.MustCompile(`^[0-9a-z]{1,16}-[0-9]{1,20}\.ts$`)

// store keeps segment bodies: in memory or as files.
type store interface {
	// put stores a segment's data under name for key and returns the entry
	// body to serve.
	put(key stream.Key, name string, data []byte) (segmentBody, error)
	// remove deletes a stored segment.
	remove(key stream.Key, name string, b segmentBody)
	// removeStream deletes what is left of one incarnation (token) of a
	// stream: its segment files, then its directory when empty.
	removeStream(key stream.Key, token string)
}

// segmentBody is a stored segment: its bytes (memory) or its file (disk).
type segmentBody struct {
	data []byte
	path string
	size int
}

// open returns a reader over the segment. The caller closes it.
func (b segmentBody) open() (io.ReadSeekCloser, error) {
	if b.path == "" {
		return nopCloser{bytes.NewReader(b.data)}, nil
	}
	f, err := os.Open(b.path)
	if err != nil {
		return nil, fmt.Errorf("open segment: %w", err)
	}
	return f, nil
}

// nopCloser adds a no-op Close to a bytes.Reader.
type nopCloser struct{ *bytes.Reader }

// Close does nothing.
func (nopCloser) Close() error { return nil }

// memoryStore keeps segments in memory; removal is left to the garbage
// collector.
type memoryStore struct{}

func (memoryStore) put(_ stream.Key, _ string, data []byte) (segmentBody, error) {
	return segmentBody{data: data, size: len(data)}, nil
}

func (memoryStore) remove(stream.Key, string, segmentBody) {}

func (memoryStore) removeStream(stream.Key, string) {}

// accountedStore counts the bytes of the segments its store keeps in
// memory against a memory budget.
type accountedStore struct {
	store
	mem MemoryAccount
}

func (s accountedStore) put(key stream.Key, name string, data []byte) (segmentBody, error) {
	b, err := s.store.put(key, name, data)
	if err == nil && b.data != nil {
		s.mem.Add(int64(len(b.data)))
	}
	return b, err
}

func (s accountedStore) remove(key stream.Key, name string, b segmentBody) {
	s.store.remove(key, name, b)
	if b.data != nil {
		s.mem.Add(-int64(len(b.data)))
	}
}

// diskStore writes segments to {dir}/{app}/{name}/{file}.
type diskStore struct {
	dir string
	log *slog.Logger
}

// newDiskStore creates dir if needed and removes segment files a previous
// run left behind.
func newDiskStore(dir string, log *slog.Logger) (*diskStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("hls directory: %w", err)
	}
	s := &diskStore{dir: dir, log: log}
	s.removeStale()
	return s, nil
}

// streamDir returns the directory of a stream's segments.
func (s *diskStore) streamDir(key stream.Key) string {
	return filepath.Join(s.dir, key.App, key.Name)
}

func (s *diskStore) put(key stream.Key, name string, data []byte) (segmentBody, error) {
	dir := s.streamDir(key)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return segmentBody{}, fmt.Errorf("segment directory: %w", err)
	}
	path := filepath.Join(dir, name)
	err := os.WriteFile(path, data, 0o644)
	if errors.Is(err, fs.ErrNotExist) {
		// The directory of an earlier incarnation of the stream was just
		// removed as empty: create it again.
		if err = os.MkdirAll(dir, 0o755); err == nil {
			err = os.WriteFile(path, data, 0o644)
		}
	}
	if err != nil {
		_ = os.Remove(path)
		return segmentBody{}, fmt.Errorf("write segment: %w", err)
	}
	return segmentBody{path: path, size: len(data)}, nil
}

func (s *diskStore) remove(_ stream.Key, _ string, b segmentBody) {
	if b.path == "" {
		return
	}
	if err := os.Remove(b.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.log.Warn("remove segment", "path", b.path, "err", err)
	}
}

// removeStream removes the segment files of one incarnation of the stream
// and then its directory and the app directory, when empty.
func (s *diskStore) removeStream(key stream.Key, token string) {
	dir := s.streamDir(key)
	s.removeSegmentFiles(dir, token+"-")
	_ = os.Remove(dir) // only succeeds when empty
	_ = os.Remove(filepath.Dir(dir))
}

// removeSegmentFiles deletes the segment files directly in dir whose names
// start with prefix.
func (s *diskStore) removeSegmentFiles(dir, prefix string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasPrefix(e.Name(), prefix) && segmentFileRE.MatchString(e.Name()) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				s.log.Warn("remove segment", "path", filepath.Join(dir, e.Name()), "err", err)
			}
		}
	}
}

// removeStale deletes segment files under {dir}/{app}/{name}/ left by an
// earlier run, and the directories that become empty.
func (s *diskStore) removeStale() {
	apps, err := os.ReadDir(s.dir)
	if err != nil {
		return
	}
	for _, app := range apps {
		if !app.IsDir() || stream.CheckName(app.Name()) != nil {
			continue
		}
		appDir := filepath.Join(s.dir, app.Name())
		names, err := os.ReadDir(appDir)
		if err != nil {
			continue
		}
		for _, name := range names {
			if !name.IsDir() || stream.CheckName(name.Name()) != nil {
				continue
			}
			dir := filepath.Join(appDir, name.Name())
			s.removeSegmentFiles(dir, "")
			_ = os.Remove(dir)
		}
		_ = os.Remove(appDir)
	}
}
