package amf

import (
	"bytes"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
)

type case3 struct {
	name      string
	wire      []byte
	vals      []any
	canonical bool // Append3(vals) reproduces wire exactly
}

func fooObject(x, y int32) Object3 {
	return Object3{Class: "Foo", Sealed: []Property{{"x", x}, {"y", y}}}
}

func cases3(t testing.TB) []case3 {
	long := strings.Repeat("z", 300)
	return []case3{
		{"undefined", hx(t, "00"), []any{Undefined{}}, true},
		{"null", hx(t, "01"), []any{nil}, true},
		{"false", hx(t, "02"), []any{false}, true},
		{"true", hx(t, "03"), []any{true}, true},
		{"integer 0", hx(t, "04 00"), []any{int32(0)}, true},
		{"integer 127", hx(t, "04 7F"), []any{int32(127)}, true},
		{"integer 128", hx(t, "04 8100"), []any{int32(128)}, true},
		{"integer 16383", hx(t, "04 FF7F"), []any{int32(16383)}, true},
		{"integer 16384", hx(t, "04 818000"), []any{int32(16384)}, true},
		{"integer 2097151", hx(t, "04 FFFF7F"), []any{int32(2097151)}, true},
		{"integer 2097152", hx(t, "04 80C08000"), []any{int32(2097152)}, true},
		{"integer max", hx(t, "04 BFFFFFFF"), []any{int32(maxInt29)}, true},
		{"integer min", hx(t, "04 C0808000"), []any{int32(minInt29)}, true},
		{"integer -1", hx(t, "04 FFFFFFFF"), []any{int32(-1)}, true},
		{"integer non-minimal", hx(t, "04 8001"), []any{int32(1)}, false},
		{"double", hx(t, "05 3FF8000000000000"), []any{1.5}, true},
		{"double integral stays double", hx(t, "05 4000000000000000"), []any{2.0}, true},
		{"double NaN", hx(t, "05 7FF8000000000000"), []any{math.Float64frombits(0x7FF8000000000000)}, true},
		{"string", hx(t, "06 07 616263"), []any{"abc"}, true},
		{"string empty", hx(t, "06 01"), []any{""}, true},
		{"string two-byte length", cat(0x06, 0x84, 0x59, long), []any{long}, true},
		{"string reference", hx(t, "06 07 616263 06 00"), []any{"abc", "abc"}, true},
		{"empty string never referenced", hx(t, "06 01 06 07 616263 06 01 06 00"), []any{"", "abc", "", "abc"}, true},
		{"string reference non-canonical", hx(t, "06 03 61 06 03 61 06 02"), []any{"a", "a", "a"}, false},
		{"xml document", cat(0x07, 0x09, "<a/>"), []any{XMLDocument("<a/>")}, true},
		{"xml document reference", cat(0x07, 0x09, "<a/>", 0x07, 0x00), []any{XMLDocument("<a/>"), XMLDocument("<a/>")}, false},
		{"date", cat(0x08, 0x01, dbl(1.7e12)), []any{Date{Millis: 1.7e12}}, true},
		{"date reference", cat(0x08, 0x01, dbl(5), 0x08, 0x00), []any{Date{Millis: 5}, Date{Millis: 5}}, false},
		{"array dense", hx(t, "09 05 01 04 01 06 03 78"), []any{Array3{Dense: []any{int32(1), "x"}}}, true},
		{"array assoc and dense", hx(t, "09 03 03 61 04 02 01 04 07"),
			[]any{Array3{Dense: []any{int32(7)}, Assoc: []Property{{"a", int32(2)}}}}, true},
		{"array empty", hx(t, "09 01 01"), []any{Array3{}}, true},
		{"array reference", hx(t, "09 03 01 09 01 01 09 02"), // outer is entry 0, inner entry 1
			[]any{Array3{Dense: []any{Array3{}}}, Array3{}}, false},
		{"object anonymous dynamic", hx(t, "0A 0B 01 03 61 04 01 01"),
			[]any{Object3{IsDynamic: true, Dynamic: []Property{{"a", int32(1)}}}}, true},
		{"object dynamic empty", hx(t, "0A 0B 01 01"), []any{Object3{IsDynamic: true}}, true},
		{"object sealed", cat(0x0a, 0x23, vr3("Foo"), vr3("x"), vr3("y"), hx(t, "04 01 04 02")),
			[]any{fooObject(1, 2)}, true},
		{"object sealed and dynamic", cat(0x0a, 0x1b, vr3("Foo"), vr3("x"), hx(t, "04 01"), vr3("y"), hx(t, "04 02 01")),
			[]any{Object3{Class: "Foo", IsDynamic: true, Sealed: []Property{{"x", int32(1)}}, Dynamic: []Property{{"y", int32(2)}}}}, true},
		{"object traits reference", cat(
			0x09, 0x05, 0x01, // dense array of 2
			0x0a, 0x23, vr3("Foo"), vr3("x"), vr3("y"), hx(t, "04 01 04 02"),
			0x0a, 0x01, hx(t, "04 03 04 04")), // traits 0
			[]any{Array3{Dense: []any{fooObject(1, 2), fooObject(3, 4)}}}, true},
		{"object traits and string references mixed", cat(
			0x0a, 0x23, vr3("Foo"), vr3("x"), vr3("y"), 0x06, 0x02, 0x06, 0x00, // values: strings "x", "Foo"
			0x0a, 0x13, 0x00, 0x04, 0x04, 0x01), // traits: class "Foo" (ref 0), one member "y" (ref 2); value integer 1
			[]any{
				Object3{Class: "Foo", Sealed: []Property{{"x", "x"}, {"y", "Foo"}}},
				Object3{Class: "Foo", Sealed: []Property{{"y", int32(1)}}},
			}, true},
		{"object reference", hx(t, "09 05 01 0A 0B 01 01 0A 02"),
			[]any{Array3{Dense: []any{Object3{IsDynamic: true}, Object3{IsDynamic: true}}}}, false},
		{"xml", cat(0x0b, 0x09, "<a/>"), []any{XML("<a/>")}, true},
		{"byte array", hx(t, "0C 07 010203"), []any{ByteArray{1, 2, 3}}, true},
		{"byte array empty", hx(t, "0C 01"), []any{ByteArray{}}, true},
		{"byte array reference", hx(t, "0C 03 FF 0C 00"), []any{ByteArray{0xff}, ByteArray{0xff}}, false},
		{"vector int", hx(t, "0D 05 00 FFFFFFFF 00000001"), []any{VectorInt{Values: []int32{-1, 1}}}, true},
		{"vector int empty fixed", hx(t, "0D 01 01"), []any{VectorInt{Fixed: true}}, true},
		{"vector uint", hx(t, "0E 03 01 FFFFFFFF"), []any{VectorUint{Fixed: true, Values: []uint32{math.MaxUint32}}}, true},
		{"vector double", cat(0x0f, 0x03, 0x00, dbl(1.5)), []any{VectorDouble{Values: []float64{1.5}}}, true},
		{"vector object", cat(0x10, 0x05, 0x00, vr3("*"), 0x06, vr3("a"), 0x01),
			[]any{VectorObject{Class: "*", Values: []any{"a", nil}}}, true},
		{"vector reference", hx(t, "0D 03 00 00000007 0D 00"),
			[]any{VectorInt{Values: []int32{7}}, VectorInt{Values: []int32{7}}}, false},
		{"dictionary", cat(0x11, 0x05, 0x01, 0x06, vr3("k"), 0x04, 0x01, 0x04, 0x02, 0x03),
			[]any{Dictionary{WeakKeys: true, Entries: []DictEntry{{"k", int32(1)}, {int32(2), true}}}}, true},
		{"dictionary object key", cat(0x11, 0x03, 0x00, 0x0a, 0x0b, 0x01, 0x01, 0x01),
			[]any{Dictionary{Entries: []DictEntry{{Object3{IsDynamic: true}, nil}}}}, true},
		{"nested to max depth", nestedArrays3(MaxDepth), []any{nestedArray3(MaxDepth)}, true},
	}
}

