package stream

import (
	"sync/atomic"
	"time"

	"github.com/mediaserver/mediaserver/flv"
)

// State is where a stream is in its life.
type State uint8

// States of a stream.
const (
	// StateLive: a publisher is attached.
	StateLive State = iota
	// StateWaiting: the publisher left and the stream waits, readers
	// attached, for a publisher of the same key to come back within
	// Config.RepublishWindow.
	StateWaiting
	// StateEnded: the stream is over; readers get io.EOF once drained.
	StateEnded
)

// String returns "live", "waiting" or "ended".
func (s State) String() string {
	switch s {
	case StateLive:
		return "live"
	case StateWaiting:
		return "waiting"
	case StateEnded:
		return "ended"
	}
	return "unknown"
}

// defaultFrameInterval is the gap (ms) put between the last frame of a
// publisher and the first frame of the next one when no frame interval was
// measured.
const defaultFrameInterval = 40

// maxFrameInterval bounds a measured frame interval (ms): a larger step
// between two frames of a track is a gap, not the frame rate.
const maxFrameInterval = 1000

// republish is a stream's publisher succession: who publishes now, how many
// publishers came before, whether the stream waits for one to come back,
// and where the timeline must continue. Fields marked statsMu are guarded
// by Stream.statsMu; those marked notifyMu by Registry.notifyMu.
type republish struct {
	// info is the current publisher's description (nil: Stream.info).
	info atomic.Pointer[PublisherInfo]
	// waiting is set while the stream is in StateWaiting.
	waiting atomic.Bool
	// count counts publishers that continued the stream.
	count atomic.Uint64

	current *Publisher // statsMu: the publisher whose frames are accepted
	gen     uint32     // statsMu: generation of current

	// statsMu: the timeline delivered so far, after rebasing.
	haveMedia            bool
	lastMedia            uint32 // latest media DTS (serial order)
	haveVideo            bool
	lastVideo            uint32
	haveAudio            bool
	lastAudio            uint32
	videoStep, audioStep uint32 // last measured frame intervals

	timer *time.Timer // notifyMu: ends the stream when the window passes

	lastWrite time.Time // statsMu: when the current publisher last wrote a frame
}

// track records a media frame appended to the stream. s.statsMu must be
// held.
func (rp *republish) track(f *Frame) {
	if f.Header {
		return
	}
	switch f.Type {
	case flv.TagVideo:
		if rp.haveVideo {
			if d := f.Time - rp.lastVideo; d > 0 && d <= maxFrameInterval {
				rp.videoStep = d
			}
		}
		rp.lastVideo, rp.haveVideo = f.Time, true
	case flv.TagAudio:
		if rp.haveAudio {
			if d := f.Time - rp.lastAudio; d > 0 && d <= maxFrameInterval {
				rp.audioStep = d
			}
		}
		rp.lastAudio, rp.haveAudio = f.Time, true
	default:
		return
	}
	if !rp.haveMedia || int32(f.Time-rp.lastMedia) > 0 {
		rp.lastMedia, rp.haveMedia = f.Time, true
	}
}

// resumeTime is the timestamp the next publisher's first media frame gets:
// one frame interval after the latest media frame delivered. s.statsMu
// must be held.
func (rp *republish) resumeTime() uint32 {
	if !rp.haveMedia {
		return 0
	}
	step := rp.videoStep
	if step == 0 {
		step = rp.audioStep
	}
	if step == 0 {
		step = defaultFrameInterval
	}
	return rp.lastMedia + step
}

// lastOfTrack returns the timestamp of the latest frame delivered on the
// track of type t (video or audio), if any. s.statsMu must be held.
func (rp *republish) lastOfTrack(t flv.TagType) (uint32, bool) {
	switch t {
	case flv.TagVideo:
		return rp.lastVideo, rp.haveVideo
	case flv.TagAudio:
		return rp.lastAudio, rp.haveAudio
	}
	return 0, false
}

// State returns where the stream is in its life.
func (s *Stream) State() State {
	switch {
	case s.Ended():
		return StateEnded
	case s.repub.waiting.Load():
		return StateWaiting
	}
	return StateLive
}

