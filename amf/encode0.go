package amf

import (
	"encoding/binary"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"
)

// encoder is the state of one Append0 or Append3 call.
type encoder struct {
	depth  int
	refs   bool           // use AMF3 string and traits references
	strs   map[string]int // AMF3 string table (refs only)
	traits map[string]int // AMF3 traits table, keyed by traitsKey (refs only)
	key    []byte         // scratch for traitsKey
}

// Append0 appends the AMF0 encoding of vals to dst. It encodes every value
// Decode0 returns, and for convenience also: all Go integer types, float32
// (as Number), map[string]any (as an Object with sorted keys), time.Time (as
// Date) and []byte (as an AMF3 ByteArray). AMF3-only values (Array3, Object3,
// XML, ByteArray, vectors, Dictionary) are written after an avmplus-object
// switch marker, inline (no AMF3 references). Strings longer than 65535
// bytes become long strings. On error dst is returned with its original
// length.
func Append0(dst []byte, vals ...any) ([]byte, error) {
	var e encoder
	orig := len(dst)
	for i, v := range vals {
		var err error
		if dst, err = e.value0(dst, v); err != nil {
			return dst[:orig], fmt.Errorf("amf0 value %d: %w", i, err)
		}
	}
	return dst, nil
}

func appendNumber0(dst []byte, f float64) []byte {
	dst = append(dst, marker0Number)
	return binary.BigEndian.AppendUint64(dst, math.Float64bits(f))
}

func (e *encoder) value0(dst []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(dst, marker0Null), nil
	case float64:
		return appendNumber0(dst, v), nil
	case string:
		return appendString0(dst, v)
	case bool:
		if v {
			return append(dst, marker0Boolean, 1), nil
		}
		return append(dst, marker0Boolean, 0), nil
	case Object:
		return e.props0(append(dst, marker0Object), v, "object")
	case ECMAArray:
		if uint64(len(v)) > math.MaxUint32 {
			return dst, fmt.Errorf("amf0 ecma array of %d: %w", len(v), ErrTooLarge)
		}
		dst = binary.BigEndian.AppendUint32(append(dst, marker0ECMAArray), uint32(len(v)))
		return e.props0(dst, v, "ecma array")
	case []any:
		return e.strictArray0(dst, v)
	case Undefined:
		return append(dst, marker0Undefined), nil
	case Unsupported:
		return append(dst, marker0Unsupported), nil
	case Date:
		dst = binary.BigEndian.AppendUint64(append(dst, marker0Date), math.Float64bits(v.Millis))
		return binary.BigEndian.AppendUint16(dst, uint16(v.TimeZone)), nil
	case XMLDocument:
		if uint64(len(v)) > math.MaxUint32 {
			return dst, fmt.Errorf("amf0 xml document of %d bytes: %w", len(v), ErrTooLarge)
		}
		dst = binary.BigEndian.AppendUint32(append(dst, marker0XMLDocument), uint32(len(v)))
		return append(dst, v...), nil
	case TypedObject:
		if len(v.Class) > math.MaxUint16 {
			return dst, fmt.Errorf("amf0 typed object class of %d bytes: %w", len(v.Class), ErrTooLarge)
		}
		dst = binary.BigEndian.AppendUint16(append(dst, marker0TypedObject), uint16(len(v.Class)))
		dst = append(dst, v.Class...)
		return e.props0(dst, v.Object, "typed object")
	case int:
		return appendNumber0(dst, float64(v)), nil
	case int8:
		return appendNumber0(dst, float64(v)), nil
	case int16:
		return appendNumber0(dst, float64(v)), nil
	case int32:
		return appendNumber0(dst, float64(v)), nil
	case int64:
		return appendNumber0(dst, float64(v)), nil
	case uint:
		return appendNumber0(dst, float64(v)), nil
	case uint8:
		return appendNumber0(dst, float64(v)), nil
	case uint16:
		return appendNumber0(dst, float64(v)), nil
	case uint32:
		return appendNumber0(dst, float64(v)), nil
	case uint64:
		return appendNumber0(dst, float64(v)), nil
	case float32:
		return appendNumber0(dst, float64(v)), nil
	case map[string]any:
		return e.props0(append(dst, marker0Object), sortedProps(v), "object")
	case time.Time:
		return e.value0(dst, DateOf(v))
	case Array3, Object3, XML, ByteArray, []byte, VectorInt, VectorUint, VectorDouble, VectorObject, Dictionary:
		return e.value3(append(dst, marker0AVMPlus), v)
	}
	return dst, fmt.Errorf("amf0 cannot encode %T: %w", v, ErrUnsupported)
}

func appendString0(dst []byte, s string) ([]byte, error) {
	switch {
	case len(s) <= math.MaxUint16:
		dst = binary.BigEndian.AppendUint16(append(dst, marker0String), uint16(len(s)))
	case uint64(len(s)) <= math.MaxUint32:
		dst = binary.BigEndian.AppendUint32(append(dst, marker0LongString), uint32(len(s)))
	default:
		return dst, fmt.Errorf("amf0 string of %d bytes: %w", len(s), ErrTooLarge)
	}
	return append(dst, s...), nil
}

// props0 appends properties and the object-end marker.
func (e *encoder) props0(dst []byte, props []Property, kind string) ([]byte, error) {
	if err := e.enter(); err != nil {
		return dst, fmt.Errorf("amf0 %s: %w", kind, err)
	}
	for _, p := range props {
		if len(p.Key) > math.MaxUint16 {
			return dst, fmt.Errorf("amf0 %s key of %d bytes: %w", kind, len(p.Key), ErrTooLarge)
		}
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(p.Key)))
		dst = append(dst, p.Key...)
		var err error
		if dst, err = e.value0(dst, p.Value); err != nil {
			return dst, fmt.Errorf("amf0 %s key %q: %w", kind, p.Key, err)
		}
	}
	e.depth--
	return append(dst, 0, 0, marker0ObjectEnd), nil
}

func (e *encoder) strictArray0(dst []byte, arr []any) ([]byte, error) {
	if len(arr) > MaxCount {
		return dst, fmt.Errorf("amf0 strict array of %d: %w", len(arr), ErrTooLarge)
	}
	if err := e.enter(); err != nil {
		return dst, fmt.Errorf("amf0 strict array: %w", err)
	}
	dst = binary.BigEndian.AppendUint32(append(dst, marker0StrictArray), uint32(len(arr)))
	for i, v := range arr {
		var err error
		if dst, err = e.value0(dst, v); err != nil {
			return dst, fmt.Errorf("amf0 strict array element %d: %w", i, err)
		}
	}
	e.depth--
	return dst, nil
}

// enter opens a container; the caller decrements e.depth when done.
func (e *encoder) enter() error {
	if e.depth >= MaxDepth {
		return fmt.Errorf("more than %d levels: %w", MaxDepth, ErrTooDeep)
	}
	e.depth++
	return nil
}

// sortedProps returns the entries of m as properties sorted by key.
func sortedProps(m map[string]any) []Property {
	keys := slices.Sorted(maps.Keys(m))
	props := make([]Property, len(keys))
	for i, k := range keys {
		props[i] = Property{Key: k, Value: m[k]}
	}
	return props
}
