package flvmp4

import "github.com/mediaserver/mediaserver/fmp4"

// SampleQueue holds the samples of one track until they can be written: a
// sample's duration is the distance to the next sample's decode time, so
// the newest sample waits (pending) until the next one arrives. Complete
// samples accumulate until the caller takes them into a fragment. The queue
// reuses its storage: steady-state use does not allocate.
//
// Decode times are in the track's timescale. The zero value is an empty
// queue.
type SampleQueue struct {
	done     []fmp4.Sample
	doneBase uint64 // decode time of done[0]
	pending  fmp4.Sample
	pendDTS  uint64
	has      bool
	// lastDur is the duration of the last completed sample, the guess for a
	// pending sample that Finish completes without one.
	lastDur uint32
}

// Push adds a sample decoded at dts, whose Duration is ignored. The pending
// sample before it becomes complete with duration dts minus its decode time
// (0 if dts is not later: the caller keeps decode times increasing).
func (q *SampleQueue) Push(dts uint64, s fmp4.Sample) {
	if q.has {
		d := uint32(0)
		if dts > q.pendDTS {
			d = uint32(min(dts-q.pendDTS, 1<<32-1))
		}
		q.complete(d)
	}
	q.pending, q.pendDTS, q.has = s, dts, true
}

// complete moves the pending sample to the complete ones with duration d.
func (q *SampleQueue) complete(d uint32) {
	if len(q.done) == 0 {
		q.doneBase = q.pendDTS
	}
	q.pending.Duration = d
	q.done = append(q.done, q.pending)
	q.pending, q.has, q.lastDur = fmp4.Sample{}, false, d
}

// Finish completes the pending sample, if any, with duration d; 0 means the
// duration of the sample before it.
func (q *SampleQueue) Finish(d uint32) {
	if !q.has {
		return
	}
	if d == 0 {
		d = q.lastDur
	}
	q.complete(d)
}

// Complete returns the complete samples not taken yet, oldest first, and the
// decode time of the first. The slice is valid until the next call that
// changes the queue.
func (q *SampleQueue) Complete() (base uint64, samples []fmp4.Sample) {
	return q.doneBase, q.done
}

// Pending returns the decode time of the sample waiting for its duration.
func (q *SampleQueue) Pending() (dts uint64, ok bool) { return q.pendDTS, q.has }

// Take removes the n oldest complete samples (all of them if n is larger).
func (q *SampleQueue) Take(n int) {
	n = min(n, len(q.done))
	for _, s := range q.done[:n] {
		q.doneBase += uint64(s.Duration)
	}
	rest := copy(q.done, q.done[n:])
	clear(q.done[rest:]) // let the payloads go
	q.done = q.done[:rest]
}

// Reset empties the queue, the pending sample included.
func (q *SampleQueue) Reset() {
	clear(q.done)
	q.done = q.done[:0]
	q.pending, q.has, q.doneBase, q.lastDur = fmp4.Sample{}, false, 0, 0
}
