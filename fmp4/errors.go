package fmp4

import "errors"

// Errors returned by NewInit and the frame header parsers, wrapped with
// context.
var (
	// ErrUnsupportedCodec reports a codec the package has no sample entry for.
	ErrUnsupportedCodec = errors.New("fmp4: unsupported codec")
	// ErrInvalidTrack reports a track description that cannot be written:
	// a zero or repeated track ID, a missing size or sample rate, a decoder
	// configuration of the wrong length.
	ErrInvalidTrack = errors.New("fmp4: invalid track")
	// ErrInvalidHeader reports a codec header or frame header that does not
	// follow its specification.
	ErrInvalidHeader = errors.New("fmp4: invalid codec header")
	// ErrTruncated reports input that ends before the structure it holds.
	ErrTruncated = errors.New("fmp4: truncated input")
)
