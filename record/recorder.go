package record

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/stream"
)

// readBatch is how many frames a recorder takes from its reader at once.
const readBatch = 64

// maxNameTries bounds the suffixes tried for a file name already taken.
const maxNameTries = 100

// Causes a recording is cancelled with.
var (
	errStopped = errors.New(ReasonStopped)
)

// mediaFile is one file being written in a recording's format.
type mediaFile interface {
	// WriteFrame adds a frame; header frames come before the media they
	// configure.
	WriteFrame(f *stream.Frame) error
	// Size returns the file's size once everything pending is written.
	Size() int64
	// Finish writes what is pending and syncs the file.
	Finish() error
}

// headerKey tells header frames apart: a later header of the same key
// replaces an earlier one.
type headerKey struct {
	typ    flv.TagType
	track  uint8
	packet flv.PacketType
}

// recorder is one recording: a goroutine reading a stream into files.
type recorder struct {
	m      *Manager
	key    stream.Key
	set    settings
	reader *stream.Reader
	cancel context.CancelCauseFunc
	done   chan struct{}
	log    *slog.Logger
	// prev, when not nil, is closed when the recording of the key's
	// previous stream has completed its file: this one starts after.
	prev <-chan struct{}

	// opened is closed once the first file is started (or the recording
	// ended without one); firstID is that file's id (guarded by m.mu).
	opened   chan struct{}
	openOnce sync.Once
	firstID  string
	// last is the Info of the last completed file (guarded by m.mu).
	last *Info

	// Owned by the goroutine.
	headers   []*stream.Frame
	file      mediaFile
	osFile    *os.File
	info      *Info // the current file's entry in m.files
	partName  string
	first     uint32 // DTS of the current file's first media frame
	lastTime  uint32 // DTS of its newest media frame
	hasMedia  bool
	hasVideo  bool // the stream has shown video
	gen       uint32
	haveGen   bool
	diskCheck time.Time
}

// run reads the stream into files until it ends, the recording is
// stopped, the disk fills or writing fails.
func (rec *recorder) run(ctx context.Context) {
	m := rec.m
	defer m.wg.Done()
	defer close(rec.done)
	defer rec.openOnce.Do(func() { close(rec.opened) })
	defer rec.reader.Close()
	reason := cancelReason(ctx)
	if rec.waitPrevious(ctx) {
		reason = rec.loop(ctx)
	}
	rec.closeFile(reason)
	m.mu.Lock()
	if m.active[rec.key] == rec {
		delete(m.active, rec.key)
	}
	m.mu.Unlock()
	rec.log.Info("recording ended", "reason", reason)
}

// waitPrevious waits for the recording of the stream before to complete;
// it reports false when ctx ended first.
func (rec *recorder) waitPrevious(ctx context.Context) bool {
	if rec.prev == nil {
		return true
	}
	select {
	case <-rec.prev:
		return true
	case <-ctx.Done():
		return false
	}
}

// cancelReason tells why ctx was (or would be) cancelled: Stop or Close.
func cancelReason(ctx context.Context) string {
	if errors.Is(context.Cause(ctx), errStopped) {
		return ReasonStopped
	}
	return ReasonShutdown
}

// loop writes frames until the recording ends and returns why.
func (rec *recorder) loop(ctx context.Context) string {
	buf := make([]*stream.Frame, readBatch)
	rec.diskCheck = time.Now()
	for {
		n, err := rec.reader.Read(ctx, buf)
		for i := range n {
			f := buf[i]
			buf[i] = nil
			if reason, ok := rec.write(f); !ok {
				return reason
			}
		}
		rec.publish()
		if now := time.Now(); now.Sub(rec.diskCheck) >= rec.m.cfg.DiskCheckInterval {
			rec.diskCheck = now
			if err := rec.m.checkDisk(); err != nil {
				rec.log.Warn("recording stopped", "reason", ReasonLowDisk, "err", err)
				return ReasonLowDisk
			}
		}
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return cancelReason(ctx)
			}
			return ReasonStreamEnded
		}
	}
}

// write records one frame, starting or rotating files as needed. It
// returns false with the reason when the recording must end.
func (rec *recorder) write(f *stream.Frame) (string, bool) {
	if g := f.Generation(); rec.haveGen && g != rec.gen {
		rec.gen = g
		rec.closeFile(ReasonRepublished)
	} else if !rec.haveGen {
		rec.gen, rec.haveGen = g, true
	}
	if f.Header {
		rec.setHeader(f)
		if rec.file == nil {
			return "", true // written at the head of the next file
		}
	} else {
		if f.Type == flv.TagVideo {
			rec.hasVideo = true
		}
		if reason := rec.rotation(f); reason != "" {
			rec.closeFile(reason)
		}
		if rec.file == nil {
			if reason, ok := rec.openFile(); !ok {
				return reason, false
			}
		}
	}
	if err := rec.file.WriteFrame(f); err != nil {
		rec.log.Warn("recording stopped", "reason", ReasonWriteFailed, "err", err)
		return ReasonWriteFailed + ": " + err.Error(), false
	}
	if !f.Header {
		if !rec.hasMedia {
			rec.first, rec.hasMedia = f.Time, true
		}
		if f.Time > rec.lastTime || rec.lastTime == 0 {
			rec.lastTime = f.Time
		}
	}
	return "", true
}

// setHeader keeps header frame f for the head of later files; a changed
// decoder configuration ends the current file so that the next one starts
// with it.
func (rec *recorder) setHeader(f *stream.Frame) {
	k := headerKey{typ: f.Type, track: f.Track, packet: f.Packet}
	for i, h := range rec.headers {
		if h.Type == k.typ && h.Track == k.track && h.Packet == k.packet {
			if rec.file != nil && rec.hasMedia && f.IsSequenceStart() && string(h.Payload) != string(f.Payload) {
				rec.closeFile(ReasonNewHeaders)
			}
			rec.headers[i] = f
			return
		}
	}
	rec.headers = append(rec.headers, f)
}

