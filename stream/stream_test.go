package stream

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"

	"github.com/mediaserver/mediaserver/flv"
)

func TestReaderJoinsMidStreamGetsHeadersThenKeyframe(t *testing.T) {
	_, p := newTestStream(t, Config{})
	m, vh, ah := metaFrame(1), vidHeader(1), audHeader(1)
	k0, k100 := vidKey(0, 10), vidKey(100, 10)
	a1, v1, a2, a3, v2 := aud(20, 5), vidInter(40, 5), aud(60, 5), aud(120, 5), vidInter(140, 5)
	for _, f := range []*Frame{m, vh, ah, k0, a1, v1, a2, k100, a3, v2} {
		p.WriteFrame(f)
	}
	r := p.Stream().NewReader(ReaderInfo{ID: "r1"})
	defer r.Close()
	for _, batch := range []int{1, 2, 64} {
		r2 := p.Stream().NewReader(ReaderInfo{ID: "r2"})
		assertJoined(t, drainPending(t, r2, batch), 100, []*Frame{m, vh, ah, k100, a3, v2})
		r2.Close()
	}
	assertJoined(t, drainPending(t, r, 16), 100, []*Frame{m, vh, ah, k100, a3, v2})
	if st := r.Stats(); st.Dropped != 0 || st.Frames != 6 || st.Bytes != uint64(len(m.Payload)+len(vh.Payload)+len(ah.Payload)+20) {
		t.Fatalf("reader stats %+v", st)
	}
}

func TestHeadersChangedMidStreamDeliveredInOrder(t *testing.T) {
	_, p := newTestStream(t, Config{})
	s := p.Stream()
	m1, vh1, ah1 := metaFrame(1), vidHeader(1), audHeader(1)
	k0, a0 := vidKey(0, 10), aud(10, 5)
	for _, f := range []*Frame{m1, vh1, ah1, k0, a0} {
		p.WriteFrame(f)
	}
	r := s.NewReader(ReaderInfo{})
	defer r.Close()
	assertFrames(t, drainPending(t, r, 8), []*Frame{m1, vh1, ah1, k0, a0})

	ah2, a1, vh2, k1, m2, v1 := audHeader(2), aud(30, 5), vidHeader(2), vidKey(40, 10), metaFrame(2), vidInter(50, 5)
	for _, f := range []*Frame{ah2, a1, vh2, k1, m2, v1} {
		p.WriteFrame(f)
	}
	assertFrames(t, drainPending(t, r, 3), []*Frame{ah2, a1, vh2, k1, m2, v1})
	if h := s.Headers(); h.Metadata != m2 || h.Video != vh2 || h.Audio != ah2 {
		t.Fatalf("Headers() = %+v", h)
	}
	// A new reader starts at k1 with the header set in effect there, and
	// then gets the later metadata in order.
	r2 := s.NewReader(ReaderInfo{})
	defer r2.Close()
	assertJoined(t, drainPending(t, r2, 8), 40, []*Frame{m1, vh2, ah2, k1, m2, v1})
}

// writeGOPs writes n media frames numbered from first: frame i has
// timestamp i, every gop-th is a keyframe, every third other one audio.
func writeGOPs(p *Publisher, first, n, gop, size int) []*Frame {
	out := make([]*Frame, 0, n)
	for i := first; i < first+n; i++ {
		var f *Frame
		switch {
		case i%gop == 0:
			f = vidKey(uint32(i), size)
		case i%3 == 0:
			f = aud(uint32(i), size)
		default:
			f = vidInter(uint32(i), size)
		}
		p.WriteFrame(f)
		out = append(out, f)
	}
	return out
}

