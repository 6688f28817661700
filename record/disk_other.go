//go:build !linux

package record

import "errors"

// errNoStatfs: free space is not measured on this system.
var errNoStatfs = errors.New("free disk space is not measured on this system")

// freeDisk reports that the free space is unknown: recordings are not
// stopped for lack of space on this system.
func freeDisk(string) (uint64, error) { return 0, errNoStatfs }
