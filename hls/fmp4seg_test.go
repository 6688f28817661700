package hls

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/flv"
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

// allParts returns every part collected, in order.
func (o *mp4Output) allParts() []*Part {
	var all []*Part
	for _, parts := range o.parts {
		all = append(all, parts...)
	}
	return append(all, o.pending...)
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
			// Parts last at most the part target, and at least 85% of it but
			// for independent ones and a segment's last (Apple's rule).
			if p.Duration <= 0 || p.Duration > partTarget ||
				p.Duration < partTarget*85/100 && !p.Independent && j < len(parts)-1 {
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
		if i < len(o.segments)-1 && (seg.Duration != time.Second || len(seg.Parts) < 5 || len(seg.Parts) > 6) {
			t.Errorf("segment %d: %v in %d parts, want 1s in 5 (or 6: parts end a frame early rather than pass the target)",
				i, seg.Duration, len(seg.Parts))
		}
	}
	if got := s.Codecs(); len(got) != 2 || got[1] != "mp4a.40.2" {
		t.Errorf("Codecs() = %q", got)
	}
}

// A part goes out the moment its last video frame is written, not when
// the next frame comes: a player waiting for it gets it a frame interval
// sooner. Its end is where the next video frame is (the timestamps' rounding
// repeats every three frames at 30 fps, so the expected step is exact).
func TestLowLatencyPartGoesOutWithItsLastVideoFrame(t *testing.T) {
	for _, fps := range []int{25, 30, 60} {
		t.Run(fmt.Sprintf("%dfps", fps), func(t *testing.T) {
			const partTarget = 200 * time.Millisecond
			s := NewSegmenter(SegmenterConfig{Variant: VariantLowLatency, PartDuration: partTarget, TargetDuration: time.Second})
			frames := source{fps: fps, gop: fps, audio: true, cts: 66}.frames(t, 5000)
			var video []uint32
			for _, f := range frames {
				if f.Type == flv.TagVideo && !f.Header {
					video = append(video, f.Time)
				}
			}
			var o mp4Output
			var end time.Duration // where the parts so far end, from the first keyframe
			next := 0             // index of the next video frame in video
			parts := 0
			for _, f := range frames {
				seg, err := s.WriteFrame(f)
				isVideo := f.Type == flv.TagVideo && !f.Header
				if isVideo {
					next++
				}
				taken := len(o.allParts())
				o.collect(t, s, seg, err)
				for _, p := range o.allParts()[taken:] {
					end += p.Duration
					parts++
					if !isVideo {
						t.Fatalf("part %d (%v) came out with a %v frame at %d ms, not right after a video frame",
							parts, p.Duration, f.Type, f.Time)
					}
					if next == len(video) {
						continue // the last frame: no next one to end at
					}
					if want := time.Duration(video[next]) * time.Millisecond; end != want {
						t.Errorf("part %d ends at %v, the next video frame is at %v", parts, end, want)
					}
				}
			}
			if parts < 20 {
				t.Fatalf("%d parts from 5 s", parts)
			}
			o.checkParts(t, partTarget)
		})
	}
}

