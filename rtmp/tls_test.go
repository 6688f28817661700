package rtmp_test

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/rtmp"
)

// serveTLS serves s on a TLS listener on a free loopback port presenting a
// test certificate, beside its plain one. It returns the listener's
// address, the certificate, and what Serve returns on it.
func serveTLS(t *testing.T, s *testServer) (string, testenv.Certificate, <-chan error) {
	t.Helper()
	cert := testenv.NewCertificate(t, "rtmps test")
	pair, err := tls.LoadX509KeyPair(cert.CertFile, cert.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() {
		served <- s.srv.Serve(tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}))
	}()
	return ln.Addr().String(), cert, served
}

// TestRTMPSHandshakeIsBounded: on the RTMPS listener, a client that never
// starts TLS is closed once the handshake timeout has passed, and one that
// speaks plain RTMP is closed; each is counted as a failed handshake, as
// on the plain listener.
func TestRTMPSHandshakeIsBounded(t *testing.T) {
	s := startServer(t, rtmp.ServerConfig{HandshakeTimeout: 300 * time.Millisecond})
	addr, _, _ := serveTLS(t, s)
	plainC0C1 := append([]byte{3}, make([]byte, 1536)...) // a plain RTMP client's first bytes
	for i, send := range [][]byte{nil, plainC0C1} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.Write(send); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		// The end of the stream, or a reset for the bytes left unread.
		var ne net.Error
		if _, err := io.Copy(io.Discard, conn); errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("client %d: the server did not close the connection: %v", i, err)
		}
		testenv.WaitFor(t, 10*time.Second, "the failed handshake to be counted", func() bool {
			return s.srv.HandshakeFailures() == uint64(i+1)
		})
	}
}

// TestServeRTMPS: one server serves a plain and a TLS listener at once.
// ffmpeg publishes over rtmps://, trusting only the test certificate, and
// the stream plays back over plain rtmp://; Close ends both Serve calls.
func TestServeRTMPS(t *testing.T) {
	s := startServer(t, rtmp.ServerConfig{})
	addr, cert, served := serveTLS(t, s)
	testenv.Publish(t, "rtmps://"+addr+"/live/secure",
		testenv.Source{Extra: []string{"-tls_verify", "1", "-ca_file", cert.CertFile}})
	s.waitLive(t, "secure")
	p, err := testenv.FFprobe(t, s.url("secure"), 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if v, a := p.Video(), p.Audio(); v == nil || v.CodecName != "h264" || a == nil || a.CodecName != "aac" {
		t.Fatalf("stream published over RTMPS, played over RTMP: %+v; want h264 and aac", p.Streams)
	}

	if err := s.srv.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-served:
		if !errors.Is(err, rtmp.ErrServerClosed) {
			t.Fatalf("Serve on the TLS listener returned %v, want ErrServerClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve on the TLS listener still runs after Close")
	}
}
