package hls

import (
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/stream"
)

// addTestSegment appends a segment of duration d to st as the feeder does.
func addTestSegment(st *streamState, d time.Duration, disc, independent bool, pdt time.Time) []*segmentEntry {
	st.mu.Lock()
	defer st.mu.Unlock()
	seq := st.nextSeq
	st.nextSeq++
	return st.add(&segmentEntry{
		seq: seq, name: segmentName(st.token, seq), duration: d, pdt: pdt,
		disc: disc, independent: independent, body: segmentBody{size: 188},
	}, SegmenterStats{}, pdt)
}

func testState(window, retain int, firstSeq uint64) *streamState {
	cfg := Config{PlaylistLength: window, RetainAfterWindow: retain, Variant: VariantMPEGTS}.WithDefaults()
	return newStreamState(stream.Key{App: "live", Name: "cam"}, "tok", cfg, firstSeq, fixedNow())
}

func TestPlaylistSlidingWindow(t *testing.T) {
	st := testState(3, 2, 100)
	c := newPlaylistChecker()
	var evicted []*segmentEntry
	for i := range 10 {
		evicted = append(evicted, addTestSegment(st, 2*time.Second, false, true, fixedNow().Add(time.Duration(i)*2*time.Second))...)
		if _, err := c.check(st.playlist); err != nil {
			t.Fatalf("after segment %d: %v\n%s", i, err, st.playlist)
		}
	}
	p, _ := c.check(st.playlist)
	if p.mediaSeq != 107 || len(p.segments) != 3 || p.segments[0].uri != "cam/tok-107.ts" {
		t.Errorf("window: media sequence %d, %d segments, first %q", p.mediaSeq, len(p.segments), p.segments[0].uri)
	}
	for seq := uint64(100); seq < 110; seq++ {
		if got, want := st.find(seq) != nil, seq >= 105; got != want {
			t.Errorf("segment %d fetchable = %v, want %v (window 3 + 2 retained)", seq, got, want)
		}
	}
	if len(evicted) != 5 || evicted[0].seq != 100 || evicted[4].seq != 104 {
		t.Errorf("evicted %d segments", len(evicted))
	}
	text := string(st.playlist)
	for _, want := range []string{"#EXT-X-VERSION:3\n", "#EXT-X-MEDIA-SEQUENCE:107\n", "#EXT-X-TARGETDURATION:2\n",
		"#EXT-X-INDEPENDENT-SEGMENTS\n", "#EXT-X-PROGRAM-DATE-TIME:2024-05-01T12:00:14Z\n#EXTINF:2.000,\ncam/tok-107.ts\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("playlist lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "ENDLIST") || strings.Contains(text, "DISCONTINUITY") {
		t.Errorf("unexpected tags:\n%s", text)
	}
}

func TestPlaylistTargetDurationNeverBelowRoundedEXTINF(t *testing.T) {
	st := testState(3, 1, 0)
	c := newPlaylistChecker()
	durations := []time.Duration{
		2 * time.Second, 2499 * time.Millisecond, 2500 * time.Millisecond, // 2.5 rounds to 3
		10*time.Second + 10*time.Millisecond,                               // a long GOP
		2 * time.Second, 2 * time.Second, 2 * time.Second, 2 * time.Second, // the long one left the window
	}
	wantTargets := []int{2, 2, 3, 10, 10, 10, 10, 10}
	for i, d := range durations {
		addTestSegment(st, d, false, true, fixedNow().Add(time.Duration(i)*10*time.Second))
		p, err := c.check(st.playlist)
		if err != nil {
			t.Fatalf("after %v: %v\n%s", d, err, st.playlist)
		}
		if p.target != wantTargets[i] {
			t.Errorf("after %v: target %d, want %d", d, p.target, wantTargets[i])
		}
	}
}

func TestPlaylistDiscontinuitySequence(t *testing.T) {
	st := testState(2, 1, 0)
	c := newPlaylistChecker()
	discs := []bool{false, true, false, true, true, false, false, false}
	wantDiscSeq := []string{"", "", "", "1", "1", "2", "3", "3"}
	for i, disc := range discs {
		addTestSegment(st, 2*time.Second, disc, true, fixedNow().Add(time.Duration(i)*2*time.Second))
		if _, err := c.check(st.playlist); err != nil {
			t.Fatalf("after segment %d: %v\n%s", i, err, st.playlist)
		}
		text := string(st.playlist)
		if want := wantDiscSeq[i]; want == "" && strings.Contains(text, "DISCONTINUITY-SEQUENCE") ||
			want != "" && !strings.Contains(text, "#EXT-X-DISCONTINUITY-SEQUENCE:"+want+"\n") {
			t.Errorf("after segment %d: want discontinuity sequence %q:\n%s", i, want, text)
		}
	}
}

func TestPlaylistEndListAndIndependence(t *testing.T) {
	st := testState(3, 1, 0)
	addTestSegment(st, 2*time.Second, false, true, fixedNow())
	addTestSegment(st, 2*time.Second, false, false, fixedNow().Add(2*time.Second)) // forced cut
	if strings.Contains(string(st.playlist), "INDEPENDENT-SEGMENTS") {
		t.Errorf("EXT-X-INDEPENDENT-SEGMENTS with a segment that starts without a keyframe:\n%s", st.playlist)
	}
	st.mu.Lock()
	st.endList = true
	st.rebuild(fixedNow())
	st.mu.Unlock()
	if !strings.HasSuffix(string(st.playlist), "#EXT-X-ENDLIST\n") {
		t.Errorf("no EXT-X-ENDLIST:\n%s", st.playlist)
	}
	addTestSegment(st, 2*time.Second, true, true, fixedNow().Add(time.Hour)) // a publisher came back
	if strings.Contains(string(st.playlist), "ENDLIST") {
		t.Errorf("EXT-X-ENDLIST after a new segment:\n%s", st.playlist)
	}
}

func TestRoundSeconds(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want int
	}{{0, 0}, {499 * time.Millisecond, 0}, {500 * time.Millisecond, 1}, {2499 * time.Millisecond, 2}, {2500 * time.Millisecond, 3}, {10 * time.Second, 10}} {
		if got := roundSeconds(tc.d); got != tc.want {
			t.Errorf("roundSeconds(%v) = %d, want %d", tc.d, got, tc.want)
		}
	}
}
