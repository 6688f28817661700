package flv

import (
	"fmt"
	"io"
)

// Writer writes an FLV stream: the file header before the first tag, then
// tags with their previous-tag-size fields. It is not safe for concurrent
// use.
type Writer struct {
	w           io.Writer
	header      Header
	wroteHeader bool
	buf         []byte
}

// maxRetainedBuffer is the largest scratch buffer a Writer keeps between
// writes; a larger one (after a huge tag) is dropped.
const maxRetainedBuffer = 1 << 20

// NewWriter returns a Writer that announces h in its file header.
func NewWriter(w io.Writer, h Header) *Writer {
	return &Writer{w: w, header: h}
}

// WriteHeader writes the file header and PreviousTagSize0 now, if not yet
// written. WriteTag calls it implicitly.
func (w *Writer) WriteHeader() error {
	if w.wroteHeader {
		return nil
	}
	w.buf = AppendHeader(w.buf[:0], w.header)
	if _, err := w.w.Write(w.buf); err != nil {
		return fmt.Errorf("flv: write header: %w", err)
	}
	w.wroteHeader = true
	return nil
}

// WriteTag writes one tag (and the file header first, if still due) with a
// single Write call.
func (w *Writer) WriteTag(t Tag) error {
	if len(t.Data) > MaxTagDataSize {
		return fmt.Errorf("flv: write %s tag of %d bytes: %w", t.Type, len(t.Data), ErrTagTooLarge)
	}
	w.buf = w.buf[:0]
	if !w.wroteHeader {
		w.buf = AppendHeader(w.buf, w.header)
	}
	w.buf = AppendTag(w.buf, t.Type, t.Timestamp, t.Data)
	_, err := w.w.Write(w.buf)
	if cap(w.buf) > maxRetainedBuffer {
		w.buf = nil
	}
	if err != nil {
		return fmt.Errorf("flv: write %s tag: %w", t.Type, err)
	}
	w.wroteHeader = true
	return nil
}