func TestStalledReaderResyncsAtKeyframeWhileOtherSeesEverything(t *testing.T) {
	const cache, gop = 64, 10
	_, p := newTestStream(t, Config{GOPCacheFrames: cache})
	s := p.Stream()
	vh, ah := vidHeader(1), audHeader(1)
	p.WriteFrame(vh)
	p.WriteFrame(ah)
	all := writeGOPs(p, 0, 5, gop, 100)

	stalled := s.NewReader(ReaderInfo{ID: "stalled"})
	defer stalled.Close()
	live := s.NewReader(ReaderInfo{ID: "live"})
	defer live.Close()
	assertFrames(t, drainPending(t, stalled, 4), append([]*Frame{vh, ah}, all...))
	liveGot := drainPending(t, live, 4)

	for i := 5; i < 500; i++ {
		all = append(all, writeGOPs(p, i, 1, gop, 100)...)
		liveGot = append(liveGot, drainPending(t, live, 7)...)
	}
	assertFrames(t, liveGot, append([]*Frame{vh, ah}, all...))
	if st := live.Stats(); st.Dropped != 0 || st.Resyncs != 0 {
		t.Fatalf("live reader stats %+v", st)
	}

	// The ring holds the last 64 frames (440..499); the newest keyframe is 490.
	got := drainPending(t, stalled, 4)
	assertFrames(t, got, all[490:])
	st := stalled.Stats()
	if st.Dropped != 490-5 || st.Resyncs != 1 {
		t.Fatalf("stalled reader stats %+v, want Dropped %d Resyncs 1", st, 490-5)
	}
	if got := s.Stats().Dropped; got != 485 {
		t.Fatalf("stream Dropped = %d, want 485", got)
	}
	stalled.Close()
	if got := s.Stats().Dropped; got != 485 {
		t.Fatalf("stream Dropped after reader close = %d, want 485", got)
	}
}

func TestResyncResendsOnlyChangedHeaders(t *testing.T) {
	_, p := newTestStream(t, Config{GOPCacheFrames: 16})
	s := p.Stream()
	m, vh1, ah := metaFrame(1), vidHeader(1), audHeader(1)
	p.WriteFrame(m)
	p.WriteFrame(vh1)
	p.WriteFrame(ah)
	first := writeGOPs(p, 0, 3, 10, 10)
	r := s.NewReader(ReaderInfo{})
	defer r.Close()
	assertFrames(t, drainPending(t, r, 8), append([]*Frame{m, vh1, ah}, first...))

	writeGOPs(p, 3, 30, 10, 10)
	vh2 := vidHeader(2)
	p.WriteFrame(vh2)
	more := writeGOPs(p, 33, 30, 10, 10)
	// The newest cached keyframe is 60; only the video config changed.
	got := drainPending(t, r, 1)
	assertJoined(t, got, 60, append([]*Frame{vh2}, more[60-33:]...))
	if st := r.Stats(); st.Dropped != 60-3 {
		t.Fatalf("Dropped = %d, want %d", st.Dropped, 60-3)
	}
}

func TestPublisherNeverBlocksWithStalledReaders(t *testing.T) {
	cfg := Config{GOPCacheFrames: 256, GOPCacheBytes: 1 << 20}
	_, p := newTestStream(t, cfg)
	s := p.Stream()
	p.WriteFrame(vidHeader(1))
	stalled := s.NewReader(ReaderInfo{ID: "never reads"})
	defer stalled.Close()
	parked := s.NewReader(ReaderInfo{ID: "read once then stalled"})
	defer parked.Close()
	writeGOPs(p, 0, 1, 30, 1000)
	drainPending(t, parked, 8)

	const total = 100_000
	writeGOPs(p, 1, total-1, 30, 1000) // returns only if WriteFrame never blocked
	st := s.Stats()
	if st.FramesIn != total+1 {
		t.Fatalf("FramesIn = %d, want %d", st.FramesIn, total+1)
	}
	if st.CachedFrames > cfg.GOPCacheFrames || st.CachedBytes > cfg.GOPCacheBytes {
		t.Fatalf("cache not bounded: %d frames, %d bytes", st.CachedFrames, st.CachedBytes)
	}
	s.mu.RLock()
	ringLen := len(s.ring)
	s.mu.RUnlock()
	if ringLen > ringCapacity(cfg.GOPCacheFrames) {
		t.Fatalf("ring grew to %d entries", ringLen)
	}
	got := drainPending(t, parked, 64)
	if len(got) == 0 || !got[0].Keyframe {
		t.Fatalf("stalled reader resumed with %s", describe(got[:min(len(got), 3)]))
	}
	if d := parked.Stats().Dropped; d == 0 {
		t.Fatal("no drops counted for the stalled reader")
	}
}

