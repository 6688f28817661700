//go:build !linux

package httpflv

import "net"

// socketWriter is not available on this platform: viewers are written by
// goroutines of their own, through the net.Conn.
type socketWriter struct{}

// newSocketWriter returns nil.
func newSocketWriter(net.Conn) *socketWriter { return nil }

// writev is never called.
func (*socketWriter) writev([][]byte) (int, error) { return 0, nil }

// writevAll is never called.
func (*socketWriter) writevAll([][]byte) (int, error) { return 0, nil }

// release is never called.
func (*socketWriter) release() {}
