package handshake

import "errors"

// Errors callers may branch on. Failures are wrapped with the handshake step
// they happened in, so test with errors.Is.
var (
	// ErrUnsupportedVersion reports a C0 or S0 version byte other than 3.
	ErrUnsupportedVersion = errors.New("unsupported RTMP version")
	// ErrEncryptionUnsupported reports a C0 asking for encrypted RTMP
	// (RTMPE, versions 6, 8 and 9), which this package does not implement.
	ErrEncryptionUnsupported = errors.New("encrypted RTMP (RTMPE) is not supported")
	// ErrInvalidDigest reports, on the client side, an S1 that announces a
	// digest handshake but carries no valid server digest in either schema,
	// or an S2 whose signature does not match the client's digest.
	ErrInvalidDigest = errors.New("invalid handshake digest")
)
