package testenv

import (
	"context"
	"net"
	"testing"
)

// LoopbackPair connects a client, opened with dial (a net.Dialer's when
// nil), to a listener on 127.0.0.1, and returns both ends of the TCP
// connection. Cleanup closes them.
func LoopbackPair(t testing.TB, dial func(ctx context.Context, network, addr string) (net.Conn, error)) (accepted, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type result struct {
		c   net.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		c, err := ln.Accept()
		ch <- result{c, err}
	}()
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	client, err = dial(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { _ = r.c.Close() })
	return r.c, client
}

// FreePort returns a loopback TCP port that was free a moment ago, for a
// peer that cannot report the port it bound (ffmpeg -listen).
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
