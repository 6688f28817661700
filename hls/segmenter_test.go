package hls

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/asticode/go-astits"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/stream"
)

// fixedNow is a deterministic wall clock for segmenters under test.
func fixedNow() time.Time { return time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC) }

func newTestSegmenter(target time.Duration) *Segmenter {
	return NewSegmenter(SegmenterConfig{TargetDuration: target, Now: fixedNow})
}

func TestSegmenterTablesAtEverySegmentStart(t *testing.T) {
	s := newTestSegmenter(2 * time.Second)
	segs := feed(t, s, source{fps: 30, gop: 30, audio: true}.frames(t, 9000))
	if len(segs) != 4 {
		t.Fatalf("got %d segments, want 4 (cut every 2 s)", len(segs))
	}
	for i, seg := range segs {
		pkts := parsePackets(t, seg.Data)
		if len(pkts) < 3 || pkts[0].pid != astits.PIDPAT || pkts[1].pid != 0x1000 {
			t.Fatalf("segment %d does not start with PAT, PMT: first PIDs %#x %#x", i, pkts[0].pid, pkts[1].pid)
		}
		pat, pmt, _, _ := demux(t, seg.Data)
		if pat == nil || len(pat.Programs) != 1 || pat.Programs[0].ProgramMapID != 0x1000 {
			t.Fatalf("segment %d PAT = %+v", i, pat)
		}
		if pmt == nil || pmt.PCRPID != videoPID || len(pmt.ElementaryStreams) != 2 {
			t.Fatalf("segment %d PMT = %+v", i, pmt)
		}
		want := map[uint16]astits.StreamType{videoPID: astits.StreamTypeH264Video, audioPID: astits.StreamTypeAACAudio}
		for _, es := range pmt.ElementaryStreams {
			if want[es.ElementaryPID] != es.StreamType {
				t.Errorf("segment %d: PID %#x has stream type %#x", i, es.ElementaryPID, es.StreamType)
			}
		}
		if pkts[2].pid != videoPID || !pkts[2].rai || pkts[2].pcr < 0 {
			t.Errorf("segment %d: first PES packet %+v, want video with RAI and PCR", i, pkts[2])
		}
		if !seg.Independent || seg.Discontinuity || seg.Forced {
			t.Errorf("segment %d flags: independent %v discontinuity %v forced %v", i, seg.Independent, seg.Discontinuity, seg.Forced)
		}
	}
}

func TestSegmenterContinuityCountersAcrossSegments(t *testing.T) {
	s := newTestSegmenter(time.Second)
	frames := source{fps: 25, gop: 25, audio: true, keyBytes: 5000, videoBytes: 1500}.frames(t, 8000)
	segs := feed(t, s, frames)
	if last, _ := s.Flush(); last != nil {
		segs = append(segs, last)
	}
	if len(segs) < 7 {
		t.Fatalf("got %d segments", len(segs))
	}
	next := map[uint16]uint8{}
	for i, seg := range segs {
		for j, p := range parsePackets(t, seg.Data) {
			if !p.payload {
				continue
			}
			if want, ok := next[p.pid]; ok && p.cc != want {
				t.Fatalf("segment %d packet %d PID %#x: CC %d, want %d", i, j, p.pid, p.cc, want)
			}
			next[p.pid] = (p.cc + 1) & 0x0f
		}
	}
	for _, pid := range []uint16{0, 0x1000, videoPID, audioPID} {
		if _, ok := next[pid]; !ok {
			t.Errorf("no packets on PID %#x", pid)
		}
	}
}

