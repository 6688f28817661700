package writev

import (
	"crypto/tls"
	"io"
	"net"
	"sync"
	"time"
)

// ConnConfig configures a Conn.
type ConnConfig struct {
	// Timeout (positive) bounds every write that waits for the
	// connection: one not done within it fails with a timeout error.
	Timeout time.Duration
	// Arm, when set, readies the deadline of the owner's next Write or
	// Flush instead of setting it Timeout from now: for an owner that
	// moves it only now and then, or refuses writes once its session is
	// over. Its error is returned and nothing is written. It runs with
	// the Conn's lock held and must not write.
	Arm func() error
}

// Conn is a connection that whole frames are written to from several
// goroutines, each frame in one vectored write and never cut by another:
//
//   - its owner writes batches, waiting for the connection (Write);
//   - once the owner has caught up, it parks the connection (Park) and a
//     goroutine that writes many connections in turn writes it without
//     waiting (TryWrite), until the socket is full: the rest of the
//     batch is kept, and the owner, given the connection back, writes it
//     (Flush) before anything else goes out;
//   - anyone writes control frames (WriteControl, Control) between
//     batches: after the rest of a batch that TryWrite cut, within
//     Timeout from now, also while the connection is parked.
//
// Every lock is released by the goroutine that took it: a batch that
// TryWrite cut is marked, and the writes that come before Flush wait for
// the mark to clear. A parked connection has no write deadline, as
// non-blocking writes need none and one that passed would fail them.
//
// A write that fails in the middle of a frame leaves the connection
// unusable: later writes return ErrCut.
type Conn struct {
	out      io.Writer // written when there is no sock
	deadline net.Conn  // whose write deadline bounds the writes; nil: none
	sock     *Writer   // nil: no TryWrite
	timeout  time.Duration
	arm      func() error

	// mu is held for every write by the goroutine making it; TryWrite
	// only tries it. It guards the fields below but rest.
	mu sync.Mutex
	// flushed is broadcast (on mu) when cut clears.
	flushed sync.Cond
	// cut says TryWrite wrote the first part of a batch: nothing but
	// Flush may write until the rest is written.
	cut bool
	// broken says a write failed in the middle of a frame.
	broken bool
	parked bool
	// waiting counts the writers waiting for cut to clear (seen by tests).
	waiting int

	// rest is what TryWrite kept. It belongs to the goroutine that called
	// TryWrite, then to the owner it hands the connection back to.
	rest net.Buffers
}

// NewConn returns a Conn that writes to w. When w is a net.Conn, writes
// have deadlines; when it is, or wraps (a NetConn method), a socket of the
// Go runtime, TryWrite works and every write goes straight to the socket.
func NewConn(w io.Writer, cfg ConnConfig) *Conn {
	c := &Conn{out: w, timeout: cfg.Timeout, arm: cfg.Arm}
	c.flushed.L = &c.mu
	if nc, ok := w.(net.Conn); ok {
		nc = unwrap(nc)
		c.out, c.deadline, c.sock = nc, nc, New(nc)
	}
	return c
}

// unwrap returns the connection that c wraps, if it says so with a
// NetConn method, as listeners that count or guard connections do:
// vectored writes reach writev only on the socket itself. A TLS
// connection is not unwrapped: its socket carries ciphertext.
func unwrap(c net.Conn) net.Conn {
	if _, ok := c.(*tls.Conn); ok {
		return c
	}
	if u, ok := c.(interface{ NetConn() net.Conn }); ok {
		return u.NetConn()
	}
	return c
}

// CanTryWrite reports whether TryWrite works on this connection: whether
// the owner may park it.
func (c *Conn) CanTryWrite() bool { return c.sock != nil }

// Write writes all of iov, the owner's next batch, waiting for the
// connection within the deadline Arm readies (Timeout from now without
// Arm). It ends the parking. What TryWrite kept must have been written
// (Flush) first.
func (c *Conn) Write(iov [][]byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waitFlushedLocked()
	c.parked = false
	if c.broken {
		return 0, ErrCut
	}
	if err := c.armLocked(); err != nil {
		return 0, err
	}
	return c.writeAllLocked(iov, false)
}

// Park readies the connection for TryWrite before the owner hands it to
// the goroutine that will call it: the write deadline is cleared, and an
// iovec array grown for a large batch is dropped.
func (c *Conn) Park() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.parked = true
	if c.sock != nil {
		c.sock.Release()
	}
	if c.deadline == nil {
		return nil
	}
	return c.deadline.SetWriteDeadline(time.Time{})
}

