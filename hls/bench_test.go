package hls

import (
	"runtime"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/stream"
)

// benchStream builds d of a realistic 2.5 Mbit/s stream: 30 fps H.264 with
// a keyframe every 2 s (keyframes 8 times the size of other frames) and
// 128 kbit/s AAC at 48 kHz, interleaved by timestamp. It returns the frames
// and their payload bytes.
func benchStream(tb testing.TB, d time.Duration) ([]*stream.Frame, int) {
	const (
		fps        = 30
		gop        = 60
		videoRate  = 2_500_000 - 128_000 // bit/s
		audioBytes = 128_000 / 8 * 1024 / 48000
	)
	perGOP := videoRate / 8 * gop / fps
	inter := perGOP / (gop - 1 + 8)
	key := 8 * inter
	ms := int(d / time.Millisecond)
	frames := []*stream.Frame{
		frame(tb, flv.TagVideo, 0, avcHeaderPayload(testSPS, testPPS)),
		frame(tb, flv.TagAudio, 0, aacHeaderPayload(testAAC)),
	}
	v, a := 0, 0
	for {
		vt, at := v*1000/fps, a*1024*1000/48000
		if vt >= ms && at >= ms {
			break
		}
		if vt <= at {
			isKey := v%gop == 0
			n := inter
			if isKey {
				n = key
			}
			frames = append(frames, frame(tb, flv.TagVideo, uint32(vt), videoPayload(isKey, 66, slice(isKey, n, byte(v)))))
			v++
		} else {
			frames = append(frames, frame(tb, flv.TagAudio, uint32(at), audioPayload(audioBytes, byte(a))))
			a++
		}
	}
	total := 0
	for _, f := range frames {
		total += len(f.Payload)
	}
	return frames, total
}

// BenchmarkSegmenter measures segmenting throughput (MB/s of FLV payload per
// core), allocations per frame, and the share of one core a 2.5 Mbit/s
// stream costs.
func BenchmarkSegmenter(b *testing.B) {
	const media = 10 * time.Second
	frames, total := benchStream(b, media)
	s := NewSegmenter(SegmenterConfig{})
	sink := 0
	b.SetBytes(int64(total))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for b.Loop() {
		for _, f := range frames {
			seg, err := s.WriteFrame(f)
			if err != nil {
				b.Fatal(err)
			}
			if seg != nil {
				sink += len(seg.Data)
			}
		}
		if seg, _ := s.Restart(); seg != nil {
			sink += len(seg.Data)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	if sink == 0 {
		b.Fatal("no output")
	}
	perOp := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(b.N)/float64(len(frames)), "allocs/frame")
	b.ReportMetric(100*perOp/media.Seconds(), "%core@2.5Mbit/s")
}

// BenchmarkSegmenterFrame measures the cost of one frame (of the stream of
// BenchmarkSegmenter) for each variant, with the parts, segments and init
// sections taken as the Manager takes them. allocs/op is per frame: the
// frames themselves allocate nothing; parts and segments allocate their
// own bytes (allocs/part and allocs/segment say how much).
func BenchmarkSegmenterFrame(b *testing.B) {
	frames, total := benchStream(b, 10*time.Second)
	for _, v := range []Variant{VariantMPEGTS, VariantFMP4, VariantLowLatency} {
		b.Run(string(v), func(b *testing.B) {
			s := NewSegmenter(SegmenterConfig{Variant: v})
			var parts, segments int
			b.SetBytes(int64(total / len(frames)))
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			i := 0
			for b.Loop() {
				seg, err := s.WriteFrame(frames[i])
				if err != nil {
					b.Fatal(err)
				}
				parts += len(s.takeParts())
				s.takeInit()
				if i++; i == len(frames) {
					i = 0
					seg, _ = s.Restart()
				}
				if seg != nil {
					segments++
				}
			}
			b.StopTimer()
			runtime.ReadMemStats(&after)
			mallocs := float64(after.Mallocs - before.Mallocs)
			if parts > 0 {
				b.ReportMetric(mallocs/float64(parts), "allocs/part")
			}
			if segments > 0 {
				b.ReportMetric(mallocs/float64(segments), "allocs/segment")
			}
		})
	}
}