func TestSegmenterAccessUnits(t *testing.T) {
	s := newTestSegmenter(time.Second)
	idrWithAUD := videoPayload(true, 0, []byte{0x09, 0x10}, slice(true, 300, 1))
	idrInBand := videoPayload(true, 0, testSPS, testPPS, slice(true, 300, 2))
	frames := []*stream.Frame{
		frame(t, flv.TagVideo, 0, avcHeaderPayload(testSPS, testPPS)),
		frame(t, flv.TagVideo, 0, videoPayload(true, 0, slice(true, 300, 0))),
		frame(t, flv.TagVideo, 40, videoPayload(false, 0, slice(false, 100, 0))),
		frame(t, flv.TagVideo, 1000, idrWithAUD),
		frame(t, flv.TagVideo, 2000, idrInBand),
		frame(t, flv.TagVideo, 2040, videoPayload(false, 0, slice(false, 100, 0))),
	}
	segs := feed(t, s, frames)
	last, _ := s.Flush()
	segs = append(segs, last)
	var aus [][]int
	for _, seg := range segs {
		_, _, _, p := demux(t, seg.Data)
		for _, pe := range p {
			if !bytes.HasPrefix(pe.data, []byte{0, 0, 0, 1, 0x09, 0xf0}) {
				t.Errorf("access unit does not start with an AUD: % x", pe.data[:min(8, len(pe.data))])
			}
			aus = append(aus, nalTypes(pe.data))
		}
	}
	want := [][]int{
		{9, 7, 8, 5}, // SPS/PPS from avcC before the IDR
		{9, 1},       // none before a non-IDR
		{9, 7, 8, 5}, // the frame's own AUD dropped, one AUD first
		{9, 7, 8, 5}, // in-band SPS/PPS kept, not duplicated
		{9, 1},
	}
	if !slices.EqualFunc(aus, want, slices.Equal) {
		t.Errorf("NAL unit types per access unit = %v, want %v", aus, want)
	}
}

func TestSegmenterTimestamps(t *testing.T) {
	tests := []struct {
		name     string
		times    []uint32 // DTS of consecutive video frames (first is a keyframe)
		cts      []int32
		wantDTS  []int64 // relative to startTicks
		wantPTS  []int64
		wantDisc bool
	}{
		{
			name:    "composition offsets",
			times:   []uint32{1000, 1033, 1066, 1100},
			cts:     []int32{66, 133, 0, 33},
			wantDTS: []int64{0, 33 * 90, 66 * 90, 100 * 90},
			wantPTS: []int64{66 * 90, 166 * 90, 66 * 90, 133 * 90},
		},
		{
			// The presentation time stays; DTS is lowered to it, for this
			// frame and the ones after.
			name:    "negative composition offset lowers DTS, keeps PTS",
			times:   []uint32{0, 40, 80},
			cts:     []int32{0, -20, 0},
			wantDTS: []int64{0, 20 * 90, 60 * 90},
			wantPTS: []int64{0, 20 * 90, 80 * 90},
		},
		{
			name:    "32-bit millisecond wrap",
			times:   []uint32{0xffffffe0, 0xfffffff0, 0x00000000, 0x00000010},
			cts:     []int32{0, 0, 0, 0},
			wantDTS: []int64{0, 16 * 90, 32 * 90, 48 * 90},
			wantPTS: []int64{0, 16 * 90, 32 * 90, 48 * 90},
		},
		{
			name:    "regressing DTS kept strictly increasing",
			times:   []uint32{100, 140, 130, 180},
			cts:     []int32{0, 0, 0, 0},
			wantDTS: []int64{0, 40 * 90, 40*90 + 1, 80 * 90},
			wantPTS: []int64{0, 40 * 90, 40*90 + 1, 80 * 90},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestSegmenter(time.Hour)
			frames := []*stream.Frame{frame(t, flv.TagVideo, tc.times[0], avcHeaderPayload(testSPS, testPPS))}
			for i, ts := range tc.times {
				frames = append(frames, frame(t, flv.TagVideo, ts, videoPayload(i == 0, tc.cts[i], slice(i == 0, 50, 0))))
			}
			feed(t, s, frames)
			seg, err := s.Flush()
			if err != nil || seg == nil {
				t.Fatalf("Flush: %v, %v", seg, err)
			}
			_, _, _, p := demux(t, seg.Data)
			if len(p) != len(tc.times) {
				t.Fatalf("%d PES, want %d", len(p), len(tc.times))
			}
			for i := range p {
				if got := p[i].dts - startTicks; got != tc.wantDTS[i] {
					t.Errorf("frame %d DTS = %d, want %d", i, got, tc.wantDTS[i])
				}
				if got := p[i].pts - startTicks; got != tc.wantPTS[i] {
					t.Errorf("frame %d PTS = %d, want %d", i, got, tc.wantPTS[i])
				}
			}
		})
	}
}