// Republishes counts the publishers that continued the stream after its
// first one left or was taken over.
func (s *Stream) Republishes() uint64 { return s.repub.count.Load() }

// Generation reports which publisher of its stream wrote the frame: 0 for
// the stream's first publisher, 1 for the first that continued it after a
// republish or takeover, and so on. A reader seeing the generation change
// knows the encoder changed: timestamps continue (they are rebased) but the
// coded stream restarts at a keyframe with possibly new sequence headers.
func (f *Frame) Generation() uint32 { return f.gen }

// forceHeaders makes the next header of every kind be appended even when
// identical to the one in effect, so readers get the new publisher's
// sequence headers in order before its frames.
func (s *Stream) forceHeaders() {
	s.mu.Lock()
	for k := range s.seqEnded {
		s.seqEnded[k] = true
	}
	s.mu.Unlock()
}

// continueLocked attaches a new publisher to s, which is waiting or (for a
// takeover) live: the old publisher, if any, is cut off. r.notifyMu and
// r.mu must be held.
func (r *Registry) continueLocked(s *Stream, info PublisherInfo) *Publisher {
	p := &Publisher{reg: r, s: s, done: make(chan struct{})}
	s.statsMu.Lock()
	old := s.repub.current
	s.repub.gen++
	p.gen = s.repub.gen
	p.base = s.repub.resumeTime()
	s.repub.current = p
	s.repub.lastWrite = time.Now()
	s.statsMu.Unlock()
	if s.repub.timer != nil {
		s.repub.timer.Stop()
		s.repub.timer = nil
	}
	s.repub.waiting.Store(false)
	s.repub.info.Store(&info)
	s.repub.count.Add(1)
	s.forceHeaders()
	if old != nil {
		old.takenOver.Store(true)
		old.closed.Store(true)
		old.release()
	}
	return p
}

// reclaims reports whether a publisher described by info may replace the
// live publisher of s because it comes from the same host and the current
// one stalled for Config.ReclaimStalled (see there). r.mu must be held.
func (r *Registry) reclaims(s *Stream, info PublisherInfo) bool {
	if r.cfg.ReclaimStalled <= 0 {
		return false
	}
	if !sameHost(info.RemoteAddr, s.Info().RemoteAddr) {
		return false
	}
	s.statsMu.Lock()
	last := s.repub.lastWrite
	if last.IsZero() {
		last = s.start
	}
	s.statsMu.Unlock()
	return time.Since(last) >= r.cfg.ReclaimStalled
}

// leave handles a publisher closing: with wait set, a stream with a
// republish window waits for the next publisher; otherwise the stream ends.
// When p is no longer the stream's publisher nothing happens.
func (r *Registry) leave(p *Publisher, wait bool) {
	s := p.s
	r.notifyMu.Lock()
	defer r.notifyMu.Unlock()
	s.statsMu.Lock()
	current := s.repub.current == p
	if current {
		s.repub.current = nil
	}
	gen := s.repub.gen
	s.statsMu.Unlock()
	p.release()
	if !current {
		return // taken over: the stream goes on with its new publisher
	}
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	window := r.cfg.RepublishWindow
	if !wait || window <= 0 || closed || s.Ended() {
		r.endLocked(s)
		return
	}
	s.repub.waiting.Store(true)
	s.repub.timer = time.AfterFunc(window, func() { r.expire(s, gen) })
	r.log.Info("publisher left, waiting for it to come back", "stream", s.key.String(),
		"publisher", s.Info().ID, "window", window)
}

// expire ends s if it is still waiting for the publisher after generation
// gen.
func (r *Registry) expire(s *Stream, gen uint32) {
	r.notifyMu.Lock()
	defer r.notifyMu.Unlock()
	s.statsMu.Lock()
	same := s.repub.gen == gen && s.repub.current == nil
	s.statsMu.Unlock()
	if same && s.repub.waiting.Load() {
		r.log.Info("no publisher came back", "stream", s.key.String(), "window", r.cfg.RepublishWindow)
		r.endLocked(s)
	}
}

// sameHost reports whether two remote addresses ("host:port", or a bare
// host) name the same, non-empty host.
func sameHost(a, b string) bool {
	host := HostOf(a)
	return host != "" && host == HostOf(b)
}