// nestedArray3 is the value of nestedArrays3(n).
func nestedArray3(n int) any {
	var v any
	for range n {
		v = Array3{Dense: []any{v}}
	}
	return v
}

func TestDecode3Cases(t *testing.T) {
	for _, c := range cases3(t) {
		t.Run(c.name, func(t *testing.T) {
			got, err := Decode3(c.wire)
			if err != nil {
				t.Fatalf("Decode3: %v", err)
			}
			if !equalValues(got, c.vals) {
				t.Fatalf("Decode3 = %#v, want %#v", got, c.vals)
			}
		})
	}
}

func TestAppend3Cases(t *testing.T) {
	for _, c := range cases3(t) {
		t.Run(c.name, func(t *testing.T) {
			enc, err := Append3(nil, c.vals...)
			if err != nil {
				t.Fatalf("Append3: %v", err)
			}
			if c.canonical && !bytes.Equal(enc, c.wire) {
				t.Fatalf("Append3 = % x\nwant      % x", enc, c.wire)
			}
			got, err := Decode3(enc)
			if err != nil {
				t.Fatalf("Decode3(Append3): %v", err)
			}
			if !equalValues(got, c.vals) {
				t.Fatalf("Decode3(Append3) = %#v, want %#v", got, c.vals)
			}
			// The same values behind AMF0 switch markers (inline, no
			// references) decode the same, except that an integer directly
			// after the switch becomes a number.
			enc0, err := Append0(nil, c.vals...)
			if err != nil {
				t.Fatalf("Append0: %v", err)
			}
			got0, err := Decode0(enc0)
			if err != nil {
				t.Fatalf("Decode0(Append0): %v", err)
			}
			want0 := make([]any, len(c.vals))
			for i, v := range c.vals {
				if n, ok := v.(int32); ok {
					v = float64(n)
				}
				want0[i] = v
			}
			if !equalValues(got0, want0) {
				t.Fatalf("Decode0(Append0) = %#v, want %#v", got0, want0)
			}
		})
	}
}

