//go:build !linux

package writev

import "net"

// Writer is not available on this platform.
type Writer struct{}

// New returns nil: callers write through the net.Conn instead.
func New(net.Conn) *Writer { return nil }

// Try is never called.
func (*Writer) Try([][]byte) (int, error) { return 0, nil }

// All is never called.
func (*Writer) All([][]byte) (int, error) { return 0, nil }

// Release is never called.
func (*Writer) Release() {}
