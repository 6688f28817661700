package flv

import "fmt"

// ForEachNALU calls fn for every NAL unit of an AVCC (length-prefixed)
// buffer with the given length size (1, 2 or 4). Empty NAL units are
// skipped. The slices passed to fn alias src. It stops at the first error fn
// returns, and fails with ErrTruncated when a length runs past the end.
func ForEachNALU(src []byte, lengthSize int, fn func(nalu []byte) error) error {
	if lengthSize != 1 && lengthSize != 2 && lengthSize != 4 {
		return fmt.Errorf("NALU length size %d: %w", lengthSize, ErrLengthSize)
	}
	for pos := 0; pos < len(src); {
		if len(src)-pos < lengthSize {
			return fmt.Errorf("NALU length at %d: %w", pos, ErrTruncated)
		}
		var n uint64
		for _, c := range src[pos : pos+lengthSize] {
			n = n<<8 | uint64(c)
		}
		pos += lengthSize
		if n > uint64(len(src)-pos) {
			return fmt.Errorf("NALU of %d bytes at %d with %d left: %w", n, pos, len(src)-pos, ErrTruncated)
		}
		if n == 0 {
			continue
		}
		end := pos + int(n)
		if err := fn(src[pos:end:end]); err != nil {
			return err
		}
		pos = end
	}
	return nil
}

// AVCCToAnnexB appends the NAL units of an AVCC buffer to dst, each behind a
// 4-byte start code. On error dst is returned as it was.
func AVCCToAnnexB(dst, src []byte, lengthSize int) ([]byte, error) {
	out := dst
	err := ForEachNALU(src, lengthSize, func(nalu []byte) error {
		out = append(out, 0, 0, 0, 1) // 4-byte start code
		out = append(out, nalu...)
		return nil
	})
	if err != nil {
		return dst, fmt.Errorf("AVCC to Annex-B: %w", err)
	}
	return out, nil
}

// ForEachAnnexBNALU calls fn for every NAL unit of an Annex-B byte stream
// (start codes 00 00 01 or 00 00 00 01). Bytes before the first start code
// and trailing zero bytes of each unit are dropped; empty units are skipped.
// The slices passed to fn alias src.
func ForEachAnnexBNALU(src []byte, fn func(nalu []byte) error) error {
	start := -1 // start of the current unit, -1 before the first start code
	zeros := 0
	for i, c := range src {
		if c == 0 {
			zeros++
			continue
		}
		if c == 1 && zeros >= 2 {
			if start >= 0 {
				if err := emitAnnexB(src[start:i-zeros], fn); err != nil {
					return err
				}
			}
			start = i + 1
		}
		zeros = 0
	}
	if start >= 0 {
		return emitAnnexB(src[start:len(src)-zeros], fn)
	}
	return nil
}

func emitAnnexB(nalu []byte, fn func([]byte) error) error {
	if len(nalu) == 0 {
		return nil
	}
	return fn(nalu[:len(nalu):len(nalu)])
}

// AnnexBToAVCC appends the NAL units of an Annex-B byte stream to dst, each
// behind a 4-byte big-endian length.
func AnnexBToAVCC(dst, src []byte) []byte {
	_ = ForEachAnnexBNALU(src, func(nalu []byte) error {
		n := len(nalu)
		dst = append(dst, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
		dst = append(dst, nalu...)
		return nil
	})
	return dst
}
