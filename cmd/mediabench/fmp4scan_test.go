package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

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

// TestHLSViewerReadsFMP4Segments: the HLS viewer reads a playlist of fMP4
// segments (the server's low-latency default) through its init section,
// and does not fetch the parts listed beside them.
func TestHLSViewerReadsFMP4Segments(t *testing.T) {
	initSection := testInitSection(t)
	var mu sync.Mutex
	requests := map[string]int{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests[r.URL.Path]++
		mu.Unlock()
		var seq int
		switch {
		case r.URL.Path == "/live/s.m3u8":
			_, _ = io.WriteString(w, "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:1\n#EXT-X-MAP:URI=\"init.mp4\"\n"+
				"#EXTINF:0.2,\ns1.mp4\n#EXTINF:0.2,\ns2.mp4\n#EXT-X-PART:DURATION=0.2,URI=\"p3.0.mp4\",INDEPENDENT=YES\n"+
				"#EXTINF:0.2,\ns3.mp4\n#EXT-X-ENDLIST\n")
		case r.URL.Path == "/live/init.mp4":
			_, _ = w.Write(initSection)
		default:
			if _, err := fmt.Sscanf(r.URL.Path, "/live/s%d.mp4", &seq); err != nil {
				http.NotFound(w, r)
				return
			}
			_, _ = w.Write(testFragment(uint32(seq), uint64(900_000+18_000*seq), 6, true))
		}
	}))
	defer hs.Close()
	v := &viewer{url: hs.URL + "/live/s.m3u8", clock: clock{base: time.Now()}, interval: 33 * time.Millisecond}
	err := v.runHLS(context.Background(), hs.Client(), bufio.NewReader(nil), 5*time.Second)
	if !errors.Is(err, errStreamEnded) {
		t.Fatalf("viewer ended with %v, want the end of the playlist", err)
	}
	if v.hls.Segments != 3 || v.videoFrames != 18 || v.gaps+v.backwards != 0 {
		t.Errorf("%d segments, %d video frames, %d gaps, %d steps back; want 3, 18, 0, 0",
			v.hls.Segments, v.videoFrames, v.gaps, v.backwards)
	}
	mu.Lock()
	defer mu.Unlock()
	if requests["/live/p3.0.mp4"] != 0 || requests["/live/init.mp4"] != 1 {
		t.Errorf("requests %v: want the init section once and no part", requests)
	}
}
