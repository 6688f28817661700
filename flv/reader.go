package flv

import (
	"errors"
	"fmt"
	"io"
)

// Limits applied by Reader.
const (
	// DefaultMaxTagDataSize is the default cap on a tag payload read by
	// Reader: the whole 24-bit range.
	DefaultMaxTagDataSize = MaxTagDataSize
	// MaxHeaderPadding caps the bytes a file header's DataOffset may ask the
	// Reader to skip beyond the 9 standard bytes.
	MaxHeaderPadding = 1 << 16
	// readChunk is the first allocation for a tag payload; larger payloads
	// grow by doubling as their bytes actually arrive, so a lying size field
	// cannot make the Reader allocate memory the input never fills.
	readChunk = 64 << 10
)

// ReaderConfig configures a Reader.
type ReaderConfig struct {
	// MaxTagDataSize caps the payload of one tag; larger tags fail with
	// ErrTagTooLarge before any allocation. Zero (or a value above
	// MaxTagDataSize) means DefaultMaxTagDataSize.
	MaxTagDataSize int
}

func (c ReaderConfig) withDefaults() ReaderConfig {
	if c.MaxTagDataSize <= 0 || c.MaxTagDataSize > MaxTagDataSize {
		c.MaxTagDataSize = DefaultMaxTagDataSize
	}
	return c
}

// Reader reads an FLV stream: optionally the file header, then tags.
type Reader struct {
	r       io.Reader
	cfg     ReaderConfig
	scratch [TagHeaderSize]byte
	eof     bool // the stream ended cleanly where a previous tag size was due
}

// NewReader returns a Reader over r with default limits.
func NewReader(r io.Reader) *Reader {
	return NewReaderConfig(r, ReaderConfig{})
}

// NewReaderConfig returns a Reader over r with the given limits.
func NewReaderConfig(r io.Reader, cfg ReaderConfig) *Reader {
	return &Reader{r: r, cfg: cfg.withDefaults()}
}

// ReadHeader reads the file header, skips any padding its DataOffset
// announces, and reads PreviousTagSize0. Call it once before ReadTag when the
// stream starts with a file header (files, HTTP-FLV); a bare tag stream may
// go straight to ReadTag.
func (r *Reader) ReadHeader() (Header, error) {
	b := r.scratch[:HeaderSize]
	if _, err := io.ReadFull(r.r, b); err != nil {
		return Header{}, fmt.Errorf("flv: file header: %w", noEOF(err))
	}
	h, offset, err := parseFileHeader(b)
	if err != nil {
		return Header{}, fmt.Errorf("flv: %w", err)
	}
	if pad := int64(offset) - HeaderSize; pad > 0 {
		if pad > MaxHeaderPadding {
			return Header{}, fmt.Errorf("flv: file header data offset %d: %w", offset, ErrTagTooLarge)
		}
		if _, err := io.CopyN(io.Discard, r.r, pad); err != nil {
			return Header{}, fmt.Errorf("flv: file header padding: %w", noEOF(err))
		}
	}
	if _, err := io.ReadFull(r.r, r.scratch[:PreviousTagSizeLen]); err != nil {
		return Header{}, fmt.Errorf("flv: previous tag size 0: %w", noEOF(err))
	}
	return h, nil
}

// ReadTag reads the next tag and the previous-tag-size field after it. The
// returned Data is a fresh allocation owned by the caller. At a clean end of
// stream (before a tag header) it returns io.EOF; a stream cut inside a tag
// yields an error wrapping io.ErrUnexpectedEOF. A stream that ends exactly
// after a tag's data, without its previous tag size, still returns that tag.
func (r *Reader) ReadTag() (Tag, error) {
	if r.eof {
		return Tag{}, io.EOF
	}
	b := r.scratch[:TagHeaderSize]
	if _, err := io.ReadFull(r.r, b); err != nil {
		if errors.Is(err, io.EOF) {
			return Tag{}, io.EOF
		}
		return Tag{}, fmt.Errorf("flv: tag header: %w", err)
	}
	t, size, ts, err := ParseTagHeader(b)
	if err != nil {
		return Tag{}, fmt.Errorf("flv: %w", err)
	}
	if size > r.cfg.MaxTagDataSize {
		return Tag{}, fmt.Errorf("flv: %s tag of %d bytes (max %d): %w", t, size, r.cfg.MaxTagDataSize, ErrTagTooLarge)
	}
	data, err := readN(r.r, size)
	if err != nil {
		return Tag{}, fmt.Errorf("flv: %s tag data (%d bytes): %w", t, size, noEOF(err))
	}
	if _, err := io.ReadFull(r.r, r.scratch[:PreviousTagSizeLen]); err != nil {
		if !errors.Is(err, io.EOF) {
			return Tag{}, fmt.Errorf("flv: previous tag size: %w", err)
		}
		r.eof = true
	}
	return Tag{Type: t, Timestamp: ts, Data: data}, nil
}

// readN reads exactly n bytes, growing the buffer only as data arrives.
func readN(r io.Reader, n int) ([]byte, error) {
	buf := make([]byte, 0, min(n, readChunk))
	for len(buf) < n {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(n, 2*cap(buf)))
			copy(grown, buf)
			buf = grown
		}
		m, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err != nil {
			return nil, err
		}
	}
	return buf, nil
}

// noEOF turns a bare io.EOF (nothing read where data was required) into
// io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