func TestCloseDrainsThenEOF(t *testing.T) {
	reg, p := newTestStream(t, Config{})
	s := p.Stream()
	vh := vidHeader(1)
	p.WriteFrame(vh)
	frames := writeGOPs(p, 0, 20, 10, 10)
	r := s.NewReader(ReaderInfo{})
	defer r.Close()

	blocked := s.NewReader(ReaderInfo{})
	defer blocked.Close()
	drainPending(t, blocked, 64)
	errc := make(chan error, 1)
	go func() {
		buf := make([]*Frame, 4)
		for {
			if _, err := blocked.Read(context.Background(), buf); err != nil {
				errc <- err
				return
			}
		}
	}()

	p.Close()
	if _, ok := reg.Lookup(s.Key()); ok {
		t.Fatal("stream still registered after Close")
	}
	got, err := drain(t, r, 3)
	if !errors.Is(err, io.EOF) {
		t.Fatalf("after drain: %v, want io.EOF", err)
	}
	assertJoined(t, got, 10, append([]*Frame{vh}, frames[10:]...))
	if n, err := r.Read(context.Background(), make([]*Frame, 1)); n != 0 || !errors.Is(err, io.EOF) {
		t.Fatalf("Read after EOF = %d, %v", n, err)
	}
	if err := <-errc; !errors.Is(err, io.EOF) {
		t.Fatalf("blocked reader got %v, want io.EOF", err)
	}
	select {
	case <-s.Done():
	default:
		t.Fatal("Done not closed")
	}
	// Frames written after Close are ignored; a late reader still drains the
	// cached GOP.
	p.WriteFrame(vidKey(999, 10))
	late := s.NewReader(ReaderInfo{})
	defer late.Close()
	got, err = drain(t, late, 64)
	if !errors.Is(err, io.EOF) {
		t.Fatalf("late reader: %v", err)
	}
	assertJoined(t, got, 10, append([]*Frame{vh}, frames[10:]...))
}

func TestReadUnblocksOnContextCancel(t *testing.T) {
	_, p := newTestStream(t, Config{})
	r := p.Stream().NewReader(ReaderInfo{})
	defer r.Close()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := r.Read(ctx, make([]*Frame, 8))
		errc <- err
	}()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Read = %v, want context.Canceled", err)
	}
}

func TestReaderCloseUnblocksRead(t *testing.T) {
	_, p := newTestStream(t, Config{})
	s := p.Stream()
	r := s.NewReader(ReaderInfo{})
	errc := make(chan error, 1)
	go func() {
		_, err := r.Read(context.Background(), make([]*Frame, 8))
		errc <- err
	}()
	r.Close()
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("Read = %v, want ErrClosed", err)
	}
	if n := s.Stats().Readers; n != 0 {
		t.Fatalf("Readers = %d after Close", n)
	}
	r.Close() // idempotent
}

func TestTrimByFrames(t *testing.T) {
	_, p := newTestStream(t, Config{GOPCacheFrames: 16})
	s := p.Stream()
	frames := writeGOPs(p, 0, 100, 10, 10)
	if st := s.Stats(); st.CachedFrames != 16 || st.CachedBytes != 160 {
		t.Fatalf("cache holds %d frames / %d bytes, want 16 / 160", st.CachedFrames, st.CachedBytes)
	}
	r := s.NewReader(ReaderInfo{})
	defer r.Close()
	assertFrames(t, drainPending(t, r, 64), frames[90:])
}

