package record

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mediaserver/mediaserver/stream"
)

// State is the state of a recorded file.
type State string

// File states.
const (
	// StateRecording: the file is being written (its name on disk carries
	// the ".part" marker).
	StateRecording State = "recording"
	// StateDone: the file is complete.
	StateDone State = "done"
	// StateFailed: writing the file failed; it holds what was written.
	StateFailed State = "failed"
	// StateIncomplete: a file left in progress by an earlier run of the
	// server (a crash); it holds the fragments written before.
	StateIncomplete State = "incomplete"
)

// Reasons a file ends, reported in Info.Reason, the log and the hook.
const (
	// ReasonStreamEnded: the stream ended (its publisher left for good).
	ReasonStreamEnded = "stream ended"
	// ReasonStopped: Manager.Stop (DELETE …/recording).
	ReasonStopped = "stopped through the API"
	// ReasonDuration: the file reached its segment duration; the
	// recording goes on in the next file.
	ReasonDuration = "segment duration reached"
	// ReasonSize: the file reached its maximum size; the recording goes on
	// in the next file.
	ReasonSize = "maximum size reached"
	// ReasonNewHeaders: the stream's decoder configuration changed; the
	// recording goes on in the next file.
	ReasonNewHeaders = "codec configuration changed"
	// ReasonRepublished: another publisher continued the stream; the
	// recording goes on in the next file.
	ReasonRepublished = "new publisher"
	// ReasonLowDisk: the free space fell below Config.MinFreeDisk; the
	// recording stops.
	ReasonLowDisk = "free disk space below the minimum"
	// ReasonShutdown: the Manager was closed.
	ReasonShutdown = "server shutdown"
	// ReasonWriteFailed prefixes the error that stopped a recording.
	ReasonWriteFailed = "write failed"
)

// startWait bounds how long Start waits for the recording's first file.
const startWait = 2 * time.Second

// protocolRecord names the reader of a recording in the stream hub.
const protocolRecord stream.Protocol = "record"

// partMarker is inserted before the extension of a file being written.
const partMarker = ".part"

// Info describes one recorded file.
type Info struct {
	// ID names the recording in the API: its file name in the recordings
	// directory (the final name, also while it is written).
	ID string
	// Path is the file's path on disk (absolute; with the ".part" marker
	// while recording).
	Path string
	// App and Name identify the stream (empty for a file of an earlier
	// run).
	App, Name string
	// Format is FormatFMP4 or FormatFLV.
	Format string
	// Start is when the file started (for a file of an earlier run: its
	// modification time).
	Start time.Time
	// Duration is the media time the file holds (0 when unknown).
	Duration time.Duration
	// Size is the file's size in bytes.
	Size int64
	// State is the file's state; Reason why it ended.
	State  State
	Reason string
}

// Hub finds live streams; *stream.Registry implements it.
type Hub interface {
	Lookup(key stream.Key) (*stream.Stream, bool)
}

// Manager records streams: those its configuration names from their start
// (it is a stream.Observer) and any other on request. Close stops every
// recording and waits for the files to be completed.
type Manager struct {
	cfg  Config
	dir  string // absolute
	root *os.Root
	hub  Hub
	log  *slog.Logger
	// freeDisk measures the free space of a directory (tests replace it).
	freeDisk func(dir string) (uint64, error)

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	hooks  *hookPool

	mu     sync.Mutex
	closed bool
	active map[stream.Key]*recorder
	files  map[string]*Info // by id: files of this run
}

