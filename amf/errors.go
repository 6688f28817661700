package amf

import "errors"

// Errors returned (wrapped with context) by the decoders and encoders; test
// for them with errors.Is.
var (
	// ErrTruncated reports that the input ended inside a value.
	ErrTruncated = errors.New("amf: truncated input")
	// ErrBadMarker reports an unknown type marker, or an object-end marker
	// where a value was expected.
	ErrBadMarker = errors.New("amf: bad type marker")
	// ErrUnsupported reports a reserved AMF0 type (movieclip, recordset), an
	// AMF3 externalizable object, or a Go value the encoders cannot represent.
	ErrUnsupported = errors.New("amf: unsupported type")
	// ErrTooDeep reports nesting deeper than MaxDepth.
	ErrTooDeep = errors.New("amf: nesting too deep")
	// ErrTooLarge reports a length or count above its cap (MaxCount, the
	// format's own field width) or references expanding beyond
	// MaxReferenceExpansion.
	ErrTooLarge = errors.New("amf: too large")
	// ErrBadReference reports a reference to a table entry that does not exist
	// or is still being decoded.
	ErrBadReference = errors.New("amf: bad reference")
)
