package stream

import (
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/flv"
)

func TestTimestampJump(t *testing.T) {
	for _, tc := range []struct {
		prev, next uint32
		jump       bool
	}{
		{0, 40, false},
		{1000, 1000, false},
		{0, MaxTimestampGap, false},
		{0, MaxTimestampGap + 1, true},
		{5000, 5000 - MaxTimestampStepBack, false},
		{5000, 5000 - MaxTimestampStepBack - 1, true},
		{0xFFFFFFF0, 0x10, false}, // the 32-bit wrap is a small step
		{0x7FFFFFF0, 0x10, true},  // ffmpeg's FLV muxer wrapping at 2^31 ms
		{21046, 0, true},          // an encoder restarting its clock
		{0x7FFFFFF0, 0x7FFFFFF0 + 40, false},
	} {
		if got := TimestampJump(tc.prev, tc.next); got != tc.jump {
			t.Errorf("TimestampJump(%#x, %#x) = %v, want %v", tc.prev, tc.next, got, tc.jump)
		}
	}
}

// checkTracksMonotonic fails when the media frames of a track go back in
// time or step by more than maxStep ms.
func checkTracksMonotonic(t *testing.T, frames []*Frame, maxStep uint32) {
	t.Helper()
	last := map[flv.TagType]uint32{}
	for i, f := range frames {
		if f.Header || f.Type == flv.TagScript {
			continue
		}
		if prev, ok := last[f.Type]; ok && (int32(f.Time-prev) <= 0 || f.Time-prev > maxStep) {
			t.Fatalf("frame %d: %v at %d after %d: %s", i, f.Type, f.Time, prev, describe(frames))
		}
		last[f.Type] = f.Time
	}
}

// Regression (timestamp jumps backwards): ffmpeg's FLV muxer masks
// timestamps to 31 bits, so a publisher's clock went from 2^31-1 ms back to
// 0, and every output passed the jump on; players dropped everything after
// it as out of order. The output timeline continues one frame interval
// after the last frame, for readers attached across the jump and for
// readers joining after it, and the stream counts the publisher's
// regression once.
func TestTimestampJumpBackwardsKeepsOutputMonotonic(t *testing.T) {
	reg, p := newTestStream(t, Config{})
	defer reg.Close()
	s := p.Stream()
	r := s.NewReader(ReaderInfo{ID: "attached"})
	defer r.Close()
	p.WriteFrame(metaFrame(1))
	p.WriteFrame(vidHeader(1))
	p.WriteFrame(audHeader(1))
	const start = 1<<31 - 400
	for i := range 20 { // video every 40 ms, audio 3 ms after it; wraps after 10
		ts := uint32(start + i*40)
		key := i%10 == 0
		p.WriteFrame(&Frame{Type: flv.TagVideo, Time: ts & 0x7FFFFFFF, Keyframe: key, Codec: flv.FourCCAVC, Payload: make([]byte, 10)})
		p.WriteFrame(aud((ts+3)&0x7FFFFFFF, 4))
	}
	got := drainPending(t, r, 64)
	checkTracksMonotonic(t, got, 80)
	// The first frame after the jump comes one video frame interval after
	// the last frame (audio at +363): the timeline is 3 ms later from then.
	const after = start + 10*40 + 3
	if n := len(got); n != 43 || got[23].Time != after || !got[23].Keyframe || got[n-2].Time != after+9*40 || got[n-1].Time != after+9*40+3 {
		t.Fatalf("attached reader got %d frames, %s … %s, want 43, the keyframe after the jump at %d",
			n, describe(got[21:25]), describe(got[max(0, n-2):]), after)
	}
	late := s.NewReader(ReaderInfo{ID: "late"})
	defer late.Close()
	joined := drainPending(t, late, 64)
	checkTracksMonotonic(t, joined, 80)
	if joined[3].Time != after || !joined[3].Keyframe {
		t.Fatalf("late reader got %s, want headers then the keyframe at %d", describe(joined), after)
	}
	if n := s.Stats().TimestampRegressions; n != 1 {
		t.Fatalf("TimestampRegressions = %d, want 1 (the publisher's jump)", n)
	}
}

// A forward jump of the publisher's clock (more than MaxTimestampGap) is
// taken out too, and a sequence header the encoder sends with its new
// clock comes at the time its first frame will get.
func TestTimestampJumpForwardContinuesTimeline(t *testing.T) {
	reg, p := newTestStream(t, Config{})
	defer reg.Close()
	r := p.Stream().NewReader(ReaderInfo{})
	defer r.Close()
	publishGOP(p, 1000, 5, 1) // media up to audio at 1163, video step 40
	restart := vidHeader(2)
	restart.Time = 3_600_000
	p.WriteFrame(restart)
	p.WriteFrame(vidKey(3_600_000, 10))
	p.WriteFrame(aud(3_600_003, 4))
	p.WriteFrame(vidInter(3_600_040, 10))
	got := drainPending(t, r, 64)
	checkTracksMonotonic(t, got, 80)
	tail := got[len(got)-4:]
	const resume = 1163 + 40
	if tail[0].Time != resume || !tail[0].Header || tail[1].Time != resume || tail[2].Time != resume+3 || tail[3].Time != resume+40 {
		t.Fatalf("after the jump got %s, want the header and keyframe at %d, audio at %d, inter at %d",
			describe(tail), resume, resume+3, resume+40)
	}
	if n := p.Stream().Stats().TimestampRegressions; n != 0 {
		t.Fatalf("TimestampRegressions = %d after a forward jump", n)
	}
}

