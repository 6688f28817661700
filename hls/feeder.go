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
	// videoTracks are the video track ids noteRenditions last saw; used
	// by the feeder goroutine only.
	videoTracks []uint8
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
	run := feedRun{m: m, st: st, seg: seg, log: log}
	buf := make([]*stream.Frame, readBatch)
	for {
		n, err := r.Read(ctx, buf)
		run.checkResyncs(r.Stats().Resyncs)
		for i := range n {
			run.write(buf[i])
			buf[i] = nil
		}
		if n > 0 {
			m.noteRenditions(st, f) // renditions.go
		}
		run.showTracks()
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

// feedRun is one feeder's segmenting of the frames it reads.
type feedRun struct {
	m   *Manager
	st  *streamState
	seg *Segmenter
	log *slog.Logger
	// resyncs is the reader's resync count seen; errCount counts the
	// frames not segmented for an error.
	resyncs, errCount uint64
	// gen is the publisher generation of the frames (haveGen: one seen).
	gen     uint32
	haveGen bool
	// shown holds the track statuses st.segStats last got.
	shown SegmenterStats
}

// checkResyncs starts a discontinuity when the reader skipped frames.
func (fr *feedRun) checkResyncs(resyncs uint64) {
	if resyncs == fr.resyncs {
		return
	}
	fr.resyncs = resyncs
	out, err := fr.seg.Discontinuity() // frames were skipped
	fr.m.emitOutput(fr.st, out, err, fr.log)
}

// write segments one frame.
func (fr *feedRun) write(f *stream.Frame) {
	if g := f.Generation(); fr.haveGen && g != fr.gen {
		// A new publisher continues the stream (republish or takeover): a
		// new coded stream, maybe new codecs.
		out, err := fr.seg.Restart()
		fr.m.emitOutput(fr.st, out, err, fr.log)
		fr.gen = g
	} else if !fr.haveGen {
		fr.gen, fr.haveGen = g, true
	}
	out, err := fr.seg.WriteFrame(f)
	if errors.Is(err, ErrUnsupportedCodec) {
		// Once per configuration: the track stays out (tracks.go).
		fr.log.Warn("track left out of HLS", "reason", err)
	} else if err != nil {
		fr.errCount++
		if bits.OnesCount64(fr.errCount) == 1 { // log 1st, 2nd, 4th, 8th … error
			fr.log.Warn("frame not segmented", "err", err, "errors", fr.errCount)
		}
	}
	fr.m.emitOutput(fr.st, out, nil, fr.log)
}

// showTracks publishes the track statuses when a track was included or
// left out: the API tells before the first segment (there may never be
// one).
func (fr *feedRun) showTracks() {
	if ss := fr.seg.Stats(); ss.Video != fr.shown.Video || ss.Audio != fr.shown.Audio {
		fr.st.mu.Lock()
		fr.st.segStats = ss
		fr.st.mu.Unlock()
		fr.shown = ss
	}
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
