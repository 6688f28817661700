// Package writev writes batches of byte slices to a socket with writev(2),
// with or without waiting for room in its send buffer (Writer), and
// shares a connection between the goroutines that write whole frames to
// it (Conn): its owner, a goroutine that writes many connections without
// waiting on any, and senders of control frames. It lets a server write
// many connections from one goroutine without blocking on any.
package writev
