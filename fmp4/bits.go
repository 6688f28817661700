package fmp4

// bitReader reads big-endian bit fields. Reading past the end yields zero
// bits and sets short, so a parser checks once at the end.
type bitReader struct {
	b     []byte
	pos   int // in bits
	short bool
}

// u reads n ≤ 32 bits.
func (r *bitReader) u(n int) uint32 {
	var v uint32
	for range n {
		i := r.pos >> 3
		if i >= len(r.b) {
			r.short = true
			v <<= 1
			continue
		}
		v = v<<1 | uint32(r.b[i]>>(7-r.pos&7))&1
		r.pos++
	}
	return v
}

// bitWriter appends big-endian bit fields to b.
type bitWriter struct {
	b    []byte
	bits int // bits used in the last byte, 0 when it is full
}

// put writes the low n ≤ 32 bits of v.
func (w *bitWriter) put(v uint32, n int) {
	for i := n - 1; i >= 0; i-- {
		if w.bits == 0 {
			w.b = append(w.b, 0)
		}
		w.b[len(w.b)-1] |= byte(v>>i&1) << (7 - w.bits)
		w.bits = (w.bits + 1) & 7
	}
}