func TestTrimByBytes(t *testing.T) {
	_, p := newTestStream(t, Config{GOPCacheBytes: 1000})
	s := p.Stream()
	frames := writeGOPs(p, 0, 50, 5, 100)
	if st := s.Stats(); st.CachedFrames != 10 || st.CachedBytes != 1000 {
		t.Fatalf("cache holds %d frames / %d bytes, want 10 / 1000", st.CachedFrames, st.CachedBytes)
	}
	r := s.NewReader(ReaderInfo{})
	defer r.Close()
	assertFrames(t, drainPending(t, r, 64), frames[45:])

	// A frame larger than the whole cache is still kept, alone.
	big := vidKey(50, 5000)
	p.WriteFrame(big)
	if st := s.Stats(); st.CachedFrames != 1 || st.CachedBytes != 5000 {
		t.Fatalf("cache holds %d frames / %d bytes, want 1 / 5000", st.CachedFrames, st.CachedBytes)
	}
	assertFrames(t, drainPending(t, r, 64), []*Frame{big})
}

func TestGOPLongerThanCacheNewReaderWaitsForKeyframe(t *testing.T) {
	_, p := newTestStream(t, Config{GOPCacheFrames: 16})
	s := p.Stream()
	vh := vidHeader(1)
	p.WriteFrame(vh)
	writeGOPs(p, 0, 40, 100, 10) // keyframe 0 trimmed long ago
	r := s.NewReader(ReaderInfo{})
	defer r.Close()
	if got := drainPending(t, r, 8); len(got) != 0 {
		t.Fatalf("got %s before any cached keyframe", describe(got))
	}
	writeGOPs(p, 40, 60, 100, 10) // up to 99: still no keyframe
	if got := drainPending(t, r, 8); len(got) != 0 {
		t.Fatalf("got %s before the next keyframe", describe(got))
	}
	rest := writeGOPs(p, 100, 15, 100, 10)
	assertJoined(t, drainPending(t, r, 8), 100, append([]*Frame{vh}, rest...))
	if st := r.Stats(); st.Dropped != 0 {
		t.Fatalf("a new reader waiting for its first keyframe counted %d drops", st.Dropped)
	}
}

// TestReaderTrimmedBeforeItsFirstMediaFrameCountsNoDrops pins a reader
// that joined at a keyframe, took only a sequence header and lost its
// position before it read a media frame: it starts at the newer keyframe
// instead, and since nothing it delivered has a gap, it counts no drop.
func TestReaderTrimmedBeforeItsFirstMediaFrameCountsNoDrops(t *testing.T) {
	const cache, gop = 64, 10
	_, p := newTestStream(t, Config{GOPCacheFrames: cache})
	s := p.Stream()
	vh, ah := vidHeader(1), audHeader(1)
	p.WriteFrame(vh)
	p.WriteFrame(ah)
	r := s.NewReader(ReaderInfo{})
	defer r.Close()
	writeGOPs(p, 0, 5, gop, 10)
	first := make([]*Frame, 1)
	if n, err := r.Read(canceled(), first); n != 1 || err != nil || !first[0].Header {
		t.Fatalf("first read: %d %s, %v; want one sequence header", n, describe(first[:n]), err)
	}
	// The ring holds the last 64 frames (41..104); the newest keyframe is 100.
	rest := writeGOPs(p, 5, 100, gop, 10)
	assertJoined(t, drainPending(t, r, 8), 100, append([]*Frame{ah}, rest[100-5:]...))
	if st := r.Stats(); st.Dropped != 0 || st.Resyncs != 1 {
		t.Fatalf("stats %+v, want Dropped 0 Resyncs 1", st)
	}
}

func TestAudioOnlyReaderStartsImmediately(t *testing.T) {
	_, p := newTestStream(t, Config{})
	s := p.Stream()
	m, ah := metaFrame(1), audHeader(1)
	p.WriteFrame(m)
	p.WriteFrame(ah)
	var last *Frame
	for i := range 10 {
		last = aud(uint32(i*20), 10)
		p.WriteFrame(last)
	}
	r := s.NewReader(ReaderInfo{})
	defer r.Close()
	assertJoined(t, drainPending(t, r, 8), last.Time, []*Frame{m, ah, last})

	// Video appearing later starts at its first keyframe.
	vh, vi, k, a := vidHeader(1), vidInter(200, 5), vidKey(220, 5), aud(230, 5)
	for _, f := range []*Frame{vh, vi, k, a} {
		p.WriteFrame(f)
	}
	assertFrames(t, drainPending(t, r, 8), []*Frame{vh, k, a})

	// An empty audio-only stream: the reader gets the first frame as it comes.
	_, p2 := newTestStream(t, Config{})
	r2 := p2.Stream().NewReader(ReaderInfo{})
	defer r2.Close()
	drainPending(t, r2, 8)
	a0 := aud(0, 5)
	p2.WriteFrame(a0)
	assertFrames(t, drainPending(t, r2, 8), []*Frame{a0})
}

