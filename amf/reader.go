package amf

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// sharedStringMax is the largest input whose strings are all cut from one
// string conversion of the whole input (one allocation, shared by every
// string and key decoded from it). Larger inputs convert string by string so
// that a small retained string never pins a large message.
const sharedStringMax = 64 << 10

// tableEntry is one object reference table slot (AMF0 complex values; AMF3
// objects, arrays, dates, XML, byte arrays, vectors, dictionaries).
type tableEntry struct {
	value  any
	weight int  // size of the value's inline encoding, roughly in bytes
	height int  // containers nested in the value, itself included
	done   bool // false while the value is still being decoded
}

// traits3 is one AMF3 traits table entry.
type traits3 struct {
	class   string
	sealed  []string
	dynamic bool
	weight  int // size of the inline traits encoding
}

// decoder is the state shared by AMF0 and AMF3 decoding of one message.
type decoder struct {
	buf     []byte
	off     int
	str     string // buf as one string, when shared
	shared  bool   // strings are cut from str
	strDone bool   // str has been converted

	depth    int // containers currently open
	deepest  int // deepest depth reached inside the innermost open container
	units    int // running size of everything decoded, references expanded
	expanded int // total size references stood for

	scratch []Property // stack of properties of the open containers

	refs0   []tableEntry // AMF0 object table
	strs3   []string     // AMF3 string table
	objs3   []tableEntry // AMF3 object table
	traits3 []traits3    // AMF3 traits table

	// Initial backing for scratch and refs0, enough for a typical command
	// or metadata tag without growing.
	scratchBuf [24]Property
	refsBuf    [4]tableEntry
}

func (d *decoder) reset(b []byte) {
	*d = decoder{buf: b, shared: len(b) <= sharedStringMax}
	d.scratch = d.scratchBuf[:0]
	d.refs0 = d.refsBuf[:0]
}

func (d *decoder) remaining() int { return len(d.buf) - d.off }

// need fails with ErrTruncated unless n more bytes are available.
func (d *decoder) need(n uint64) error {
	if rem := uint64(d.remaining()); n > rem {
		return fmt.Errorf("need %d bytes, %d left: %w", n, rem, ErrTruncated)
	}
	return nil
}

func (d *decoder) u8() (byte, error) {
	if d.off >= len(d.buf) {
		return 0, ErrTruncated
	}
	b := d.buf[d.off]
	d.off++
	return b, nil
}

func (d *decoder) u16() (uint16, error) {
	if d.remaining() < 2 {
		return 0, ErrTruncated
	}
	v := binary.BigEndian.Uint16(d.buf[d.off:])
	d.off += 2
	return v, nil
}

func (d *decoder) u32() (uint32, error) {
	if d.remaining() < 4 {
		return 0, ErrTruncated
	}
	v := binary.BigEndian.Uint32(d.buf[d.off:])
	d.off += 4
	return v, nil
}

func (d *decoder) f64() (float64, error) {
	if d.remaining() < 8 {
		return 0, ErrTruncated
	}
	v := math.Float64frombits(binary.BigEndian.Uint64(d.buf[d.off:]))
	d.off += 8
	return v, nil
}

// u29 reads an AMF3 variable-length unsigned 29-bit integer.
func (d *decoder) u29() (uint32, error) {
	var v uint32
	for range 3 {
		b, err := d.u8()
		if err != nil {
			return 0, err
		}
		if b < 0x80 {
			return v<<7 | uint32(b), nil
		}
		v = v<<7 | uint32(b&0x7f)
	}
	b, err := d.u8()
	if err != nil {
		return 0, err
	}
	return v<<8 | uint32(b), nil
}

// text reads n bytes as a string, after checking they are there.
func (d *decoder) text(n uint64) (string, error) {
	if err := d.need(n); err != nil {
		return "", err
	}
	if n == 0 {
		return "", nil
	}
	start := d.off
	d.off += int(n)
	d.units += int(n)
	if !d.shared {
		return string(d.buf[start:d.off]), nil
	}
	if !d.strDone {
		d.str = string(d.buf)
		d.strDone = true
	}
	return d.str[start:d.off], nil
}

// raw reads a copy of n bytes, after checking they are there.
func (d *decoder) raw(n uint64) ([]byte, error) {
	if err := d.need(n); err != nil {
		return nil, err
	}
	b := make([]byte, n)
	copy(b, d.buf[d.off:])
	d.off += int(n)
	d.units += int(n)
	return b, nil
}

// count validates a wire count of elements taking at least minSize bytes
// each against MaxCount and the remaining input.
func (d *decoder) count(n uint32, minSize uint64) (int, error) {
	if n > MaxCount {
		return 0, fmt.Errorf("count %d above %d: %w", n, MaxCount, ErrTooLarge)
	}
	if err := d.need(uint64(n) * minSize); err != nil {
		return 0, fmt.Errorf("count %d: %w", n, err)
	}
	return int(n), nil
}

// openMark is what enter saves for leave.
type openMark struct{ deepest, units int }

