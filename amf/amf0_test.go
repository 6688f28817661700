package amf

import (
	"bytes"
	"errors"
	"io"
	"math"
	"runtime"
	"strings"
	"testing"
)

type case0 struct {
	name string
	wire []byte
	vals []any
	// canonical: Append0(vals) reproduces wire exactly; otherwise only
	// Decode0(Append0(vals)) == vals is checked.
	canonical bool
}

func cases0(t testing.TB) []case0 {
	long := strings.Repeat("x", 70000)
	return []case0{
		{"number", hx(t, "00 3FF8000000000000"), []any{1.5}, true},
		{"number zero", hx(t, "00 0000000000000000"), []any{0.0}, true},
		{"number negative zero", hx(t, "00 8000000000000000"), []any{math.Copysign(0, -1)}, true},
		{"number NaN", hx(t, "00 7FF8000000000001"), []any{math.Float64frombits(0x7FF8000000000001)}, true},
		{"boolean true", hx(t, "01 01"), []any{true}, true},
		{"boolean false", hx(t, "01 00"), []any{false}, true},
		{"boolean nonzero is true", hx(t, "01 7F"), []any{true}, false},
		{"string", hx(t, "02 0003 616263"), []any{"abc"}, true},
		{"string empty", hx(t, "02 0000"), []any{""}, true},
		{"string utf8", cat(0x02, key0("héllo")), []any{"héllo"}, true},
		{"object", cat(0x03, key0("a"), num0(1), key0("b"), str0("x"), end0()),
			[]any{Object{{"a", 1.0}, {"b", "x"}}}, true},
		{"object empty", hx(t, "03 0000 09"), []any{Object{}}, true},
		{"object empty key property", hx(t, "03 0000 05 0000 09"), []any{Object{{"", nil}}}, true},
		{"object duplicate keys kept", cat(0x03, key0("a"), num0(1), key0("a"), num0(2), end0()),
			[]any{Object{{"a", 1.0}, {"a", 2.0}}}, true},
		{"null", hx(t, "05"), []any{nil}, true},
		{"undefined", hx(t, "06"), []any{Undefined{}}, true},
		{"reference to earlier value", cat(0x03, key0("a"), 0x05, end0(), 0x07, be16(0)),
			[]any{Object{{"a", nil}}, Object{{"a", nil}}}, false},
		{"reference inside strict array", // the array is entry 0, the object entry 1
			cat(0x0a, be32(2), 0x03, key0("a"), 0x05, end0(), 0x07, be16(1)),
			[]any{[]any{Object{{"a", nil}}, Object{{"a", nil}}}}, false},
		{"reference to ecma array and typed object",
			cat(0x08, be32(0), end0(), 0x10, key0("C"), end0(), 0x07, be16(1), 0x07, be16(0)),
			[]any{ECMAArray{}, TypedObject{Class: "C", Object: Object{}}, TypedObject{Class: "C", Object: Object{}}, ECMAArray{}}, false},
		{"ecma array", cat(0x08, be32(2), key0("w"), num0(1920), key0("s"), 0x01, 0x01, end0()),
			[]any{ECMAArray{{"w", 1920.0}, {"s", true}}}, true},
		{"ecma array count is a hint", cat(0x08, be32(7), key0("w"), num0(1), end0()),
			[]any{ECMAArray{{"w", 1.0}}}, false},
		{"ecma array empty", cat(0x08, be32(0), end0()), []any{ECMAArray{}}, true},
		{"strict array", cat(0x0a, be32(3), num0(1), str0("x"), 0x05),
			[]any{[]any{1.0, "x", nil}}, true},
		{"strict array empty", cat(0x0a, be32(0)), []any{[]any{}}, true},
		{"date", cat(0x0b, dbl(1.7e12), be16(0)), []any{Date{Millis: 1.7e12}}, true},
		{"date time zone", cat(0x0b, dbl(-1), hx(t, "FFC4")), []any{Date{Millis: -1, TimeZone: -60}}, true},
		{"long string", cat(0x0c, be32(len(long)), long), []any{long}, true},
		{"long string short", cat(0x0c, be32(3), "abc"), []any{"abc"}, false},
		{"unsupported", hx(t, "0d"), []any{Unsupported{}}, true},
		{"xml document", cat(0x0f, be32(4), "<a/>"), []any{XMLDocument("<a/>")}, true},
		{"typed object", cat(0x10, key0("Foo"), key0("a"), 0x01, 0x01, end0()),
			[]any{TypedObject{Class: "Foo", Object: Object{{"a", true}}}}, true},
		{"avmplus string", hx(t, "11 06 07 616263"), []any{"abc"}, false},
		{"avmplus integer becomes number", hx(t, "11 04 05"), []any{5.0}, false},
		{"avmplus undefined", hx(t, "11 00"), []any{Undefined{}}, false},
		{"avmplus object", hx(t, "11 0A 0B 01 03 61 04 01 01"),
			[]any{Object3{IsDynamic: true, Dynamic: []Property{{"a", int32(1)}}}}, true},
		{"avmplus byte array in object", cat(0x03, key0("b"), hx(t, "11 0C 05 0102"), end0()),
			[]any{Object{{"b", ByteArray{1, 2}}}}, true},
		{"avmplus tables shared across switches", hx(t, "11 06 07 616263 11 06 00"),
			[]any{"abc", "abc"}, false},
		{"avmplus traits shared across switches",
			hx(t, "11 0A 13 07 466F6F 03 78 04 01   11 0A 01 04 02"),
			[]any{
				Object3{Class: "Foo", Sealed: []Property{{"x", int32(1)}}},
				Object3{Class: "Foo", Sealed: []Property{{"x", int32(2)}}},
			}, false},
		{"connect command", cat(
			str0("connect"), num0(1), 0x03,
			key0("app"), str0("live"),
			key0("type"), str0("nonprivate"),
			key0("flashVer"), str0("FMLE/3.0 (compatible; FMSc/1.0)"),
			key0("swfUrl"), str0("rtmp://localhost:1935/live"),
			key0("tcUrl"), str0("rtmp://localhost:1935/live"),
			key0("fpad"), 0x01, 0x00,
			key0("capabilities"), num0(15),
			key0("audioCodecs"), num0(4071),
			key0("videoCodecs"), num0(252),
			key0("videoFunction"), num0(1),
			key0("fourCcList"), 0x0a, be32(3), str0("av01"), str0("vp09"), str0("hvc1"),
			end0()), connectCommand(), true},
		{"nested to max depth", nested0(MaxDepth), []any{nestedObject(MaxDepth)}, true},
	}
}

