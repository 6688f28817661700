package hls

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/stream"
)

// mp4Output is what a Segmenter produced, collected the way the Manager's
// feeder takes it: parts, segments and init sections in order.
type mp4Output struct {
	inits    map[int][]byte
	initGens []int
	segments []*Segment
	parts    [][]*Part // per segment
	pending  []*Part   // parts of the segment in progress
}

// collect takes what one Segmenter call produced.
func (o *mp4Output) collect(tb testing.TB, s *Segmenter, seg *Segment, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("segmenter: %v", err)
	}
	o.pending = append(o.pending, s.takeParts()...)
	if seg != nil {
		o.segments = append(o.segments, seg)
		o.parts = append(o.parts, o.pending)
		o.pending = nil
	}
	if gen, data := s.takeInit(); data != nil {
		if o.inits == nil {
			o.inits = map[int][]byte{}
		}
		o.inits[gen] = data
		o.initGens = append(o.initGens, gen)
	}
}

// feedMP4 writes frames into s and collects what it produces.
func (o *mp4Output) feed(tb testing.TB, s *Segmenter, frames []*stream.Frame) {
	tb.Helper()
	for _, f := range frames {
		seg, err := s.WriteFrame(f)
		o.collect(tb, s, seg, err)
	}
}

// checkParts checks the LL-HLS parts of every segment against the
// segment: they concatenate to it, the first is independent, their
// durations sum to the segment's, and PartInfo matches the parts.
func (o *mp4Output) checkParts(tb testing.TB, partTarget time.Duration) {
	tb.Helper()
	for i, seg := range o.segments {
		parts := o.parts[i]
		if len(parts) == 0 || len(parts) != len(seg.Parts) {
			tb.Errorf("segment %d: %d parts delivered, %d described", i, len(parts), len(seg.Parts))
			continue
		}
		var joined []byte
		var sum time.Duration
		for j, p := range parts {
			joined = append(joined, p.Data...)
			sum += p.Duration
			if info := seg.Parts[j]; info.Size != len(p.Data) || info.Duration != p.Duration || info.Independent != p.Independent {
				tb.Errorf("segment %d part %d: info %+v, part of %d bytes, %v, independent %v",
					i, j, info, len(p.Data), p.Duration, p.Independent)
			}
			if p.Duration <= 0 || p.Duration > partTarget+200*time.Millisecond {
				tb.Errorf("segment %d part %d lasts %v, part target %v", i, j, p.Duration, partTarget)
			}
		}
		if !bytes.Equal(joined, seg.Data) {
			tb.Errorf("segment %d: its %d parts (%d bytes) are not its %d bytes", i, len(parts), len(joined), len(seg.Data))
		}
		if sum != seg.Duration {
			tb.Errorf("segment %d: parts last %v, the segment %v", i, sum, seg.Duration)
		}
		if seg.Independent && !parts[0].Independent {
			tb.Errorf("segment %d starts with a keyframe but its first part is not independent", i)
		}
		if seg.Init < 1 {
			tb.Errorf("segment %d needs init generation %d", i, seg.Init)
		}
	}
}

// topLevelBoxes returns the types of the top-level boxes of b.
func topLevelBoxes(tb testing.TB, b []byte) []string {
	tb.Helper()
	var types []string
	for len(b) > 0 {
		if len(b) < 8 {
			tb.Fatalf("%d trailing bytes", len(b))
		}
		n := int(binary.BigEndian.Uint32(b))
		if n < 8 || n > len(b) {
			tb.Fatalf("box %q of %d bytes with %d left", b[4:8], n, len(b))
		}
		types = append(types, string(b[4:8]))
		b = b[n:]
	}
	return types
}

func TestLowLatencySegmentsAreMadeOfTheirParts(t *testing.T) {
	const partTarget = 200 * time.Millisecond
	s := NewSegmenter(SegmenterConfig{Variant: VariantLowLatency, PartDuration: partTarget, TargetDuration: time.Second})
	var o mp4Output
	o.feed(t, s, source{fps: 30, gop: 30, audio: true, cts: 66}.frames(t, 6000))
	seg, err := s.Flush()
	o.collect(t, s, seg, err)
	if len(o.segments) < 5 {
		t.Fatalf("%d segments from 6 s with 1 s GOPs", len(o.segments))
	}
	if len(o.initGens) != 1 || o.initGens[0] != 1 {
		t.Fatalf("init generations %v, want [1]", o.initGens)
	}
	if got := topLevelBoxes(t, o.inits[1]); len(got) != 2 || got[0] != "ftyp" || got[1] != "moov" {
		t.Errorf("init section boxes %v", got)
	}
	o.checkParts(t, partTarget)
	for i, seg := range o.segments {
		if boxes := topLevelBoxes(t, seg.Data); len(boxes) != 2*len(seg.Parts) {
			t.Errorf("segment %d: boxes %v for %d parts", i, boxes, len(seg.Parts))
		}
		if i < len(o.segments)-1 && (seg.Duration != time.Second || len(seg.Parts) != 5) {
			t.Errorf("segment %d: %v in %d parts, want 1s in 5", i, seg.Duration, len(seg.Parts))
		}
	}
	if got := s.Codecs(); len(got) != 2 || got[1] != "mp4a.40.2" {
		t.Errorf("Codecs() = %q", got)
	}
}

func TestFMP4SegmentIsOneFragment(t *testing.T) {
	s := NewSegmenter(SegmenterConfig{Variant: VariantFMP4, TargetDuration: time.Second})
	var o mp4Output
	o.feed(t, s, source{fps: 25, gop: 25, audio: true}.frames(t, 4000))
	if len(o.segments) < 3 {
		t.Fatalf("%d segments", len(o.segments))
	}
	for i, seg := range o.segments {
		if boxes := topLevelBoxes(t, seg.Data); len(boxes) != 2 || boxes[0] != "moof" || boxes[1] != "mdat" {
			t.Errorf("segment %d: boxes %v", i, boxes)
		}
		if len(seg.Parts) != 0 || len(o.parts[i]) != 0 {
			t.Errorf("segment %d has parts", i)
		}
	}
}
