package stream

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/flv"
)

var testKey = Key{App: "live", Name: "test"}

// publishGOP writes headers and a keyframe, inter frames and audio from t0
// on, 40 ms apart.
func publishGOP(p *Publisher, t0 uint32, frames int, tag byte) {
	p.WriteFrame(metaFrame(tag))
	p.WriteFrame(vidHeader(tag))
	p.WriteFrame(audHeader(tag))
	for i := range frames {
		ts := t0 + uint32(i)*40
		if i == 0 {
			p.WriteFrame(vidKey(ts, 10))
		} else {
			p.WriteFrame(vidInter(ts, 10))
		}
		p.WriteFrame(aud(ts+3, 4))
	}
}

func TestRepublishContinuesTimelineForAttachedReaders(t *testing.T) {
	reg, p1 := newTestStream(t, Config{RepublishWindow: time.Minute})
	defer reg.Close()
	s := p1.Stream()
	r := s.NewReader(ReaderInfo{ID: "v"})
	defer r.Close()
	publishGOP(p1, 1000, 10, 1) // last media: audio at 1363, video step 40
	first := drainPending(t, r, 7)
	p1.Close()
	if st := s.State(); st != StateWaiting {
		t.Fatalf("state after the publisher left = %v, want waiting", st)
	}
	if got, ok := reg.Lookup(testKey); !ok || got != s {
		t.Fatal("waiting stream not found by Lookup")
	}
	// Nothing to read, and no end of stream.
	if n, err := r.Read(canceled(), make([]*Frame, 4)); n != 0 || !errors.Is(err, context.Canceled) {
		t.Fatalf("read while waiting: %d, %v", n, err)
	}

	p2, err := reg.Publish(testKey, PublisherInfo{ID: "p2", Protocol: "rtmp"})
	if err != nil {
		t.Fatalf("republish: %v", err)
	}
	if p2.Stream() != s || s.State() != StateLive || s.Info().ID != "p2" || s.Republishes() != 1 {
		t.Fatalf("republish made a new stream or kept old info: %v %v %q %d", p2.Stream() == s, s.State(), s.Info().ID, s.Republishes())
	}
	publishGOP(p2, 0, 3, 1) // an encoder restarting at 0, identical headers
	second := drainPending(t, r, 7)

	// Identical headers are sent again, before the new frames: the
	// sequence headers at the continued time, onMetaData at 0 (see
	// TestRepublishDoesNotShiftMetadata).
	if len(second) != 9 || !second[0].Header || !second[1].Header || !second[2].Header {
		t.Fatalf("after republish got %s, want 3 headers then 6 frames", describe(second))
	}
	const resume = 1363 + 40
	for i, f := range second {
		if f.Generation() != 1 {
			t.Errorf("frame %d generation %d, want 1", i, f.Generation())
		}
		want := uint32(resume)
		if f.Type == flv.TagScript {
			want = 0
		}
		if f.Header && f.Time != want {
			t.Errorf("header %d at %d, want %d", i, f.Time, want)
		}
	}
	if second[3].Time != resume || !second[3].Keyframe || second[4].Time != resume+3 || second[5].Time != resume+40 {
		t.Errorf("rebased frames %s, want key at %d, audio at %d, inter at %d", describe(second[3:6]), resume, resume+3, resume+40)
	}
	last := map[flv.TagType]uint32{}
	for _, f := range append(first, second...) {
		if f.Header {
			continue
		}
		if prev, ok := last[f.Type]; ok && f.Time <= prev {
			t.Errorf("%v timestamp %d after %d", f.Type, f.Time, prev)
		}
		last[f.Type] = f.Time
	}
	if first[0].Generation() != 0 {
		t.Errorf("first publisher's frames have generation %d", first[0].Generation())
	}
}

