package amf

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// Append3 appends the AMF3 encoding of vals to dst, as one message: strings
// and traits are written once and referenced afterwards (objects are always
// written inline). It encodes every value Decode3 returns, and for
// convenience also: Go integer types (as integer when they fit in 29 signed
// bits, double otherwise), float32, []any (dense Array3), ECMAArray
// (associative Array3), Object and map[string]any (anonymous dynamic
// Object3, map keys sorted), TypedObject (Object3 with sealed members),
// time.Time (Date) and []byte (ByteArray). Values appended by separate calls
// must not be concatenated into one message (their references would clash).
// On error dst is returned with its original length.
func Append3(dst []byte, vals ...any) ([]byte, error) {
	e := encoder{refs: true}
	orig := len(dst)
	for i, v := range vals {
		var err error
		if dst, err = e.value3(dst, v); err != nil {
			return dst[:orig], fmt.Errorf("amf3 value %d: %w", i, err)
		}
	}
	return dst, nil
}

// appendU29 appends v (at most 29 bits) in the AMF3 variable-length format.
func appendU29(dst []byte, v uint32) []byte {
	switch {
	case v < 1<<7:
		return append(dst, byte(v))
	case v < 1<<14:
		return append(dst, byte(v>>7)|0x80, byte(v&0x7f))
	case v < 1<<21:
		return append(dst, byte(v>>14)|0x80, byte(v>>7)|0x80, byte(v&0x7f))
	}
	return append(dst, byte(v>>22)|0x80, byte(v>>15)|0x80, byte(v>>8)|0x80, byte(v))
}

// appendInline3 appends the U29 header of an inline value of length n.
func appendInline3(dst []byte, n int, what string) ([]byte, error) {
	if n > maxInt29 {
		return dst, fmt.Errorf("amf3 %s of %d: %w", what, n, ErrTooLarge)
	}
	return appendU29(dst, uint32(n)<<1|1), nil
}

func appendDouble3(dst []byte, f float64) []byte {
	return binary.BigEndian.AppendUint64(append(dst, marker3Double), math.Float64bits(f))
}

func appendInt3(dst []byte, i int64) []byte {
	if i < minInt29 || i > maxInt29 {
		return appendDouble3(dst, float64(i))
	}
	return appendU29(append(dst, marker3Integer), uint32(i)&maxU29)
}

func (e *encoder) value3(dst []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(dst, marker3Null), nil
	case Undefined:
		return append(dst, marker3Undefined), nil
	case bool:
		if v {
			return append(dst, marker3True), nil
		}
		return append(dst, marker3False), nil
	case int32:
		return appendInt3(dst, int64(v)), nil
	case float64:
		return appendDouble3(dst, v), nil
	case string:
		return e.string3(append(dst, marker3String), v)
	case XMLDocument:
		return appendBlob3(dst, marker3XMLDocument, v)
	case XML:
		return appendBlob3(dst, marker3XML, v)
	case ByteArray:
		return appendBlob3(dst, marker3ByteArray, v)
	case []byte:
		return appendBlob3(dst, marker3ByteArray, v)
	case Date:
		dst = append(dst, marker3Date, 0x01)
		return binary.BigEndian.AppendUint64(dst, math.Float64bits(v.Millis)), nil
	case time.Time:
		return e.value3(dst, DateOf(v))
	case Array3:
		return e.array3(dst, v.Dense, v.Assoc)
	case []any:
		return e.array3(dst, v, nil)
	case ECMAArray:
		return e.array3(dst, nil, v)
	case Object3:
		return e.object3(dst, v)
	case Object:
		return e.object3(dst, Object3{Dynamic: v, IsDynamic: true})
	case map[string]any:
		return e.object3(dst, Object3{Dynamic: sortedProps(v), IsDynamic: true})
	case TypedObject:
		return e.object3(dst, Object3{Class: v.Class, Sealed: v.Object})
	case VectorInt:
		return e.vectorInt3(dst, v)
	case VectorUint:
		return e.vectorUint3(dst, v)
	case VectorDouble:
		return e.vectorDouble3(dst, v)
	case VectorObject:
		return e.vectorObject3(dst, v)
	case Dictionary:
		return e.dictionary3(dst, v)
	case int:
		return appendInt3(dst, int64(v)), nil
	case int8:
		return appendInt3(dst, int64(v)), nil
	case int16:
		return appendInt3(dst, int64(v)), nil
	case int64:
		return appendInt3(dst, v), nil
	case uint:
		return appendUint3(dst, uint64(v)), nil
	case uint8:
		return appendInt3(dst, int64(v)), nil
	case uint16:
		return appendInt3(dst, int64(v)), nil
	case uint32:
		return appendInt3(dst, int64(v)), nil
	case uint64:
		return appendUint3(dst, v), nil
	case float32:
		return appendDouble3(dst, float64(v)), nil
	}
	return dst, fmt.Errorf("amf3 cannot encode %T: %w", v, ErrUnsupported)
}

