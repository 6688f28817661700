package writev

// Len returns the number of bytes in iov.
func Len(iov [][]byte) int {
	n := 0
	for _, b := range iov {
		n += len(b)
	}
	return n
}

// AppendRest appends to dst what is left of iov after its first n bytes.
func AppendRest(dst [][]byte, iov [][]byte, n int) [][]byte {
	for i, b := range iov {
		if n < len(b) {
			dst = append(dst, b[n:])
			return append(dst, iov[i+1:]...)
		}
		n -= len(b)
	}
	return dst
}
