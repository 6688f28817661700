package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/mediaserver/mediaserver/fmp4"
)

// Track IDs of the test init section: audio first, so the scanner has to
// look for the video track.
const (
	testAudioTrack = 1
	testVideoTrack = 2
)

// testInitSection returns an init section with an AAC and an H.264 track
// (90 kHz), written by the server's own fMP4 package.
func testInitSection(t testing.TB) []byte {
	t.Helper()
	avcC, _ := hex.DecodeString("0164001fffe000")
	in, err := fmp4.NewInit([]fmp4.Track{
		{ID: testAudioTrack, Codec: fmp4.CodecAAC, SampleRate: 48000, Channels: 2, Config: []byte{0x11, 0x90}},
		{ID: testVideoTrack, Codec: fmp4.CodecAVC, Width: 320, Height: 180, Config: avcC},
	})
	if err != nil {
		t.Fatal(err)
	}
	return in.Append(nil)
}

// testFragment returns one fragment: two audio frames and n video frames
// of 3000 ticks (30 fps) from dts, the first a keyframe when key is set.
func testFragment(seq uint32, dts uint64, n int, key bool) []byte {
	f := fmp4.Fragment{SequenceNumber: seq, Tracks: []fmp4.TrackFragment{
		{TrackID: testAudioTrack, BaseMediaDecodeTime: dts / 90 * 48, Samples: []fmp4.Sample{
			{Duration: 1024, Flags: fmp4.SyncSample, Data: []byte{1, 2}},
			{Duration: 1024, Flags: fmp4.SyncSample, Data: []byte{3, 4}},
		}},
		{TrackID: testVideoTrack, BaseMediaDecodeTime: dts},
	}}
	for i := range n {
		flags := fmp4.NonSyncSample
		if i == 0 && key {
			flags = fmp4.SyncSample
		}
		f.Tracks[1].Samples = append(f.Tracks[1].Samples, fmp4.Sample{
			Duration: 3000, CompositionOffset: 3000, Flags: flags, Data: bytes.Repeat([]byte{byte(i)}, 100+i),
		})
	}
	return f.Append(nil)
}

func TestParseInitVideo(t *testing.T) {
	v, err := parseInitVideo(testInitSection(t))
	if err != nil {
		t.Fatal(err)
	}
	if v.trackID != testVideoTrack || v.timescale != fmp4.DefaultVideoTimescale {
		t.Errorf("video track %+v, want ID %d at %d", v, testVideoTrack, fmp4.DefaultVideoTimescale)
	}
	audioOnly, _ := fmp4.NewInit([]fmp4.Track{{ID: 1, Codec: fmp4.CodecAAC, SampleRate: 48000, Channels: 2, Config: []byte{0x11, 0x90}}})
	if _, err := parseInitVideo(audioOnly.Append(nil)); err == nil {
		t.Error("audio-only init section: no error")
	}
	if _, err := parseInitVideo([]byte{0, 0, 0, 99, 'm', 'o', 'o', 'v'}); err == nil {
		t.Error("truncated init section: no error")
	}
}

func TestFMP4Scan(t *testing.T) {
	v, err := parseInitVideo(testInitSection(t))
	if err != nil {
		t.Fatal(err)
	}
	styp := []byte{0, 0, 0, 16, 's', 't', 'y', 'p', 'm', 's', 'd', 'h', 0, 0, 0, 0}
	segment := append(append(styp, testFragment(1, 900_000, 6, true)...), testFragment(2, 918_000, 6, false)...)
	var dts []uint64
	var syncs int
	s := fmp4Scanner{video: v, onSample: func(d uint64, sync bool) {
		dts = append(dts, d)
		if sync {
			syncs++
		}
	}}
	br := bufio.NewReaderSize(bytes.NewReader(segment), 64)
	run, n, err := s.scan(br)
	if err != nil {
		t.Fatal(err)
	}
	want := fmp4Run{samples: 12, firstDTS: 900_000, lastDTS: 900_000 + 11*3000, firstSync: true}
	if run != want || n != int64(len(segment)) {
		t.Errorf("run %+v (%d bytes), want %+v (%d bytes)", run, n, want, len(segment))
	}
	if len(dts) != 12 || syncs != 1 || dts[6] != 918_000 {
		t.Errorf("samples %v, %d sync", dts, syncs)
	}
	if got := v.toMs(run.lastDTS); got != 10_366 {
		t.Errorf("last sample at %d ms, want 10366", got)
	}
	// A part that does not start with a keyframe.
	br.Reset(bytes.NewReader(testFragment(3, 936_000, 3, false)))
	if run, _, err := s.scan(br); err != nil || run.firstSync || run.samples != 3 {
		t.Errorf("inter part: %+v, %v", run, err)
	}
	// Truncated and oversized input fail.
	frag := testFragment(4, 0, 2, true)
	for name, b := range map[string][]byte{
		"truncated moof": frag[:20],
		"truncated mdat": frag[:len(frag)-1],
		"huge moof":      {0x7f, 0, 0, 0, 'm', 'o', 'o', 'f'},
		"tiny box":       {0, 0, 0, 1, 'f', 'r', 'e', 'e', 0, 0, 0, 0, 0, 0, 0, 2},
	} {
		br.Reset(bytes.NewReader(b))
		if _, _, err := s.scan(br); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// FuzzFMP4Scan: never a panic on any input.
func FuzzFMP4Scan(f *testing.F) {
	f.Add(testFragment(1, 900_000, 3, true))
	f.Add(testInitSection(f))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = parseInitVideo(data)
		s := fmp4Scanner{video: fmp4Video{trackID: testVideoTrack, timescale: 90000}}
		_, _, _ = s.scan(bufio.NewReader(bytes.NewReader(data)))
	})
}

// TestFMP4ScanAllocs: scanning a part reuses the scanner's buffer.
func TestFMP4ScanAllocs(t *testing.T) {
	part := testFragment(1, 900_000, 6, true)
	s := fmp4Scanner{video: fmp4Video{trackID: testVideoTrack, timescale: 90000}}
	r := bytes.NewReader(part)
	br := bufio.NewReader(r)
	allocs := testing.AllocsPerRun(100, func() {
		r.Reset(part)
		br.Reset(r)
		if _, _, err := s.scan(br); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per part, want 0", allocs)
	}
}
