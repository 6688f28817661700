package hls

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"

	"github.com/mediaserver/mediaserver/stream"
)

// segmentFileRE matches the names of segment files this package writes
// ("{token}-{seq}.ts" or ".m4s"); nothing else is ever deleted from Config.Dir.
var segmentFileRE = regexp.MustCompile(`^[0-9a-z]{1,26}-[0-9]{1,20}\.(ts|m4s)$`)

// Modes of what the disk store creates: readable by the server's group
// (a web server serving hls.dir, a backup job), by no one else.
const (
	diskFileMode = 0o640
	diskDirMode  = 0o750
)

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
	// close releases the store; segments are no longer readable.
	close()
}

// segmentBody is a stored segment: its bytes (memory) or its file (disk),
// named by path within root.
type segmentBody struct {
	mem  *segmentMemory
	root *os.Root
	path string
	size int
}

// open returns a reader over the segment. The caller closes it. A file
// that is a symbolic link is not opened.
func (b segmentBody) open() (io.ReadSeekCloser, error) {
	if b.root == nil {
		if b.mem == nil {
			return nil, fmt.Errorf("open segment: %w", fs.ErrNotExist)
		}
		return b.mem.open()
	}
	f, err := b.root.OpenFile(b.path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, fmt.Errorf("open segment: %w", err)
	}
	return f, nil
}

// memoryStore keeps segments in memory (segmentMemory): outside the Go
// heap where the platform allows, freed when removed and no longer read.
type memoryStore struct{}

func (memoryStore) put(_ stream.Key, _ string, data []byte) (segmentBody, error) {
	return segmentBody{mem: newSegmentMemory(data), size: len(data)}, nil
}

func (memoryStore) remove(_ stream.Key, _ string, b segmentBody) {
	if b.mem != nil {
		b.mem.remove()
	}
}

func (memoryStore) removeStream(stream.Key, string) {}

func (memoryStore) close() {}

// accountedStore counts the bytes of the segments its store keeps in
// memory against a memory budget.
type accountedStore struct {
	store
	mem MemoryAccount
}

func (s accountedStore) put(key stream.Key, name string, data []byte) (segmentBody, error) {
	b, err := s.store.put(key, name, data)
	if err == nil && b.mem != nil {
		s.mem.Add(int64(b.size))
	}
	return b, err
}

func (s accountedStore) remove(key stream.Key, name string, b segmentBody) {
	s.store.remove(key, name, b)
	if b.mem != nil {
		s.mem.Add(-int64(b.size))
	}
}

// diskStore writes segments to {dir}/{app}/{name}/{file}, files
// diskFileMode and directories diskDirMode. It follows no symbolic link
// below dir: everything is reached through an os.Root on dir, a directory
// it finds in place must be a real directory, and files are created
// exclusively and opened with O_NOFOLLOW. A link planted in dir makes
// writes to that stream fail; it is neither followed nor removed.
type diskStore struct {
	dir  string
	root *os.Root
	log  *slog.Logger
}

// newDiskStore creates dir if needed and removes segment files a previous
// run left behind.
func newDiskStore(dir string, log *slog.Logger) (*diskStore, error) {
	if err := os.MkdirAll(dir, diskDirMode); err != nil {
		return nil, fmt.Errorf("hls directory: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("hls directory: %w", err)
	}
	s := &diskStore{dir: dir, root: root, log: log}
	s.removeStale()
	return s, nil
}

// streamDir returns the directory of a stream's segments, relative to
// the store's directory.
func (s *diskStore) streamDir(key stream.Key) string {
	return filepath.Join(key.App, key.Name)
}

// makeDir creates the directory rel, or checks that what is there is a
// directory and not a symbolic link.
func (s *diskStore) makeDir(rel string) error {
	err := s.root.Mkdir(rel, diskDirMode)
	if err == nil || !errors.Is(err, fs.ErrExist) {
		return err
	}
	fi, err := s.root.Lstat(rel)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%w: %s is a %v, not a directory", ErrUnsafePath, filepath.Join(s.dir, rel), fi.Mode().Type())
	}
	return nil
}