// nestedObject is the value of nested0(n).
func nestedObject(n int) any {
	var v any
	for range n {
		v = Object{{"o", v}}
	}
	return v
}

func TestDecode0Cases(t *testing.T) {
	for _, c := range cases0(t) {
		t.Run(c.name, func(t *testing.T) {
			got, err := Decode0(c.wire)
			if err != nil {
				t.Fatalf("Decode0: %v", err)
			}
			if !equalValues(got, c.vals) {
				t.Fatalf("Decode0 = %#v, want %#v", got, c.vals)
			}
		})
	}
}

func TestAppend0Cases(t *testing.T) {
	for _, c := range cases0(t) {
		t.Run(c.name, func(t *testing.T) {
			enc := mustAppend0(t, c.vals...)
			if c.canonical && !bytes.Equal(enc, c.wire) {
				t.Fatalf("Append0 = % x\nwant      % x", enc, c.wire)
			}
			got, err := Decode0(enc)
			if err != nil {
				t.Fatalf("Decode0(Append0): %v", err)
			}
			if !equalValues(got, c.vals) {
				t.Fatalf("Decode0(Append0) = %#v, want %#v", got, c.vals)
			}
		})
	}
}

func TestAppend0Convenience(t *testing.T) {
	cases := []struct {
		name string
		in   any
		want any
	}{
		{"int", 7, 7.0},
		{"int8", int8(-7), -7.0},
		{"int16", int16(300), 300.0},
		{"int32", int32(-1), -1.0},
		{"int64", int64(1 << 40), float64(1 << 40)},
		{"uint", uint(9), 9.0},
		{"uint8", uint8(255), 255.0},
		{"uint16", uint16(65535), 65535.0},
		{"uint32", uint32(1 << 31), float64(1 << 31)},
		{"uint64", uint64(1 << 50), float64(1 << 50)},
		{"float32", float32(0.5), 0.5},
		{"map sorted", map[string]any{"b": 2, "a": "x", "c": nil},
			Object{{"a", "x"}, {"b", 2.0}, {"c", nil}}},
		{"bytes", []byte{1, 2}, ByteArray{1, 2}},
		{"vector", VectorInt{Values: []int32{1}}, VectorInt{Values: []int32{1}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Decode0(mustAppend0(t, c.in))
			if err != nil {
				t.Fatal(err)
			}
			if !equalValues(got, []any{c.want}) {
				t.Fatalf("got %#v, want %#v", got[0], c.want)
			}
		})
	}
}