func TestRepublishWindowExpiryEndsStream(t *testing.T) {
	reg, err := NewRegistry(Config{RepublishWindow: 50 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	obs := &recordingObserver{reg: reg}
	reg.AddObserver(obs)
	p, err := reg.Publish(testKey, PublisherInfo{ID: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	r := p.Stream().NewReader(ReaderInfo{})
	defer r.Close()
	publishGOP(p, 0, 2, 1)
	p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	buf := make([]*Frame, 64)
	for {
		_, err := r.Read(ctx, buf)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read: %v, want io.EOF after the window", err)
		}
	}
	if st := p.Stream().State(); st != StateEnded {
		t.Errorf("state %v, want ended", st)
	}
	if _, ok := reg.Lookup(testKey); ok {
		t.Error("ended stream still registered")
	}
	// Observers hear of the end after readers were woken: wait for it.
	ev := obs.list()
	for deadline := time.Now().Add(10 * time.Second); len(ev) < 2 && time.Now().Before(deadline); ev = obs.list() {
		time.Sleep(time.Millisecond)
	}
	if len(ev) != 2 || ev[1].kind != "ended" {
		t.Errorf("observer events %v, want started then ended", ev)
	}
	select {
	case <-p.Done():
	default:
		t.Error("closed publisher's Done is open")
	}
}

func TestRepublishOffEndsAtOnce(t *testing.T) {
	reg, p := newTestStream(t, Config{})
	defer reg.Close()
	p.Close()
	if st := p.Stream().State(); st != StateEnded {
		t.Fatalf("state %v, want ended with no republish window", st)
	}
}

func TestRegistryCloseEndsWaitingStream(t *testing.T) {
	reg, p := newTestStream(t, Config{RepublishWindow: time.Hour})
	p.Close()
	reg.Close()
	if st := p.Stream().State(); st != StateEnded {
		t.Fatalf("state %v after Registry.Close, want ended", st)
	}
	if _, err := reg.Publish(testKey, PublisherInfo{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("publish after close: %v", err)
	}
}

func TestTakeover(t *testing.T) {
	for _, tc := range []struct {
		policy TakeoverMode
		owner  bool
		ok     bool
	}{
		{TakeoverRefuse, true, false},
		{"", true, false},
		{TakeoverAllow, false, false},
		{TakeoverAllow, true, true},
	} {
		reg, p1 := newTestStream(t, Config{Takeover: tc.policy})
		publishGOP(p1, 0, 2, 1)
		p2, err := reg.Publish(testKey, PublisherInfo{ID: "p2", Owner: tc.owner})
		if !tc.ok {
			if !errors.Is(err, ErrStreamBusy) {
				t.Errorf("policy %q owner %v: %v, want ErrStreamBusy", tc.policy, tc.owner, err)
			}
			reg.Close()
			continue
		}
		if err != nil {
			t.Fatalf("takeover: %v", err)
		}
		select {
		case <-p1.Done():
		default:
			t.Fatal("old publisher not cut off")
		}
		if !p1.TakenOver() || p2.TakenOver() {
			t.Errorf("TakenOver old %v new %v", p1.TakenOver(), p2.TakenOver())
		}
		s := p2.Stream()
		before := s.Stats().FramesIn
		p1.WriteFrame(vidKey(5000, 1)) // ignored
		if s.Stats().FramesIn != before {
			t.Error("frame of the old publisher accepted after takeover")
		}
		p1.Close() // the old connection goes away: the stream stays live
		if s.State() != StateLive || s.Ended() {
			t.Fatalf("old publisher's Close ended the taken-over stream: %v", s.State())
		}
		p2.Close()
		if s.State() != StateEnded {
			t.Errorf("state %v after the new publisher left, want ended", s.State())
		}
		reg.Close()
	}
}

func TestRepublishRebasesAcrossTimestampWrap(t *testing.T) {
	reg, p1 := newTestStream(t, Config{RepublishWindow: time.Minute})
	defer reg.Close()
	r := p1.Stream().NewReader(ReaderInfo{})
	defer r.Close()
	p1.WriteFrame(vidKey(0xFFFFFF00, 1))
	p1.WriteFrame(vidInter(0xFFFFFF28, 1))
	p1.Close()
	p2, err := reg.Publish(testKey, PublisherInfo{})
	if err != nil {
		t.Fatal(err)
	}
	p2.WriteFrame(vidKey(7, 1))
	p2.WriteFrame(vidInter(47, 1))
	got := drainPending(t, r, 16)
	want := []uint32{0xFFFFFF00, 0xFFFFFF28, 0xFFFFFF50, 0xFFFFFF78}
	if len(got) != len(want) {
		t.Fatalf("got %s", describe(got))
	}
	for i, f := range got {
		if f.Time != want[i] {
			t.Errorf("frame %d at %#x, want %#x", i, f.Time, want[i])
		}
	}
}

func TestPublisherEndSkipsRepublishWindow(t *testing.T) {
	reg, p := newTestStream(t, Config{RepublishWindow: time.Hour})
	defer reg.Close()
	p.End()
	if st := p.Stream().State(); st != StateEnded {
		t.Fatalf("state %v after End, want ended", st)
	}
	p.Close() // no effect after End
	if _, err := reg.Publish(testKey, PublisherInfo{}); err != nil {
		t.Fatalf("name not free after End: %v", err)
	}
}

func TestReclaimFromStalledPublisherOnSameHost(t *testing.T) {
	reg, err := NewRegistry(Config{ReclaimStalled: 50 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	old, err := reg.Publish(testKey, PublisherInfo{ID: "old", RemoteAddr: "192.0.2.7:50000"})
	if err != nil {
		t.Fatal(err)
	}
	publishGOP(old, 0, 2, 1)
	// Still sending: even the same host is refused.
	if _, err := reg.Publish(testKey, PublisherInfo{ID: "new", RemoteAddr: "192.0.2.7:50001"}); !errors.Is(err, ErrStreamBusy) {
		t.Fatalf("publish while the old publisher sends: %v", err)
	}
	time.Sleep(100 * time.Millisecond) // the old connection went silent
	if _, err := reg.Publish(testKey, PublisherInfo{ID: "other", RemoteAddr: "198.51.100.1:40000"}); !errors.Is(err, ErrStreamBusy) {
		t.Fatalf("publish from another host: %v", err)
	}
	p, err := reg.Publish(testKey, PublisherInfo{ID: "new", RemoteAddr: "192.0.2.7:50002"})
	if err != nil {
		t.Fatalf("reclaim from the same host: %v", err)
	}
	select {
	case <-old.Done():
	default:
		t.Fatal("stalled publisher not cut off")
	}
	if p.Stream() != old.Stream() || p.Stream().Info().ID != "new" {
		t.Error("the reclaiming publisher did not continue the stream")
	}
}

// TestNameAsKeyCannotContinueKeyedStream pins the bug where a publisher
// knowing only a stream's name continued a stream published with a secret
// key: within the republish window, by takeover and by reclaiming it.
func TestNameAsKeyCannotContinueKeyedStream(t *testing.T) {
	const keyID = "k1"
	owner := PublisherInfo{ID: "owner", RemoteAddr: "192.0.2.7:50000", Owner: true, KeyID: keyID}
	for _, tc := range []struct {
		name  string
		cfg   Config
		leave bool
	}{
		{"republish", Config{RepublishWindow: time.Minute}, true},
		{"takeover", Config{Takeover: TakeoverAllow}, false},
		{"reclaim", Config{ReclaimStalled: time.Nanosecond}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg, err := NewRegistry(tc.cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer reg.Close()
			p1, err := reg.Publish(testKey, owner)
			if err != nil {
				t.Fatal(err)
			}
			publishGOP(p1, 0, 2, 1)
			if tc.leave {
				p1.Close()
			}
			for _, other := range []PublisherInfo{
				{ID: "name-only", RemoteAddr: "192.0.2.7:50001", Owner: true},
				{ID: "other-key", RemoteAddr: "192.0.2.7:50002", Owner: true, KeyID: "k2"},
			} {
				if _, err := reg.Publish(testKey, other); !errors.Is(err, ErrKeyMismatch) {
					t.Errorf("%s continued the keyed stream: %v, want ErrKeyMismatch", other.ID, err)
				}
			}
			if id := p1.Stream().Info().ID; id != "owner" {
				t.Fatalf("stream's publisher is %q, want owner", id)
			}
			again := owner
			again.ID, again.RemoteAddr = "owner-again", "192.0.2.7:50003"
			p2, err := reg.Publish(testKey, again)
			if err != nil {
				t.Fatalf("the key's holder could not continue its stream: %v", err)
			}
			if p2.Stream() != p1.Stream() {
				t.Error("the key's holder started a new stream instead of continuing")
			}
		})
	}
}