// rotation returns why the current file ends before media frame f, or "".
// Files are cut at a video keyframe, or at any frame of a stream without
// video.
func (rec *recorder) rotation(f *stream.Frame) string {
	if rec.file == nil || !rec.hasMedia || (rec.hasVideo && !f.Keyframe) {
		return ""
	}
	if d := rec.set.segmentDuration; d > 0 && time.Duration(int64(f.Time)-int64(rec.first))*time.Millisecond >= d {
		return ReasonDuration
	}
	if s := rec.set.maxSize; s > 0 && rec.file.Size() >= s {
		return ReasonSize
	}
	return ""
}

// openFile starts a new file with the headers held. It returns false with
// the reason when no file can be started.
func (rec *recorder) openFile() (string, bool) {
	m := rec.m
	start := time.Now().UTC()
	var (
		file     *os.File
		id, part string
		err      error
	)
	for n := range maxNameTries {
		id, part = m.fileName(rec.key, start, rec.set.format, n, false), m.fileName(rec.key, start, rec.set.format, n, true)
		if _, serr := m.root.Stat(id); serr == nil {
			continue
		}
		file, err = m.root.OpenFile(part, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil || !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if file == nil {
		if err == nil {
			err = fs.ErrExist
		}
		rec.log.Warn("recording stopped", "reason", ReasonWriteFailed, "err", err)
		return ReasonWriteFailed + ": " + err.Error(), false
	}
	mf, err := rec.newMediaFile(file)
	if err != nil {
		_ = file.Close()
		_ = m.root.Remove(part)
		rec.log.Warn("recording stopped", "err", err)
		return err.Error(), false
	}
	rec.file, rec.osFile, rec.partName = mf, file, part
	rec.hasMedia, rec.lastTime = false, 0
	rec.info = &Info{
		ID: id, Path: filepath.Join(m.dir, part), App: rec.key.App, Name: rec.key.Name,
		Format: rec.set.format, Start: start, State: StateRecording,
	}
	m.mu.Lock()
	m.files[id] = rec.info
	if rec.firstID == "" {
		rec.firstID = id
	}
	m.mu.Unlock()
	rec.openOnce.Do(func() { close(rec.opened) })
	rec.log.Info("recording file started", "id", id)
	return "", true
}

// newMediaFile starts a file of the recording's format on file, with the
// headers held.
func (rec *recorder) newMediaFile(file *os.File) (mediaFile, error) {
	flush := uint32(rec.m.cfg.FragmentDuration / time.Millisecond)
	switch rec.set.format {
	case FormatFLV:
		ff := newFLVFile(file, rec.headers, flush)
		if err := ff.writeHeaders(rec.headers); err != nil {
			return nil, err
		}
		return ff, nil
	default:
		return newMP4File(file, rec.headers, flush, rec.log)
	}
}

// publish updates the current file's entry for the API.
func (rec *recorder) publish() {
	if rec.info == nil {
		return
	}
	size, d := rec.file.Size(), rec.duration()
	rec.m.mu.Lock()
	rec.info.Size, rec.info.Duration = size, d
	rec.m.mu.Unlock()
}

// duration returns the media time of the current file.
func (rec *recorder) duration() time.Duration {
	if !rec.hasMedia {
		return 0
	}
	return time.Duration(max(int64(rec.lastTime)-int64(rec.first), 0)) * time.Millisecond
}

// closeFile completes the current file, if any: pending data written and
// synced, the in-progress marker dropped, the hook told. A file without
// media is removed.
func (rec *recorder) closeFile(reason string) {
	if rec.file == nil {
		return
	}
	m := rec.m
	ferr := rec.file.Finish()
	if err := rec.osFile.Close(); err != nil && ferr == nil {
		ferr = fmt.Errorf("close %s: %w", rec.partName, err)
	}
	size, d := rec.file.Size(), rec.duration()
	in := rec.info
	rec.file, rec.osFile, rec.info = nil, nil, nil
	if !rec.hasMedia || size == 0 { // nothing the format could carry
		_ = m.root.Remove(rec.partName)
		m.mu.Lock()
		delete(m.files, in.ID)
		m.mu.Unlock()
		return
	}
	state := StateDone
	m.mu.Lock() // the listing sees the file under one name and state at a time
	if ferr != nil {
		state, reason = StateFailed, ReasonWriteFailed+": "+ferr.Error()
	} else if err := m.root.Rename(rec.partName, in.ID); err != nil {
		state, reason = StateFailed, ReasonWriteFailed+": "+err.Error()
	} else {
		in.Path = filepath.Join(m.dir, in.ID)
	}
	in.Size, in.Duration, in.State, in.Reason = size, d, state, reason
	done := *in
	rec.last = &done
	m.mu.Unlock()
	if state == StateDone {
		syncDir(m.root)
	}
	rec.hasMedia = false
	rec.log.Info("recording file completed", "id", done.ID, "state", state, "reason", reason,
		"duration", d, "size", size)
	m.hooks.enqueue(DoneEvent{
		Action: HookActionRecordDone, ID: done.ID, Path: done.Path, Stream: rec.key.String(),
		App: rec.key.App, Name: rec.key.Name, Format: done.Format, Start: done.Start,
		DurationSeconds: d.Seconds(), Size: size, Reason: reason,
	})
}

// syncDir syncs the directory so that a rename survives a crash.
func syncDir(root *os.Root) {
	d, err := root.Open(".")
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
