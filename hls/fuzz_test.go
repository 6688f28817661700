package hls

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/asticode/go-astits"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/stream"
)

// Fuzz input format for FuzzSegmenter: a sequence of records
// [op][timestamp u32][length u16][payload]; (op&0x1f)%3 picks the tag type (audio,
// video, script data), op&0x40 restarts the segmenter first, op&0x20 marks a
// discontinuity first.
const (
	fuzzRecordHeader = 7
	fuzzMaxFrames    = 4096
)

var fuzzTagTypes = [3]flv.TagType{flv.TagAudio, flv.TagVideo, flv.TagScript}

// encodeFuzzFrames encodes frames in the FuzzSegmenter input format.
func encodeFuzzFrames(frames []*stream.Frame) []byte {
	var b []byte
	for _, f := range frames {
		op := byte(0)
		switch f.Type {
		case flv.TagVideo:
			op = 1
		case flv.TagScript:
			op = 2
		}
		b = append(b, op)
		b = binary.BigEndian.AppendUint32(b, f.Time)
		b = binary.BigEndian.AppendUint16(b, uint16(len(f.Payload)))
		b = append(b, f.Payload...)
	}
	return b
}

// FuzzSegmenter feeds arbitrary frames: the segmenter must never panic and
// every segment it produces must be valid MPEG-TS.
func FuzzSegmenter(f *testing.F) {
	f.Add(encodeFuzzFrames(source{fps: 30, gop: 5, audio: true}.frames(f, 400)))
	f.Add(encodeFuzzFrames(source{audio: true}.frames(f, 300)))
	f.Add(encodeFuzzFrames(hevcFuzzFrames(f)))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := NewSegmenter(SegmenterConfig{TargetDuration: 500 * time.Millisecond, MaxSegmentBytes: 64 << 10, Now: fixedNow})
		var segs []*Segment
		keep := func(seg *Segment, _ error) {
			if seg != nil {
				segs = append(segs, seg)
			}
		}
		for n := 0; len(data) >= fuzzRecordHeader && n < fuzzMaxFrames; n++ {
			op, ts := data[0], binary.BigEndian.Uint32(data[1:5])
			size := min(int(binary.BigEndian.Uint16(data[5:7])), len(data)-fuzzRecordHeader)
			payload := data[fuzzRecordHeader : fuzzRecordHeader+size]
			data = data[fuzzRecordHeader+size:]
			if op&0x40 != 0 {
				keep(s.Restart())
			}
			if op&0x20 != 0 {
				keep(s.Discontinuity())
			}
			fr, err := stream.NewFrame(fuzzTagTypes[(op&0x1f)%3], ts, payload)
			if err != nil {
				continue
			}
			keep(s.WriteFrame(fr))
		}
		keep(s.Flush())
		for i, seg := range segs {
			if len(seg.Data) == 0 || len(seg.Data)%188 != 0 || seg.Duration <= 0 {
				t.Fatalf("segment %d: %d bytes, duration %v", i, len(seg.Data), seg.Duration)
			}
			dmx := astits.NewDemuxer(context.Background(), bytes.NewReader(seg.Data))
			for {
				_, err := dmx.NextData()
				if errors.Is(err, astits.ErrNoMorePackets) {
					break
				}
				if err != nil {
					t.Fatalf("segment %d does not demux: %v", i, err)
				}
			}
		}
	})
}

// FuzzSegmentPath checks that segment paths parse only in canonical form:
// parse ok ⇒ format ⇒ the same path ⇒ parse again equal.
func FuzzSegmentPath(f *testing.F) {
	for _, p := range []string{"/live/cam/lz2k8a-17.ts", "/a/b/0-0.ts", "/live/cam/x-01.ts", "/live/cam.m3u8",
		"/live/a.b/tok-18446744073709551615.ts", "//cam/t-1.ts"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, path string) {
		key, token, seq, err := parseSegmentPath(path)
		if err != nil {
			if !errors.Is(err, ErrInvalidPath) {
				t.Fatalf("error %v does not wrap ErrInvalidPath", err)
			}
			return
		}
		again := segmentPath(key, token, seq)
		if again != path {
			t.Fatalf("%q parsed to %v %q %d, formats as %q", path, key, token, seq, again)
		}
		key2, token2, seq2, err := parseSegmentPath(again)
		if err != nil || key2 != key || token2 != token || seq2 != seq {
			t.Fatalf("round trip of %q: %v %q %d %v", again, key2, token2, seq2, err)
		}
	})
}

func TestSegmentPathTable(t *testing.T) {
	key := stream.Key{App: "live", Name: "cam.hd"}
	tests := []struct {
		token string
		seq   uint64
		path  string
	}{
		{"lz2k8a", 0, "/live/cam.hd/lz2k8a-0.ts"},
		{"0", 18446744073709551615, "/live/cam.hd/0-18446744073709551615.ts"},
		{"abcdefghijklmnopqrstuvwxyz", 7, "/live/cam.hd/abcdefghijklmnopqrstuvwxyz-7.ts"},
	}
	for _, tc := range tests {
		if got := segmentPath(key, tc.token, tc.seq); got != tc.path {
			t.Errorf("segmentPath = %q, want %q", got, tc.path)
		}
		k, tok, seq, err := parseSegmentPath(tc.path)
		if err != nil || k != key || tok != tc.token || seq != tc.seq {
			t.Errorf("parseSegmentPath(%q) = %v %q %d %v", tc.path, k, tok, seq, err)
		}
	}
	for _, bad := range []string{"live/cam/t-1.ts", "/live/cam/T-1.ts", "/live/cam/t-+1.ts", "/live/cam/t-1.TS",
		"/live/cam/-1.ts", "/live/cam/t1.ts", "/live/cam/t-18446744073709551616.ts", "/live/../t-1.ts",
		"/live/cam/sub/t-1.ts", "/live/cam/abcdefghijklmnopqrstuvwxyz2-1.ts"} {
		if _, _, _, err := parseSegmentPath(bad); !errors.Is(err, ErrInvalidPath) {
			t.Errorf("parseSegmentPath(%q) error %v", bad, err)
		}
	}
}
