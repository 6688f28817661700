//go:build !linux

package hls

import (
	"errors"
	"fmt"
)

// mapSegment fails: segments stay on the Go heap on this platform.
func mapSegment(int) ([]byte, error) {
	return nil, fmt.Errorf("map segment memory: %w", errors.ErrUnsupported)
}

// unmapSegment is never called on this platform.
func unmapSegment([]byte) error { return nil }