// makeStreamDir creates the app's and the stream's directories as needed.
func (s *diskStore) makeStreamDir(key stream.Key) error {
	if err := s.makeDir(key.App); err != nil {
		return fmt.Errorf("app directory: %w", err)
	}
	if err := s.makeDir(s.streamDir(key)); err != nil {
		return fmt.Errorf("stream directory: %w", err)
	}
	return nil
}

// create writes data to the new file rel. A file already there (a leftover,
// or a link planted in its place) is removed first, never written through.
func (s *diskStore) create(rel string, data []byte) error {
	const flags = os.O_WRONLY | os.O_CREATE | os.O_EXCL | syscall.O_NOFOLLOW
	f, err := s.root.OpenFile(rel, flags, diskFileMode)
	if errors.Is(err, fs.ErrExist) {
		if err = s.root.Remove(rel); err == nil {
			f, err = s.root.OpenFile(rel, flags, diskFileMode)
		}
	}
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (s *diskStore) put(key stream.Key, name string, data []byte) (segmentBody, error) {
	if err := s.makeStreamDir(key); err != nil {
		return segmentBody{}, fmt.Errorf("segment directory: %w", err)
	}
	rel := filepath.Join(s.streamDir(key), name)
	err := s.create(rel, data)
	if errors.Is(err, fs.ErrNotExist) {
		// The directory of an earlier incarnation of the stream was just
		// removed as empty: create it again.
		if err = s.makeStreamDir(key); err == nil {
			err = s.create(rel, data)
		}
	}
	if err != nil {
		_ = s.root.Remove(rel)
		return segmentBody{}, fmt.Errorf("write segment: %w", err)
	}
	return segmentBody{root: s.root, path: rel, size: len(data)}, nil
}

func (s *diskStore) remove(_ stream.Key, _ string, b segmentBody) {
	if b.root == nil {
		return
	}
	if err := s.root.Remove(b.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.log.Warn("remove segment", "path", filepath.Join(s.dir, b.path), "err", err)
	}
}

// removeStream removes the segment files of one incarnation of the stream
// and then its directory and the app directory, when empty.
func (s *diskStore) removeStream(key stream.Key, token string) {
	dir := s.streamDir(key)
	s.removeSegmentFiles(dir, token+"-")
	_ = s.root.Remove(dir) // only succeeds when empty
	_ = s.root.Remove(key.App)
}

// close releases the store's directory.
func (s *diskStore) close() {
	if err := s.root.Close(); err != nil {
		s.log.Warn("close hls directory", "err", err)
	}
}

// readDir lists the directory rel when it is a real directory, not a
// symbolic link.
func (s *diskStore) readDir(rel string) ([]fs.DirEntry, error) {
	if fi, err := s.root.Lstat(rel); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("%w: %s is not a directory", ErrUnsafePath, filepath.Join(s.dir, rel))
	}
	f, err := s.root.OpenFile(rel, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_DIRECTORY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.ReadDir(-1)
}

// removeSegmentFiles deletes the segment files directly in dir whose names
// start with prefix.
func (s *diskStore) removeSegmentFiles(dir, prefix string) {
	entries, err := s.readDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasPrefix(e.Name(), prefix) && segmentFileRE.MatchString(e.Name()) {
			if err := s.root.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				s.log.Warn("remove segment", "path", filepath.Join(s.dir, dir, e.Name()), "err", err)
			}
		}
	}
}

// removeStale deletes segment files under {dir}/{app}/{name}/ left by an
// earlier run, and the directories that become empty.
func (s *diskStore) removeStale() {
	apps, err := s.readDir(".")
	if err != nil {
		return
	}
	for _, app := range apps {
		if !app.IsDir() || stream.CheckName(app.Name()) != nil {
			continue
		}
		names, err := s.readDir(app.Name())
		if err != nil {
			continue
		}
		for _, name := range names {
			if !name.IsDir() || stream.CheckName(name.Name()) != nil {
				continue
			}
			dir := filepath.Join(app.Name(), name.Name())
			s.removeSegmentFiles(dir, "")
			_ = s.root.Remove(dir)
		}
		_ = s.root.Remove(app.Name())
	}
}
