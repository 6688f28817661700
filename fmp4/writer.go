package fmp4

import (
	"fmt"
	"io"
	"net"
)

// FragmentWriter writes fragments to an io.Writer: the header (moof and the
// mdat box header) it encodes and then the samples' data as the caller gave
// it, in one net.Buffers write (writev on a network connection), without
// copying the payloads. Its buffers are reused, so writing makes no
// allocation once they have grown to the largest fragment. A FragmentWriter
// is not safe for concurrent use.
type FragmentWriter struct {
	w      io.Writer
	header []byte
	vec    [][]byte    // header and payloads of the last fragment
	bufs   net.Buffers // the part of vec a write has not consumed yet
}

// NewFragmentWriter returns a FragmentWriter writing to w.
func NewFragmentWriter(w io.Writer) *FragmentWriter {
	return &FragmentWriter{w: w}
}

// Buffers returns the fragment as its encoded header followed by the
// samples' data slices (empty ones left out). The header lives in the
// writer's buffer: the result is valid until the next call.
func (fw *FragmentWriter) Buffers(f *Fragment) net.Buffers {
	size := f.HeaderSize()
	if cap(fw.header) < size {
		fw.header = make([]byte, size, 2*size)
	}
	fw.header = fw.header[:size]
	f.MarshalHeaderTo(fw.header)
	fw.vec = append(fw.vec[:0], fw.header)
	for i := range f.Tracks {
		for j := range f.Tracks[i].Samples {
			if data := f.Tracks[i].Samples[j].Data; len(data) > 0 {
				fw.vec = append(fw.vec, data)
			}
		}
	}
	return fw.vec
}

// WriteFragment writes the fragment and returns the number of bytes
// written.
func (fw *FragmentWriter) WriteFragment(f *Fragment) (int64, error) {
	fw.bufs = fw.Buffers(f)
	n, err := fw.bufs.WriteTo(fw.w)
	clear(fw.vec) // drop the references to the caller's payloads
	if err != nil {
		return n, fmt.Errorf("write fragment %d: %w", f.SequenceNumber, err)
	}
	return n, nil
}
