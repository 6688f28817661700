package writev

import (
	"crypto/tls"
	"fmt"
	"net"
	"syscall"
)

// MaxUnsent is the most bytes a viewer's socket queues beyond those in
// flight: a few video frames, so a viewer that keeps up is written in one
// go, while one on a slow link leaves its backlog in the stream's ring,
// where the lag bound (stream.Config.MaxReaderLag) sees it.
const MaxUnsent = 128 << 10

// tcpNotSentLowat is the TCP_NOTSENT_LOWAT socket option of linux/tcp.h,
// which the syscall package does not name.
const tcpNotSentLowat = 0x19

// LimitUnsent caps what conn's kernel send buffer holds beyond the bytes
// in flight at MaxUnsent (TCP_NOTSENT_LOWAT): the socket takes more only
// once that has gone out. Without it the send buffer grows to megabytes
// for a viewer whose link is slower than the stream, and tens of seconds
// of frames wait there, unseen by the stream's lag bound, until a write
// blocks for the whole write timeout. A connection that wraps its socket
// (a NetConn method) is unwrapped, a TLS connection too: the cap holds for
// its socket's ciphertext just as well; connections other than TCP are
// left as they are.
func LimitUnsent(conn net.Conn) error {
	if tlsConn, ok := conn.(*tls.Conn); ok {
		conn = tlsConn.NetConn()
	}
	tc, ok := unwrap(conn).(*net.TCPConn)
	if !ok {
		return nil
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return fmt.Errorf("limit unsent bytes: %w", err)
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpNotSentLowat, MaxUnsent)
	}); err != nil {
		return fmt.Errorf("limit unsent bytes: %w", err)
	}
	if serr != nil {
		return fmt.Errorf("limit unsent bytes: setsockopt TCP_NOTSENT_LOWAT: %w", serr)
	}
	return nil
}