func TestAppend0Errors(t *testing.T) {
	self := []any{nil}
	self[0] = self
	cases := []struct {
		name string
		in   any
		want error
	}{
		{"unknown type", struct{}{}, ErrUnsupported},
		{"channel in object", Object{{"c", make(chan int)}}, ErrUnsupported},
		{"key too long", Object{{strings.Repeat("k", 65536), nil}}, ErrTooLarge},
		{"class too long", TypedObject{Class: strings.Repeat("k", 65536)}, ErrTooLarge},
		{"cyclic slice", self, ErrTooDeep},
		{"too deep", nestedObject(MaxDepth + 1), ErrTooDeep},
		{"amf3 empty dynamic key", Object3{Dynamic: []Property{{"", 1}}}, ErrUnsupported},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dst := []byte{0xAA}
			out, err := Append0(dst, c.in)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if len(out) != 1 {
				t.Fatalf("dst grew to %d bytes on error", len(out))
			}
		})
	}
}

func TestDecode0Errors(t *testing.T) {
	selfRef := cat(0x03, key0("a"), 0x07, be16(0), end0())
	// 30 arrays, each holding two references to the previous one: the last
	// stands for 2^30 values.
	var bomb []byte
	bomb = append(bomb, 0x0a, 0, 0, 0, 1, 0x05)
	for i := range 30 {
		bomb = append(bomb, 0x0a, 0, 0, 0, 2, 0x07)
		bomb = append(bomb, be16(i)...)
		bomb = append(bomb, 0x07)
		bomb = append(bomb, be16(i)...)
	}
	// Value 0 nests 60 objects (table entries 0..59, entry 0 of height 60);
	// value 1 opens 10 strict arrays and then references entry 0.
	deepRef := nested0(60)
	for range 10 {
		deepRef = append(deepRef, 0x0a, 0, 0, 0, 1)
	}
	deepRef = append(deepRef, 0x07, 0, 0)

	cases := []struct {
		name    string
		wire    []byte
		want    error
		context string
	}{
		{"number truncated", hx(t, "00 3FF0"), ErrTruncated, "amf0 number"},
		{"boolean truncated", hx(t, "01"), ErrTruncated, "boolean"},
		{"string length truncated", hx(t, "02 00"), ErrTruncated, "string length"},
		{"string truncated", hx(t, "02 0005 61"), ErrTruncated, "need 5 bytes, 1 left"},
		{"long string claims 4 GiB", hx(t, "0C FFFFFFFF 61"), ErrTruncated, "long string"},
		{"xml claims 4 GiB", hx(t, "0F FFFFFFFF"), ErrTruncated, "xml document"},
		{"object key truncated", hx(t, "03 0005 61"), ErrTruncated, "object key"},
		{"object missing end", cat(0x03, key0("a"), 0x05), ErrTruncated, "object key length"},
		{"object value error names key", cat(0x03, key0("app"), 0x02, be16(16), "a"), ErrTruncated, `amf0 object key "app"`},
		{"object nested error names path", cat(0x03, key0("a"), 0x03, key0("b"), 0x04), ErrUnsupported, `key "a": amf0 object key "b"`},
		{"movieclip reserved", hx(t, "04"), ErrUnsupported, "0x04"},
		{"recordset reserved", hx(t, "0E"), ErrUnsupported, "0x0e"},
		{"unknown marker", hx(t, "12"), ErrBadMarker, "0x12"},
		{"unknown marker ff", hx(t, "FF"), ErrBadMarker, "0xff"},
		{"object-end as value", hx(t, "09"), ErrBadMarker, "object-end"},
		{"object-end in strict array", cat(0x0a, be32(1), 0x09), ErrBadMarker, "element 0"},
		{"reference with empty table", hx(t, "07 0000"), ErrBadReference, "index 0 of 0"},
		{"reference out of range", cat(0x03, end0(), 0x07, be16(1)), ErrBadReference, "index 1 of 1"},
		{"reference truncated", hx(t, "07 00"), ErrTruncated, "reference"},
		{"reference to itself", selfRef, ErrBadReference, "still being decoded"},
		{"reference expansion bomb", bomb, ErrTooLarge, "references expand"},
		{"reference expands too deep", deepRef, ErrTooDeep, "reference expands"},
		{"strict array count above cap", hx(t, "0A FFFFFFFF"), ErrTooLarge, "strict array"},
		{"strict array count above input", cat(0x0a, be32(16), 0x05), ErrTruncated, "count 16"},
		{"ecma array count truncated", hx(t, "08 0000"), ErrTruncated, "ecma array count"},
		{"date truncated", cat(0x0b, dbl(1)), ErrTruncated, "time zone"},
		{"typed object class truncated", hx(t, "10 0004 41"), ErrTruncated, "typed object class"},
		{"typed object body error", cat(0x10, key0("Foo"), key0("a")), ErrTruncated, `typed object "Foo"`},
		{"too deep", nested0(MaxDepth + 1), ErrTooDeep, "more than 64 levels"},
		{"too deep arrays", cat(bytes.Repeat(cat(0x0a, be32(1)), MaxDepth+1), 0x05), ErrTooDeep, "more than 64 levels"},
		{"too deep through avmplus", cat(bytes.Repeat(cat(0x0a, be32(1)), MaxDepth), 0x11, 0x09, 0x03, 0x01, 0x01), ErrTooDeep, "avmplus"},
		{"avmplus truncated", hx(t, "11"), ErrTruncated, "avmplus"},
		{"avmplus bad amf3", hx(t, "11 FF"), ErrBadMarker, "amf3 marker 0xff"},
		{"second value bad", cat(str0("ok"), 0x04), ErrUnsupported, "amf0 value 1 at offset 5"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode0(c.wire)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if !strings.Contains(err.Error(), c.context) {
				t.Fatalf("err = %q, want it to mention %q", err, c.context)
			}
			// Deterministic: the same input gives the same error.
			_, err2 := Decode0(c.wire)
			if err2 == nil || err2.Error() != err.Error() {
				t.Fatalf("second decode: %v, first: %v", err2, err)
			}
		})
	}
}

