package rtmp_test

import (
	"crypto/tls"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/rtmp"
)

// TestServeRTMPS: one server serves a plain and a TLS listener at once.
// ffmpeg publishes over rtmps://, trusting only the test certificate, and
// the stream plays back over plain rtmp://; Close ends both Serve calls.
func TestServeRTMPS(t *testing.T) {
	s := startServer(t, rtmp.ServerConfig{})
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

	testenv.Publish(t, "rtmps://"+ln.Addr().String()+"/live/secure",
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
