package hls

import "github.com/mediaserver/mediaserver/stream"

// MPEG-TS clock and the limits of timestamp handling.
const (
	// clockRate is the PTS/DTS clock: 90 kHz.
	clockRate = 90000
	// ticksPerMs converts FLV milliseconds to clock ticks.
	ticksPerMs = clockRate / 1000
	// startTicks is the output DTS of a stream's first frame. It leaves room
	// for frames that arrive with slightly earlier timestamps and for the PCR
	// running pcrLagTicks behind the DTS.
	startTicks = 10 * clockRate
	// pts33Mask keeps the 33 bits a PTS, DTS or PCR base carries.
	pts33Mask = 1<<33 - 1
)

// timeline maps FLV timestamps (32-bit milliseconds that wrap after ~49.7
// days and may jump when the publisher restarts or misbehaves) onto one
// continuous, monotonic 90 kHz output clock. Wraps are unwrapped with serial
// arithmetic; a jump or a restart re-anchors the mapping so that output time
// continues where the last frame ended.
type timeline struct {
	started bool
	// rebase makes the next frame re-anchor the mapping (after a restart).
	rebase bool
	// lastMs is the previous frame's timestamp and pos its unwrapped value.
	lastMs uint32
	pos    int64
	// offset maps unwrapped milliseconds to ticks: out = pos*ticksPerMs + offset.
	offset int64
	// end is the latest end (DTS + duration) of a frame written, in ticks.
	end int64
	// anchored makes the first frame use offset as it is (set before it)
	// instead of starting at startTicks: the output time of another
	// segmenter of the same source clock (alignedcuts.go).
	anchored bool
}

// dts returns the output DTS of a frame with timestamp ms. jumped reports
// that the mapping was re-anchored (a restart or a timestamp jump), so the
// frame starts a discontinuity.
func (t *timeline) dts(ms uint32) (out int64, jumped bool) {
	switch {
	case !t.started && t.anchored:
		t.started = true
		t.lastMs, t.pos = ms, int64(ms)
		t.end = t.pos*ticksPerMs + t.offset
		return t.end, false
	case !t.started:
		t.started = true
		t.lastMs, t.pos = ms, int64(ms)
		t.offset = startTicks - t.pos*ticksPerMs
		t.end = startTicks
		return startTicks, false
	case t.rebase:
		t.rebase = false
		t.lastMs, t.pos = ms, int64(ms)
		t.offset = t.end - t.pos*ticksPerMs
		return t.end, true
	}
	// A step between consecutive frames (of any track) larger than the
	// stream's bounds is a timestamp jump, handled as a discontinuity.
	jump := stream.TimestampJump(t.lastMs, ms)
	d := int64(int32(ms - t.lastMs))
	t.lastMs = ms
	t.pos += d
	if jump {
		t.offset = t.end - t.pos*ticksPerMs
		return t.end, true
	}
	return t.pos*ticksPerMs + t.offset, false
}

// extend records that a frame written lasts until end.
func (t *timeline) extend(end int64) {
	t.end = max(t.end, end)
}

// restart makes the next frame continue output time from the end of the
// last one, whatever its timestamp.
func (t *timeline) restart() {
	if t.started {
		t.rebase = true
	}
}
