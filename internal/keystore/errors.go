package keystore

import "errors"

// Sentinel errors returned by this package; callers compare with errors.Is.
var (
	// ErrNotFound is returned for a key id the store does not hold.
	ErrNotFound = errors.New("keystore: no such key")
	// ErrInvalidKey is returned by Create for an app or stream name that
	// cannot be published.
	ErrInvalidKey = errors.New("keystore: invalid app or stream name")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("keystore: closed")
)
