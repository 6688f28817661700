package amf

import "testing"

func benchDecode0(b *testing.B, vals []any) {
	wire := mustAppend0(b, vals...)
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode0(wire); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode0Connect(b *testing.B) { benchDecode0(b, connectCommand()) }

func BenchmarkDecode0Metadata(b *testing.B) { benchDecode0(b, metadataCommand()) }

func BenchmarkAppend0Connect(b *testing.B) {
	vals := connectCommand()
	dst := mustAppend0(b, vals...)
	b.SetBytes(int64(len(dst)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if dst, err = Append0(dst[:0], vals...); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode3Objects(b *testing.B) {
	objs := make([]any, 20)
	for i := range objs {
		objs[i] = Object3{Class: "Point", Sealed: []Property{{"x", int32(i)}, {"y", float64(i) / 2}, {"label", "p"}}}
	}
	wire, err := Append3(nil, Array3{Dense: objs})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode3(wire); err != nil {
			b.Fatal(err)
		}
	}
}