func TestMaxReaderLagBytesResyncs(t *testing.T) {
	_, p := newTestStream(t, Config{MaxReaderLagBytes: 1000})
	s := p.Stream()
	first := writeGOPs(p, 0, 3, 5, 100)
	r := s.NewReader(ReaderInfo{})
	defer r.Close()
	assertFrames(t, drainPending(t, r, 8), first)
	// 12 frames behind (1200 bytes) but no keyframe after the position yet
	// beyond 5 and 10: jumps to the newest one, 10.
	more := writeGOPs(p, 3, 12, 5, 100)
	assertFrames(t, drainPending(t, r, 8), more[10-3:])
	if st := r.Stats(); st.Dropped != 7 || st.Resyncs != 1 {
		t.Fatalf("stats %+v, want Dropped 7 Resyncs 1", st)
	}
	// Lagging within a GOP (no newer keyframe) just keeps reading.
	tail := writeGOPs(p, 16, 14, 100, 100)
	assertFrames(t, drainPending(t, r, 64), tail)
}

func TestDuplicateHeaderIsNotAppendedAgain(t *testing.T) {
	_, p := newTestStream(t, Config{})
	s := p.Stream()
	vh := vidHeader(1)
	k0 := vidKey(0, 10)
	p.WriteFrame(vh)
	p.WriteFrame(k0)
	r := s.NewReader(ReaderInfo{})
	defer r.Close()
	assertFrames(t, drainPending(t, r, 8), []*Frame{vh, k0})

	dup, k1 := vidHeader(1), vidKey(40, 10)
	p.WriteFrame(dup)
	p.WriteFrame(k1)
	assertFrames(t, drainPending(t, r, 8), []*Frame{k1})
	if h := s.Headers(); h.Video != vh {
		t.Fatal("duplicate header replaced the header set")
	}
	if st := s.Stats(); st.FramesIn != 4 {
		t.Fatalf("FramesIn = %d, want 4", st.FramesIn)
	}

	// After a sequence end the same configuration is a new sequence.
	end := &Frame{Type: flv.TagVideo, Time: 50, Codec: flv.FourCCAVC, Payload: []byte{0x17, 2, 0, 0, 0}, seqEnd: true}
	again, k2 := vidHeader(1), vidKey(60, 10)
	p.WriteFrame(end)
	p.WriteFrame(again)
	p.WriteFrame(k2)
	assertFrames(t, drainPending(t, r, 8), []*Frame{end, again, k2})
}

func TestSetDataFrameMetadataStoredAsOnMetaData(t *testing.T) {
	_, p := newTestStream(t, Config{})
	s := p.Stream()
	body := []byte{0x02, 0x00, 0x0a}
	body = append(body, "onMetaData"...)
	body = append(body, 0x05)
	wrapped := append([]byte{0x02, 0x00, 0x0d}, "@setDataFrame"...)
	wrapped = append(wrapped, body...)
	p.WriteFrame(&Frame{Type: flv.TagScript, Header: true, Payload: wrapped})
	h := s.Headers()
	if h.Metadata == nil || string(h.Metadata.Payload) != string(body) {
		t.Fatalf("metadata payload %q, want %q", h.Metadata.Payload, body)
	}
}

