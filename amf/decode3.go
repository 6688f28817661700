package amf

import "fmt"

// AMF3 type markers.
const (
	marker3Undefined    = 0x00
	marker3Null         = 0x01
	marker3False        = 0x02
	marker3True         = 0x03
	marker3Integer      = 0x04
	marker3Double       = 0x05
	marker3String       = 0x06
	marker3XMLDocument  = 0x07
	marker3Date         = 0x08
	marker3Array        = 0x09
	marker3Object       = 0x0a
	marker3XML          = 0x0b
	marker3ByteArray    = 0x0c
	marker3VectorInt    = 0x0d
	marker3VectorUint   = 0x0e
	marker3VectorDouble = 0x0f
	marker3VectorObject = 0x10
	marker3Dictionary   = 0x11
)

// AMF3 integer range (signed 29-bit).
const (
	minInt29 = -1 << 28
	maxInt29 = 1<<28 - 1
	maxU29   = 1<<29 - 1
)

// Decoder3 decodes the AMF3 values of one message one at a time. Its
// reference tables span the whole message.
type Decoder3 struct{ r valueReader }

// NewDecoder3 returns a decoder over b. The decoder does not modify b, and
// decoded values do not alias it.
func NewDecoder3(b []byte) *Decoder3 {
	dec := &Decoder3{}
	dec.r.reset(b, true)
	return dec
}

// Len returns the number of input bytes not yet decoded.
func (dec *Decoder3) Len() int { return dec.r.d.remaining() }

// Next decodes the next value. It returns io.EOF when the input is exhausted;
// after any other error it keeps returning that error.
func (dec *Decoder3) Next() (any, error) { return dec.r.next() }

// Decode3 decodes every AMF3 value in b. On error it returns the values
// decoded before the failing one together with the error.
func Decode3(b []byte) ([]any, error) { return decodeAll(b, true) }

// value3 decodes one AMF3 value.
func (d *decoder) value3() (any, error) {
	m, err := d.u8()
	if err != nil {
		return nil, err
	}
	d.units++
	switch m {
	case marker3Undefined:
		return Undefined{}, nil
	case marker3Null:
		return nil, nil
	case marker3False:
		return false, nil
	case marker3True:
		return true, nil
	case marker3Integer:
		u, err := d.u29()
		if err != nil {
			return nil, fmt.Errorf("amf3 integer: %w", err)
		}
		return int32(u<<3) >> 3, nil // sign-extend bit 28
	case marker3Double:
		f, err := d.f64()
		if err != nil {
			return nil, fmt.Errorf("amf3 double: %w", err)
		}
		return f, nil
	case marker3String:
		s, err := d.string3()
		if err != nil {
			return nil, fmt.Errorf("amf3 string: %w", err)
		}
		return s, nil
	case marker3XMLDocument, marker3XML, marker3ByteArray:
		return d.blob3(m)
	case marker3Date:
		return d.date3()
	case marker3Array:
		return d.array3()
	case marker3Object:
		return d.object3()
	case marker3VectorInt, marker3VectorUint, marker3VectorDouble:
		return d.numberVector3(m)
	case marker3VectorObject:
		return d.objectVector3()
	case marker3Dictionary:
		return d.dictionary3()
	}
	return nil, fmt.Errorf("amf3 marker 0x%02x: %w", m, ErrBadMarker)
}

// string3 reads a UTF-8-vr: an inline string (recorded in the string table
// unless empty) or a reference to one.
func (d *decoder) string3() (string, error) {
	h, err := d.u29()
	if err != nil {
		return "", err
	}
	if h&1 == 0 {
		idx := h >> 1
		if uint64(idx) >= uint64(len(d.strs3)) {
			return "", fmt.Errorf("string index %d of %d: %w", idx, len(d.strs3), ErrBadReference)
		}
		s := d.strs3[idx]
		if err := d.expand(0, len(s)); err != nil {
			return "", err
		}
		return s, nil
	}
	s, err := d.text(uint64(h >> 1))
	if err != nil {
		return "", err
	}
	if s != "" && len(d.strs3) < MaxTableEntries {
		d.strs3 = append(d.strs3, s)
	}
	return s, nil
}

// header3 reads the U29 header of an object-table value: either a reference
// (ref set, the resolved value returned) or inline with the remaining bits.
func (d *decoder) header3() (bits uint32, ref bool, v any, err error) {
	h, err := d.u29()
	if err != nil {
		return 0, false, nil, err
	}
	if h&1 == 0 {
		v, err := d.resolve(d.objs3, h>>1)
		return 0, true, v, err
	}
	return h >> 1, false, nil, nil
}

