package writev

import (
	"errors"
	"fmt"
	"net"
)

var (
	// ErrWouldBlock is what Conn.TryWrite returns when the connection did
	// not take the whole batch at once: the rest is kept for Conn.Flush.
	ErrWouldBlock = errors.New("writev: write would block")
	// ErrCut is what a Conn returns for every write after one failed in
	// the middle of a frame: the peer would read the next bytes as the
	// rest of that frame. It is a net.ErrClosed, as the connection is
	// closed for writing.
	ErrCut = fmt.Errorf("writev: a frame was cut short: %w", net.ErrClosed)
)
