//go:build !linux

package writev

import "net"

// MaxUnsent is the most bytes a viewer's socket queues beyond those in
// flight, where the platform can cap it (Linux).
const MaxUnsent = 128 << 10

// LimitUnsent leaves conn's send buffer as it is: the option that caps its
// unsent bytes is Linux's.
func LimitUnsent(net.Conn) error { return nil }
