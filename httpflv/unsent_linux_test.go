package httpflv

import (
	"crypto/tls"
	"net"
	"syscall"
	"testing"

	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/internal/writev"
)

// tcpNotSentLowat is Linux's TCP_NOTSENT_LOWAT socket option.
const tcpNotSentLowat = 0x19

// TestViewerSocketKeepsBacklogOutOfKernel: a viewer's connection writer
// caps the bytes its socket queues beyond those in flight, so that a slow
// viewer's backlog stays in the stream's ring, where the lag bound sees
// it, instead of growing in the kernel's send buffer; over TLS too.
func TestViewerSocketKeepsBacklogOutOfKernel(t *testing.T) {
	for _, tc := range []struct {
		name string
		wrap func(net.Conn) net.Conn
	}{
		{"TCP", func(c net.Conn) net.Conn { return c }},
		{"TLS", func(c net.Conn) net.Conn { return tls.Server(c, &tls.Config{}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			accepted, _ := testenv.LoopbackPair(t, nil)
			newConnWriter(tc.wrap(accepted), &session{}, DefaultWriteTimeout, framingChunked, nil)
			raw, err := accepted.(*net.TCPConn).SyscallConn()
			if err != nil {
				t.Fatal(err)
			}
			var got int
			var gerr error
			if err := raw.Control(func(fd uintptr) {
				got, gerr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpNotSentLowat)
			}); err != nil {
				t.Fatal(err)
			}
			if gerr != nil {
				t.Fatal(gerr)
			}
			if got != writev.MaxUnsent {
				t.Fatalf("TCP_NOTSENT_LOWAT = %d, want %d", got, writev.MaxUnsent)
			}
		})
	}
}
