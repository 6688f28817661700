package hls

import (
	"fmt"
	"syscall"
)

// mapSegment returns n bytes of anonymous memory mapped outside the Go
// heap.
func mapSegment(n int) ([]byte, error) {
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, fmt.Errorf("map segment memory: %w", err)
	}
	return b, nil
}

// unmapSegment returns memory that mapSegment mapped.
func unmapSegment(b []byte) error {
	if err := syscall.Munmap(b); err != nil {
		return fmt.Errorf("unmap segment memory: %w", err)
	}
	return nil
}
