package main

import (
	"testing"
	"time"
)

func TestHistogramBuckets(t *testing.T) {
	prev := -1
	for v := uint64(0); v < 1<<33; v = v*17/16 + 1 {
		i := histIndex(v)
		if i < prev {
			t.Fatalf("index of %d is %d, below the previous %d", v, i, prev)
		}
		prev = i
		if v >= 1<<32 {
			if i != histBuckets-1 {
				t.Fatalf("%d: index %d, want the last bucket", v, i)
			}
			continue
		}
		mid := histValue(i)
		diff := max(mid, v) - min(mid, v)
		if diff*histSub > v {
			t.Fatalf("%d µs: bucket %d value %d, error above 1/%d", v, i, mid, histSub)
		}
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var a, b histogram
	for i := 1; i <= 100; i++ {
		a.add(time.Duration(i) * time.Millisecond)
	}
	b.add(-time.Second) // counts as zero
	b.add(10 * time.Second)
	a.merge(&b)
	cases := []struct {
		q    float64
		want time.Duration
	}{
		{0, 0}, {0.5, 50 * time.Millisecond}, {0.9, 90 * time.Millisecond}, {1, 10 * time.Second},
	}
	for _, tc := range cases {
		got := a.quantile(tc.q)
		if d := (got - tc.want).Abs(); d*histSub > tc.want {
			t.Errorf("q%.2f: %v, want about %v", tc.q, got, tc.want)
		}
	}
	if a.n != 102 || a.max != 10*time.Second {
		t.Errorf("n %d max %v", a.n, a.max)
	}
	var empty histogram
	if empty.quantile(0.5) != 0 || empty.mean() != 0 {
		t.Error("empty histogram is not zero")
	}
}

func TestPercentile(t *testing.T) {
	ds := []time.Duration{5, 1, 4, 2, 3}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0, 1}, {0.5, 3}, {0.95, 5}, {1, 5}} {
		if got := percentile(ds, tc.q); got != tc.want {
			t.Errorf("q%.2f: %v, want %v", tc.q, got, tc.want)
		}
	}
	if percentile(nil, 0.5) != 0 {
		t.Error("percentile of nothing is not 0")
	}
}

func TestSendTable(t *testing.T) {
	var st sendTable
	if _, ok := st.lookup(0); ok {
		t.Error("empty table has DTS 0")
	}
	st.record(0, 0)
	st.record(33, 1500*time.Microsecond)
	st.record(33+sendTableSlots, 2*time.Second) // same slot, newer frame
	st.record(66, -time.Second)                 // before the clock base: not kept
	st.record(99, 72*time.Hour)                 // beyond the 32-bit range: not kept
	cases := []struct {
		dts  uint32
		want time.Duration
		ok   bool
	}{
		{0, 0, true}, {33, 0, false}, {33 + sendTableSlots, 2 * time.Second, true}, {66, 0, false}, {99, 0, false},
	}
	for _, tc := range cases {
		got, ok := st.lookup(tc.dts)
		if ok != tc.ok || got != tc.want {
			t.Errorf("dts %d: %v %v, want %v %v", tc.dts, got, ok, tc.want, tc.ok)
		}
	}
}

func TestHLSPlayer(t *testing.T) {
	var p hlsPlayer
	s := time.Second
	steps := []struct {
		dur, at  time.Duration
		underrun bool
	}{
		{2 * s, 10 * s, false}, // playback starts
		{2 * s, 11 * s, false}, // 1 s played of 2 s downloaded
		{2 * s, 14 * s, false}, // 4 s played of 4 s: just in time
		{2 * s, 17 * s, true},  // 7 s played of 6 s: ran out
		{2 * s, 18 * s, false}, // resumed at 6 s: 7 s played of 8 s
	}
	for i, st := range steps {
		if underrun, _ := p.segment(st.dur, st.at); underrun != st.underrun {
			t.Errorf("step %d: underrun %v, want %v", i, underrun, st.underrun)
		}
	}
}

func TestKeyRing(t *testing.T) {
	var k keyRing
	if _, _, ok := k.nearest(time.Second); ok {
		t.Error("empty ring found a keyframe")
	}
	// Keyframes every second, more than the ring holds: the oldest are
	// forgotten.
	for i := range keyRingSlots + 10 {
		k.record(uint32(i*1000), time.Duration(i)*time.Second+5*time.Millisecond)
	}
	dts, sent, ok := k.nearest(50*time.Second + 300*time.Millisecond)
	if !ok || dts != 50_000 || sent != 50*time.Second+5*time.Millisecond {
		t.Errorf("nearest to 50.3 s: %d ms sent at %v (%v), want 50000 at 50.005s", dts, sent, ok)
	}
	if dts, _, _ := k.nearest(0); dts != 10_000 {
		t.Errorf("nearest to 0: %d ms, want the oldest kept, 10000", dts)
	}
}
