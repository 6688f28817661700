package amf

import (
	"time"
)

// Limits applied to untrusted input (and mirrored by the encoders so that
// everything encoded can be decoded again).
const (
	// MaxDepth is the deepest nesting of containers (objects, arrays, typed
	// objects, object vectors, dictionaries) accepted; deeper input fails
	// with ErrTooDeep.
	MaxDepth = 64
	// MaxCount caps any element, member or entry count read off the wire.
	MaxCount = 1 << 24
	// MaxTableEntries caps each reference table (AMF0 objects; AMF3 strings,
	// objects, traits). Entries past the cap are not recorded.
	MaxTableEntries = 1 << 20
	// MaxReferenceExpansion caps, per decoder, the total size (roughly in
	// bytes of inline encoding) of everything references stand for.
	MaxReferenceExpansion = 1 << 22
)

// Property is one key/value pair of an object or associative array, in wire
// order.
type Property struct {
	// Key is the property name.
	Key string
	// Value is the decoded value (see the package documentation for types).
	Value any
}

// Object is an AMF0 anonymous object: its properties in wire order. Keys are
// not deduplicated; the lookup helpers return the last property of a name, as
// ActionScript would.
type Object []Property

// Get returns the value of the last property named key.
func (o Object) Get(key string) (any, bool) { return lookup(o, key) }

// String returns the property named key if it is a string.
func (o Object) String(key string) (string, bool) { return lookupString(o, key) }

// Number returns the property named key if it is a number (float64, or an
// AMF3 int32).
func (o Object) Number(key string) (float64, bool) { return lookupNumber(o, key) }

// Bool returns the property named key if it is a boolean.
func (o Object) Bool(key string) (bool, bool) { return lookupBool(o, key) }

// ECMAArray is an AMF0 ECMA (associative) array: its pairs in wire order. The
// count written on the wire is a hint only; the decoder reads up to the
// object-end marker and the encoder writes len.
type ECMAArray []Property

// Get returns the value of the last property named key.
func (a ECMAArray) Get(key string) (any, bool) { return lookup(a, key) }

// String returns the property named key if it is a string.
func (a ECMAArray) String(key string) (string, bool) { return lookupString(a, key) }

// Number returns the property named key if it is a number (float64, or an
// AMF3 int32).
func (a ECMAArray) Number(key string) (float64, bool) { return lookupNumber(a, key) }

// Bool returns the property named key if it is a boolean.
func (a ECMAArray) Bool(key string) (bool, bool) { return lookupBool(a, key) }

// Undefined is the AMF undefined value (distinct from null, which is nil).
type Undefined struct{}

// Unsupported is the AMF0 unsupported marker (0x0D): a value the sender could
// not serialise.
type Unsupported struct{}

// Date is an AMF date: milliseconds since the Unix epoch (UTC). TimeZone is
// the AMF0 time-zone field (reserved, normally 0); AMF3 dates have none.
type Date struct {
	// Millis is the time in milliseconds since 1970-01-01T00:00:00Z.
	Millis float64
	// TimeZone is the AMF0 reserved time-zone offset field.
	TimeZone int16
}

// Time returns d as a time.Time in UTC (milliseconds truncated towards zero).
func (d Date) Time() time.Time { return time.UnixMilli(int64(d.Millis)).UTC() }

// DateOf returns the AMF date of t.
func DateOf(t time.Time) Date { return Date{Millis: float64(t.UnixMilli())} }

// XMLDocument is the text of an AMF0 XML document (0x0F) or an AMF3 legacy
// XMLDocument (0x07).
type XMLDocument string

// XML is the text of an AMF3 E4X XML value (0x0B).
type XML string

// TypedObject is an AMF0 typed object: a class alias and its properties.
type TypedObject struct {
	// Class is the registered class alias.
	Class string
	// Object holds the properties in wire order.
	Object Object
}

// Array3 is an AMF3 array: a dense part (indices 0..n-1) and an associative
// part (string keys, never empty). Empty parts decode as nil.
type Array3 struct {
	// Dense holds the values at indices 0..len-1.
	Dense []any
	// Assoc holds the named entries in wire order.
	Assoc []Property
}

// Object3 is an AMF3 object. Sealed holds the members named by the traits (in
// traits order), Dynamic the members added afterwards by a dynamic object.
// Empty parts decode as nil.
type Object3 struct {
	// Class is the class alias; empty for anonymous objects.
	Class string
	// Sealed holds the sealed members in traits order.
	Sealed []Property
	// Dynamic holds the dynamic members in wire order.
	Dynamic []Property
	// IsDynamic reports whether the traits are dynamic; the encoder treats an
	// object with Dynamic members as dynamic whatever this says.
	IsDynamic bool
}

// Get returns the value of the member named key, looking at the dynamic
// members first (the last of a name wins) and then at the sealed ones.
func (o Object3) Get(key string) (any, bool) {
	if v, ok := lookup(o.Dynamic, key); ok {
		return v, true
	}
	return lookup(o.Sealed, key)
}

// ByteArray is an AMF3 byte array. Decoded byte arrays are copies, not views
// of the input.
type ByteArray []byte

// VectorInt is an AMF3 Vector.<int>.
type VectorInt struct {
	// Fixed reports a fixed-length vector.
	Fixed bool
	// Values are the elements.
	Values []int32
}

// VectorUint is an AMF3 Vector.<uint>.
type VectorUint struct {
	// Fixed reports a fixed-length vector.
	Fixed bool
	// Values are the elements.
	Values []uint32
}

// VectorDouble is an AMF3 Vector.<Number>.
type VectorDouble struct {
	// Fixed reports a fixed-length vector.
	Fixed bool
	// Values are the elements.
	Values []float64
}

// VectorObject is an AMF3 Vector of objects (Vector.<Class>, or "*" for any).
type VectorObject struct {
	// Fixed reports a fixed-length vector.
	Fixed bool
	// Class is the element type name.
	Class string
	// Values are the elements.
	Values []any
}

// Dictionary is an AMF3 Dictionary: entries keyed by arbitrary values.
type Dictionary struct {
	// WeakKeys reports a dictionary with weak keys.
	WeakKeys bool
	// Entries are the key/value pairs in wire order.
	Entries []DictEntry
}

// DictEntry is one Dictionary entry.
type DictEntry struct {
	// Key is the entry key (any AMF3 value).
	Key any
	// Value is the entry value.
	Value any
}

func lookup(props []Property, key string) (any, bool) {
	for i := len(props) - 1; i >= 0; i-- {
		if props[i].Key == key {
			return props[i].Value, true
		}
	}
	return nil, false
}

func lookupString(props []Property, key string) (string, bool) {
	v, _ := lookup(props, key)
	s, ok := v.(string)
	return s, ok
}

func lookupNumber(props []Property, key string) (float64, bool) {
	v, _ := lookup(props, key)
	switch n := v.(type) {
	case float64:
		return n, true
	case int32:
		return float64(n), true
	}
	return 0, false
}

func lookupBool(props []Property, key string) (bool, bool) {
	v, _ := lookup(props, key)
	b, ok := v.(bool)
	return b, ok
}
