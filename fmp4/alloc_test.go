package fmp4

import (
	"bytes"
	"io"
	"sync"
	"testing"

	"github.com/mediaserver/mediaserver/internal/testenv"
)

// partFragment returns a fragment shaped like a 200 ms LL-HLS part of a
// 30 fps stream with 48 kHz AAC: six video frames (the first a key frame,
// B-frames with negative composition offsets) and ten audio frames, with
// payloads of realistic sizes shared between calls.
func partFragment() *Fragment {
	video := make([]Sample, 6)
	for i := range video {
		video[i] = Sample{Duration: 3000, CompositionOffset: int32(3000 * (i%3 - 1)), Flags: NonSyncSample,
			Data: bytes.Repeat([]byte{byte(i)}, 4000+1000*i)}
	}
	video[0].Flags, video[0].Data = SyncSample, bytes.Repeat([]byte{0x65}, 40000)
	audio := make([]Sample, 10)
	for i := range audio {
		audio[i] = Sample{Duration: 1024, Flags: SyncSample, Data: bytes.Repeat([]byte{0x21}, 380)}
	}
	return &Fragment{SequenceNumber: 1, Tracks: []TrackFragment{
		{TrackID: 1, BaseMediaDecodeTime: 900000, Samples: video},
		{TrackID: 2, BaseMediaDecodeTime: 480000, Samples: audio},
	}}
}

// advance moves the fragment on by its own length, as the next part.
func (f *Fragment) advance() {
	f.SequenceNumber++
	f.Tracks[0].BaseMediaDecodeTime += 18000
	f.Tracks[1].BaseMediaDecodeTime += 10240
}

func TestFragmentHeaderAllocatesNothing(t *testing.T) {
	f := partFragment()
	buf := make([]byte, f.HeaderSize())
	allocs := testing.AllocsPerRun(100, func() {
		f.advance()
		f.MarshalHeaderTo(buf[:f.HeaderSize()])
	})
	if allocs != 0 {
		t.Errorf("MarshalHeaderTo: %v allocations per fragment, want 0", allocs)
	}
}

// TestFragmentWriterAllocatesNothing writes parts to a TCP connection (the
// vectored write) and to a plain writer: once the writer's buffers have
// grown, a fragment costs no allocation.
func TestFragmentWriterAllocatesNothing(t *testing.T) {
	accepted, client := testenv.LoopbackPair(t, nil)
	var drained sync.WaitGroup
	drained.Go(func() { _, _ = io.Copy(io.Discard, accepted) })
	defer drained.Wait()
	defer client.Close()
	for name, w := range map[string]io.Writer{"tcp": client, "writer": io.Discard} {
		f := partFragment()
		fw := NewFragmentWriter(w)
		if _, err := fw.WriteFragment(f); err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(100, func() {
			f.advance()
			if _, err := fw.WriteFragment(f); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per fragment, want 0", name, allocs)
		}
	}
}

func TestFragmentWriterWritesWhatAppendDoes(t *testing.T) {
	var out bytes.Buffer
	fw := NewFragmentWriter(&out)
	f := partFragment()
	var want []byte
	for range 3 {
		want = f.Append(want)
		n, err := fw.WriteFragment(f)
		if err != nil || n != int64(f.Size()) {
			t.Fatalf("WriteFragment: %d, %v; Size %d", n, err, f.Size())
		}
		f.advance()
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Error("WriteFragment and Append differ")
	}
	bufs := fw.Buffers(f)
	if len(bufs) != 1+16 || len(bufs[0]) != f.HeaderSize() || &bufs[1][0] != &f.Tracks[0].Samples[0].Data[0] {
		t.Errorf("Buffers: %d slices, header of %d bytes; want the header and the 16 payloads, not copied", len(bufs), len(bufs[0]))
	}
}

// BenchmarkFragmentWriter writes one 200 ms part (16 frames) per operation.
func BenchmarkFragmentWriter(b *testing.B) {
	f := partFragment()
	fw := NewFragmentWriter(io.Discard)
	b.SetBytes(int64(f.Size()))
	b.ReportAllocs()
	for b.Loop() {
		f.advance()
		if _, err := fw.WriteFragment(f); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFragmentHeader marshals the header of one 200 ms part per
// operation.
func BenchmarkFragmentHeader(b *testing.B) {
	f := partFragment()
	buf := make([]byte, f.HeaderSize())
	b.ReportAllocs()
	for b.Loop() {
		f.advance()
		f.MarshalHeaderTo(buf)
	}
}