func TestDecode0ReturnsValuesBeforeError(t *testing.T) {
	vals, err := Decode0(cat(str0("connect"), num0(1), 0x04))
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("err = %v", err)
	}
	if !equalValues(vals, []any{"connect", 1.0}) {
		t.Fatalf("vals = %#v", vals)
	}
}

func TestDecoder0Next(t *testing.T) {
	wire := cat(str0("a"), num0(2), 0x04)
	dec := NewDecoder0(wire)
	if dec.Len() != len(wire) {
		t.Fatalf("Len = %d", dec.Len())
	}
	v, err := dec.Next()
	if err != nil || v != "a" {
		t.Fatalf("Next = %v, %v", v, err)
	}
	if dec.Len() != len(wire)-4 {
		t.Fatalf("Len = %d after one value", dec.Len())
	}
	if v, err = dec.Next(); err != nil || v != 2.0 {
		t.Fatalf("Next = %v, %v", v, err)
	}
	_, err = dec.Next()
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("Next err = %v", err)
	}
	if _, err2 := dec.Next(); err2 != err {
		t.Fatalf("error not sticky: %v then %v", err, err2)
	}

	dec = NewDecoder0(str0("x"))
	if _, err := dec.Next(); err != nil {
		t.Fatal(err)
	}
	if _, err := dec.Next(); err != io.EOF {
		t.Fatalf("at end: %v, want io.EOF", err)
	}
	if vals, err := Decode0(nil); err != nil || len(vals) != 0 {
		t.Fatalf("Decode0(nil) = %v, %v", vals, err)
	}
}

