package hls

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/bits"

	"github.com/mediaserver/mediaserver/stream"
)

// feeder is one goroutine reading a live stream into a state's segmenter.
type feeder struct {
	src *stream.Stream
	// reader is attached (and so positioned) when the feeder is created,
	// so that no frame published after that is missed while the goroutine
	// starts or waits for the previous feeder to drain.
	reader *stream.Reader
	cancel context.CancelFunc
	done   chan struct{}
}

// feed reads s into the state's segmenter until the stream ends or ctx is
// cancelled (Close, or an idle segmenter started on request). restart is
// set for a publisher after the first; newPlaylist when the playlist of the
// one before had ended, so this one starts a new playlist.
func (m *Manager) feed(ctx context.Context, st *streamState, f *feeder, prev *feeder, restart, newPlaylist bool) {
	defer m.wg.Done()
	defer close(f.done)
	defer f.cancel()
	r := f.reader
	defer r.Close()
	if m.feedHook != nil {
		m.feedHook()
	}
	log := m.log.With("stream", st.key.String(), "publisher", f.src.Info().ID)
	if prev != nil {
		select {
		case <-prev.done:
		case <-ctx.Done():
			m.feederDone(st, f)
			return
		}
	}
	seg := st.seg
	if restart {
		out, err := seg.Restart()
		m.emitOutput(st, out, err, log)
	}
	if newPlaylist {
		seg.newPlaylist()
	}
	log.Debug("segmenter started", "token", st.token)
	buf := make([]*stream.Frame, readBatch)
	var resyncs, errCount uint64
	gen, haveGen := uint32(0), false
	var shown SegmenterStats // the track statuses st.segStats last got
	for {
		n, err := r.Read(ctx, buf)
		if rs := r.Stats().Resyncs; rs != resyncs {
			resyncs = rs
			out, derr := seg.Discontinuity() // frames were skipped
			m.emitOutput(st, out, derr, log)
		}
		for i := range n {
			if g := buf[i].Generation(); haveGen && g != gen {
				// A new publisher continues the stream (republish or
				// takeover): a new coded stream, maybe new codecs.
				out, rerr := seg.Restart()
				m.emitOutput(st, out, rerr, log)
				gen = g
			} else if !haveGen {
				gen, haveGen = g, true
			}
			out, ferr := seg.WriteFrame(buf[i])
			buf[i] = nil
			if errors.Is(ferr, ErrUnsupportedCodec) {
				// Once per configuration: the track stays out (tracks.go).
				log.Warn("track left out of HLS", "reason", ferr)
			} else if ferr != nil {
				errCount++
				if bits.OnesCount64(errCount) == 1 { // log 1st, 2nd, 4th, 8th … error
					log.Warn("frame not segmented", "err", ferr, "errors", errCount)
				}
			}
			m.emitOutput(st, out, nil, log)
		}
		if n > 0 {
			m.noteRenditions(st, f.src) // renditions.go
		}
		if ss := seg.Stats(); ss.Video != shown.Video || ss.Audio != shown.Audio {
			// A track was included or left out: the API tells before the first
			// segment (there may never be one).
			st.mu.Lock()
			st.segStats = ss
			st.mu.Unlock()
			shown = ss
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, context.Canceled) && !errors.Is(err, stream.ErrClosed) {
				log.Warn("reading stream", "err", err)
			}
			break
		}
	}
	if m.ctx.Err() == nil {
		out, err := seg.Flush()
		m.emitOutput(st, out, err, log)
	}
	st.mu.Lock()
	st.segStats = seg.Stats()
	st.mu.Unlock()
	ss, rs := seg.Stats(), r.Stats()
	log.Debug("segmenter stopped", "segments", ss.Segments, "frames", ss.Frames, "dropped", ss.Dropped,
		"invalid", ss.Invalid, "reader_dropped", rs.Dropped, "resyncs", rs.Resyncs)
	m.feederDone(st, f)
}

// feederDone marks the state as no longer live when f was its current
// feeder.
func (m *Manager) feederDone(st *streamState, f *feeder) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if st.feeder != f {
		return
	}
	st.feeder = nil
	now := m.now()
	st.mu.Lock()
	st.live = false
	st.leftAt = now
	if m.cfg.EndListDelay <= 0 && len(st.windowEntries()) > 0 {
		st.endList = true
		st.rebuild(now)
	}
	st.notify()
	st.mu.Unlock()
}

// emitOutput hands what one call of the state's segmenter produced to the
// serving side, in the order it happened: the parts finished (of the
// segment in progress, or of the one the call finished), the finished
// segment, then the init section the next segment needs.
func (m *Manager) emitOutput(st *streamState, seg *Segment, err error, log *slog.Logger) {
	for _, p := range st.seg.takeParts() {
		m.emitPart(st, p)
	}
	m.emit(st, seg, err, log)
	if gen, data := st.seg.takeInit(); data != nil {
		m.emitInit(st, gen, data)
	}
}

// emit stores a segment the segmenter produced and adds it to the
// playlist.
func (m *Manager) emit(st *streamState, seg *Segment, err error, log *slog.Logger) {
	if err != nil {
		log.Warn("segmenter", "err", err)
	}
	if seg == nil {
		return
	}
	st.mu.Lock()
	seq := st.nextSeq
	st.nextSeq++
	st.mu.Unlock()
	name := st.segmentFile(seq)
	body, err := m.store.put(st.key, name, seg.Data)
	now := m.now()
	st.mu.Lock()
	if err != nil {
		st.nextSeq = seq // only this goroutine advances nextSeq
		st.missing = true
		st.mu.Unlock()
		log.Error("store segment", "err", err)
		return
	}
	if st.freed {
		st.mu.Unlock()
		m.store.remove(st.key, name, body)
		return
	}
	m.segmentsTotal.Add(1)
	evicted := st.add(&segmentEntry{
		seq:         seq,
		name:        name,
		duration:    seg.Duration,
		pdt:         seg.ProgramDateTime,
		disc:        seg.Discontinuity,
		independent: seg.Independent,
		created:     now,
		body:        body,
		init:        seg.Init,
		partInfo:    seg.Parts,
	}, st.seg.Stats(), now)
	st.mu.Unlock()
	for _, e := range evicted {
		m.store.remove(st.key, e.name, e.body)
	}
}
