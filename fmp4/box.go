package fmp4

import "encoding/binary"

// Box header sizes.
const (
	boxHeaderSize      = 8  // size and type
	largeBoxHeaderSize = 16 // size 1, type, 64-bit largesize
	fullBoxHeaderSize  = 12 // box header, version and flags
)

// box is one node of an init section's box tree: the box type, the FullBox
// version and flags when it has them, its fixed fields already encoded in
// payload, then its children. The init section is written once per stream,
// so it is built as a tree; fragments, written for every frame, have code of
// their own that allocates nothing.
type box struct {
	typ      string // four characters
	full     bool
	version  uint8
	flags    uint32
	payload  []byte
	children []box
}

// Size returns the encoded size of the box and its children.
func (b *box) Size() int {
	n := boxHeaderSize + len(b.payload)
	if b.full {
		n += fullBoxHeaderSize - boxHeaderSize
	}
	for i := range b.children {
		n += b.children[i].Size()
	}
	return n
}

// MarshalTo writes the box into dst, which must hold Size bytes, and returns
// the number of bytes written.
func (b *box) MarshalTo(dst []byte) int {
	size := b.Size()
	var n int
	if b.full {
		n = putFullBoxHeader(dst, size, b.typ, b.version, b.flags)
	} else {
		n = putBoxHeader(dst, size, b.typ)
	}
	n += copy(dst[n:], b.payload)
	for i := range b.children {
		n += b.children[i].MarshalTo(dst[n:])
	}
	return n
}

// putBoxHeader writes a 32-bit size and a box type and returns 8.
func putBoxHeader(dst []byte, size int, typ string) int {
	binary.BigEndian.PutUint32(dst, uint32(size))
	copy(dst[4:8], typ)
	return boxHeaderSize
}

// putFullBoxHeader writes a box header, the FullBox version and its 24-bit
// flags, and returns 12.
func putFullBoxHeader(dst []byte, size int, typ string, version uint8, flags uint32) int {
	putBoxHeader(dst, size, typ)
	binary.BigEndian.PutUint32(dst[8:], uint32(version)<<24|flags&0xffffff)
	return fullBoxHeaderSize
}
