package hls

import (
	"bytes"
	"fmt"
	"io"
	"sync/atomic"
)

// segmentMemory holds the bytes of one segment of the memory store. Where
// the platform allows (mapSegment), they live in memory mapped outside the
// Go heap: the collector neither scans them nor lets the heap grow by
// GOGC percent of them, and they go back to the system the moment the
// segment is removed and its last reader is done. Elsewhere they stay on
// the heap.
//
// Readers and removal are counted so that mapped memory is unmapped
// exactly once, after the last reader closed: open fails once the segment
// was removed.
type segmentMemory struct {
	data   []byte
	mapped bool
	// state is readerUnit times the number of open readers, plus
	// removedBit once the store removed the segment.
	state atomic.Int64
}

// segmentMemory.state units.
const (
	removedBit = 1
	readerUnit = 2
)

// newSegmentMemory copies data into memory of its own: mapped when
// possible, else data itself is kept (it is not modified afterwards).
func newSegmentMemory(data []byte) *segmentMemory {
	if len(data) > 0 {
		if b, err := mapSegment(len(data)); err == nil {
			copy(b, data)
			return &segmentMemory{data: b, mapped: true}
		}
	}
	return &segmentMemory{data: data}
}

// open returns a reader over the segment, or fails with errSegmentRemoved
// when the segment was removed. The reader's Close must be called.
func (m *segmentMemory) open() (io.ReadSeekCloser, error) {
	for {
		s := m.state.Load()
		if s&removedBit != 0 {
			return nil, fmt.Errorf("open segment: %w", errSegmentRemoved)
		}
		if m.state.CompareAndSwap(s, s+readerUnit) {
			return &segmentReader{Reader: bytes.NewReader(m.data), mem: m}, nil
		}
	}
}

// remove marks the segment removed and frees its memory when no reader has
// it open (else the last reader's Close does). Removing twice is harmless.
func (m *segmentMemory) remove() {
	if m.state.Or(removedBit) == 0 {
		m.free()
	}
}

// closeReader ends one reader.
func (m *segmentMemory) closeReader() {
	if m.state.Add(-readerUnit) == removedBit {
		m.free()
	}
}

// free returns the memory; called once, when the segment was removed and
// no reader has it open.
func (m *segmentMemory) free() {
	data := m.data
	m.data = nil
	if m.mapped {
		// Unmapping a mapping made by mapSegment fails only on a programming
		// error; the memory is then lost, not corrupted.
		_ = unmapSegment(data)
	}
}

// segmentReader reads a segment of the memory store.
type segmentReader struct {
	*bytes.Reader
	mem    *segmentMemory
	closed atomic.Bool
}

// Close ends the reader; it must not be used afterwards. Closing twice is
// harmless.
func (r *segmentReader) Close() error {
	if !r.closed.Swap(true) {
		r.Reader = nil
		r.mem.closeReader()
	}
	return nil
}