func TestRingGrowthKeepsOrder(t *testing.T) {
	_, p := newTestStream(t, Config{GOPCacheFrames: 1024})
	s := p.Stream()
	first := writeGOPs(p, 0, 10, 1000, 1)
	r := s.NewReader(ReaderInfo{})
	defer r.Close()
	assertFrames(t, drainPending(t, r, 4), first)
	more := writeGOPs(p, 10, 600, 1000, 1)
	assertFrames(t, drainPending(t, r, 7), more)
	if st := s.Stats(); st.CachedFrames != 610 {
		t.Fatalf("CachedFrames = %d, want 610", st.CachedFrames)
	}
}

// TestConcurrentReaders runs many readers against a fast publisher and a
// small cache: each must see increasing timestamps, resume after every gap
// at a keyframe, and count exactly the frames it missed.
func TestConcurrentReaders(t *testing.T) {
	const readers, frames, gop = 32, 20_000, 10
	reg, p := newTestStream(t, Config{GOPCacheFrames: 64})
	defer reg.Close()
	s := p.Stream()
	p.WriteFrame(vidHeader(1))
	p.WriteFrame(audHeader(1))

	var wg sync.WaitGroup
	errs := make(chan error, readers)
	for i := range readers {
		r := s.NewReader(ReaderInfo{})
		wg.Go(func() {
			defer r.Close()
			errs <- checkReader(r, 1+i%9)
		})
	}
	writeGOPs(p, 0, frames, gop, 10)
	p.Close()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// checkReader reads r to EOF and validates ordering and drop accounting.
func checkReader(r *Reader, batch int) error {
	buf := make([]*Frame, batch)
	var prev int64 = -1
	var missed uint64
	var media uint64
	for {
		n, err := r.Read(context.Background(), buf)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		for _, f := range buf[:n] {
			if f.Header {
				continue
			}
			media++
			ts := int64(f.Time)
			switch {
			case prev < 0:
				if !f.Keyframe {
					return errors.New("first media frame is not a keyframe: " + describe([]*Frame{f}))
				}
			case ts <= prev:
				return errors.New("out of order: " + describe([]*Frame{f}))
			case ts > prev+1:
				if !f.Keyframe {
					return errors.New("resumed after a gap without a keyframe: " + describe([]*Frame{f}))
				}
				missed += uint64(ts - prev - 1)
			}
			prev = ts
		}
	}
	if st := r.Stats(); st.Dropped != missed {
		return errors.New("dropped count " + itoa(uint32(st.Dropped)) + ", missed " + itoa(uint32(missed)))
	}
	if media == 0 {
		return errors.New("reader got no media")
	}
	return nil
}

// Regression: readers were positioned lazily at their first Read, so a
// reader created before a burst of frames silently started at a later
// keyframe and lost the frames published since it was created.
func TestNewReaderPositionedAtCreationNotFirstRead(t *testing.T) {
	_, p := newTestStream(t, Config{})
	s := p.Stream()
	r := s.NewReader(ReaderInfo{})
	defer r.Close()
	vh := vidHeader(1)
	p.WriteFrame(vh)
	frames := writeGOPs(p, 0, 35, 10, 10)
	assertFrames(t, drainPending(t, r, 8), append([]*Frame{vh}, frames...))
	if st := r.Stats(); st.Dropped != 0 {
		t.Fatalf("Dropped = %d", st.Dropped)
	}
}

func TestResyncWhileHeadersPendingDeliversEachHeaderOnce(t *testing.T) {
	_, p := newTestStream(t, Config{GOPCacheFrames: 16})
	s := p.Stream()
	m, vh, ah := metaFrame(1), vidHeader(1), audHeader(1)
	p.WriteFrame(m)
	p.WriteFrame(vh)
	p.WriteFrame(ah)
	writeGOPs(p, 0, 3, 10, 10)
	r := s.NewReader(ReaderInfo{})
	defer r.Close()
	one := make([]*Frame, 1)
	if n, err := r.Read(canceled(), one); n != 1 || err != nil || one[0] != m {
		t.Fatalf("first Read = %d, %v, %s", n, err, describe(one[:n]))
	}
	more := writeGOPs(p, 3, 40, 10, 10) // position trimmed; newest keyframe 40
	assertJoined(t, drainPending(t, r, 1), 40, append([]*Frame{vh, ah}, more[40-3:]...))
}