// TestDecode0HugeLengthNoAllocation pins that lengths claimed by the input
// are checked against what remains before anything is allocated.
func TestDecode0HugeLengthNoAllocation(t *testing.T) {
	inputs := [][]byte{
		hx(t, "0C FFFFFFFF 6161"),
		hx(t, "0A 00FFFFFF 05"),
		hx(t, "11 06 FFFFFFFF"),
		hx(t, "11 0C FFFFFFFF"),
		hx(t, "11 0F 87FFFF 00"),
	}
	for _, in := range inputs {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range 100 {
			if _, err := Decode0(in); err == nil {
				t.Fatalf("% x decoded", in)
			}
		}
		runtime.ReadMemStats(&after)
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
			t.Fatalf("% x: 100 decodes allocated %d bytes", in, grew)
		}
	}
}

func TestDecode0DoesNotAliasInput(t *testing.T) {
	wire := cat(str0("live"), 0x11, 0x0c, 0x05, 1, 2)
	vals, err := Decode0(wire)
	if err != nil {
		t.Fatal(err)
	}
	for i := range wire {
		wire[i] = 0
	}
	if !equalValues(vals, []any{"live", ByteArray{1, 2}}) {
		t.Fatalf("values changed with the input: %#v", vals)
	}
}

func TestDecode0LargeInputStrings(t *testing.T) {
	// Above sharedStringMax strings are converted one by one.
	big := strings.Repeat("y", sharedStringMax)
	wire := cat(str0("a"), 0x0c, be32(len(big)), big)
	vals, err := Decode0(wire)
	if err != nil {
		t.Fatal(err)
	}
	if !equalValues(vals, []any{"a", big}) {
		t.Fatal("large input decoded wrong")
	}
}

func TestObjectHelpers(t *testing.T) {
	o := Object{{"app", "live"}, {"n", 2.0}, {"i", int32(3)}, {"b", true}, {"app", "last"}}
	if v, ok := o.Get("n"); !ok || v != 2.0 {
		t.Fatalf("Get n = %v %v", v, ok)
	}
	if _, ok := o.Get("missing"); ok {
		t.Fatal("Get missing ok")
	}
	if s, ok := o.String("app"); !ok || s != "last" {
		t.Fatalf("String app = %q %v (last wins)", s, ok)
	}
	if _, ok := o.String("n"); ok {
		t.Fatal("String of a number ok")
	}
	if f, ok := o.Number("i"); !ok || f != 3 {
		t.Fatalf("Number i = %v %v", f, ok)
	}
	if _, ok := o.Number("app"); ok {
		t.Fatal("Number of a string ok")
	}
	if b, ok := o.Bool("b"); !ok || !b {
		t.Fatalf("Bool b = %v %v", b, ok)
	}
	a := ECMAArray(o)
	if f, ok := a.Number("n"); !ok || f != 2 {
		t.Fatalf("ECMAArray Number = %v %v", f, ok)
	}
	if s, ok := a.String("app"); !ok || s != "last" {
		t.Fatalf("ECMAArray String = %v %v", s, ok)
	}
	if v, ok := a.Get("b"); !ok || v != true {
		t.Fatalf("ECMAArray Get = %v %v", v, ok)
	}
	if b, ok := a.Bool("b"); !ok || !b {
		t.Fatalf("ECMAArray Bool = %v %v", b, ok)
	}
	o3 := Object3{Sealed: []Property{{"x", 1.0}, {"y", 2.0}}, Dynamic: []Property{{"x", 3.0}}}
	if v, ok := o3.Get("x"); !ok || v != 3.0 {
		t.Fatalf("Object3 Get x = %v (dynamic first)", v)
	}
	if v, ok := o3.Get("y"); !ok || v != 2.0 {
		t.Fatalf("Object3 Get y = %v", v)
	}
	if _, ok := o3.Get("z"); ok {
		t.Fatal("Object3 Get z ok")
	}
	d := Date{Millis: 1700000000123}
	if got := DateOf(d.Time()); got != d {
		t.Fatalf("DateOf(Time) = %v, want %v", got, d)
	}
}
