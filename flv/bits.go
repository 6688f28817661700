package flv

// bitReader reads big-endian bit fields. Reading past the end sets err
// (sticky) and yields zeros, so parsers check err once at natural points.
type bitReader struct {
	b   []byte
	pos int // bit position
	err error
}

func (r *bitReader) remaining() int { return len(r.b)*8 - r.pos }

// u reads n ≤ 32 bits.
func (r *bitReader) u(n int) uint32 {
	if r.err != nil {
		return 0
	}
	if n > r.remaining() {
		r.err = ErrTruncated
		return 0
	}
	var v uint32
	for range n {
		v = v<<1 | uint32(r.b[r.pos>>3]>>(7-r.pos&7)&1)
		r.pos++
	}
	return v
}

func (r *bitReader) flag() bool { return r.u(1) == 1 }

func (r *bitReader) skip(n int) {
	if r.err != nil {
		return
	}
	if n > r.remaining() {
		r.err = ErrTruncated
		return
	}
	r.pos += n
}

// ue reads an unsigned exp-Golomb code (at most 31 leading zeros).
func (r *bitReader) ue() uint32 {
	zeros := 0
	for r.err == nil && !r.flag() {
		zeros++
		if zeros > 31 {
			r.err = ErrInvalidSPS
			return 0
		}
	}
	if r.err != nil {
		return 0
	}
	return (1<<zeros - 1) + r.u(zeros)
}

// se reads a signed exp-Golomb code.
func (r *bitReader) se() int32 {
	v := r.ue()
	if v&1 == 1 {
		return int32((v + 1) / 2)
	}
	return -int32(v / 2)
}

// bitWriter appends big-endian bit fields.
type bitWriter struct {
	b     []byte
	nbits int // bits used in the last byte (0 = byte aligned)
}

func (w *bitWriter) put(v uint32, n int) {
	for i := n - 1; i >= 0; i-- {
		if w.nbits == 0 {
			w.b = append(w.b, 0)
		}
		w.b[len(w.b)-1] |= byte(v>>i&1) << (7 - w.nbits)
		w.nbits = (w.nbits + 1) & 7
	}
}

// unescapeRBSP removes H.264/H.265 emulation-prevention bytes (the 0x03 in
// 0x00 0x00 0x03) from a NAL unit and appends the result to dst.
func unescapeRBSP(dst, src []byte) []byte {
	zeros := 0
	for _, c := range src {
		if zeros >= 2 && c == 0x03 {
			zeros = 0
			continue
		}
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
		dst = append(dst, c)
	}
	return dst
}
