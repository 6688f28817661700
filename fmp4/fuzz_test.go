package fmp4

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"testing"
)

// FuzzNewInit feeds arbitrary decoder configurations to NewInit: it never
// panics, and an init section it accepts encodes to Size bytes that read
// back as ftyp and moov with the codec's sample entry and configuration box.
func FuzzNewInit(f *testing.F) {
	seeds := []struct {
		codec  Codec
		config string
	}{
		{CodecAVC, "0164001fffe000"},
		{CodecVP9, "000a820202020000"},
		{CodecAAC, "1190"},
		{CodecOpus, opusHeadStereo},
		{CodecFLAC, flacStreamInfo},
		{CodecAC3, ac3Frame192k},
		{CodecEAC3, eac3Frame192k},
		{CodecMP3, "fffb94c4"},
	}
	for _, s := range seeds {
		f.Add(uint8(s.codec), unhex(f, s.config), uint16(320), uint16(240), uint32(0))
	}
	f.Fuzz(func(t *testing.T, codec uint8, config []byte, width, height uint16, rate uint32) {
		tr := Track{ID: 1, Codec: Codec(codec), Width: int(width), Height: int(height), SampleRate: int(rate >> 8), Config: config}
		in, err := NewInit([]Track{tr})
		if err != nil {
			if !errors.Is(err, ErrInvalidTrack) && !errors.Is(err, ErrUnsupportedCodec) &&
				!errors.Is(err, ErrInvalidHeader) && !errors.Is(err, ErrTruncated) {
				t.Fatalf("NewInit: unexpected error %v", err)
			}
			return
		}
		b := in.Append(nil)
		if len(b) != in.Size() {
			t.Fatalf("Append wrote %d bytes, Size %d", len(b), in.Size())
		}
		boxes, err := readBoxes(b)
		if err != nil {
			t.Fatalf("reading the init section back: %v", err)
		}
		entries := find(boxes, "moov", "trak", "mdia", "minf", "stbl", "stsd", Codec(codec).String())
		if len(entries) != 1 || len(entries[0].children) != 1 {
			t.Fatalf("outline %q: no %s sample entry with one configuration box", tree(boxes), Codec(codec))
		}
	})
}

// fragmentFromBytes builds a fragment of up to three tracks from fuzz input:
// each sample takes its duration, composition offset, flags and payload
// length from the bytes, and its payload from what follows.
func fragmentFromBytes(data []byte) *Fragment {
	next := func(n int) []byte {
		if len(data) < n {
			data = append(data, make([]byte, n-len(data))...)
		}
		b := data[:n]
		data = data[n:]
		return b
	}
	f := &Fragment{SequenceNumber: binary.BigEndian.Uint32(next(4))}
	tracks := int(next(1)[0]%3) + 1
	for i := range tracks {
		tf := TrackFragment{TrackID: uint32(i + 1), BaseMediaDecodeTime: binary.BigEndian.Uint64(next(8))}
		samples := int(next(1)[0] % 16)
		for range samples {
			head := next(10)
			flags := []SampleFlags{SyncSample, NonSyncSample, NonSyncSample | Disposable, 0}[head[8]%4]
			tf.Samples = append(tf.Samples, Sample{
				Duration:          binary.BigEndian.Uint32(head),
				CompositionOffset: int32(binary.BigEndian.Uint32(head[4:])),
				Flags:             flags,
				Data:              next(int(head[9] % 64)),
			})
		}
		f.Tracks = append(f.Tracks, tf)
	}
	return f
}

// FuzzFragment writes fragments built from fuzz input and reads them back:
// every field of every sample, the payloads and the sequence number survive,
// whichever layout (default, first-sample or per-sample flags; composition
// offsets or none) the writer picks.
func FuzzFragment(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0x0b, 0xb8, 0, 0, 0, 0, 0, 2, 0, 0, 0x0b, 0xb8, 0xff, 0xff, 0xf4, 0x48, 1, 2, 0xaa, 0xbb})
	f.Add(bytes.Repeat([]byte{7}, 300))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		frag := fragmentFromBytes(data)
		b := frag.Append(nil)
		if len(b) != frag.Size() {
			t.Fatalf("Append wrote %d bytes, Size %d", len(b), frag.Size())
		}
		seq, tracks, err := readFragment(b)
		if err != nil {
			t.Fatalf("reading the fragment back: %v", err)
		}
		if seq != frag.SequenceNumber || len(tracks) != len(frag.Tracks) {
			t.Fatalf("sequence %d with %d tracks, wrote %d with %d", seq, len(tracks), frag.SequenceNumber, len(frag.Tracks))
		}
		for i, tr := range tracks {
			want := frag.Tracks[i]
			if tr.TrackID != want.TrackID || tr.BaseDecodeTime != want.BaseMediaDecodeTime || len(tr.Samples) != len(want.Samples) {
				t.Fatalf("track %d: %+v, wrote %+v", i, tr, want)
			}
			for j, s := range tr.Samples {
				w := want.Samples[j]
				if s.Duration != w.Duration || s.CompositionOffset != w.CompositionOffset || s.Flags != w.Flags || !slices.Equal(s.Data, w.Data) {
					t.Fatalf("track %d sample %d: %+v, wrote %+v", i, j, s, w)
				}
			}
		}
	})
}