func appendUint3(dst []byte, u uint64) []byte {
	if u > maxInt29 {
		return appendDouble3(dst, float64(u))
	}
	return appendInt3(dst, int64(u))
}

// string3 appends a UTF-8-vr: a reference when the string was written
// before (refs mode), inline otherwise. The empty string is never
// referenced.
func (e *encoder) string3(dst []byte, s string) ([]byte, error) {
	if s == "" {
		return append(dst, 0x01), nil
	}
	if e.refs {
		if idx, ok := e.strs[s]; ok {
			return appendU29(dst, uint32(idx)<<1), nil
		}
		if len(e.strs) < MaxTableEntries {
			if e.strs == nil {
				e.strs = make(map[string]int)
			}
			e.strs[s] = len(e.strs)
		}
	}
	dst, err := appendInline3(dst, len(s), "string")
	if err != nil {
		return dst, err
	}
	return append(dst, s...), nil
}

// appendBlob3 appends an XML document, XML or byte array (never referenced).
func appendBlob3[T ~string | ~[]byte](dst []byte, m byte, s T) ([]byte, error) {
	dst, err := appendInline3(append(dst, m), len(s), blobName(m))
	if err != nil {
		return dst, err
	}
	return append(dst, s...), nil
}

func (e *encoder) array3(dst []byte, dense []any, assoc []Property) ([]byte, error) {
	if len(dense) > MaxCount {
		return dst, fmt.Errorf("amf3 array of %d: %w", len(dense), ErrTooLarge)
	}
	if err := e.enter(); err != nil {
		return dst, fmt.Errorf("amf3 array: %w", err)
	}
	dst = appendU29(append(dst, marker3Array), uint32(len(dense))<<1|1)
	dst, err := e.dynamic3(dst, assoc, "array")
	if err != nil {
		return dst, err
	}
	for i, v := range dense {
		if dst, err = e.value3(dst, v); err != nil {
			return dst, fmt.Errorf("amf3 array element %d: %w", i, err)
		}
	}
	e.depth--
	return dst, nil
}

// dynamic3 appends name/value pairs and the empty-name terminator.
func (e *encoder) dynamic3(dst []byte, props []Property, kind string) ([]byte, error) {
	var err error
	for _, p := range props {
		if p.Key == "" {
			return dst, fmt.Errorf("amf3 %s: empty key cannot be encoded: %w", kind, ErrUnsupported)
		}
		if dst, err = e.string3(dst, p.Key); err != nil {
			return dst, fmt.Errorf("amf3 %s key: %w", kind, err)
		}
		if dst, err = e.value3(dst, p.Value); err != nil {
			return dst, fmt.Errorf("amf3 %s key %q: %w", kind, p.Key, err)
		}
	}
	return append(dst, 0x01), nil
}

func (e *encoder) object3(dst []byte, o Object3) ([]byte, error) {
	if len(o.Sealed) > MaxCount {
		return dst, fmt.Errorf("amf3 object %q with %d sealed members: %w", o.Class, len(o.Sealed), ErrTooLarge)
	}
	if err := e.enter(); err != nil {
		return dst, fmt.Errorf("amf3 object %q: %w", o.Class, err)
	}
	dynamic := o.IsDynamic || len(o.Dynamic) > 0
	dst = append(dst, marker3Object)
	var err error
	if dst, err = e.traits3(dst, o, dynamic); err != nil {
		return dst, fmt.Errorf("amf3 object %q traits: %w", o.Class, err)
	}
	for _, p := range o.Sealed {
		if dst, err = e.value3(dst, p.Value); err != nil {
			return dst, fmt.Errorf("amf3 object %q member %q: %w", o.Class, p.Key, err)
		}
	}
	if dynamic {
		if dst, err = e.dynamic3(dst, o.Dynamic, "object"); err != nil {
			return dst, fmt.Errorf("amf3 object %q: %w", o.Class, err)
		}
	}
	e.depth--
	return dst, nil
}