// TryWrite writes as much of iov as the socket takes at once, without
// waiting, and returns how many bytes that was. When that is not all of
// it, or another frame is being written at the moment, it keeps the rest
// and returns ErrWouldBlock: the caller must then hand the connection
// back to its owner, which calls Flush before writing anything else. It
// may be called only when CanTryWrite reports true, and not again before
// that Flush; it allocates nothing once rest has grown to its size.
func (c *Conn) TryWrite(iov [][]byte) (int, error) {
	if !c.mu.TryLock() {
		// A control frame is going out: the batch waits, whole.
		c.rest = append(c.rest, iov...)
		return 0, ErrWouldBlock
	}
	defer c.mu.Unlock()
	if c.broken {
		return 0, ErrCut
	}
	n, err := c.sock.Try(iov)
	if err == nil && n < Len(iov) {
		c.rest = AppendRest(c.rest, iov, n)
		c.cut = n > 0 // nothing may come between the parts of a batch
		return n, ErrWouldBlock
	}
	return n, err
}

// Flush writes what TryWrite kept, as Write does, and lets the writes
// that waited for it go on. With nothing kept it only readies the
// deadline. It ends the parking.
func (c *Conn) Flush() (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.parked = false
	n, err := c.flushLocked()
	clear(c.rest)
	c.rest = c.rest[:0]
	if c.cut {
		c.cut = false
		c.flushed.Broadcast()
	}
	return n, err
}

// flushLocked writes c.rest for Flush. A batch cut and not finished
// leaves the connection broken.
func (c *Conn) flushLocked() (int, error) {
	if c.broken {
		return 0, ErrCut
	}
	if err := c.armLocked(); err != nil {
		c.broken = c.cut
		return 0, err
	}
	if len(c.rest) == 0 {
		return 0, nil
	}
	return c.writeAllLocked(c.rest, c.cut)
}

// WriteControl writes iov, one control frame, from any goroutine: once
// the rest of a batch TryWrite cut was written, within Timeout from now
// (not Arm's deadline: a control frame such as a WebSocket close also
// goes out once the owner's writes are refused). A parked connection has
// no deadline again afterwards.
func (c *Conn) WriteControl(iov [][]byte) (int, error) {
	c.lockControl()
	defer c.unlockControl()
	if c.broken {
		return 0, ErrCut
	}
	return c.writeAllLocked(iov, false)
}

// Control runs write, which writes one control frame to the connection by
// other means (an encoder that holds it), as WriteControl would. write
// must not call the Conn's methods. A write error leaves the connection
// usable: the encoder is expected to write a frame in one call.
func (c *Conn) Control(write func() error) error {
	c.lockControl()
	defer c.unlockControl()
	if c.broken {
		return ErrCut
	}
	return write()
}

// lockControl takes the lock for a control frame and sets its deadline.
// A deadline that cannot be set leaves the write to fail on its own.
func (c *Conn) lockControl() {
	c.mu.Lock()
	c.waitFlushedLocked()
	if c.deadline != nil {
		_ = c.deadline.SetWriteDeadline(time.Now().Add(c.timeout))
	}
}

// unlockControl clears the deadline of a parked connection again and
// releases the lock.
func (c *Conn) unlockControl() {
	if c.parked && c.deadline != nil {
		_ = c.deadline.SetWriteDeadline(time.Time{})
	}
	c.mu.Unlock()
}

// waitFlushedLocked waits, with c.mu held, until no batch is cut.
func (c *Conn) waitFlushedLocked() {
	for c.cut {
		c.waiting++
		c.flushed.Wait()
		c.waiting--
	}
}

// armLocked readies the deadline of the owner's next write.
func (c *Conn) armLocked() error {
	if c.arm != nil {
		return c.arm()
	}
	if c.deadline != nil {
		_ = c.deadline.SetWriteDeadline(time.Now().Add(c.timeout))
	}
	return nil
}

// writeAllLocked writes iov, waiting for the connection within its
// deadline. A failure after the first byte of the frame (or after its
// first part, cut) marks the connection broken.
func (c *Conn) writeAllLocked(iov [][]byte, cut bool) (int, error) {
	var n int
	var err error
	if c.sock != nil {
		n, err = c.sock.All(iov)
	} else {
		bufs := net.Buffers(iov) // WriteTo consumes its copy of the slice header
		var m int64
		m, err = bufs.WriteTo(c.out)
		n = int(m)
	}
	if err != nil && (cut || n > 0) {
		c.broken = true
	}
	return n, err
}