// At 24 fps four frames fill 83% of a 200 ms part target and five pass
// it: parts are then cut before the frame that would pass the target, as
// long as RFC 8216bis asks.
func TestLowLatencyPartsAt24FPSAreNotCutShort(t *testing.T) {
	const partTarget = 200 * time.Millisecond
	s := NewSegmenter(SegmenterConfig{Variant: VariantLowLatency, PartDuration: partTarget, TargetDuration: time.Second})
	var o mp4Output
	o.feed(t, s, source{fps: 24, gop: 24, audio: true}.frames(t, 5000))
	seg, err := s.Flush()
	o.collect(t, s, seg, err)
	if len(o.segments) < 4 {
		t.Fatalf("%d segments from 5 s with 1 s GOPs", len(o.segments))
	}
	o.checkParts(t, partTarget)
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

// TestFMP4FramesDoNotAllocate: in steady state a frame that does not end a
// part costs the low-latency segmenter no allocation (what allocates is
// once per part and per segment: their own bytes).
func TestFMP4FramesDoNotAllocate(t *testing.T) {
	s := NewSegmenter(SegmenterConfig{Variant: VariantLowLatency, TargetDuration: 4 * time.Second,
		PartDuration: 2 * time.Second})
	frames := source{fps: 30, gop: 30, audio: true, cts: 66}.frames(t, 5700)
	var o mp4Output
	// Up to 4.3 s: the first segment was cut at 4 s, its first part runs
	// until 6 s; the frames up to 5.7 s fall inside it.
	i := 0
	for ; frames[i].Time < 4300; i++ {
		seg, err := s.WriteFrame(frames[i])
		o.collect(t, s, seg, err)
	}
	if len(o.segments) != 1 {
		t.Fatalf("%d segments before 4.3 s", len(o.segments))
	}
	rest := len(frames) - i
	allocs := testing.AllocsPerRun(rest-1, func() {
		seg, err := s.WriteFrame(frames[i])
		if seg != nil || err != nil || len(s.doneParts) > 0 {
			t.Fatalf("frame at %d ms ended a segment or part (%v)", frames[i].Time, err)
		}
		i++
	})
	if allocs != 0 {
		t.Errorf("%v allocations per frame", allocs)
	}
}

// TestFMP4KeepsNegativeCompositionOffsets: B-frames of an encoder that
// shifts its composition times keep their decode times in fMP4 and get
// negative composition offsets (a version 1 trun), where MPEG-TS lowers
// the DTS instead.
func TestFMP4KeepsNegativeCompositionOffsets(t *testing.T) {
	s := NewSegmenter(SegmenterConfig{Variant: VariantFMP4, TargetDuration: time.Second})
	var o mp4Output
	o.feed(t, s, source{fps: 25, gop: 25, cts: -40}.frames(t, 3000))
	if len(o.segments) < 2 {
		t.Fatalf("%d segments", len(o.segments))
	}
	offsets := trunOffsets(t, o.segments[0].Data)
	if len(offsets) == 0 {
		t.Fatal("no composition offsets written")
	}
	for _, off := range offsets {
		if off != -40*ticksPerMs {
			t.Fatalf("composition offsets %v, want -3600 each", offsets)
		}
	}
	if frags := fragmentTimes(t, o.segments[0].Data)[mp4VideoTrackID]; frags[0][0] != startTicks {
		t.Errorf("first video decode time %d, want %d (the output clock's start)", frags[0][0], startTicks)
	}
}

// trunOffsets returns the composition offsets of the trun boxes of a
// segment's fragments.
func trunOffsets(t *testing.T, data []byte) []int64 {
	t.Helper()
	var offsets []int64
	for len(data) >= 8 {
		n := int(binary.BigEndian.Uint32(data))
		box := data[8:n]
		if string(data[4:8]) != "moof" {
			box = nil
		}
		data = data[n:]
		for i := 0; i+8 <= len(box); i++ { // find trun inside traf
			if string(box[i+4:i+8]) != "trun" {
				continue
			}
			b := box[i+8:]
			version, flags := b[0], binary.BigEndian.Uint32(b)&0xffffff
			if flags&0x800 == 0 {
				continue
			}
			if version != 1 {
				t.Errorf("trun version %d with composition offsets", version)
			}
			count, pos := int(binary.BigEndian.Uint32(b[4:])), 8
			for _, f := range []uint32{0x1, 0x4} {
				if flags&f != 0 {
					pos += 4
				}
			}
			per := 0
			for _, f := range []uint32{0x100, 0x200, 0x400, 0x800} {
				if flags&f != 0 {
					per += 4
				}
			}
			for k := range count {
				offsets = append(offsets, int64(int32(binary.BigEndian.Uint32(b[pos+k*per+per-4:]))))
			}
		}
	}
	return offsets
}

func TestFMP4MP3OnlyStreamNamesItsCodecByObjectType(t *testing.T) {
	s := NewSegmenter(SegmenterConfig{Variant: VariantLowLatency, TargetDuration: time.Second})
	var o mp4Output
	o.feed(t, s, mp3Frames(t, 3000))
	seg, err := s.Flush()
	o.collect(t, s, seg, err)
	if len(o.segments) < 2 || len(o.initGens) != 1 {
		t.Fatalf("%d segments, init generations %v", len(o.segments), o.initGens)
	}
	o.checkParts(t, DefaultPartDuration)
	if got := s.Codecs(); len(got) != 1 || got[0] != "mp4a.6B" {
		t.Errorf("Codecs() = %q, want [mp4a.6B]", got)
	}
	if got := NewSegmenter(SegmenterConfig{}).Codecs(); len(got) != 0 {
		t.Errorf("Codecs() before any track = %q", got)
	}
}
