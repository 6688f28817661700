package writev

import (
	"bytes"
	"crypto/tls"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/testenv"
)

// testTimeout bounds the writes of the tests' Conns; no test waits for it
// to pass.
const testTimeout = 10 * time.Second

func TestConnOverAWriterWritesWithoutDeadlines(t *testing.T) {
	var buf bytes.Buffer
	c := NewConn(&buf, ConnConfig{Timeout: testTimeout})
	if c.CanTryWrite() {
		t.Fatal("a Conn on a bytes.Buffer says it can TryWrite")
	}
	if _, err := c.Write([][]byte{[]byte("ab"), []byte("cd")}); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if _, err := c.WriteControl([][]byte{[]byte("ef")}); err != nil {
		t.Fatalf("WriteControl: %v", err)
	}
	if err := c.Control(func() error { _, err := buf.WriteString("gh"); return err }); err != nil {
		t.Fatalf("Control: %v", err)
	}
	if got := buf.String(); got != "abcdefgh" {
		t.Fatalf("wrote %q, want %q", got, "abcdefgh")
	}
}

func TestConnOverTLSIsNotUnwrapped(t *testing.T) {
	server, _ := testenv.LoopbackPair(t, nil)
	c := NewConn(tls.Server(server, &tls.Config{}), ConnConfig{Timeout: testTimeout})
	if c.CanTryWrite() {
		t.Fatal("a Conn on a TLS connection would write to its socket past the encryption")
	}
}
