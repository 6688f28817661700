package record

import (
	"bytes"
	"fmt"
	"os"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/stream"
)

// flvFile writes one FLV file: the file header, the header frames the
// recording holds (metadata, sequence starts), then every frame as a tag,
// with timestamps starting at 0. Tags are gathered in memory and written
// with a single write per flush: at each video keyframe, and at least once
// per flush interval of media time.
type flvFile struct {
	file    *os.File
	pending bytes.Buffer
	w       *flv.Writer
	size    int64 // bytes written and pending

	flushEvery uint32 // ms of media between flushes
	base       uint32 // timestamp of the file's first frame
	lastFlush  uint32 // media time of the last flush
	started    bool
}

// newFLVFile starts an FLV file on file whose header announces the kinds
// of tracks headers (and, failing that, the stream) has.
func newFLVFile(file *os.File, headers []*stream.Frame, flushEvery uint32) *flvFile {
	h := flv.Header{}
	for _, f := range headers {
		h.HasAudio = h.HasAudio || f.Type == flv.TagAudio
		h.HasVideo = h.HasVideo || f.Type == flv.TagVideo
	}
	if !h.HasAudio && !h.HasVideo {
		h.HasAudio, h.HasVideo = true, true
	}
	ff := &flvFile{file: file, flushEvery: flushEvery}
	ff.w = flv.NewWriter(&ff.pending, h)
	return ff
}

// writeHeaders writes the header frames at timestamp 0, before any media.
func (ff *flvFile) writeHeaders(headers []*stream.Frame) error {
	for _, f := range headers {
		if err := ff.tag(f, 0); err != nil {
			return err
		}
	}
	return nil
}

// WriteFrame adds f as a tag, flushing at a keyframe or when a flush
// interval of media went by.
func (ff *flvFile) WriteFrame(f *stream.Frame) error {
	if !ff.started && !f.Header {
		ff.started, ff.base, ff.lastFlush = true, f.Time, f.Time
	}
	ts := uint32(0)
	if ff.started && f.Time > ff.base {
		ts = f.Time - ff.base
	}
	if ff.started && (f.Keyframe || int64(f.Time)-int64(ff.lastFlush) >= int64(ff.flushEvery)) {
		if err := ff.flush(); err != nil {
			return err
		}
		ff.lastFlush = f.Time
	}
	return ff.tag(f, ts)
}

// tag appends f's tag at timestamp ts to the pending bytes.
func (ff *flvFile) tag(f *stream.Frame, ts uint32) error {
	before := ff.pending.Len()
	if err := ff.w.WriteTag(flv.Tag{Type: f.Type, Timestamp: ts, Data: f.Payload}); err != nil {
		return fmt.Errorf("flv tag: %w", err)
	}
	ff.size += int64(ff.pending.Len() - before)
	return nil
}

// flush writes the pending bytes in one write.
func (ff *flvFile) flush() error {
	if ff.pending.Len() == 0 {
		return nil
	}
	_, err := ff.file.Write(ff.pending.Bytes())
	ff.pending.Reset()
	if err != nil {
		return fmt.Errorf("write %s: %w", ff.file.Name(), err)
	}
	return nil
}

// Size returns the file's size once everything pending is written.
func (ff *flvFile) Size() int64 { return ff.size }

// Finish writes what is pending and syncs the file; the caller closes it.
func (ff *flvFile) Finish() error {
	before := ff.pending.Len()
	if err := ff.w.WriteHeader(); err != nil { // an empty recording is still a valid file
		return fmt.Errorf("flv header: %w", err)
	}
	ff.size += int64(ff.pending.Len() - before)
	if err := ff.flush(); err != nil {
		return err
	}
	if err := ff.file.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", ff.file.Name(), err)
	}
	return nil
}
