package hls

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// firstVideoNALTypes returns the NAL unit types of a segment's first video
// access unit.
func firstVideoNALTypes(t *testing.T, seg *Segment) []int {
	t.Helper()
	_, _, _, packets := demux(t, seg.Data)
	for _, p := range packets {
		if p.pid == videoPID {
			return nalTypes(p.data)
		}
	}
	return nil
}

// TestRegressionTargetDurationChangesMidStream: EXT-X-TARGETDURATION is
// decided with the first segment and never changes (it went from 2 to 11
// when the GOP grew); a GOP longer than the target is cut early, and a
// segment cut without a keyframe is not presented as independent, starts
// with the parameter sets, and the playlist stops claiming
// EXT-X-INDEPENDENT-SEGMENTS for good.
func TestRegressionTargetDurationChangesMidStream(t *testing.T) {
	s := newTestSegmenter(2 * time.Second)
	frames := source{fps: 30, gop: 60, audio: true}.frames(t, 6000)
	frames = append(frames, source{fps: 30, gop: 330, audio: true, start: 6000}.frames(t, 22000)...)
	frames = append(frames, source{fps: 30, gop: 60, audio: true, start: 28000}.frames(t, 16000)...)
	segs := feed(t, s, frames)
	st := testState(6, 6, 0)
	forced, sawForced := 0, false
	for i, seg := range segs {
		if i > 0 && segs[i-1].Forced {
			forced++
			if seg.Independent {
				t.Errorf("segment %d starts at a cut without keyframe but claims to be independent", i)
			}
			if types := firstVideoNALTypes(t, seg); !slices.Contains(types, 7) || !slices.Contains(types, 8) {
				t.Errorf("segment %d starts at a cut without keyframe but without SPS and PPS: NAL types %v", i, types)
			}
		}
		addTestSegment(st, seg.Duration, seg.Discontinuity, seg.Independent, fixedNow().Add(time.Duration(i)*2*time.Second))
		text := string(st.playlist)
		if !strings.Contains(text, "\n#EXT-X-TARGETDURATION:2\n") {
			t.Errorf("after segment %d (%v): EXT-X-TARGETDURATION not 2:\n%s", i, seg.Duration, text)
		}
		for line := range strings.Lines(text) {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "#EXTINF:"); ok {
				if d, err := strconv.ParseFloat(strings.TrimSuffix(v, ","), 64); err != nil || math.Round(d) > 2 {
					t.Errorf("after segment %d: %q rounds above the target duration", i, line)
				}
			}
		}
		sawForced = sawForced || !seg.Independent
		if claims := strings.Contains(text, "\n#EXT-X-INDEPENDENT-SEGMENTS\n"); claims == sawForced {
			t.Errorf("after segment %d: EXT-X-INDEPENDENT-SEGMENTS %v, after a segment without keyframe %v", i, claims, sawForced)
		}
	}
	if forced == 0 {
		t.Errorf("no forced cut in 22 s of 11 s GOPs: %d segments", len(segs))
	}
}
