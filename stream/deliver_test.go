package stream

import (
	"errors"
	"io"
	"sync"
	"testing"
	"time"
)

// recordingSink is a Sink that records every TryWrite call. fail, when set,
// is returned by the next call (after recording its frames).
type recordingSink struct {
	mu    sync.Mutex
	calls [][]*Frame
	fail  error
}

func (s *recordingSink) TryWrite(frames []*Frame) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, append([]*Frame(nil), frames...))
	err := s.fail
	s.fail = nil
	return err
}

// setFail makes the next TryWrite fail with err.
func (s *recordingSink) setFail(err error) {
	s.mu.Lock()
	s.fail = err
	s.mu.Unlock()
}

// snapshot returns the calls so far.
func (s *recordingSink) snapshot() [][]*Frame {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]*Frame(nil), s.calls...)
}

// frames returns every frame written so far, in order.
func (s *recordingSink) frames() []*Frame {
	var out []*Frame
	for _, c := range s.snapshot() {
		out = append(out, c...)
	}
	return out
}

// resumeRecorder collects resume calls.
type resumeRecorder struct {
	ch chan error
}

func newResumeRecorder() *resumeRecorder { return &resumeRecorder{ch: make(chan error, 4)} }

func (r *resumeRecorder) resume(err error) { r.ch <- err }

// wait returns the next resume reason, failing after a generous timeout.
func (r *resumeRecorder) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-r.ch:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("resume was not called")
		return nil
	}
}

// waitFrames waits until the sink has written n frames.
func waitFrames(t *testing.T, s *recordingSink, n int) []*Frame {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := s.frames()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("sink got %d frames, want %d: %s", len(got), n, describe(got))
		}
		time.Sleep(time.Millisecond)
	}
}

// deliveryIdle waits until the stream's delivery goroutine has returned.
func deliveryIdle(t *testing.T, s *Stream) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		running := false
		for i := range s.deliv.shards {
			d := &s.deliv.shards[i]
			d.mu.Lock()
			running = running || d.running
			d.mu.Unlock()
		}
		if !running {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("delivery goroutine still running")
		}
		time.Sleep(time.Millisecond)
	}
}

// parkedOnKeyframe publishes keyframe k on a fresh stream, parks a reader
// on a recording sink and waits until the sink has k. Cleanup closes all.
func parkedOnKeyframe(t *testing.T, cfg Config, k *Frame) (*Publisher, *Reader, *recordingSink, *resumeRecorder) {
	t.Helper()
	reg, p := newTestStream(t, cfg)
	t.Cleanup(reg.Close)
	p.WriteFrame(k)
	r := p.Stream().NewReader(ReaderInfo{ID: "v"})
	t.Cleanup(r.Close)
	sink, rec := &recordingSink{}, newResumeRecorder()
	r.Park(sink, rec.resume)
	waitFrames(t, sink, 1)
	return p, r, sink, rec
}

func TestParkDeliversInOrderAndEnds(t *testing.T) {
	reg, p := newTestStream(t, Config{})
	defer reg.Close()
	s := p.Stream()
	vh, k := vidHeader(1), vidKey(0, 10)
	p.WriteFrame(vh)
	p.WriteFrame(k)
	r := s.NewReader(ReaderInfo{ID: "v"})
	defer r.Close()
	sink, rec := &recordingSink{}, newResumeRecorder()
	r.Park(sink, rec.resume)
	assertFrames(t, waitFrames(t, sink, 2), []*Frame{vh, k})

	i1, a1, i2 := vidInter(33, 5), aud(40, 3), vidInter(66, 5)
	for _, f := range []*Frame{i1, a1, i2} {
		p.WriteFrame(f)
	}
	assertFrames(t, waitFrames(t, sink, 5), []*Frame{vh, k, i1, a1, i2})
	if st := r.Stats(); st.Frames != 5 || st.Bytes != uint64(len(vh.Payload)+10+5+3+5) {
		t.Errorf("stats %+v, want 5 frames", st)
	}

	last := vidInter(99, 5)
	p.WriteFrame(last)
	p.Close()
	if err := rec.wait(t); !errors.Is(err, io.EOF) {
		t.Fatalf("resume(%v), want io.EOF", err)
	}
	assertFrames(t, sink.frames(), []*Frame{vh, k, i1, a1, i2, last})
	if r.Unpark() {
		t.Error("Unpark after the reader left: true")
	}
	deliveryIdle(t, s)
	if r.Park(sink, rec.resume) {
		t.Error("Park on an ended stream: true")
	}
}

func TestParkWouldBlockResumesWhereTheSinkStopped(t *testing.T) {
	k := vidKey(0, 10)
	p, r, sink, rec := parkedOnKeyframe(t, Config{}, k)
	s := p.Stream()

	// The sink takes the next batch only partly: it keeps the rest, and the
	// owner continues after the batch.
	sink.setFail(ErrWouldBlock)
	i1 := vidInter(33, 5)
	p.WriteFrame(i1)
	if err := rec.wait(t); !errors.Is(err, ErrWouldBlock) {
		t.Fatalf("resume(%v), want ErrWouldBlock", err)
	}
	assertFrames(t, sink.frames(), []*Frame{k, i1})
	i2 := vidInter(66, 5)
	p.WriteFrame(i2)
	assertFrames(t, drainPending(t, r, 8), []*Frame{i2})
	if got := len(sink.frames()); got != 2 {
		t.Errorf("sink got %d frames after the reader left it, want 2", got)
	}
	deliveryIdle(t, s)

	// Parked again, it picks up from its cursor.
	r.Park(sink, rec.resume)
	i3 := vidInter(99, 5)
	p.WriteFrame(i3)
	assertFrames(t, waitFrames(t, sink, 3), []*Frame{k, i1, i3})
}

