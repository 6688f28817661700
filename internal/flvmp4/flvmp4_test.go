package flvmp4

import (
	"bytes"
	"errors"
	"testing"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/fmp4"
	"github.com/mediaserver/mediaserver/stream"
)

func frame(t *testing.T, typ flv.TagType, payload []byte) *stream.Frame {
	t.Helper()
	f, err := stream.NewFrame(typ, 0, payload)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestSampleOf(t *testing.T) {
	av1TU := []byte{0x12, 0x00, 0x0a, 0x01, 0xaa} // temporal delimiter, then a sequence header OBU
	cases := []struct {
		name    string
		typ     flv.TagType
		payload []byte
		want    []byte
		sync    bool
		err     error
	}{
		{"legacy AVC keyframe", flv.TagVideo, []byte{0x17, 1, 0, 0, 0, 0, 0, 0, 2, 0x65, 0x88}, []byte{0, 0, 0, 2, 0x65, 0x88}, true, nil},
		{"legacy AVC inter frame", flv.TagVideo, []byte{0x27, 1, 0, 0, 0x28, 0, 0, 0, 1, 0x41}, []byte{0, 0, 0, 1, 0x41}, false, nil},
		{"legacy AVC sequence start", flv.TagVideo, []byte{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff}, nil, false, ErrNoSample},
		{"enhanced AV1 drops the temporal delimiter", flv.TagVideo, append([]byte{0x91, 'a', 'v', '0', '1'}, av1TU...), av1TU[2:], true, nil},
		{"legacy AAC raw", flv.TagAudio, []byte{0xaf, 1, 0x21, 0x10}, []byte{0x21, 0x10}, true, nil},
		{"legacy AAC config", flv.TagAudio, []byte{0xaf, 0, 0x12, 0x10}, nil, false, ErrNoSample},
		{"legacy MP3", flv.TagAudio, []byte{0x2f, 0xff, 0xfb}, []byte{0xff, 0xfb}, true, nil},
		{"multitrack without track 0", flv.TagVideo,
			[]byte{0x96, 0x01, 'a', 'v', 'c', '1', 2, 0, 0, 5, 0, 0, 0, 0, 0x65}, nil, false, ErrNoSample},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data, sync, err := SampleOf(frame(t, c.typ, c.payload))
			if !errors.Is(err, c.err) {
				t.Fatalf("err %v, want %v", err, c.err)
			}
			if !bytes.Equal(data, c.want) || sync != c.sync {
				t.Errorf("got % x sync %v, want % x sync %v", data, sync, c.want, c.sync)
			}
		})
	}
}

func TestSampleQueueDurationsFromNextDecodeTime(t *testing.T) {
	var q SampleQueue
	for i, dts := range []uint64{0, 3000, 6000, 9003} {
		q.Push(dts, fmp4.Sample{Data: []byte{byte(i)}})
	}
	base, got := q.Complete()
	if base != 0 || len(got) != 3 || got[0].Duration != 3000 || got[2].Duration != 3003 {
		t.Fatalf("complete base %d, %+v", base, got)
	}
	if dts, ok := q.Pending(); !ok || dts != 9003 {
		t.Fatalf("pending %d %v", dts, ok)
	}
	q.Take(2)
	base, got = q.Complete()
	if base != 6000 || len(got) != 1 || got[0].Data[0] != 2 {
		t.Fatalf("after take: base %d, %+v", base, got)
	}
	q.Finish(0)
	base, got = q.Complete()
	if base != 6000 || len(got) != 2 || got[1].Duration != 3003 {
		t.Fatalf("after finish: base %d, %+v", base, got)
	}
	q.Take(10)
	q.Push(20000, fmp4.Sample{})
	if base, got = q.Complete(); len(got) != 0 {
		t.Fatalf("after take all: %d %+v", base, got)
	}
	q.Push(21000, fmp4.Sample{})
	if base, _ = q.Complete(); base != 20000 {
		t.Fatalf("base after a new pending sample: %d, want 20000", base)
	}
}

func TestSampleQueueDoesNotAllocate(t *testing.T) {
	var q SampleQueue
	data := []byte{1}
	dts := uint64(0)
	step := func() {
		for range 8 {
			q.Push(dts, fmp4.Sample{Data: data})
			dts += 3000
		}
		_, s := q.Complete()
		q.Take(len(s))
	}
	step()
	if n := testing.AllocsPerRun(100, step); n != 0 {
		t.Errorf("%v allocations per fragment, want 0", n)
	}
}

func TestAudioClockFollowsFrameCountThroughMillisecondRounding(t *testing.T) {
	c := NewAudioClock(44100)
	var want uint64
	for i := range 100 {
		ms := int64(i) * 1024 * 1000 / 44100 // what an RTMP encoder stamps: 0, 23, 46, 69 …
		if got := c.Time(ms, 1024); got != want {
			t.Fatalf("frame %d at %d ms: time %d, want %d", i, ms, got, want)
		}
		want += 1024
	}
	// A gap of 100 ms resynchronises to the timestamp.
	ms := int64(100*1024*1000/44100) + 100
	if got := c.Time(ms, 1024); got != uint64(ms)*44100/1000 {
		t.Errorf("after a gap: %d, want %d", got, uint64(ms)*44100/1000)
	}
}

func TestTrackRefusesCodecsFMP4CannotCarry(t *testing.T) {
	if _, err := Track(1, flv.FourCCVP8, []byte{1, 0, 0, 0, 0, 0, 0, 0}, nil); !errors.Is(err, ErrUnsupportedCodec) {
		t.Errorf("VP8: %v, want ErrUnsupportedCodec", err)
	}
	if _, err := Track(1, 0, nil, nil); !errors.Is(err, ErrUnsupportedCodec) {
		t.Errorf("no FourCC: %v, want ErrUnsupportedCodec", err)
	}
}
