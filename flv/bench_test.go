package flv

import (
	"bytes"
	"testing"
)

func BenchmarkParseVideoTagHeader(b *testing.B) {
	nalus := bytes.Repeat([]byte{0, 0, 0, 4, 0x41, 1, 2, 3}, 8)
	cases := []struct {
		name string
		data []byte
	}{
		{"legacy avc", cat(0x27, 1, 0, 0, 0x42, nalus)},
		{"enhanced hvc1", cat(0xa1, "hvc1", 0, 0, 0x21, nalus)},
		{"enhanced modex", cat(0xa7, 2, 0, 1, 0, 0x01, "avc1", 0, 0, 5, nalus)},
		{"enhanced multitrack", cat(0x96, 0x11, "avc1", 0, 0, 0, 7, 0, 0, 1, 9, 9, 9, 9, 1, 0, 0, 5, 0, 0, 1, 8, 8)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.data)))
			for b.Loop() {
				if _, err := ParseVideoTagHeader(c.data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAVCCToAnnexB(b *testing.B) {
	// A 1080p-like access unit: AUD, SEI, and eight slices of ~12 KiB.
	var src []byte
	src = append(src, 0, 0, 0, 2, 0x09, 0xf0)
	src = append(src, 0, 0, 0, 5, 0x06, 5, 1, 2, 0x80)
	slice := bytes.Repeat([]byte{0x9a}, 12<<10)
	for range 8 {
		n := len(slice) + 1
		src = append(src, byte(n>>24), byte(n>>16), byte(n>>8), byte(n), 0x65)
		src = append(src, slice...)
	}
	dst := make([]byte, 0, len(src)+64)
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		var err error
		if dst, err = AVCCToAnnexB(dst[:0], src, 4); err != nil {
			b.Fatal(err)
		}
	}
}
