package flvmp4

// AudioClock gives the frames of an audio track decode times in the
// track's timescale. RTMP timestamps are whole milliseconds, so an AAC
// frame of 1024 samples at 44.1 kHz arrives 23 or 24 ms after the one
// before; converting each timestamp would give durations of 1014 and 1058
// ticks. While the timestamps stay within a tolerance of the running count
// of the frames' exact durations, the clock follows the count; a gap or a
// jump (further than the tolerance) resynchronises it to the timestamp.
type AudioClock struct {
	timescale uint64
	next      uint64 // decode time the next frame continues at
	started   bool
}

// audioClockToleranceMs is how far a timestamp may be from the running
// count before the clock follows the timestamp: more than millisecond
// rounding and encoder jitter, less than one frame of any codec.
const audioClockToleranceMs = 4

// NewAudioClock returns a clock for a track of the given timescale.
func NewAudioClock(timescale uint32) AudioClock {
	return AudioClock{timescale: uint64(timescale)}
}

// Time returns the decode time of a frame whose timestamp is ms
// milliseconds and whose exact duration is d ticks (0 when the codec does
// not say: the timestamp is then used as is). Timestamps must not decrease
// between calls, except after Reset.
func (c *AudioClock) Time(ms int64, d uint32) uint64 {
	exact := uint64(max(ms, 0)) * c.timescale / 1000
	t := exact
	tol := audioClockToleranceMs * c.timescale / 1000
	if c.started && d > 0 && exact+tol >= c.next && exact <= c.next+tol {
		t = c.next
	}
	c.next, c.started = t+uint64(d), d > 0
	return t
}

// Reset makes the next frame start at its own timestamp.
func (c *AudioClock) Reset() { c.started = false }