func TestAppend3Convenience(t *testing.T) {
	cases := []struct {
		name string
		in   any
		want any
	}{
		{"int small", 5, int32(5)},
		{"int large becomes double", 1 << 30, float64(1 << 30)},
		{"int64 negative large", int64(-1 << 40), float64(-1 << 40)},
		{"int32 out of range", int32(math.MaxInt32), float64(math.MaxInt32)},
		{"uint64 huge", uint64(math.MaxUint64), float64(math.MaxUint64)},
		{"uint small", uint(3), int32(3)},
		{"uint8", uint8(200), int32(200)},
		{"float32", float32(0.25), 0.25},
		{"slice", []any{1, "a"}, Array3{Dense: []any{int32(1), "a"}}},
		{"ecma array", ECMAArray{{"k", 1}}, Array3{Assoc: []Property{{"k", int32(1)}}}},
		{"object", Object{{"k", true}}, Object3{IsDynamic: true, Dynamic: []Property{{"k", true}}}},
		{"map", map[string]any{"b": 1, "a": 2}, Object3{IsDynamic: true, Dynamic: []Property{{"a", int32(2)}, {"b", int32(1)}}}},
		{"typed object", TypedObject{Class: "C", Object: Object{{"x", 1}}}, Object3{Class: "C", Sealed: []Property{{"x", int32(1)}}}},
		{"bytes", []byte{9}, ByteArray{9}},
		{"dynamic flag from members", Object3{Dynamic: []Property{{"k", nil}}}, Object3{IsDynamic: true, Dynamic: []Property{{"k", nil}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			enc, err := Append3(nil, c.in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode3(enc)
			if err != nil {
				t.Fatal(err)
			}
			if !equalValues(got, []any{c.want}) {
				t.Fatalf("got %#v, want %#v", got[0], c.want)
			}
		})
	}
}

func TestAppend3Errors(t *testing.T) {
	cases := []struct {
		name string
		in   any
		want error
	}{
		{"unknown type", struct{}{}, ErrUnsupported},
		{"amf0 only type", Unsupported{}, ErrUnsupported},
		{"empty assoc key", Array3{Assoc: []Property{{"", 1}}}, ErrUnsupported},
		{"empty dynamic key", Object3{Dynamic: []Property{{"", 1}}}, ErrUnsupported},
		{"too deep", nestedArray3(MaxDepth + 1), ErrTooDeep},
		{"bad value in dictionary", Dictionary{Entries: []DictEntry{{1, make(chan int)}}}, ErrUnsupported},
		{"bad value in vector", VectorObject{Values: []any{struct{}{}}}, ErrUnsupported},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := Append3([]byte{1, 2}, c.in)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if len(out) != 2 {
				t.Fatalf("dst grew to %d bytes on error", len(out))
			}
		})
	}
}