// blob3 decodes an XML document, XML or byte array.
func (d *decoder) blob3(m byte) (any, error) {
	name := blobName(m)
	n, ref, v, err := d.header3()
	if err != nil || ref {
		if err != nil {
			return nil, fmt.Errorf("amf3 %s: %w", name, err)
		}
		return v, nil
	}
	start := d.units
	if m == marker3ByteArray {
		b, err := d.raw(uint64(n))
		if err != nil {
			return nil, fmt.Errorf("amf3 %s: %w", name, err)
		}
		v = ByteArray(b)
	} else {
		s, err := d.text(uint64(n))
		if err != nil {
			return nil, fmt.Errorf("amf3 %s: %w", name, err)
		}
		if m == marker3XML {
			v = XML(s)
		} else {
			v = XMLDocument(s)
		}
	}
	fillEntry(d.objs3, addEntry(&d.objs3), v, 0, d.units-start+1)
	return v, nil
}

func blobName(m byte) string {
	switch m {
	case marker3XML:
		return "xml"
	case marker3ByteArray:
		return "byte array"
	}
	return "xml document"
}

func (d *decoder) date3() (any, error) {
	_, ref, v, err := d.header3()
	if err != nil {
		return nil, fmt.Errorf("amf3 date: %w", err)
	}
	if ref {
		return v, nil
	}
	ms, err := d.f64()
	if err != nil {
		return nil, fmt.Errorf("amf3 date: %w", err)
	}
	v = Date{Millis: ms}
	fillEntry(d.objs3, addEntry(&d.objs3), v, 0, 9)
	return v, nil
}

func (d *decoder) array3() (any, error) {
	n32, ref, v, err := d.header3()
	if err != nil {
		return nil, fmt.Errorf("amf3 array: %w", err)
	}
	if ref {
		return v, nil
	}
	c, err := d.beginContainer(&d.objs3)
	if err != nil {
		return nil, fmt.Errorf("amf3 array: %w", err)
	}
	assoc, err := d.dynamic3("array")
	if err != nil {
		return nil, err
	}
	n, err := d.count(n32, 1)
	if err != nil {
		return nil, fmt.Errorf("amf3 array dense part: %w", err)
	}
	var dense []any
	if n > 0 {
		dense = make([]any, n)
	}
	for i := range dense {
		if dense[i], err = d.value3(); err != nil {
			return nil, fmt.Errorf("amf3 array element %d: %w", i, err)
		}
	}
	arr := Array3{Dense: dense, Assoc: assoc}
	return d.endContainer(c, arr), nil
}

// dynamic3 reads name/value pairs up to the empty name (array associative
// part, dynamic object members).
func (d *decoder) dynamic3(kind string) ([]Property, error) {
	base := len(d.scratch)
	for {
		key, err := d.string3()
		if err != nil {
			return nil, fmt.Errorf("amf3 %s key: %w", kind, err)
		}
		if key == "" {
			return d.takeProps(base, true), nil
		}
		v, err := d.value3()
		if err != nil {
			return nil, fmt.Errorf("amf3 %s key %q: %w", kind, key, err)
		}
		d.scratch = append(d.scratch, Property{Key: key, Value: v})
	}
}

func (d *decoder) object3() (any, error) {
	h, ref, v, err := d.header3()
	if err != nil {
		return nil, fmt.Errorf("amf3 object: %w", err)
	}
	if ref {
		return v, nil
	}
	t, err := d.traits(h)
	if err != nil {
		return nil, fmt.Errorf("amf3 object traits: %w", err)
	}
	c, err := d.beginContainer(&d.objs3)
	if err != nil {
		return nil, fmt.Errorf("amf3 object %q: %w", t.class, err)
	}
	obj := Object3{Class: t.class, IsDynamic: t.dynamic}
	if len(t.sealed) > 0 {
		obj.Sealed = make([]Property, len(t.sealed))
		for i, name := range t.sealed {
			v, err := d.value3()
			if err != nil {
				return nil, fmt.Errorf("amf3 object %q member %q: %w", t.class, name, err)
			}
			obj.Sealed[i] = Property{Key: name, Value: v}
		}
	}
	if t.dynamic {
		if obj.Dynamic, err = d.dynamic3("object"); err != nil {
			return nil, fmt.Errorf("amf3 object %q: %w", t.class, err)
		}
	}
	return d.endContainer(c, obj), nil
}

// traits reads inline traits or resolves a traits reference; h is the object
// header without its low (inline object) bit.
func (d *decoder) traits(h uint32) (*traits3, error) {
	if h&1 == 0 {
		idx := h >> 1
		if uint64(idx) >= uint64(len(d.traits3)) {
			return nil, fmt.Errorf("index %d of %d: %w", idx, len(d.traits3), ErrBadReference)
		}
		t := &d.traits3[idx]
		if err := d.expand(0, t.weight); err != nil {
			return nil, err
		}
		return t, nil
	}
	start := d.units
	class, err := d.string3()
	if err != nil {
		return nil, fmt.Errorf("class name: %w", err)
	}
	if h&2 != 0 { // externalizable: the body format is private to the class
		return nil, fmt.Errorf("externalizable class %q: %w", class, ErrUnsupported)
	}
	n, err := d.count(h>>3, 2) // a name and a value per sealed member
	if err != nil {
		return nil, fmt.Errorf("class %q sealed members: %w", class, err)
	}
	t := traits3{class: class, dynamic: h&4 != 0}
	if n > 0 {
		t.sealed = make([]string, n)
	}
	for i := range t.sealed {
		if t.sealed[i], err = d.string3(); err != nil {
			return nil, fmt.Errorf("class %q sealed member %d name: %w", class, i, err)
		}
	}
	t.weight = d.units - start + 1
	if len(d.traits3) >= MaxTableEntries {
		unrecorded := new(traits3)
		*unrecorded = t
		return unrecorded, nil
	}
	d.traits3 = append(d.traits3, t)
	return &d.traits3[len(d.traits3)-1], nil
}