func TestTimeline(t *testing.T) {
	var tl timeline
	step := func(ms uint32, wantOut int64, wantJump bool) {
		t.Helper()
		out, jumped := tl.dts(ms)
		if out != wantOut || jumped != wantJump {
			t.Fatalf("dts(%d) = %d, %v; want %d, %v", ms, out, jumped, wantOut, wantJump)
		}
		tl.extend(out + 40*ticksPerMs)
	}
	step(0xfffffff0, startTicks, false)
	step(0x00000008, startTicks+24*ticksPerMs, false) // wrap: +24 ms
	step(0x00000030, startTicks+64*ticksPerMs, false)
	step(0x00000030+stream.MaxTimestampGap+1, startTicks+104*ticksPerMs, true) // forward jump continues at the end
	step(0x00000030+stream.MaxTimestampGap+41, startTicks+144*ticksPerMs, false)
	step(5, startTicks+184*ticksPerMs, true)  // backward jump
	step(3, startTicks+182*ticksPerMs, false) // small regression is not a jump
	tl.restart()
	step(0, startTicks+224*ticksPerMs, true)
	step(40, startTicks+264*ticksPerMs, false)
}

func TestSegmenterCutRules(t *testing.T) {
	tests := []struct {
		name   string
		src    source
		ms     int
		target time.Duration
		want   []time.Duration // durations of the segments completed before Flush
	}{
		{"GOP equals target", source{fps: 30, gop: 60, audio: true}, 8100, 2 * time.Second,
			[]time.Duration{2 * time.Second, 2 * time.Second, 2 * time.Second, 2 * time.Second}},
		{"GOP half of target", source{fps: 30, gop: 15, audio: true}, 6100, 2 * time.Second,
			[]time.Duration{2 * time.Second, 2 * time.Second, 2 * time.Second}},
		{"GOP longer than target", source{fps: 30, gop: 90, audio: true}, 9100, 2 * time.Second,
			[]time.Duration{3 * time.Second, 3 * time.Second, 3 * time.Second}},
		{"long GOP: keyint 300 at 30 fps", source{fps: 30, gop: 300, audio: true}, 20100, 2 * time.Second,
			[]time.Duration{10 * time.Second, 10 * time.Second}},
		{"video only", source{fps: 25, gop: 25}, 4100, 2 * time.Second,
			[]time.Duration{2 * time.Second, 2 * time.Second}},
		// Audio-only streams are cut at the first AAC frame at or past the
		// target: 94 frames of 1024 samples at 48 kHz = 2.005 s.
		{"audio only", source{audio: true}, 6100, 2 * time.Second,
			[]time.Duration{2005 * time.Millisecond, 2005 * time.Millisecond, 2005 * time.Millisecond}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestSegmenter(tc.target)
			segs := feed(t, s, tc.src.frames(t, tc.ms))
			var got []time.Duration
			for i, seg := range segs {
				// Durations are in milliseconds of rounded FLV timestamps.
				got = append(got, seg.Duration.Round(5*time.Millisecond))
				_, pmt, _, p := demux(t, seg.Data)
				if tc.src.fps > 0 && (p[0].pid != videoPID || !slices.Contains(nalTypes(p[0].data), 5)) {
					t.Errorf("segment %d does not start with an IDR", i)
				}
				if tc.src.fps == 0 && pmt.PCRPID != audioPID {
					t.Errorf("audio-only segment %d: PCR PID %#x", i, pmt.PCRPID)
				}
				if !seg.Independent {
					t.Errorf("segment %d not independent", i)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("durations = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSegmenterAudioOnlyPCRAndADTS(t *testing.T) {
	s := newTestSegmenter(2 * time.Second)
	segs := feed(t, s, source{audio: true, audioBytes: 300}.frames(t, 4200))
	if len(segs) != 2 {
		t.Fatalf("got %d segments", len(segs))
	}
	for i, seg := range segs {
		pkts := parsePackets(t, seg.Data)
		if pkts[2].pid != audioPID || pkts[2].pcr < 0 || !pkts[2].rai {
			t.Errorf("segment %d first PES packet %+v: want audio with PCR and RAI", i, pkts[2])
		}
		_, _, _, p := demux(t, seg.Data)
		frames := 0
		for _, pe := range p {
			n := 0
			for b := pe.data; len(b) > 0; n++ {
				if len(b) < 7 || b[0] != 0xff || b[1]&0xf0 != 0xf0 {
					t.Fatalf("segment %d: PES is not ADTS: % x", i, b[:min(len(b), 8)])
				}
				size := int(b[3]&0x03)<<11 | int(b[4])<<3 | int(b[5])>>5
				if size != 7+300 || size > len(b) {
					t.Fatalf("ADTS frame length %d, want %d", size, 307)
				}
				b = b[size:]
			}
			if n > maxAudioPESFrames {
				t.Errorf("PES packs %d frames, max %d", n, maxAudioPESFrames)
			}
			frames += n
		}
		if frames != seg.AudioFrames {
			t.Errorf("segment %d: %d ADTS frames, segment says %d", i, frames, seg.AudioFrames)
		}
	}
}

func TestSegmenterDropsUntilKeyframe(t *testing.T) {
	s := newTestSegmenter(time.Second)
	frames := []*stream.Frame{
		frame(t, flv.TagVideo, 0, avcHeaderPayload(testSPS, testPPS)),
		frame(t, flv.TagAudio, 0, aacHeaderPayload(testAAC)),
		frame(t, flv.TagVideo, 0, videoPayload(false, 0, slice(false, 50, 0))),
		frame(t, flv.TagAudio, 10, audioPayload(50, 0)),
		frame(t, flv.TagVideo, 40, videoPayload(true, 0, slice(true, 50, 0))),
		frame(t, flv.TagAudio, 41, audioPayload(50, 0)),
	}
	feed(t, s, frames)
	seg, _ := s.Flush()
	if seg == nil || seg.VideoFrames != 1 || seg.AudioFrames != 1 {
		t.Fatalf("segment (%v) without 1 video and 1 audio frame", seg != nil)
	}
	if st := s.Stats(); st.Dropped != 2 || st.Frames != 2 {
		t.Errorf("stats %+v, want 2 dropped, 2 written", st)
	}
}

func TestSegmenterRestartIsDiscontinuity(t *testing.T) {
	s := newTestSegmenter(2 * time.Second)
	first := feed(t, s, source{fps: 30, gop: 30, audio: true, start: 5000}.frames(t, 4500))
	last, _ := s.Flush()
	first = append(first, last)
	if out, err := s.Restart(); out != nil || err != nil {
		t.Fatalf("Restart after Flush = %v, %v", out, err)
	}
	second := feed(t, s, source{fps: 30, gop: 30, audio: true}.frames(t, 4500))
	if len(second) == 0 {
		t.Fatal("no segment after restart")
	}
	if !second[0].Discontinuity || second[0].Start < last.Start+durationTicks(last.Duration)-ticksPerMs {
		t.Errorf("first segment after restart: discontinuity %v, start %d; previous ended at %d",
			second[0].Discontinuity, second[0].Start, last.Start+durationTicks(last.Duration))
	}
	for i := 1; i < len(second); i++ {
		if second[i].Discontinuity {
			t.Errorf("segment %d after restart is a discontinuity too", i)
		}
	}
	all := append(first, second...)
	for i := 1; i < len(all); i++ {
		if all[i].Start <= all[i-1].Start {
			t.Errorf("segment %d starts at %d, not after %d", i, all[i].Start, all[i-1].Start)
		}
	}
}

func TestSegmenterTimestampJumpIsDiscontinuity(t *testing.T) {
	for _, jumpTo := range []uint32{3_600_000, 0} {
		s := newTestSegmenter(2 * time.Second)
		before := feed(t, s, source{fps: 30, gop: 30, audio: true, start: 60_000}.frames(t, 5000))
		after := feed(t, s, source{fps: 30, gop: 30, audio: true, start: jumpTo}.frames(t, 5000)[2:])
		if len(before) != 2 || len(after) < 3 {
			t.Fatalf("jump to %d: %d segments before, %d after", jumpTo, len(before), len(after))
		}
		closed, jumped := after[0], after[1]
		if closed.Discontinuity || !jumped.Discontinuity {
			t.Errorf("jump to %d: discontinuity flags %v, %v; want the segment after the jump to be one",
				jumpTo, closed.Discontinuity, jumped.Discontinuity)
		}
		if d := jumped.Start - closed.Start - durationTicks(closed.Duration); d < -ticksPerMs || d > ticksPerMs {
			t.Errorf("jump to %d: output time does not continue: %d+%v then %d", jumpTo, closed.Start, closed.Duration, jumped.Start)
		}
		if len(after) > 2 && (after[2].Discontinuity || after[2].Start <= jumped.Start) {
			t.Errorf("jump to %d: segment after: discontinuity %v, start %d", jumpTo, after[2].Discontinuity, after[2].Start)
		}
	}
}

func TestSegmenterConfigChangeCutsWithDiscontinuity(t *testing.T) {
	s := newTestSegmenter(10 * time.Second)
	frames := source{fps: 30, gop: 30}.frames(t, 1500)
	newSPS := append(slices.Clone(testSPS), 0x42)
	frames = append(frames,
		frame(t, flv.TagVideo, 1500, avcHeaderPayload(newSPS, testPPS)),
		frame(t, flv.TagVideo, 1533, videoPayload(false, 0, slice(false, 50, 0))),
		frame(t, flv.TagVideo, 1566, videoPayload(true, 0, slice(true, 50, 0))),
	)
	segs := feed(t, s, frames)
	if len(segs) != 1 {
		t.Fatalf("got %d segments, want a cut at the keyframe after the new SPS", len(segs))
	}
	next, _ := s.Flush()
	if next == nil || !next.Discontinuity {
		t.Fatalf("segment after the configuration change: %v", next != nil)
	}
	_, _, _, p := demux(t, next.Data)
	if !bytes.Contains(p[0].data, newSPS) {
		t.Error("new SPS not written before the IDR")
	}
}

func TestSegmenterForcedCutAtCap(t *testing.T) {
	s := NewSegmenter(SegmenterConfig{TargetDuration: 2 * time.Second, MaxSegmentBytes: 20_000, Now: fixedNow})
	segs := feed(t, s, source{fps: 30, gop: 300, keyBytes: 3000, videoBytes: 3000}.frames(t, 3000))
	if len(segs) < 3 {
		t.Fatalf("got %d segments, want forced cuts", len(segs))
	}
	for i, seg := range segs {
		if !seg.Forced || len(seg.Data) > 20_000+3500 {
			t.Errorf("segment %d: forced %v, %d bytes", i, seg.Forced, len(seg.Data))
		}
		if i > 0 && seg.Independent {
			t.Errorf("segment %d cut without keyframe claims to be independent", i)
		}
	}
	if s.Stats().ForcedCuts != uint64(len(segs)) {
		t.Errorf("ForcedCuts = %d", s.Stats().ForcedCuts)
	}
}

func TestSegmenterAudioWaitsForAnnouncedVideo(t *testing.T) {
	meta := metadataPayload(map[string]float64{"width": 640, "height": 360, "videocodecid": 7})
	s := newTestSegmenter(time.Second)
	frames := append([]*stream.Frame{frame(t, flv.TagScript, 0, meta)}, source{audio: true}.frames(t, 5000)...)
	segs := feed(t, s, frames)
	if len(segs) == 0 {
		t.Fatal("audio never segmented")
	}
	if d := segs[0].Start - startTicks; d < audioWaitTicks-ticksPerMs*22 {
		t.Errorf("audio-only segmenting started after %d ticks, want about %d", d, audioWaitTicks)
	}
	if s.Stats().Dropped == 0 {
		t.Error("no audio dropped while waiting for video")
	}
}

func TestSegmenterVideoJoinsAudioOnly(t *testing.T) {
	s := newTestSegmenter(time.Second)
	segs := feed(t, s, source{audio: true}.frames(t, 2500))
	video := source{fps: 30, gop: 30, start: 2500}.frames(t, 2000)
	segs = append(segs, feed(t, s, video)...)
	var joined *Segment
	for _, seg := range segs {
		_, pmt, _, _ := demux(t, seg.Data)
		if len(pmt.ElementaryStreams) == 2 {
			joined = seg
			break
		}
	}
	if joined == nil || !joined.Discontinuity || joined.VideoFrames == 0 {
		t.Fatalf("no discontinuous segment with both tracks (found: %v)", joined != nil)
	}
}

func TestSegmenterInvalidFrames(t *testing.T) {
	tests := []struct {
		name    string
		frames  func(t *testing.T) []*stream.Frame
		wantErr error
	}{
		{"frame before configuration", func(t *testing.T) []*stream.Frame {
			return []*stream.Frame{frame(t, flv.TagVideo, 0, videoPayload(true, 0, slice(true, 10, 0)))}
		}, ErrNoConfig},
		{"truncated NAL unit length", func(t *testing.T) []*stream.Frame {
			bad := videoPayload(true, 0, slice(true, 10, 0))
			return []*stream.Frame{
				frame(t, flv.TagVideo, 0, avcHeaderPayload(testSPS, testPPS)),
				frame(t, flv.TagVideo, 0, bad[:len(bad)-3]),
			}
		}, ErrInvalidFrame},
		{"broken avcC", func(t *testing.T) []*stream.Frame {
			return []*stream.Frame{frame(t, flv.TagVideo, 0, []byte{0x17, 0, 0, 0, 0, 1, 2})}
		}, ErrInvalidFrame},
		{"unsupported audio codec", func(t *testing.T) []*stream.Frame {
			// Linear PCM has no sequence header: its first frame reports the
			// track left out.
			return []*stream.Frame{frame(t, flv.TagAudio, 0, []byte{0x3f, 0x00, 0x01})}
		}, ErrUnsupportedCodec},
		{"empty AAC frame", func(t *testing.T) []*stream.Frame {
			return []*stream.Frame{
				frame(t, flv.TagAudio, 0, aacHeaderPayload(testAAC)),
				frame(t, flv.TagAudio, 0, []byte{0xaf, 0x01}),
			}
		}, ErrInvalidFrame},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestSegmenter(time.Second)
			var last error
			for _, f := range tc.frames(t) {
				if _, err := s.WriteFrame(f); err != nil {
					last = err
				}
			}
			if !errors.Is(last, tc.wantErr) {
				t.Errorf("error %v, want %v", last, tc.wantErr)
			}
		})
	}
}

func TestSegmenterProgramDateTime(t *testing.T) {
	s := newTestSegmenter(2 * time.Second)
	segs := feed(t, s, source{fps: 30, gop: 30, audio: true}.frames(t, 6100))
	for i, seg := range segs {
		want := fixedNow().Add(time.Duration(i) * 2 * time.Second)
		if !seg.ProgramDateTime.Equal(want) {
			t.Errorf("segment %d PROGRAM-DATE-TIME %v, want %v", i, seg.ProgramDateTime, want)
		}
	}
}
