package amf

import "fmt"

// AMF0 type markers.
const (
	marker0Number      = 0x00
	marker0Boolean     = 0x01
	marker0String      = 0x02
	marker0Object      = 0x03
	marker0MovieClip   = 0x04 // reserved
	marker0Null        = 0x05
	marker0Undefined   = 0x06
	marker0Reference   = 0x07
	marker0ECMAArray   = 0x08
	marker0ObjectEnd   = 0x09
	marker0StrictArray = 0x0a
	marker0Date        = 0x0b
	marker0LongString  = 0x0c
	marker0Unsupported = 0x0d
	marker0RecordSet   = 0x0e // reserved
	marker0XMLDocument = 0x0f
	marker0TypedObject = 0x10
	marker0AVMPlus     = 0x11
)

// Decoder0 decodes the AMF0 values of one message one at a time. Its
// reference tables span the whole message.
type Decoder0 struct{ r valueReader }

// NewDecoder0 returns a decoder over b. The decoder does not modify b, and
// decoded values do not alias it (strings and byte arrays are copies).
func NewDecoder0(b []byte) *Decoder0 {
	dec := &Decoder0{}
	dec.r.reset(b, false)
	return dec
}

// Len returns the number of input bytes not yet decoded.
func (dec *Decoder0) Len() int { return dec.r.d.remaining() }

// Next decodes the next value. It returns io.EOF when the input is exhausted;
// after any other error it keeps returning that error.
func (dec *Decoder0) Next() (any, error) { return dec.r.next() }

// Decode0 decodes every AMF0 value in b. On error it returns the values
// decoded before the failing one together with the error.
func Decode0(b []byte) ([]any, error) { return decodeAll(b, false) }

// value0 decodes one AMF0 value.
func (d *decoder) value0() (any, error) {
	m, err := d.u8()
	if err != nil {
		return nil, err
	}
	d.units++
	switch m {
	case marker0Number:
		f, err := d.f64()
		if err != nil {
			return nil, fmt.Errorf("amf0 number: %w", err)
		}
		return f, nil
	case marker0Boolean:
		b, err := d.u8()
		if err != nil {
			return nil, fmt.Errorf("amf0 boolean: %w", err)
		}
		return b != 0, nil
	case marker0String:
		n, err := d.u16()
		if err != nil {
			return nil, fmt.Errorf("amf0 string length: %w", err)
		}
		s, err := d.text(uint64(n))
		if err != nil {
			return nil, fmt.Errorf("amf0 string: %w", err)
		}
		return s, nil
	case marker0Object:
		return d.complex0("object", buildObject)
	case marker0Null:
		return nil, nil
	case marker0Undefined:
		return Undefined{}, nil
	case marker0Reference:
		idx, err := d.u16()
		if err != nil {
			return nil, fmt.Errorf("amf0 reference: %w", err)
		}
		v, err := d.resolve(d.refs0, uint32(idx))
		if err != nil {
			return nil, fmt.Errorf("amf0 reference: %w", err)
		}
		return v, nil
	case marker0ECMAArray:
		if _, err := d.u32(); err != nil { // the count is a hint only
			return nil, fmt.Errorf("amf0 ecma array count: %w", err)
		}
		return d.complex0("ecma array", buildECMAArray)
	case marker0ObjectEnd:
		return nil, fmt.Errorf("amf0 object-end marker where a value was expected: %w", ErrBadMarker)
	case marker0StrictArray:
		return d.strictArray0()
	case marker0Date:
		ms, err := d.f64()
		if err != nil {
			return nil, fmt.Errorf("amf0 date: %w", err)
		}
		tz, err := d.u16()
		if err != nil {
			return nil, fmt.Errorf("amf0 date time zone: %w", err)
		}
		return Date{Millis: ms, TimeZone: int16(tz)}, nil
	case marker0LongString, marker0XMLDocument:
		n, err := d.u32()
		if err != nil {
			return nil, fmt.Errorf("amf0 %s length: %w", longName(m), err)
		}
		s, err := d.text(uint64(n))
		if err != nil {
			return nil, fmt.Errorf("amf0 %s: %w", longName(m), err)
		}
		if m == marker0XMLDocument {
			return XMLDocument(s), nil
		}
		return s, nil
	case marker0Unsupported:
		return Unsupported{}, nil
	case marker0TypedObject:
		return d.typedObject0()
	case marker0AVMPlus:
		v, err := d.value3()
		if err != nil {
			return nil, fmt.Errorf("amf0 avmplus switch: %w", err)
		}
		if i, ok := v.(int32); ok {
			return float64(i), nil
		}
		return v, nil
	case marker0MovieClip, marker0RecordSet:
		return nil, fmt.Errorf("amf0 reserved marker 0x%02x: %w", m, ErrUnsupported)
	}
	return nil, fmt.Errorf("amf0 marker 0x%02x: %w", m, ErrBadMarker)
}