func (d *decoder) numberVector3(m byte) (any, error) {
	name := vectorName(m)
	n32, ref, v, err := d.header3()
	if err != nil {
		return nil, fmt.Errorf("amf3 %s: %w", name, err)
	}
	if ref {
		return v, nil
	}
	fixed, err := d.u8()
	if err != nil {
		return nil, fmt.Errorf("amf3 %s fixed flag: %w", name, err)
	}
	size := uint64(4)
	if m == marker3VectorDouble {
		size = 8
	}
	n, err := d.count(n32, size)
	if err != nil {
		return nil, fmt.Errorf("amf3 %s: %w", name, err)
	}
	switch m {
	case marker3VectorInt:
		vec := VectorInt{Fixed: fixed != 0}
		if n > 0 {
			vec.Values = make([]int32, n)
		}
		for i := range vec.Values {
			u, _ := d.u32() // length checked by count
			vec.Values[i] = int32(u)
		}
		v = vec
	case marker3VectorUint:
		vec := VectorUint{Fixed: fixed != 0}
		if n > 0 {
			vec.Values = make([]uint32, n)
		}
		for i := range vec.Values {
			vec.Values[i], _ = d.u32()
		}
		v = vec
	default:
		vec := VectorDouble{Fixed: fixed != 0}
		if n > 0 {
			vec.Values = make([]float64, n)
		}
		for i := range vec.Values {
			vec.Values[i], _ = d.f64()
		}
		v = vec
	}
	weight := n*int(size) + 2
	d.units += weight
	fillEntry(d.objs3, addEntry(&d.objs3), v, 0, weight)
	return v, nil
}

func (d *decoder) objectVector3() (any, error) {
	n32, ref, v, err := d.header3()
	if err != nil {
		return nil, fmt.Errorf("amf3 object vector: %w", err)
	}
	if ref {
		return v, nil
	}
	fixed, err := d.u8()
	if err != nil {
		return nil, fmt.Errorf("amf3 object vector fixed flag: %w", err)
	}
	class, err := d.string3()
	if err != nil {
		return nil, fmt.Errorf("amf3 object vector type name: %w", err)
	}
	n, err := d.count(n32, 1)
	if err != nil {
		return nil, fmt.Errorf("amf3 object vector: %w", err)
	}
	c, err := d.beginContainer(&d.objs3)
	if err != nil {
		return nil, fmt.Errorf("amf3 object vector: %w", err)
	}
	vec := VectorObject{Fixed: fixed != 0, Class: class}
	if n > 0 {
		vec.Values = make([]any, n)
	}
	for i := range vec.Values {
		if vec.Values[i], err = d.value3(); err != nil {
			return nil, fmt.Errorf("amf3 object vector element %d: %w", i, err)
		}
	}
	return d.endContainer(c, vec), nil
}

func (d *decoder) dictionary3() (any, error) {
	n32, ref, v, err := d.header3()
	if err != nil {
		return nil, fmt.Errorf("amf3 dictionary: %w", err)
	}
	if ref {
		return v, nil
	}
	weak, err := d.u8()
	if err != nil {
		return nil, fmt.Errorf("amf3 dictionary weak-keys flag: %w", err)
	}
	n, err := d.count(n32, 2)
	if err != nil {
		return nil, fmt.Errorf("amf3 dictionary: %w", err)
	}
	c, err := d.beginContainer(&d.objs3)
	if err != nil {
		return nil, fmt.Errorf("amf3 dictionary: %w", err)
	}
	dict := Dictionary{WeakKeys: weak != 0}
	if n > 0 {
		dict.Entries = make([]DictEntry, n)
	}
	for i := range dict.Entries {
		e := &dict.Entries[i]
		if e.Key, err = d.value3(); err != nil {
			return nil, fmt.Errorf("amf3 dictionary entry %d key: %w", i, err)
		}
		if e.Value, err = d.value3(); err != nil {
			return nil, fmt.Errorf("amf3 dictionary entry %d value: %w", i, err)
		}
	}
	return d.endContainer(c, dict), nil
}

func vectorName(m byte) string {
	switch m {
	case marker3VectorInt:
		return "int vector"
	case marker3VectorUint:
		return "uint vector"
	}
	return "double vector"
}
