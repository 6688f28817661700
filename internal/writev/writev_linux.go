package writev

import (
	"errors"
	"net"
	"syscall"
	"unsafe"
)

// Writer makes vectored writes straight to a socket's descriptor,
// either without waiting for room in the send buffer (Try) or waiting as a
// net.Conn write does, within the socket's write deadline (All). Unlike a
// net.Conn's own vectored write, it keeps no iovec array sized for the
// largest batch ever written once Release is called. A Writer is used by
// one goroutine at a time.
type Writer struct {
	rc  syscall.RawConn
	vec []syscall.Iovec
	// write and writeAll are the bound writeFD and writeAllFD, made once so
	// that a write allocates nothing; n and errno are their results.
	write, writeAll func(fd uintptr) bool
	n               int
	errno           syscall.Errno
}

// New returns a writer for c, or nil when c is not a socket of the Go
// runtime.
func New(c net.Conn) *Writer {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	w := &Writer{rc: rc}
	w.write, w.writeAll = w.writeFD, w.writeAllFD
	return w
}

// Try writes as much of iov as the socket takes now, with one writev of
// at most maxIovecs slices, and returns how many bytes that was: 0 with a
// nil error when the send buffer is full.
func (w *Writer) Try(iov [][]byte) (int, error) {
	return w.do(iov, w.write)
}

// All writes all of iov, waiting for the socket to take it within its
// write deadline.
func (w *Writer) All(iov [][]byte) (int, error) {
	return w.do(iov, w.writeAll)
}

// keepIovecs is the most iovecs Release keeps.
const keepIovecs = 32

// Release drops an iovec array grown for a large batch.
func (w *Writer) Release() {
	if cap(w.vec) > keepIovecs {
		w.vec = nil
	}
}

// do fills w.vec from iov and runs fn on the descriptor.
func (w *Writer) do(iov [][]byte, fn func(fd uintptr) bool) (int, error) {
	vec := w.vec[:0]
	for _, b := range iov {
		if len(b) == 0 {
			continue
		}
		v := syscall.Iovec{Base: &b[0]}
		v.SetLen(len(b))
		vec = append(vec, v)
	}
	w.vec = vec
	defer func() {
		// writeAllFD advances w.vec; vec still spans the whole array.
		clear(vec)
		w.vec = vec[:0]
	}()
	if len(vec) == 0 {
		return 0, nil
	}
	w.n, w.errno = 0, 0
	err := w.rc.Write(fn)
	n := w.n
	switch {
	case err != nil:
		return n, err
	case errors.Is(w.errno, syscall.EAGAIN):
		return n, nil
	case w.errno != 0:
		return n, w.errno
	}
	return n, nil
}

// maxIovecs is Linux's IOV_MAX: the most slices one writev takes.
const maxIovecs = 1024

// writev1 makes one writev of (the first maxIovecs of) w.vec, retrying
// when interrupted.
func (w *Writer) writev1(fd uintptr) (int, syscall.Errno) {
	for {
		r, _, e := syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&w.vec[0])), uintptr(min(len(w.vec), maxIovecs)))
		if e != syscall.EINTR {
			return int(r), e
		}
	}
}

// writeFD is the RawConn callback of Try.
func (w *Writer) writeFD(fd uintptr) bool {
	n, e := w.writev1(fd)
	if e == 0 {
		w.n = n
	}
	w.errno = e
	return true // never wait for the socket to become writable
}

// writeAllFD is the RawConn callback of All: it writes until w.vec is
// empty, returning false (wait until writable) when the socket is full.
func (w *Writer) writeAllFD(fd uintptr) bool {
	for len(w.vec) > 0 {
		n, e := w.writev1(fd)
		if e == syscall.EAGAIN {
			return false
		}
		if e != 0 {
			w.errno = e
			return true
		}
		w.n += n
		w.advance(n)
	}
	return true
}

// advance drops the first n written bytes from w.vec.
func (w *Writer) advance(n int) {
	for n > 0 && len(w.vec) > 0 {
		v := &w.vec[0]
		if uint64(n) < uint64(v.Len) {
			v.Base = (*byte)(unsafe.Add(unsafe.Pointer(v.Base), n))
			v.SetLen(int(v.Len) - n)
			return
		}
		n -= int(v.Len)
		w.vec = w.vec[1:]
	}
}
