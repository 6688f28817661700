package stream

import (
	"context"
	"errors"
	"testing"

	"github.com/mediaserver/mediaserver/flv"
)

// Frames built directly (NewFrame is covered by its own table); the payload
// sizes are what the cache accounts.

func vidKey(ts uint32, size int) *Frame {
	return &Frame{Type: flv.TagVideo, Time: ts, Keyframe: true, Codec: flv.FourCCAVC, Payload: make([]byte, size)}
}

func vidInter(ts uint32, size int) *Frame {
	return &Frame{Type: flv.TagVideo, Time: ts, Codec: flv.FourCCAVC, Payload: make([]byte, size)}
}

func aud(ts uint32, size int) *Frame {
	return &Frame{Type: flv.TagAudio, Time: ts, Codec: flv.FourCCAAC, Payload: make([]byte, size)}
}

func vidHeader(tag byte) *Frame {
	return &Frame{Type: flv.TagVideo, Header: true, Codec: flv.FourCCAVC, Payload: []byte{0x17, 0, 0, 0, 0, tag}}
}

func audHeader(tag byte) *Frame {
	return &Frame{Type: flv.TagAudio, Header: true, Codec: flv.FourCCAAC, Payload: []byte{0xaf, 0, tag}}
}

// metaFrame returns an onMetaData script frame whose body ends in tag.
func metaFrame(tag byte) *Frame {
	p := []byte{0x02, 0x00, 0x0a}
	p = append(p, "onMetaData"...)
	p = append(p, 0x05, tag) // null, then a distinguishing byte
	return &Frame{Type: flv.TagScript, Header: true, Payload: p}
}

// newTestStream publishes "live/test" on a fresh registry.
func newTestStream(t testing.TB, cfg Config) (*Registry, *Publisher) {
	t.Helper()
	reg, err := NewRegistry(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := reg.Publish(Key{App: "live", Name: "test"}, PublisherInfo{ID: "p1", Protocol: "rtmp"})
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	return reg, p
}

// canceled is a context that is already done: Read with it returns what is
// pending without blocking.
func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// drain reads everything pending without blocking, in batches of batch. It
// returns the frames and the error that stopped it (context.Canceled when
// nothing more was pending).
func drain(t testing.TB, r *Reader, batch int) ([]*Frame, error) {
	t.Helper()
	var out []*Frame
	buf := make([]*Frame, batch)
	for {
		n, err := r.Read(canceled(), buf)
		out = append(out, buf[:n]...)
		if err != nil {
			if n != 0 {
				t.Fatalf("Read returned %d frames with error %v", n, err)
			}
			return out, err
		}
		if n == 0 {
			t.Fatal("Read returned 0 frames and no error")
		}
	}
}

// drainPending is drain that insists the stream is still live.
func drainPending(t testing.TB, r *Reader, batch int) []*Frame {
	t.Helper()
	out, err := drain(t, r, batch)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("drain: got %v, want context.Canceled", err)
	}
	return out
}

// assertFrames compares frame pointers.
func assertFrames(t testing.TB, got, want []*Frame) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d frames %s, want %d %s", len(got), describe(got), len(want), describe(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("frame %d: got %s, want %s (all: %s)", i, describe(got[i:i+1]), describe(want[i:i+1]), describe(got))
		}
	}
}

func describe(fs []*Frame) string {
	s := "["
	for i, f := range fs {
		if i > 0 {
			s += " "
		}
		switch {
		case f.Header && f.Type == flv.TagScript:
			s += "M"
		case f.Header && f.Type == flv.TagVideo:
			s += "VH"
		case f.Header:
			s += "AH"
		case f.Keyframe:
			s += "K"
		case f.Type == flv.TagVideo:
			s += "v"
		case f.Type == flv.TagAudio:
			s += "a"
		default:
			s += "d"
		}
		s += itoa(f.Time)
	}
	return s + "]"
}

func itoa(v uint32) string {
	if v == 0 {
		return "0"
	}
	var b [10]byte
	i := len(b)
	for v > 0 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return string(b[i:])
}

// assertJoined is assertFrames for a reader that joined (or skipped ahead)
// at a frame at time at: the header frames it got first are those of want,
// stamped at that time (the same payload, a copy when the time differs),
// except onMetaData, which stays at 0. Everything from the first media
// frame on is compared by pointer.
func assertJoined(t testing.TB, got []*Frame, at uint32, want []*Frame) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d frames %s, want %d %s", len(got), describe(got), len(want), describe(want))
	}
	leading := true
	for i := range got {
		g, w := got[i], want[i]
		leading = leading && w.Header
		if !leading || w.isMetadata() || w.Time == at {
			if g != w {
				t.Fatalf("frame %d: got %s, want %s (all: %s)", i, describe(got[i:i+1]), describe(want[i:i+1]), describe(got))
			}
			continue
		}
		if g.Type != w.Type || !g.Header || g.Time != at || g.Generation() != w.Generation() ||
			len(g.Payload) != len(w.Payload) || &g.Payload[0] != &w.Payload[0] {
			t.Fatalf("frame %d: got %s, want %s stamped at %d (all: %s)", i, describe(got[i:i+1]), describe(want[i:i+1]), at, describe(got))
		}
	}
}
