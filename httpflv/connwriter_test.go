package httpflv

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

// BenchmarkConnWriterTrySend writes one tag per op the way the stream's
// delivery goroutine writes a parked WebSocket viewer (trySend; flushRest
// and prepareDirect when the socket is full) to a loopback peer that reads
// everything: allocs/op is what the direct path costs per frame per viewer.
func BenchmarkConnWriterTrySend(b *testing.B) {
	server, client := testenv.LoopbackPair(b, nil)
	go func() { _, _ = io.Copy(io.Discard, client) }()
	sess := &session{cancel: func(error) {}}
	w := newConnWriter(server, sess, 10*time.Second, framingWebSocket, nil)
	if !w.canTrySend() {
		b.Fatal("no direct writes on a TCP socket")
	}
	if err := w.prepareDirect(); err != nil {
		b.Fatal(err)
	}
	head, payload, tail := make([]byte, 11), make([]byte, 1400), make([]byte, 4)
	bufs := make([][]byte, 0, 3)
	size := len(head) + len(payload) + len(tail)
	b.ReportAllocs()
	b.SetBytes(int64(size))
	for b.Loop() {
		bufs = append(bufs[:0], head, payload, tail)
		err := w.trySend(bufs, size)
		if errors.Is(err, stream.ErrWouldBlock) {
			if err = w.flushRest(); err == nil {
				err = w.prepareDirect()
			}
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

// writeCounter counts the writes made to its connection.
type writeCounter struct {
	net.Conn
	writes atomic.Int64
}

func (c *writeCounter) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// TestTLSBatchIsGathered: over TLS, a batch of many pieces (tag headers,
// shared payloads, trailers) is gathered and reaches the socket in records
// as large as TLS makes them, not in a record and a write per piece.
func TestTLSBatchIsGathered(t *testing.T) {
	accepted, client := testenv.LoopbackPair(t, nil)
	cert := testenv.NewCertificate(t, "connwriter test")
	pair, err := tls.LoadX509KeyPair(cert.CertFile, cert.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	counted := &writeCounter{Conn: accepted}
	server := tls.Server(counted, &tls.Config{Certificates: []tls.Certificate{pair}})
	clientTLS := cert.ClientTLS()
	clientTLS.ServerName = "127.0.0.1"
	tlsClient := tls.Client(client, clientTLS)
	// Nothing here may wait long: a failure shows as an error.
	deadline := time.Now().Add(10 * time.Second)
	_ = accepted.SetDeadline(deadline)
	_ = client.SetDeadline(deadline)
	handshake := make(chan error, 1)
	go func() { handshake <- tlsClient.Handshake() }()
	if err := server.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := <-handshake; err != nil {
		t.Fatal(err)
	}

	var pool sync.Pool
	pool.New = func() any {
		b := make([]byte, 0, MaxBatchBytes)
		return &b
	}
	w := newConnWriter(server, &session{cancel: func(error) {}}, 10*time.Second, framingChunked, &pool)
	var bufs [][]byte
	size := 0
	for range 100 {
		head, payload, tail := make([]byte, 11), make([]byte, 100), make([]byte, 4)
		bufs = append(bufs, head, payload, tail)
		size += len(head) + len(payload) + len(tail)
	}
	before := counted.writes.Load()
	if err := w.send(bufs, size); err != nil {
		t.Fatal(err)
	}
	// crypto/tls starts a connection with records of about one TCP
	// segment (1 KB or more), and each record is a write.
	if n, most := counted.writes.Load()-before, int64(size/1000+1); n > most {
		t.Fatalf("a %d-byte batch of %d pieces went out in %d socket writes, want at most %d", size, len(bufs), n, most)
	}
	got := make([]byte, 0, size+16)
	buf := make([]byte, 32<<10)
	for len(got) < size {
		n, err := tlsClient.Read(buf)
		if err != nil {
			t.Fatalf("read after %d bytes: %v", len(got), err)
		}
		got = append(got, buf[:n]...)
	}
	if want := fmt.Sprintf("%x\r\n", size); !strings.HasPrefix(string(got), want) {
		t.Fatalf("chunk starts %q, want size line %q", got[:8], want)
	}
}