func TestDecode3Errors(t *testing.T) {
	// Dense arrays of two references to the previous array (entry i), 30
	// times: 2^30 values from a few hundred bytes.
	bomb := []byte{0x09, 0x03, 0x01, 0x01}
	for i := range 30 {
		bomb = append(bomb, 0x09, 0x05, 0x01, 0x09)
		bomb = appendU29(bomb, uint32(i)<<1)
		bomb = append(bomb, 0x09)
		bomb = appendU29(bomb, uint32(i)<<1)
	}
	// One 60 000-byte string referenced 100 times.
	strBomb := cat(0x06, hx(t, "87A941"), strings.Repeat("s", 60000)) // U29 60000<<1|1
	for range 100 {
		strBomb = append(strBomb, 0x06, 0x00)
	}
	cases := []struct {
		name    string
		wire    []byte
		want    error
		context string
	}{
		{"empty marker only", hx(t, "04"), ErrTruncated, "amf3 integer"},
		{"u29 truncated", hx(t, "04 80"), ErrTruncated, "amf3 integer"},
		{"u29 truncated 4th byte", hx(t, "04 808080"), ErrTruncated, "amf3 integer"},
		{"double truncated", hx(t, "05 3FF0"), ErrTruncated, "amf3 double"},
		{"string truncated", hx(t, "06 07 61"), ErrTruncated, "amf3 string"},
		{"string claims 256 MiB", hx(t, "06 FFFFFFFF"), ErrTruncated, "need 268435455 bytes"},
		{"string reference out of range", hx(t, "06 00"), ErrBadReference, "string index 0 of 0"},
		{"empty string not in table", hx(t, "06 01 06 00"), ErrBadReference, "string index 0 of 0"},
		{"string reference bomb", strBomb, ErrTooLarge, "references expand"},
		{"unknown marker", hx(t, "12"), ErrBadMarker, "amf3 marker 0x12"},
		{"object reference out of range", hx(t, "0A 00"), ErrBadReference, "index 0 of 0"},
		{"traits reference out of range", hx(t, "0A 01"), ErrBadReference, "traits"},
		{"externalizable", cat(0x0a, 0x07, vr3("flex.messaging.io.ArrayCollection")), ErrUnsupported, "externalizable class \"flex.messaging.io.ArrayCollection\""},
		{"sealed count above input", cat(0x0a, 0x53, vr3("C"), vr3("a")), ErrTruncated, "sealed members"},
		{"sealed count above cap", hx(t, "0A FFFFFFFB 01"), ErrTooLarge, "sealed members"},
		{"sealed value truncated", cat(0x0a, 0x13, vr3("C"), vr3("a")), ErrTruncated, `member "a"`},
		{"dynamic member error names key", cat(0x0a, 0x0b, 0x01, vr3("k"), 0x12), ErrBadMarker, `amf3 object key "k"`},
		{"array cycle", hx(t, "09 01 03 61 09 00 01"), ErrBadReference, "still being decoded"},
		{"array dense count above input", hx(t, "09 21 01"), ErrTruncated, "dense part"},
		{"array missing assoc end", hx(t, "09 01"), ErrTruncated, "array key"},
		{"array element error", hx(t, "09 05 01 04 01 12"), ErrBadMarker, "element 1"},
		{"reference bomb", bomb, ErrTooLarge, "references expand"},
		{"too deep", nestedArrays3(MaxDepth + 1), ErrTooDeep, "more than 64 levels"},
		{"too deep objects", cat(bytes.Repeat(cat(0x0a, 0x0b, 0x01, vr3("o")), MaxDepth+1), 0x01), ErrTooDeep, ""},
		{"byte array claims 256 MiB", hx(t, "0C FFFFFFFF"), ErrTruncated, "byte array"},
		{"xml truncated", hx(t, "0B 09 3C"), ErrTruncated, "amf3 xml"},
		{"date truncated", hx(t, "08 01 3FF0"), ErrTruncated, "amf3 date"},
		{"date reference bad", hx(t, "08 04"), ErrBadReference, "amf3 date"},
		{"vector count above cap", hx(t, "0F FFFFFFFF 00"), ErrTooLarge, "double vector"},
		{"vector count above input", hx(t, "0D 05 00 00000001"), ErrTruncated, "int vector"},
		{"vector fixed flag missing", hx(t, "0E 03"), ErrTruncated, "fixed flag"},
		{"object vector type truncated", hx(t, "10 03 00"), ErrTruncated, "type name"},
		{"object vector element error", cat(0x10, 0x03, 0x00, vr3("*"), 0x12), ErrBadMarker, "element 0"},
		{"dictionary count above input", hx(t, "11 07 00 01 01"), ErrTruncated, "dictionary"},
		{"dictionary value bad", hx(t, "11 03 00 01 12"), ErrBadMarker, "entry 0 value"},
		{"second value bad", hx(t, "01 12"), ErrBadMarker, "amf3 value 1 at offset 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode3(c.wire)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if !strings.Contains(err.Error(), c.context) {
				t.Fatalf("err = %q, want it to mention %q", err, c.context)
			}
		})
	}
}

