// Package writev writes batches of byte slices to a socket with writev(2),
// with or without waiting for room in its send buffer. It lets a server
// write many connections from one goroutine without blocking on any.
package writev