func longName(m byte) string {
	if m == marker0XMLDocument {
		return "xml document"
	}
	return "long string"
}

// complex0 decodes an object, ECMA array or typed object body (after any
// count or class name) up to and including the object-end marker. The value
// takes its reference table slot before its members, as on the wire.
func (d *decoder) complex0(kind string, build func([]Property) any) (any, error) {
	c, err := d.beginContainer(&d.refs0)
	if err != nil {
		return nil, fmt.Errorf("amf0 %s: %w", kind, err)
	}
	props, err := d.props0(kind)
	if err != nil {
		return nil, err
	}
	return d.endContainer(c, build(props)), nil
}

// props0 decodes properties up to and including the object-end marker. An
// empty key not followed by the object-end marker is an ordinary property
// named "".
func (d *decoder) props0(kind string) ([]Property, error) {
	base := len(d.scratch)
	for {
		n, err := d.u16()
		if err != nil {
			return nil, fmt.Errorf("amf0 %s key length: %w", kind, err)
		}
		if n == 0 && d.off < len(d.buf) && d.buf[d.off] == marker0ObjectEnd {
			d.off++
			return d.takeProps(base, false), nil
		}
		key, err := d.text(uint64(n))
		if err != nil {
			return nil, fmt.Errorf("amf0 %s key: %w", kind, err)
		}
		v, err := d.value0()
		if err != nil {
			return nil, fmt.Errorf("amf0 %s key %q: %w", kind, key, err)
		}
		d.scratch = append(d.scratch, Property{Key: key, Value: v})
	}
}

func (d *decoder) strictArray0() (any, error) {
	n32, err := d.u32()
	if err != nil {
		return nil, fmt.Errorf("amf0 strict array count: %w", err)
	}
	n, err := d.count(n32, 1)
	if err != nil {
		return nil, fmt.Errorf("amf0 strict array: %w", err)
	}
	c, err := d.beginContainer(&d.refs0)
	if err != nil {
		return nil, fmt.Errorf("amf0 strict array: %w", err)
	}
	arr := make([]any, n)
	for i := range arr {
		if arr[i], err = d.value0(); err != nil {
			return nil, fmt.Errorf("amf0 strict array element %d: %w", i, err)
		}
	}
	return d.endContainer(c, arr), nil
}

func (d *decoder) typedObject0() (any, error) {
	n, err := d.u16()
	if err != nil {
		return nil, fmt.Errorf("amf0 typed object class length: %w", err)
	}
	class, err := d.text(uint64(n))
	if err != nil {
		return nil, fmt.Errorf("amf0 typed object class: %w", err)
	}
	v, err := d.complex0("typed object", func(p []Property) any {
		return TypedObject{Class: class, Object: Object(p)}
	})
	if err != nil {
		return nil, fmt.Errorf("amf0 typed object %q: %w", class, err)
	}
	return v, nil
}

func buildObject(p []Property) any    { return Object(p) }
func buildECMAArray(p []Property) any { return ECMAArray(p) }
