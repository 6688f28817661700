//go:build linux && (amd64 || arm64)

package main

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"syscall"
)

// stampConn is a viewer's TCP connection that records when the data of
// its latest read arrived in the socket: the kernel's receive timestamp
// (SO_TIMESTAMPNS) of the last segment that read returned. On loopback
// that is when the server's write delivered it, so arrival − send is the
// latency the server added, whatever the load tool's own scheduling.
type stampConn struct {
	net.Conn
	rc syscall.RawConn
	// last is the arrival of the latest read's data, Unix nanoseconds (0:
	// not stamped; the kernel starts stamping shortly after the option is
	// set).
	last atomic.Int64

	// read is the bound recvFD; buf, oob, n and err are its arguments and
	// results.
	read func(fd uintptr) bool
	buf  []byte
	oob  [64]byte
	n    int
	err  error
}

// dialStamped dials with d and turns receive timestamps on. A connection
// whose timestamps cannot be turned on is returned as it is.
func dialStamped(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		tc, ok := c.(*net.TCPConn)
		if !ok {
			return c, nil
		}
		rc, err := tc.SyscallConn()
		if err != nil {
			return c, nil
		}
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
		}); err != nil || serr != nil {
			return c, nil
		}
		s := &stampConn{Conn: c, rc: rc}
		s.read = s.recvFD
		return s, nil
	}
}

// Read implements net.Conn, recording the data's arrival.
func (s *stampConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.buf, s.n, s.err = p, 0, nil
	if err := s.rc.Read(s.read); err != nil {
		return 0, err
	}
	s.buf = nil
	return s.n, s.err
}

// recvFD is the RawConn callback: one recvmsg, or false to wait.
func (s *stampConn) recvFD(fd uintptr) bool {
	n, oobn, _, _, err := syscall.Recvmsg(int(fd), s.buf, s.oob[:], 0)
	for errors.Is(err, syscall.EINTR) {
		n, oobn, _, _, err = syscall.Recvmsg(int(fd), s.buf, s.oob[:], 0)
	}
	switch {
	case errors.Is(err, syscall.EAGAIN):
		return false
	case err != nil:
		s.err = err
	case n == 0:
		s.err = io.EOF
	default:
		s.n = n
		ts, _ := parseTimestampNS(s.oob[:oobn]) // 0 when the kernel stamped nothing
		s.last.Store(ts)
	}
	return true
}

// arrival returns the Unix nanoseconds at which the latest read's data
// arrived, or 0.
func (s *stampConn) arrival() int64 { return s.last.Load() }

// parseTimestampNS finds SCM_TIMESTAMPNS in a control message buffer and
// returns its time in Unix nanoseconds.
func parseTimestampNS(oob []byte) (int64, bool) {
	const hdr = syscall.SizeofCmsghdr
	for len(oob) >= hdr {
		length := int(binary.NativeEndian.Uint64(oob[0:8]))
		level := int32(binary.NativeEndian.Uint32(oob[8:12]))
		typ := int32(binary.NativeEndian.Uint32(oob[12:16]))
		if length < hdr || length > len(oob) {
			return 0, false
		}
		if level == syscall.SOL_SOCKET && typ == syscall.SCM_TIMESTAMPNS && length >= hdr+16 {
			sec := int64(binary.NativeEndian.Uint64(oob[hdr : hdr+8]))
			nsec := int64(binary.NativeEndian.Uint64(oob[hdr+8 : hdr+16]))
			return sec*1e9 + nsec, true
		}
		oob = oob[(length+7)&^7:]
	}
	return 0, false
}