// Regression (republish adds a phantom subtitle stream): a continuing
// publisher's onMetaData was re-sent at the continued, non-zero time, and
// ffmpeg takes a script tag at a time other than 0 for a data stream. It
// stays at 0 for a reader attached across the republish and for one joining
// after it; the sequence headers continue the timeline.
func TestRepublishDoesNotShiftMetadata(t *testing.T) {
	reg, p1 := newTestStream(t, Config{RepublishWindow: time.Minute})
	defer reg.Close()
	s := p1.Stream()
	attached := s.NewReader(ReaderInfo{ID: "attached"})
	defer attached.Close()
	publishGOP(p1, 0, 10, 1) // last media: audio at 363
	drainPending(t, attached, 64)
	p1.Close()
	p2, err := reg.Publish(testKey, PublisherInfo{ID: "p2"})
	if err != nil {
		t.Fatal(err)
	}
	publishGOP(p2, 0, 10, 2) // a new encoder: new metadata and headers
	const resume = 363 + 40
	late := s.NewReader(ReaderInfo{ID: "late"})
	defer late.Close()
	for name, got := range map[string][]*Frame{"attached": drainPending(t, attached, 64), "late": drainPending(t, late, 64)} {
		if len(got) < 4 || got[0].Type != flv.TagScript || !got[1].Header || !got[2].Header || !got[3].Keyframe {
			t.Fatalf("%s reader got %s, want metadata, two headers, keyframe", name, describe(got))
		}
		if got[0].Time != 0 || got[0].Generation() != 1 || got[1].Time != resume || got[2].Time != resume || got[3].Time != resume {
			t.Errorf("%s reader got %s, want metadata at 0, headers and keyframe at %d", name, describe(got[:4]), resume)
		}
	}
}

// Regression (late joiners' header tags carry their original timestamps):
// a reader joining at a keyframe got the metadata at the time the publisher
// last updated it (15023), the sequence headers at the time they were sent
// (0), then media at 21046. It gets the metadata at 0 and the sequence
// headers at its first media frame; readers joining at the same keyframe
// share the stamped frames.
func TestLateJoinerHeadersAtFirstMediaTime(t *testing.T) {
	reg, p := newTestStream(t, Config{})
	defer reg.Close()
	s := p.Stream()
	m1, vh, ah := metaFrame(1), vidHeader(1), audHeader(1)
	for _, f := range []*Frame{m1, vh, ah, vidKey(0, 10), aud(3, 4), vidInter(5000, 10), aud(5003, 4),
		vidInter(10000, 10), aud(10003, 4)} {
		p.WriteFrame(f)
	}
	m2 := metaFrame(2) // the encoder updates its metadata
	m2.Time = 15023
	p.WriteFrame(m2)
	p.WriteFrame(vidInter(15040, 10))
	p.WriteFrame(aud(15043, 4))
	k := vidKey(21046, 10)
	p.WriteFrame(k)
	a := aud(21049, 4)
	p.WriteFrame(a)
	if h := s.Headers(); h.Metadata.Time != 0 || &h.Metadata.Payload[0] != &m2.Payload[0] {
		t.Fatalf("stored metadata %s, want the update at 0", describe([]*Frame{h.Metadata}))
	}
	r1 := s.NewReader(ReaderInfo{ID: "r1"})
	defer r1.Close()
	r2 := s.NewReader(ReaderInfo{ID: "r2"})
	defer r2.Close()
	got1, got2 := drainPending(t, r1, 2), drainPending(t, r2, 64)
	if describe(got1) != "[M0 VH21046 AH21046 K21046 a21049]" {
		t.Fatalf("late joiner got %s, want [M0 VH21046 AH21046 K21046 a21049]", describe(got1))
	}
	assertFrames(t, got2, got1)
	if &got1[1].Payload[0] != &vh.Payload[0] || &got1[2].Payload[0] != &ah.Payload[0] || got1[3] != k || got1[4] != a {
		t.Fatal("the joiner's frames are not the stream's")
	}
}

// What is not a jump keeps its timestamps: a track that resumes after a
// silence longer than MaxTimestampGap, and tracks whose timestamps are
// further apart than MaxTimestampStepBack (an encoder's A/V offset).
func TestTimestampJumpSparesSilenceAndTrackOffset(t *testing.T) {
	for _, tc := range []struct {
		name  string
		audio func(video uint32) (uint32, bool) // the audio frame sent after a video frame
	}{
		{"audio silent for 13 s", func(v uint32) (uint32, bool) { return v + 3, v < 2000 || v >= 15_000 }},
		{"audio 3 s behind video", func(v uint32) (uint32, bool) { return v - 3000, v >= 3000 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg, p := newTestStream(t, Config{})
			defer reg.Close()
			r := p.Stream().NewReader(ReaderInfo{})
			defer r.Close()
			var want []*Frame
			write := func(f *Frame) {
				p.WriteFrame(f)
				want = append(want, f)
			}
			for ts := uint32(0); ts < 20_000; ts += 40 {
				if ts%1000 == 0 {
					write(vidKey(ts, 10))
				} else {
					write(vidInter(ts, 10))
				}
				if at, ok := tc.audio(ts); ok {
					write(aud(at, 4))
				}
			}
			assertFrames(t, drainPending(t, r, 256), want)
			if n := p.Stream().Stats().TimestampRegressions; n != 0 {
				t.Fatalf("TimestampRegressions = %d", n)
			}
		})
	}
}
