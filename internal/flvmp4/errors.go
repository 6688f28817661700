package flvmp4

import "errors"

// Errors of the package; returned errors wrap them.
var (
	// ErrUnsupportedCodec is returned for a codec fMP4 output does not carry
	// (legacy codecs without a FourCC, VP8).
	ErrUnsupportedCodec = errors.New("flvmp4: codec not supported in fMP4")
	// ErrNoSample is returned for a frame that carries no coded sample of
	// the default track: a sequence start or end, metadata, a command frame,
	// or a multitrack message without track 0.
	ErrNoSample = errors.New("flvmp4: frame carries no sample")
	// ErrNeedKeyframe is returned by Track for a VP9 configuration that does
	// not give the picture size when no keyframe was passed to read it from.
	ErrNeedKeyframe = errors.New("flvmp4: picture size needs a keyframe")
)