// traits3 appends the object header: a traits reference when the same traits
// were written before (refs mode), inline traits otherwise.
func (e *encoder) traits3(dst []byte, o Object3, dynamic bool) ([]byte, error) {
	if e.refs {
		e.key = traitsKey(e.key[:0], o, dynamic)
		if idx, ok := e.traits[string(e.key)]; ok {
			return appendU29(dst, uint32(idx)<<2|0x01), nil
		}
		if len(e.traits) < MaxTableEntries {
			if e.traits == nil {
				e.traits = make(map[string]int)
			}
			e.traits[string(e.key)] = len(e.traits)
		}
	}
	h := uint32(len(o.Sealed))<<4 | 0x03
	if dynamic {
		h |= 0x08
	}
	dst = appendU29(dst, h)
	var err error
	if dst, err = e.string3(dst, o.Class); err != nil {
		return dst, fmt.Errorf("class name: %w", err)
	}
	for _, p := range o.Sealed {
		if dst, err = e.string3(dst, p.Key); err != nil {
			return dst, fmt.Errorf("sealed member name: %w", err)
		}
	}
	return dst, nil
}

// traitsKey identifies traits: class, dynamic flag and sealed member names,
// each name length-prefixed so that distinct traits never share a key.
func traitsKey(b []byte, o Object3, dynamic bool) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(len(o.Class)))
	b = append(b, o.Class...)
	if dynamic {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	for _, p := range o.Sealed {
		b = binary.BigEndian.AppendUint64(b, uint64(len(p.Key)))
		b = append(b, p.Key...)
	}
	return b
}

// vectorHeader3 appends a vector's marker, length and fixed flag.
func vectorHeader3(dst []byte, m byte, n int, fixed bool) ([]byte, error) {
	if n > MaxCount {
		return dst, fmt.Errorf("amf3 %s of %d: %w", vectorName(m), n, ErrTooLarge)
	}
	dst = appendU29(append(dst, m), uint32(n)<<1|1)
	if fixed {
		return append(dst, 1), nil
	}
	return append(dst, 0), nil
}

func (e *encoder) vectorInt3(dst []byte, v VectorInt) ([]byte, error) {
	dst, err := vectorHeader3(dst, marker3VectorInt, len(v.Values), v.Fixed)
	if err != nil {
		return dst, err
	}
	for _, x := range v.Values {
		dst = binary.BigEndian.AppendUint32(dst, uint32(x))
	}
	return dst, nil
}

func (e *encoder) vectorUint3(dst []byte, v VectorUint) ([]byte, error) {
	dst, err := vectorHeader3(dst, marker3VectorUint, len(v.Values), v.Fixed)
	if err != nil {
		return dst, err
	}
	for _, x := range v.Values {
		dst = binary.BigEndian.AppendUint32(dst, x)
	}
	return dst, nil
}

func (e *encoder) vectorDouble3(dst []byte, v VectorDouble) ([]byte, error) {
	dst, err := vectorHeader3(dst, marker3VectorDouble, len(v.Values), v.Fixed)
	if err != nil {
		return dst, err
	}
	for _, x := range v.Values {
		dst = binary.BigEndian.AppendUint64(dst, math.Float64bits(x))
	}
	return dst, nil
}

func (e *encoder) vectorObject3(dst []byte, v VectorObject) ([]byte, error) {
	if len(v.Values) > MaxCount {
		return dst, fmt.Errorf("amf3 object vector of %d: %w", len(v.Values), ErrTooLarge)
	}
	if err := e.enter(); err != nil {
		return dst, fmt.Errorf("amf3 object vector: %w", err)
	}
	dst = appendU29(append(dst, marker3VectorObject), uint32(len(v.Values))<<1|1)
	if v.Fixed {
		dst = append(dst, 1)
	} else {
		dst = append(dst, 0)
	}
	dst, err := e.string3(dst, v.Class)
	if err != nil {
		return dst, fmt.Errorf("amf3 object vector type name: %w", err)
	}
	for i, x := range v.Values {
		if dst, err = e.value3(dst, x); err != nil {
			return dst, fmt.Errorf("amf3 object vector element %d: %w", i, err)
		}
	}
	e.depth--
	return dst, nil
}

func (e *encoder) dictionary3(dst []byte, d Dictionary) ([]byte, error) {
	if len(d.Entries) > MaxCount {
		return dst, fmt.Errorf("amf3 dictionary of %d: %w", len(d.Entries), ErrTooLarge)
	}
	if err := e.enter(); err != nil {
		return dst, fmt.Errorf("amf3 dictionary: %w", err)
	}
	dst = appendU29(append(dst, marker3Dictionary), uint32(len(d.Entries))<<1|1)
	if d.WeakKeys {
		dst = append(dst, 1)
	} else {
		dst = append(dst, 0)
	}
	var err error
	for i, en := range d.Entries {
		if dst, err = e.value3(dst, en.Key); err != nil {
			return dst, fmt.Errorf("amf3 dictionary entry %d key: %w", i, err)
		}
		if dst, err = e.value3(dst, en.Value); err != nil {
			return dst, fmt.Errorf("amf3 dictionary entry %d value: %w", i, err)
		}
	}
	e.depth--
	return dst, nil
}
