//go:build !linux

package record

import (
	"errors"
	"fmt"
)

// freeDisk reports that the free space is unknown on this system: there
// recordings are not stopped for lack of space.
func freeDisk(dir string) (uint64, error) {
	return 0, fmt.Errorf("free space of %s: %w", dir, errors.ErrUnsupported)
}