// enter opens a container.
func (d *decoder) enter() (openMark, error) {
	if d.depth >= MaxDepth {
		return openMark{}, fmt.Errorf("more than %d levels: %w", MaxDepth, ErrTooDeep)
	}
	m := openMark{deepest: d.deepest, units: d.units}
	d.depth++
	d.deepest = d.depth
	return m, nil
}

// leave closes the container opened with m and returns its height and weight.
func (d *decoder) leave(m openMark) (height, weight int) {
	height = d.deepest - d.depth + 1
	weight = d.units - m.units + 1
	d.deepest = max(m.deepest, d.deepest)
	d.depth--
	return height, weight
}

// expand accounts for a reference standing for a value of the given height
// and weight at the current position.
func (d *decoder) expand(height, weight int) error {
	if d.depth+height > MaxDepth {
		return fmt.Errorf("reference expands past %d levels: %w", MaxDepth, ErrTooDeep)
	}
	d.deepest = max(d.deepest, d.depth+height)
	d.expanded += weight
	if d.expanded > MaxReferenceExpansion {
		return fmt.Errorf("references expand past %d: %w", MaxReferenceExpansion, ErrTooLarge)
	}
	d.units += weight
	return nil
}

// resolve returns the value of a table entry for a reference.
func (d *decoder) resolve(table []tableEntry, idx uint32) (any, error) {
	if uint64(idx) >= uint64(len(table)) {
		return nil, fmt.Errorf("index %d of %d: %w", idx, len(table), ErrBadReference)
	}
	e := &table[idx]
	if !e.done {
		return nil, fmt.Errorf("index %d is still being decoded: %w", idx, ErrBadReference)
	}
	if err := d.expand(e.height, e.weight); err != nil {
		return nil, err
	}
	return e.value, nil
}

// addEntry appends a pending entry to table unless it is full, returning its
// index or -1.
func addEntry(table *[]tableEntry) int {
	if len(*table) >= MaxTableEntries {
		return -1
	}
	*table = append(*table, tableEntry{})
	return len(*table) - 1
}

// fillEntry completes the entry at idx (if recorded).
func fillEntry(table []tableEntry, idx int, v any, height, weight int) {
	if idx >= 0 {
		table[idx] = tableEntry{value: v, height: height, weight: weight, done: true}
	}
}

// container is a container value being decoded: its reserved slot in a
// reference table and what enter saved.
type container struct {
	table *[]tableEntry
	idx   int
	mark  openMark
}

// beginContainer reserves the table slot of a container value (before its
// members, as on the wire) and opens a nesting level for it.
func (d *decoder) beginContainer(table *[]tableEntry) (container, error) {
	idx := addEntry(table)
	mark, err := d.enter()
	return container{table: table, idx: idx, mark: mark}, err
}

// endContainer closes the nesting level of c, records v (boxed once for the
// table and the caller) in its slot and returns it.
func (d *decoder) endContainer(c container, v any) any {
	height, weight := d.leave(c.mark)
	fillEntry(*c.table, c.idx, v, height, weight)
	return v
}

// takeProps pops the properties pushed on the scratch stack since base into a
// new exact-size slice (nil when there are none and nilEmpty is set).
func (d *decoder) takeProps(base int, nilEmpty bool) []Property {
	n := len(d.scratch) - base
	if n == 0 && nilEmpty {
		return nil
	}
	props := make([]Property, n)
	copy(props, d.scratch[base:])
	clear(d.scratch[base:])
	d.scratch = d.scratch[:base]
	return props
}

// valueReader is the core of Decoder0 and Decoder3: it decodes the values of
// one message one at a time in one format, numbering them for error context,
// and keeps the first error.
type valueReader struct {
	d     decoder
	amf3  bool // values are AMF3, not AMF0
	index int  // index of the next value
	err   error
}

func (r *valueReader) reset(b []byte, amf3 bool) {
	r.d.reset(b)
	r.amf3, r.index, r.err = amf3, 0, nil
}

// next decodes the next value. It returns io.EOF when the input is
// exhausted; after any other error it keeps returning that error.
func (r *valueReader) next() (any, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.d.remaining() == 0 {
		return nil, io.EOF
	}
	start := r.d.off
	var v any
	var err error
	format := "amf0"
	if r.amf3 {
		format = "amf3"
		v, err = r.d.value3()
	} else {
		v, err = r.d.value0()
	}
	if err != nil {
		r.err = fmt.Errorf("%s value %d at offset %d: %w", format, r.index, start, err)
		return nil, r.err
	}
	r.index++
	return v, nil
}

// decodeAll decodes every value in b. On error it returns the values decoded
// before the failing one together with the error.
func decodeAll(b []byte, amf3 bool) ([]any, error) {
	var r valueReader
	r.reset(b, amf3)
	vals := make([]any, 0, 4)
	for {
		v, err := r.next()
		if err == io.EOF {
			return vals, nil
		}
		if err != nil {
			return vals, err
		}
		vals = append(vals, v)
	}
}
