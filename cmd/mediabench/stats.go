package main

import (
	"math/bits"
	"slices"
	"sync/atomic"
	"time"
)

// sendTableSlots is the number of video frames a sendTable remembers,
// indexed by DTS modulo the size: 32768 ms of history, far more than any
// latency worth measuring.
const sendTableSlots = 1 << 15

// sendTable records when the publisher sent each video frame, by DTS, so
// that viewers can compute arrival − send without any marker in the media.
// One writer (the publisher) and any number of readers, lock-free: each
// slot packs the DTS (high 32 bits) and the send time in microseconds since
// the run's clock base plus one (low 32 bits; zero means empty), which
// covers runs of up to 71 minutes.
type sendTable struct {
	slots [sendTableSlots]atomic.Uint64
}

// record stores the send time of the video frame with DTS dts; at is the
// time since the clock base.
func (t *sendTable) record(dts uint32, at time.Duration) {
	us := at.Microseconds() + 1
	if us <= 0 || us > 1<<32-1 {
		return
	}
	t.slots[dts%sendTableSlots].Store(uint64(dts)<<32 | uint64(us))
}

// lookup returns the send time of the video frame with DTS dts, if it is
// remembered.
func (t *sendTable) lookup(dts uint32) (time.Duration, bool) {
	v := t.slots[dts%sendTableSlots].Load()
	if v == 0 || uint32(v>>32) != dts {
		return 0, false
	}
	return time.Duration(uint32(v)-1) * time.Microsecond, true
}

// keyRingSlots is how many of the latest keyframes a keyRing remembers:
// two minutes at one keyframe a second.
const keyRingSlots = 128

// keyRing records the DTS and send time of the publisher's latest video
// keyframes: the anchors that map a server's own media timeline (which
// starts where the server chose) onto the publisher's timestamps. One
// writer, any number of readers, lock-free; slots are packed as in
// sendTable.
type keyRing struct {
	next  atomic.Uint64
	slots [keyRingSlots]atomic.Uint64
}

// record stores the send time of the keyframe with DTS dts.
func (k *keyRing) record(dts uint32, at time.Duration) {
	us := at.Microseconds() + 1
	if us <= 0 || us > 1<<32-1 {
		return
	}
	k.slots[k.next.Add(1)%keyRingSlots].Store(uint64(dts)<<32 | uint64(us))
}

// nearest returns the remembered keyframe whose send time is nearest to
// at.
func (k *keyRing) nearest(at time.Duration) (dts uint32, sent time.Duration, ok bool) {
	best := time.Duration(-1)
	for i := range k.slots {
		v := k.slots[i].Load()
		if v == 0 {
			continue
		}
		t := time.Duration(uint32(v)-1) * time.Microsecond
		if d := (t - at).Abs(); best < 0 || d < best {
			best, dts, sent, ok = d, uint32(v>>32), t, true
		}
	}
	return dts, sent, ok
}

// Histogram layout: values in microseconds, exact below 2*histSub, then
// histSub buckets per power of two (relative error under 1/histSub).
const (
	histSubBits = 5
	histSub     = 1 << histSubBits
	// histBuckets covers values up to 2^32 µs (71 minutes); larger values
	// land in the last bucket.
	histBuckets = (32 - histSubBits + 1) * histSub
)

// histogram counts durations in log-linear buckets. It is not safe for
// concurrent use: each viewer owns one, merged after the run.
type histogram struct {
	counts [histBuckets]uint32
	n      uint64
	sum    time.Duration
	max    time.Duration
}

// histIndex returns the bucket of v microseconds.
func histIndex(v uint64) int {
	if v < 2*histSub {
		return int(v)
	}
	e := bits.Len64(v) - (histSubBits + 1)
	i := (e+1)*histSub + int(v>>e) - histSub
	return min(i, histBuckets-1)
}

// histValue returns the midpoint of bucket i in microseconds.
func histValue(i int) uint64 {
	if i < 2*histSub {
		return uint64(i)
	}
	e := i/histSub - 1
	m := uint64(i%histSub + histSub)
	lo := m << e
	return lo + (uint64(1)<<e)/2
}

// add counts one duration; negative values count as zero.
func (h *histogram) add(d time.Duration) {
	d = max(d, 0)
	h.counts[histIndex(uint64(d.Microseconds()))]++
	h.n++
	h.sum += d
	h.max = max(h.max, d)
}

// merge adds o's counts to h.
func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

// quantile returns the q-quantile (0 ≤ q ≤ 1), or 0 when empty.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n-1)) + 1
	var seen uint64
	for i, c := range h.counts {
		seen += uint64(c)
		if seen >= rank {
			return min(time.Duration(histValue(i))*time.Microsecond, h.max)
		}
	}
	return h.max
}

// mean returns the average, or 0 when empty.
func (h *histogram) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}

// percentile returns the q-quantile of ds (nearest rank), or 0 when empty.
// ds is sorted in place.
func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[int(q*float64(len(ds)-1)+0.5)]
}
