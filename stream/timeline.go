package stream

import "github.com/mediaserver/mediaserver/flv"

// Bounds of a timestamp step that is a stream's progress. A larger step is
// a jump of the publisher's clock: an encoder that restarted it, ffmpeg's
// FLV muxer wrapping timestamps at 2^31 ms, a relay switching sources. The
// stream keeps its output timeline continuous across such a jump (see
// Publisher.rebase), and the HLS segmenter, which maps the timeline onto its
// own clock, applies the same rule (TimestampJump).
const (
	// MaxTimestampGap is the largest forward step (ms) taken as the
	// stream's progress.
	MaxTimestampGap = 10_000
	// MaxTimestampStepBack is the largest backward step (ms) taken as the
	// normal jitter of an encoder's timestamps.
	MaxTimestampStepBack = 2_000
)

// TimestampJump reports whether a frame at next, following one at prev
// (FLV milliseconds, compared with serial arithmetic so that the 32-bit wrap
// is a small step), is a jump of the publisher's clock rather than the
// stream's progress: more than MaxTimestampGap forward or more than
// MaxTimestampStepBack back.
func TimestampJump(prev, next uint32) bool {
	d := int32(next - prev)
	return d > MaxTimestampGap || d < -MaxTimestampStepBack
}

// isMetadata reports whether f is onMetaData script data.
func (f *Frame) isMetadata() bool { return f.Header && f.Type == flv.TagScript }

// isMedia reports whether f is an audio or video frame other than decoder
// configuration: a frame that advances its track's timeline.
func (f *Frame) isMedia() bool {
	return !f.Header && (f.Type == flv.TagVideo || f.Type == flv.TagAudio)
}

// rebase returns f on the stream's continuous output timeline, a copy
// sharing the payload when its timestamp or generation changes. Every
// output (HTTP-FLV, WebSocket-FLV, RTMP play, HLS) gets the frames as
// stamped here:
//
//   - onMetaData is always at 0. FLV demuxers, ffmpeg's among them, take a
//     script tag at any other time for a data stream of its own: a stream
//     that probes with a phantom subtitle track.
//   - A publisher continuing a stream (generation > 0) shifts its
//     timestamps so that its first media frame comes one frame interval
//     after the last one delivered; its headers before that frame get that
//     time.
//   - A media frame whose timestamp jumps (see jumped) re-anchors the
//     publisher's offset so that it, too, comes one frame interval after
//     the last frame delivered; a header or other script frame that jumps
//     from the latest media frame gets that time without moving the
//     offset.
//
// back reports a media frame whose timestamp jumped back: the publisher's
// timestamps regressed although the output's do not. s.statsMu must be
// held.
func (p *Publisher) rebase(f *Frame) (g *Frame, back bool) {
	rp := &p.s.repub
	ts := f.Time + p.tsOffset
	switch {
	case f.isMetadata():
		ts = 0
	case p.gen > 0 && !p.rebased:
		ts = p.base
		if f.isMedia() {
			p.tsOffset, p.rebased = p.base-f.Time, true
		}
	case f.isMedia():
		var jump bool
		if jump, back = rp.jumped(f.Type, ts); jump {
			ts = rp.resumeTime()
			p.tsOffset = ts - f.Time
		}
	case rp.haveMedia && TimestampJump(rp.lastMedia, ts):
		ts = rp.resumeTime()
	}
	if ts == f.Time && f.gen == p.gen {
		return f, back
	}
	g = f.withTime(ts)
	g.gen = p.gen
	return g, back
}

// jumped reports whether a media frame of the track of type t at ts is a
// jump of the publisher's clock (TimestampJump), and whether it jumped
// back. A frame jumps back from the last frame of its own track: tracks
// interleaved loosely, or with an offset between them, do not jump. It
// jumps ahead of the latest media frame of any track: a track that resumes
// after a silence is not ahead of the others. s.statsMu must be held.
func (rp *republish) jumped(t flv.TagType, ts uint32) (jump, back bool) {
	if last, ok := rp.lastOfTrack(t); ok && int32(ts-last) < 0 && TimestampJump(last, ts) {
		return true, true
	}
	return rp.haveMedia && int32(ts-rp.lastMedia) > 0 && TimestampJump(rp.lastMedia, ts), false
}
