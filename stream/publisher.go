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

	// tsOffset is added to every frame's timestamp. It is zero for the
	// stream's first publisher; a publisher that takes over a live stream
	// (seamless republish) will set it so the stream's timeline continues
	// from the previous publisher's last timestamps.
	tsOffset uint32

	closed    atomic.Bool
	closeOnce sync.Once
}

// Stream returns the stream this publisher writes to.
func (p *Publisher) Stream() *Stream { return p.s }

// WriteFrame appends f to the stream and wakes its readers. It never blocks
// on readers and never copies the payload. f.Time is taken as set by the
// caller. A header frame updates the stream's header set; one identical to
// the header already in effect is counted but not appended again. Metadata
// sent as "@setDataFrame onMetaData …" is stored as "onMetaData …", the form
// players expect. Frames written after Close are ignored.
func (p *Publisher) WriteFrame(f *Frame) {
	if f == nil || p.closed.Load() {
		return
	}
	if p.tsOffset != 0 {
		f = f.withTime(f.Time + p.tsOffset)
	}
	if f.Header && f.Type == flv.TagScript {
		if body := flv.StripSetDataFrame(f.Payload); len(body) != len(f.Payload) {
			f = f.withPayload(body)
		}
	}
	s := p.s
	s.statsMu.Lock()
	s.meter.record(f)
	s.statsMu.Unlock()
	s.append(f)
}

// Close ends the stream: its key is free for a new publisher at once,
// readers drain what is cached and then get io.EOF, and observers are
// notified. It is idempotent.
func (p *Publisher) Close() {
	p.closeOnce.Do(func() {
		p.closed.Store(true)
		p.reg.end(p.s)
	})
}