func TestParkFailureAndClose(t *testing.T) {
	reg, p := newTestStream(t, Config{})
	defer reg.Close()
	s := p.Stream()
	p.WriteFrame(vidKey(0, 10))

	failing := s.NewReader(ReaderInfo{ID: "failing"})
	defer failing.Close()
	steady := s.NewReader(ReaderInfo{ID: "steady"})
	defer steady.Close()
	fSink, fRec := &recordingSink{}, newResumeRecorder()
	sSink, sRec := &recordingSink{}, newResumeRecorder()
	failing.Park(fSink, fRec.resume)
	steady.Park(sSink, sRec.resume)
	waitFrames(t, fSink, 1)
	waitFrames(t, sSink, 1)

	broken := errors.New("connection reset")
	fSink.setFail(broken)
	p.WriteFrame(vidInter(33, 5))
	if err := fRec.wait(t); !errors.Is(err, broken) {
		t.Fatalf("resume(%v), want the sink's error", err)
	}
	// The other reader is not disturbed.
	p.WriteFrame(vidInter(66, 5))
	waitFrames(t, sSink, 3)

	steady.Close()
	p.WriteFrame(vidInter(99, 5))
	if err := sRec.wait(t); !errors.Is(err, ErrClosed) {
		t.Fatalf("resume(%v) of a closed reader, want ErrClosed", err)
	}
	deliveryIdle(t, s)
}

func TestUnparkTakesTheReaderBack(t *testing.T) {
	p, r, sink, rec := parkedOnKeyframe(t, Config{}, vidKey(0, 10))
	s := p.Stream()
	if !r.Unpark() {
		t.Fatal("Unpark of a parked reader: false")
	}
	if r.Unpark() {
		t.Error("second Unpark: true")
	}
	deliveryIdle(t, s)
	i1 := vidInter(33, 5)
	p.WriteFrame(i1)
	assertFrames(t, drainPending(t, r, 8), []*Frame{i1})
	select {
	case err := <-rec.ch:
		t.Errorf("resume(%v) after Unpark", err)
	default:
	}
	if got := len(sink.frames()); got != 1 {
		t.Errorf("sink got %d frames after Unpark, want 1", got)
	}
}

func TestAudioHoldWaitsForVideo(t *testing.T) {
	p, _, sink, rec := parkedOnKeyframe(t, Config{AudioHold: time.Hour}, vidKey(0, 10))

	a1, a2, v1 := aud(10, 3), aud(31, 3), vidInter(33, 5)
	p.WriteFrame(a1)
	p.WriteFrame(a2)
	// Held audio does not wake the delivery goroutine.
	time.Sleep(50 * time.Millisecond)
	if got := sink.frames(); len(got) != 1 {
		t.Fatalf("held audio was delivered: %s", describe(got))
	}
	// The video frame takes the audio before it along, in one write.
	p.WriteFrame(v1)
	waitFrames(t, sink, 4)
	calls := sink.snapshot()
	assertFrames(t, calls[len(calls)-1], []*Frame{a1, a2, v1})

	// Headers are never held.
	ah := audHeader(2)
	p.WriteFrame(ah)
	assertFrames(t, waitFrames(t, sink, 5)[4:], []*Frame{ah})

	// The stream's end releases held audio.
	a3 := aud(52, 3)
	p.WriteFrame(a3)
	p.End()
	if err := rec.wait(t); !errors.Is(err, io.EOF) {
		t.Fatalf("resume(%v), want io.EOF", err)
	}
	assertFrames(t, sink.frames()[5:], []*Frame{a3})
}

func TestAudioHoldIsBounded(t *testing.T) {
	p, _, sink, _ := parkedOnKeyframe(t, Config{AudioHold: 10 * time.Millisecond}, vidKey(0, 10))
	// No video follows: the timer releases the audio.
	a1 := aud(10, 3)
	p.WriteFrame(a1)
	assertFrames(t, waitFrames(t, sink, 2)[1:], []*Frame{a1})
}

func TestAudioOnlyStreamIsNotHeld(t *testing.T) {
	reg, p := newTestStream(t, Config{AudioHold: time.Hour})
	defer reg.Close()
	s := p.Stream()
	r := s.NewReader(ReaderInfo{ID: "v"})
	defer r.Close()
	sink := &recordingSink{}
	r.Park(sink, newResumeRecorder().resume)
	a1 := aud(0, 3)
	p.WriteFrame(a1)
	assertFrames(t, waitFrames(t, sink, 1), []*Frame{a1})
}

func TestRegistryCloseWaitsForDelivery(t *testing.T) {
	reg, p := newTestStream(t, Config{})
	s := p.Stream()
	p.WriteFrame(vidKey(0, 10))
	var recs []*resumeRecorder
	for range 8 {
		r := s.NewReader(ReaderInfo{ID: "v"})
		defer r.Close()
		rec := newResumeRecorder()
		recs = append(recs, rec)
		r.Park(&recordingSink{}, rec.resume)
	}
	reg.Close()
	// Every delivery goroutine has returned by now, each reader told why.
	for i := range s.deliv.shards {
		d := &s.deliv.shards[i]
		d.mu.Lock()
		running, parked := d.running, len(d.parked)
		d.mu.Unlock()
		if running || parked != 0 {
			t.Fatalf("shard %d after Registry.Close: running %v, %d parked", i, running, parked)
		}
	}
	for _, rec := range recs {
		if err := rec.wait(t); !errors.Is(err, io.EOF) {
			t.Fatalf("resume(%v), want io.EOF", err)
		}
	}
}
