package amf

import (
	"encoding/binary"
	"math"
	"reflect"
	"testing"

	"github.com/mediaserver/mediaserver/internal/testenv"
)

// equalValues reports whether a and b are deeply equal, comparing floats by
// their bits (so NaN equals the same NaN, and 0 differs from -0).
func equalValues(a, b any) bool {
	return equalReflect(reflect.ValueOf(a), reflect.ValueOf(b))
}

func equalReflect(a, b reflect.Value) bool {
	if !a.IsValid() || !b.IsValid() {
		return a.IsValid() == b.IsValid()
	}
	if a.Type() != b.Type() {
		return false
	}
	switch a.Kind() {
	case reflect.Float32, reflect.Float64:
		return math.Float64bits(a.Float()) == math.Float64bits(b.Float())
	case reflect.Interface, reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return equalReflect(a.Elem(), b.Elem())
	case reflect.Slice:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !equalReflect(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Struct:
		for i := range a.NumField() {
			if !equalReflect(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Map:
		return reflect.DeepEqual(a.Interface(), b.Interface())
	}
	return a.Interface() == b.Interface()
}

// hx decodes a hex fixture that may contain spaces and newlines.
func hx(t testing.TB, s string) []byte {
	t.Helper()
	return testenv.Hex(t, s)
}

// cat concatenates byte slices, strings (taken as raw bytes) and single
// bytes.
func cat(parts ...any) []byte { return testenv.Cat(parts...) }

// Independent little builders for expected wire bytes.

func be16(n int) []byte { return binary.BigEndian.AppendUint16(nil, uint16(n)) }
func be32(n int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(n)) }
func dbl(f float64) []byte {
	return binary.BigEndian.AppendUint64(nil, math.Float64bits(f))
}

// key0 is an AMF0 UTF-8 (U16 length) without marker.
func key0(s string) []byte { return cat(be16(len(s)), s) }

// num0 is an AMF0 number.
func num0(f float64) []byte { return cat(0x00, dbl(f)) }

// str0 is an AMF0 string.
func str0(s string) []byte { return cat(0x02, key0(s)) }

// end0 is the AMF0 object end.
func end0() []byte { return []byte{0, 0, 9} }

// vr3 is an inline AMF3 UTF-8-vr of a short string (< 64 bytes).
func vr3(s string) []byte { return cat(byte(len(s)<<1|1), s) }

func connectCommand() []any {
	return []any{"connect", 1.0, Object{
		{"app", "live"},
		{"type", "nonprivate"},
		{"flashVer", "FMLE/3.0 (compatible; FMSc/1.0)"},
		{"swfUrl", "rtmp://localhost:1935/live"},
		{"tcUrl", "rtmp://localhost:1935/live"},
		{"fpad", false},
		{"capabilities", 15.0},
		{"audioCodecs", 4071.0},
		{"videoCodecs", 252.0},
		{"videoFunction", 1.0},
		{"fourCcList", []any{"av01", "vp09", "hvc1"}},
	}}
}

func metadataCommand() []any {
	return []any{"@setDataFrame", "onMetaData", ECMAArray{
		{"duration", 0.0},
		{"fileSize", 0.0},
		{"width", 1920.0},
		{"height", 1080.0},
		{"videocodecid", 7.0},
		{"videodatarate", 2500.0},
		{"framerate", 30.0},
		{"audiocodecid", 10.0},
		{"audiodatarate", 160.0},
		{"audiosamplerate", 48000.0},
		{"audiosamplesize", 16.0},
		{"audiochannels", 2.0},
		{"stereo", true},
		{"2.1", false},
		{"3.1", false},
		{"4.0", false},
		{"4.1", false},
		{"5.1", false},
		{"7.1", false},
		{"encoder", "obs-output module (libobs version 30.1.2)"},
	}}
}

func mustAppend0(t testing.TB, vals ...any) []byte {
	t.Helper()
	b, err := Append0(nil, vals...)
	if err != nil {
		t.Fatalf("Append0: %v", err)
	}
	return b
}

// nested0 is n AMF0 objects nested under key "o", innermost holding null.
func nested0(n int) []byte {
	var b []byte
	for range n {
		b = append(b, 0x03)
		b = append(b, key0("o")...)
	}
	b = append(b, 0x05)
	for range n {
		b = append(b, end0()...)
	}
	return b
}

// nestedArrays3 is n AMF3 arrays nested as single dense elements, innermost
// holding null.
func nestedArrays3(n int) []byte {
	var b []byte
	for range n {
		b = append(b, 0x09, 0x03, 0x01)
	}
	return append(b, 0x01)
}
