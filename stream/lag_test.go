package stream

import (
	"sync"
	"testing"
	"time"
)

// fakeClock is a Registry clock the test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// newClockedStream is newTestStream with frames arriving at the times of
// the returned clock.
func newClockedStream(t testing.TB, cfg Config) (*fakeClock, *Publisher) {
	t.Helper()
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	reg, err := NewRegistry(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg.clock = clock.Now
	p, err := reg.Publish(Key{App: "live", Name: "test"}, PublisherInfo{ID: "p1", Protocol: "rtmp"})
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	return clock, p
}

// writePaced writes media frames numbered from first, one every 100 ms of
// clock (frame i arrives at i*100 ms and has timestamp i*100): every
// gop-th is a keyframe, every third other one audio; with gop 0 all are
// audio.
func writePaced(clock *fakeClock, p *Publisher, first, n, gop int) []*Frame {
	out := make([]*Frame, 0, n)
	for i := first; i < first+n; i++ {
		ts := uint32(i * 100)
		var f *Frame
		switch {
		case gop == 0 || (i%gop != 0 && i%3 == 0):
			f = aud(ts, 100)
		case i%gop == 0:
			f = vidKey(ts, 100)
		default:
			f = vidInter(ts, 100)
		}
		if i > 0 {
			clock.advance(100 * time.Millisecond)
		}
		p.WriteFrame(f)
		out = append(out, f)
	}
	return out
}

// TestSlowViewerSkipsToKeyframeWhenBehindLiveByMaxReaderLag: a reader that
// takes frames more slowly than they arrive (a viewer whose socket accepts
// less than the stream's rate) falls behind in time while its position is
// still cached; once its next frame is more than MaxReaderLag older than
// the newest, it skips to the newest keyframe and the skipped frames count
// as dropped. Within the bound it reads on without a gap.
func TestSlowViewerSkipsToKeyframeWhenBehindLiveByMaxReaderLag(t *testing.T) {
	clock, p := newClockedStream(t, Config{MaxReaderLag: time.Second})
	s := p.Stream()
	vh, ah := vidHeader(1), audHeader(1)
	p.WriteFrame(vh)
	p.WriteFrame(ah)
	all := writePaced(clock, p, 0, 10, 10)
	r := s.NewReader(ReaderInfo{ID: "slow"})
	defer r.Close()
	assertFrames(t, drainPending(t, r, 16), append([]*Frame{vh, ah}, all...))

	// 0.8 s behind with a newer keyframe (10) to jump to: within the
	// bound, nothing is skipped.
	all = append(all, writePaced(clock, p, 10, 9, 10)...)
	assertFrames(t, drainPending(t, r, 64), all[10:19])

	// The reader takes 3 frames and stops while 23 more arrive: its next
	// frame (22) arrived 2.2 s before the newest (44).
	all = append(all, writePaced(clock, p, 19, 3, 10)...)
	buf := make([]*Frame, 3)
	if n, err := r.Read(canceled(), buf); n != 3 || err != nil {
		t.Fatalf("Read = %d, %v", n, err)
	}
	assertFrames(t, buf, all[19:22])
	all = append(all, writePaced(clock, p, 22, 23, 10)...)
	assertFrames(t, drainPending(t, r, 64), all[40:])
	if st := r.Stats(); st.Dropped != 40-22 || st.Resyncs != 1 {
		t.Fatalf("slow reader stats %+v, want Dropped %d Resyncs 1", st, 40-22)
	}
	if got := s.Stats().Dropped; got != 40-22 {
		t.Fatalf("stream Dropped = %d, want %d", got, 40-22)
	}
}

// TestRingKeepsLastGOPAndMaxReaderLag: with MaxReaderLag set, the ring
// holds what joining readers need (the newest GOP) and what readers within
// the bound need (the frames of the last MaxReaderLag), and frees older
// frames, whatever the frame and byte caps would allow.
func TestRingKeepsLastGOPAndMaxReaderLag(t *testing.T) {
	for _, tc := range []struct {
		name string
		gop  int // frames, 100 ms each; 0: audio only
		n    int
		// first is the oldest frame kept.
		first int
	}{
		// 3 s GOPs, newest keyframe 60: the whole GOP, 1.4 s of frames.
		{"GOP longer than the bound", 30, 75, 60},
		// 0.5 s GOPs: the frames of the last second, 39 to 49.
		{"GOP shorter than the bound", 5, 50, 39},
		// Audio only: the frames of the last second.
		{"audio only", 0, 50, 39},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock, p := newClockedStream(t, Config{MaxReaderLag: time.Second})
			s := p.Stream()
			all := writePaced(clock, p, 0, tc.n, tc.gop)
			kept := all[tc.first:]
			if st := s.Stats(); st.CachedFrames != len(kept) || st.CachedBytes != 100*len(kept) {
				t.Fatalf("cache holds %d frames / %d bytes, want %d / %d", st.CachedFrames, st.CachedBytes,
					len(kept), 100*len(kept))
			}
			s.mu.RLock()
			for i, e := range s.ring {
				if e.frame != nil && e.frame.Time < kept[0].Time {
					t.Errorf("ring slot %d still holds the trimmed frame at %d ms", i, e.frame.Time)
				}
			}
			s.mu.RUnlock()
			if tc.gop == 0 {
				return
			}
			// A joining reader starts at the newest keyframe.
			r := s.NewReader(ReaderInfo{})
			defer r.Close()
			key := tc.n - 1 - (tc.n-1)%tc.gop
			assertFrames(t, drainPending(t, r, 64), all[key:])
		})
	}
}
