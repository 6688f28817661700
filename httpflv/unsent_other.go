//go:build !linux

package httpflv

import "net"

// limitUnsent leaves conn's send buffer as it is: the option that caps its
// unsent bytes is Linux's.
func limitUnsent(net.Conn) error { return nil }
