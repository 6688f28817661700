package stream

import "github.com/mediaserver/mediaserver/flv"

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
//
// s.statsMu must be held.
func (p *Publisher) rebase(f *Frame) *Frame {
	ts := f.Time + p.tsOffset
	switch {
	case f.isMetadata():
		ts = 0
	case p.gen > 0 && !p.rebased:
		ts = p.base
		if f.isMedia() {
			p.tsOffset, p.rebased = p.base-f.Time, true
		}
	}
	if ts == f.Time && f.gen == p.gen {
		return f
	}
	g := f.withTime(ts)
	g.gen = p.gen
	return g
}
