package stream

import (
	"sync"
	"sync/atomic"

	"github.com/mediaserver/mediaserver/flv"
)

// Publisher is the write side of a Stream, held by the ingest session. Its
// methods are safe for concurrent use, but frames should come from one
// goroutine so that their order is meaningful.
type Publisher struct {
	reg *Registry
	s   *Stream

	// gen is the publisher's generation in its stream (0 for the first).
	gen uint32
	// base is where a continuing publisher's timeline starts (ms).
	base uint32
	// tsOffset is added to every frame's timestamp (see rebase): the first
	// media frame of a continuing publisher fixes it (setting rebased), a
	// jump of the publisher's clock moves it. Guarded by Stream.statsMu.
	tsOffset uint32
	rebased  bool

	// ingest measures the bytes sent against Config.MaxIngestBitrate.
	// Guarded by Stream.statsMu.
	ingest ingestMeter

	closed    atomic.Bool
	takenOver atomic.Bool
	// cutOff is why the registry cut the publisher off for a budget (nil:
	// it was not).
	cutOff    atomic.Pointer[LimitError]
	closeOnce sync.Once
	done      chan struct{}
	doneOnce  sync.Once
}

// Stream returns the stream this publisher writes to.
func (p *Publisher) Stream() *Stream { return p.s }

// Done returns a channel closed when the publisher can no longer publish:
// after Close, after another publisher took the stream over (TakenOver), or
// when the stream was ended by the registry (Registry.Close). An ingest
// session watches it to close a connection that was cut off.
func (p *Publisher) Done() <-chan struct{} { return p.done }

// TakenOver reports whether another publisher took the stream over from
// this one (Config.Takeover).
func (p *Publisher) TakenOver() bool { return p.takenOver.Load() }

// CutOff returns why the registry cut the publisher off for a budget
// (Config.MaxIngestBitrate), or nil when it did not. When it is set, Done
// is closed and the stream has ended.
func (p *Publisher) CutOff() *LimitError { return p.cutOff.Load() }

// release closes Done once.
func (p *Publisher) release() {
	p.doneOnce.Do(func() { close(p.done) })
}

// WriteFrame appends f to the stream and wakes its readers. It never blocks
// on readers and never copies the payload. f.Time is taken as set by the
// caller, rebased for a publisher that continues a stream (see
// Frame.Generation) or whose clock jumped, and onMetaData is stamped 0 (see
// rebase). A header frame updates the stream's header set; one identical to
// the header already in effect is counted but not appended again. Metadata
// sent as "@setDataFrame onMetaData …" is stored as "onMetaData …", the
// form players expect. Frames written after Close or a takeover are
// ignored. A publisher sending more than Config.MaxIngestBitrate is cut
// off: the stream ends and CutOff says why.
func (p *Publisher) WriteFrame(f *Frame) {
	if f == nil || p.closed.Load() {
		return
	}
	if sent := p.writeFrame(f); sent > 0 {
		p.cut(p.reg.ingestLimitError(sent))
	}
}

// writeFrame is WriteFrame under the stream's statsMu. It returns the
// bytes the publisher sent in the current window when they are over
// Config.MaxIngestBitrate (the frame is then not appended), 0 otherwise.
func (p *Publisher) writeFrame(f *Frame) int64 {
	if f.Header && f.Type == flv.TagScript {
		if body := flv.StripSetDataFrame(f.Payload); len(body) != len(f.Payload) {
			f = f.withPayload(body)
		}
	}
	s := p.s
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	if s.repub.current != p {
		return 0 // taken over or closed meanwhile
	}
	now := s.clock()
	if sent := p.ingest.add(len(f.Payload), now, s.cfg.MaxIngestBitrate, s.cfg.IngestBitrateWindow); sent > 0 {
		return sent
	}
	f, back := p.rebase(f)
	s.repub.lastWrite = now
	if back {
		s.meter.regressions++ // the output continues, the publisher went back
	}
	s.meter.record(f)
	if s.append(f, now) {
		s.repub.track(f)
	}
	return 0
}

// cut ends the publisher and its stream at once because of le, counts the
// hit and logs it.
func (p *Publisher) cut(le *LimitError) {
	p.closeOnce.Do(func() {
		p.cutOff.Store(le)
		p.closed.Store(true)
		p.reg.adm.hit(le.Limit)
		info := p.s.Info()
		p.reg.log.Warn("publisher cut off", "stream", p.s.key.String(), "publisher", info.ID,
			"remote", info.RemoteAddr, "limit", le.Limit, "reason", le.Reason)
		p.reg.leave(p, false)
	})
}

// Close gives up the stream. With Config.RepublishWindow set the stream
// waits that long for a publisher of the same key, its readers attached;
// otherwise it ends: its key is free for a new publisher at once, readers
// drain what is cached and then get io.EOF, and observers are notified. It
// is idempotent.
func (p *Publisher) Close() {
	p.closeOnce.Do(func() {
		p.closed.Store(true)
		p.reg.leave(p, true)
	})
}

// End is Close without the republish window: the stream ends at once (an
// operator kicked the publisher). It is idempotent, and does nothing after
// Close.
func (p *Publisher) End() {
	p.closeOnce.Do(func() {
		p.closed.Store(true)
		p.reg.leave(p, false)
	})
}
