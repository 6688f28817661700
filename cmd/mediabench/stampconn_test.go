//go:build linux && (amd64 || arm64)

package main

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/testenv"
)

// TestStampConnRecordsArrival: a read through a stamped connection
// records when its data arrived, before the read itself.
func TestStampConnRecordsArrival(t *testing.T) {
	srv, c := testenv.LoopbackPair(t, dialStamped(&net.Dialer{}))
	sc, ok := c.(*stampConn)
	if !ok {
		t.Fatalf("dialStamped returned a %T", c)
	}

	// Turning timestamps on enables the kernel's receive stamping with a
	// short delay (the load tool's viewers connect well before live data):
	// wait until a read comes back stamped.
	buf := make([]byte, 16)
	deadline := time.Now().Add(5 * time.Second)
	for sc.arrival() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no read came back with a receive timestamp")
		}
		if _, err := srv.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		if _, err := sc.Read(buf); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	before := time.Now()
	if _, err := srv.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the data waits in the socket
	n, err := sc.Read(buf)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	readAt := time.Now()
	arrived := time.Unix(0, sc.arrival())
	if arrived.Before(before.Add(-time.Millisecond)) || !arrived.Before(readAt.Add(-40*time.Millisecond)) {
		t.Fatalf("arrival %v: want between the write (%v) and well before the read (%v)", arrived, before, readAt)
	}
	srv.Close()
	if _, err := sc.Read(buf); err != io.EOF {
		t.Fatalf("read after the peer closed: %v, want io.EOF", err)
	}
}

func TestParseTimestampNS(t *testing.T) {
	if _, ok := parseTimestampNS(nil); ok {
		t.Error("timestamp found in nothing")
	}
	if _, ok := parseTimestampNS(make([]byte, 8)); ok {
		t.Error("timestamp found in a truncated header")
	}
	bad := make([]byte, 32)
	bad[0] = 200 // longer than the buffer
	if _, ok := parseTimestampNS(bad); ok {
		t.Error("timestamp found in a message longer than its buffer")
	}
}