// NewManager creates cfg.WithDefaults().Dir if missing and returns a
// Manager writing there. It fails with an error wrapping ErrInvalidConfig
// for a configuration that does not validate.
func NewManager(cfg Config, hub Hub, log *slog.Logger) (*Manager, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new recording manager: %w", err)
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("recordings directory %s: %w", cfg.Dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("recordings directory: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("recordings directory: %w", err)
	}
	log = log.With("component", "record")
	ctx, cancel := context.WithCancel(context.Background())
	return &Manager{
		cfg: cfg, dir: dir, root: root, hub: hub, log: log, freeDisk: freeDisk,
		ctx: ctx, cancel: cancel, hooks: newHookPool(cfg, log),
		active: make(map[stream.Key]*recorder), files: make(map[string]*Info),
	}, nil
}

// Dir returns the absolute path of the recordings directory.
func (m *Manager) Dir() string { return m.dir }

// StreamStarted implements stream.Observer: a stream the configuration
// names is recorded from now on. It never blocks.
func (m *Manager) StreamStarted(s *stream.Stream) {
	key := s.Key()
	set, ok := m.cfg.rule(key.App, key.Name)
	if !ok {
		return
	}
	if _, err := m.start(s, set); err != nil {
		m.log.Warn("recording not started", "stream", key.String(), "err", err)
	}
}

// StreamEnded implements stream.Observer; a recording ends by itself when
// its stream has delivered everything.
func (m *Manager) StreamEnded(*stream.Stream) {}

// Start records the live stream app/name in Config.Format (or as the
// configuration's rule for it says) and returns its first file, once
// started: at once for a stream with a keyframe cached, else after at most
// startWait (then without an id; the file is listed when the first
// keyframe arrives). It fails with ErrNotLive, ErrAlreadyRecording, ErrLowDisk
// or ErrClosed.
func (m *Manager) Start(app, name string) (Info, error) {
	key := stream.Key{App: app, Name: name}
	s, ok := m.hub.Lookup(key)
	if !ok {
		return Info{}, fmt.Errorf("record %s: %w", key, ErrNotLive)
	}
	set, ok := m.cfg.rule(app, name)
	if !ok {
		set = m.cfg.settings(Rule{})
	}
	rec, err := m.start(s, set)
	if err != nil {
		return Info{}, err
	}
	t := time.NewTimer(startWait)
	defer t.Stop()
	select {
	case <-rec.opened:
	case <-rec.done:
	case <-t.C:
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if in, ok := m.files[rec.firstID]; ok {
		return *in, nil
	}
	return Info{App: app, Name: name, Format: set.format, State: StateRecording}, nil
}

// start attaches a recorder to s and starts its goroutine.
func (m *Manager) start(s *stream.Stream, set settings) (*recorder, error) {
	key := s.Key()
	if err := m.checkDisk(); err != nil {
		return nil, fmt.Errorf("record %s: %w", key, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, fmt.Errorf("record %s: %w", key, ErrClosed)
	}
	var prev <-chan struct{}
	if old, busy := m.active[key]; busy {
		if old.reader.Stream() == s {
			return nil, fmt.Errorf("record %s: %w", key, ErrAlreadyRecording)
		}
		prev = old.done // the recording of the stream before is completing its file
	}
	ctx, cancel := context.WithCancelCause(m.ctx)
	rec := &recorder{
		m: m, key: key, set: set, cancel: cancel, done: make(chan struct{}), opened: make(chan struct{}), prev: prev,
		log:    m.log.With("stream", key.String(), "format", set.format),
		reader: s.NewReader(stream.ReaderInfo{ID: "record-" + key.String(), Protocol: protocolRecord}),
	}
	m.active[key] = rec
	m.wg.Add(1)
	go rec.run(ctx)
	rec.log.Info("recording started")
	return rec, nil
}

// Stop ends the recording of app/name; its file is completed before Stop
// returns, and returned. It fails with ErrNotRecording.
func (m *Manager) Stop(app, name string) (Info, error) {
	key := stream.Key{App: app, Name: name}
	m.mu.Lock()
	rec, ok := m.active[key]
	m.mu.Unlock()
	if !ok {
		return Info{}, fmt.Errorf("stop recording %s: %w", key, ErrNotRecording)
	}
	rec.cancel(errStopped)
	<-rec.done
	m.mu.Lock()
	defer m.mu.Unlock()
	if rec.last != nil {
		return *rec.last, nil
	}
	return Info{App: app, Name: name, Format: rec.set.format, State: StateDone, Reason: ReasonStopped}, nil
}

// Recording reports whether app/name is being recorded.
func (m *Manager) Recording(app, name string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.active[stream.Key{App: app, Name: name}]
	return ok
}

// Recordings lists the recorded files of the directory, newest first:
// those of this run as they stand, and the files of earlier runs.
func (m *Manager) Recordings() []Info {
	entries, err := fs.ReadDir(m.root.FS(), ".")
	if err != nil {
		m.log.Warn("listing recordings", "err", err)
	}
	onDisk := make(map[string]bool, len(entries))
	for _, e := range entries {
		onDisk[e.Name()] = true
	}
	m.mu.Lock()
	out := make([]Info, 0, len(m.files)+len(entries))
	known := make(map[string]bool, len(m.files))
	for _, in := range m.files {
		name := filepath.Base(in.Path)
		if err == nil && !onDisk[name] {
			continue // deleted behind the server's back
		}
		known[name] = true
		out = append(out, *in)
	}
	m.mu.Unlock()
	for _, e := range entries {
		name := e.Name()
		format, ok := formatOf(name)
		if !ok || !e.Type().IsRegular() || known[name] {
			continue
		}
		in := Info{ID: name, Path: filepath.Join(m.dir, name), Format: format, State: StateDone}
		if isPart(name) {
			in.State, in.Reason = StateIncomplete, "left in progress by an earlier run"
		}
		if fi, err := e.Info(); err == nil {
			in.Size, in.Start = fi.Size(), fi.ModTime().UTC()
		}
		out = append(out, in)
	}
	slices.SortFunc(out, func(a, b Info) int {
		if c := b.Start.Compare(a.Start); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// Delete removes the recorded file id. It fails with ErrInvalidID,
// ErrNotFound or, for a file being written, ErrInProgress.
func (m *Manager) Delete(id string) error {
	if _, ok := formatOf(id); !ok || !validName(id) {
		return fmt.Errorf("delete recording %q: %w", id, ErrInvalidID)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, in := range m.files {
		if in.State == StateRecording && (in.ID == id || filepath.Base(in.Path) == id) {
			return fmt.Errorf("delete recording %s: %w", id, ErrInProgress)
		}
	}
	if err := m.root.Remove(id); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("delete recording %s: %w", id, ErrNotFound)
		}
		return fmt.Errorf("delete recording %s: %w", id, err)
	}
	for fid, in := range m.files {
		if filepath.Base(in.Path) == id {
			delete(m.files, fid)
		}
	}
	m.log.Info("recording deleted", "id", id)
	return nil
}

// Close stops every recording (reason ReasonShutdown), waits for their
// files to be completed, lets the pending hooks go out and releases the
// directory. It is idempotent.
func (m *Manager) Close() {
	m.mu.Lock()
	already := m.closed
	m.closed = true
	m.mu.Unlock()
	if already {
		m.wg.Wait()
		return
	}
	m.cancel()
	m.wg.Wait()
	m.hooks.close()
	_ = m.root.Close()
}

// checkDisk fails with ErrLowDisk when the directory's free space is below
// Config.MinFreeDisk. Where free space cannot be measured it passes.
func (m *Manager) checkDisk() error {
	if m.cfg.MinFreeDisk < 0 {
		return nil
	}
	free, err := m.freeDisk(m.dir)
	if err != nil {
		return nil // unmeasured: recording goes on
	}
	if free < uint64(m.cfg.MinFreeDisk) {
		return fmt.Errorf("%d bytes free, minimum %d: %w", free, m.cfg.MinFreeDisk, ErrLowDisk)
	}
	return nil
}

// fileName renders the template for a file of key starting at start, in
// format, with suffix n (0: none) before the extension; part adds the
// in-progress marker.
func (m *Manager) fileName(key stream.Key, start time.Time, format string, n int, part bool) string {
	name := strings.NewReplacer(placeholderApp, key.App, placeholderName, key.Name,
		placeholderStart, start.UTC().Format("20060102T150405Z")).Replace(m.cfg.Template)
	if n > 0 {
		name += fmt.Sprintf("-%d", n)
	}
	if part {
		name += partMarker
	}
	return name + extension(format)
}

// extension returns a format's file extension.
func extension(format string) string {
	if format == FormatFLV {
		return ".flv"
	}
	return ".mp4"
}

// formatOf returns the format of a file by its extension.
func formatOf(name string) (string, bool) {
	switch filepath.Ext(name) {
	case ".mp4":
		return FormatFMP4, true
	case ".flv":
		return FormatFLV, true
	}
	return "", false
}

// isPart reports whether a file name carries the in-progress marker.
func isPart(name string) bool {
	return strings.HasSuffix(strings.TrimSuffix(name, filepath.Ext(name)), partMarker)
}