func TestDecoder3Next(t *testing.T) {
	dec := NewDecoder3(hx(t, "06 03 61 06 00 12"))
	if dec.Len() != 6 {
		t.Fatalf("Len = %d", dec.Len())
	}
	for range 2 {
		if v, err := dec.Next(); err != nil || v != "a" {
			t.Fatalf("Next = %v, %v", v, err)
		}
	}
	_, err := dec.Next()
	if !errors.Is(err, ErrBadMarker) {
		t.Fatalf("err = %v", err)
	}
	if _, err2 := dec.Next(); err2 != err {
		t.Fatal("error not sticky")
	}
	dec = NewDecoder3(nil)
	if _, err := dec.Next(); err != io.EOF {
		t.Fatalf("empty: %v", err)
	}
}

// TestAppend3TraitsKeyDistinguishesMembers pins that objects of one class but
// different sealed members, or different dynamic flags, get their own traits.
func TestAppend3TraitsKeyDistinguishesMembers(t *testing.T) {
	vals := []any{
		Object3{Class: "C", Sealed: []Property{{"ab", 1.0}}},
		Object3{Class: "C", Sealed: []Property{{"a", 1.0}, {"b", 2.0}}},
		Object3{Class: "C", Sealed: []Property{{"ab", 1.0}}, IsDynamic: true},
		Object3{Class: "C", Sealed: []Property{{"ab", 3.0}}},
	}
	enc, err := Append3(nil, vals...)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode3(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !equalValues(got, vals) {
		t.Fatalf("got %#v", got)
	}
}
