package hls

import (
	"bytes"
	"testing"
	"time"
)

// A stored segment used to keep the capacity its buffer was given (the size
// of the segment before plus an eighth) or grew to while it was written.
func TestRegressionSegmentsHoldGrowthSlack(t *testing.T) {
	s := newTestSegmenter(time.Second)
	// Frames grow from segment to segment, so a buffer sized from the
	// segment before is too small and grows while written.
	var segs []*Segment
	var kept [][]byte
	for i := range 6 {
		src := source{fps: 30, gop: 30, audio: true, start: uint32(i * 3000), keyBytes: 2000 * (i + 1), videoBytes: 500 * (i + 1)}
		frames := src.frames(t, 3000)
		if i > 0 {
			frames = frames[2:] // the sequence headers only once
		}
		for _, seg := range feed(t, s, frames) {
			segs = append(segs, seg)
			kept = append(kept, bytes.Clone(seg.Data))
		}
	}
	if len(segs) < 12 {
		t.Fatalf("got %d segments, want at least 12", len(segs))
	}
	for i, seg := range segs {
		if cap(seg.Data) != len(seg.Data) {
			t.Errorf("segment %d: %d bytes held in a buffer of %d", i, len(seg.Data), cap(seg.Data))
		}
		if !bytes.Equal(seg.Data, kept[i]) {
			t.Errorf("segment %d changed after later segments were written", i)
		}
	}
	for i := 1; i < len(segs); i++ {
		if &segs[i].Data[0] == &segs[i-1].Data[0] {
			t.Errorf("segments %d and %d share their bytes", i-1, i)
		}
	}
}

// The segmenter lets its scratch buffer go when the publisher leaves: an
// idle stream holds no segment-sized buffer.
func TestSegmenterFlushReleasesScratch(t *testing.T) {
	s := newTestSegmenter(time.Second)
	feed(t, s, source{fps: 30, gop: 30, audio: true}.frames(t, 2500))
	if s.scratch == nil {
		t.Fatal("no scratch buffer while segmenting")
	}
	if seg, err := s.Flush(); err != nil || seg == nil {
		t.Fatalf("Flush = %v, %v", seg, err)
	}
	if s.scratch != nil {
		t.Errorf("scratch buffer of %d bytes kept after Flush", cap(s.scratch))
	}
}
