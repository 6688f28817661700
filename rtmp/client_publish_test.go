package rtmp_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/rtmp"
	"github.com/mediaserver/mediaserver/stream"
)

// TestDialRefusesOtherSchemes: only rtmp:// and rtmps:// are dialled.
func TestDialRefusesOtherSchemes(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1/live/x", "rtmpt://127.0.0.1/live/x", "srt://127.0.0.1:1"} {
		if _, err := rtmp.Dial(context.Background(), u, rtmp.ClientConfig{}); !errors.Is(err, rtmp.ErrURLScheme) {
			t.Errorf("Dial(%s): %v, want ErrURLScheme", u, err)
		}
	}
}

// TestClientPublishesFramesOverRTMPS: the client dials rtmps:// (a TLS
// listener in front of the server, its certificate trusted through
// ClientConfig.TLS), reads the server's Enhanced RTMP capabilities from
// the connect _result, and publishes hub frames with WriteFrames, which
// the server's hub receives; WriteFrames before Publish fails.
func TestClientPublishesFramesOverRTMPS(t *testing.T) {
	tc := testenv.NewCertificate(t, "127.0.0.1")
	certFile, keyFile := tc.CertFile, tc.KeyFile
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	hub, err := stream.NewRegistry(stream.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := rtmp.NewServer(rtmp.ServerConfig{}, hub, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	defer func() {
		_ = srv.Close()
		<-done
	}()

	pem, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	url := "rtmps://" + ln.Addr().String() + "/live"
	c, err := rtmp.Dial(context.Background(), url, rtmp.ClientConfig{Timeout: 5 * time.Second, TLS: &tls.Config{RootCAs: roots}})
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	defer c.Close()
	if _, ok := c.Conn().(*tls.Conn); !ok {
		t.Fatalf("connection %T is not TLS", c.Conn())
	}
	caps := c.ServerCaps()
	if !caps.Declared || !caps.Accepts("hvc1") || !caps.Accepts("av01") {
		t.Errorf("server caps %+v: want hvc1 and av01 accepted", caps)
	}
	if caps := (rtmp.EnhancedCaps{}); caps.Accepts("hvc1") {
		t.Error("a server that announced nothing accepts hvc1")
	}
	var frames []*stream.Frame
	for i, p := range [][]byte{
		{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff, 0xe0, 0xe0}, // AVC sequence header
		{0xaf, 0, 0x12, 0x10},                // AAC sequence header
		{0x17, 1, 0, 0, 0, 0, 0, 0, 1, 0x65}, // keyframe
		{0xaf, 1, 0x21, 0x10},
		{0x27, 1, 0, 0, 0, 0, 0, 0, 1, 0x41},
	} {
		typ := flv.TagVideo
		if p[0] == 0xaf {
			typ = flv.TagAudio
		}
		f, err := stream.NewFrame(typ, uint32(i*20), p)
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, f)
	}
	if _, err := c.WriteFrames(frames); !errors.Is(err, rtmp.ErrNotPublishing) {
		t.Errorf("WriteFrames before Publish: %v, want ErrNotPublishing", err)
	}
	if err := c.Publish("cam"); err != nil {
		t.Fatal(err)
	}
	n, err := c.WriteFrames(frames)
	if err != nil || n == 0 {
		t.Fatalf("WriteFrames: %d, %v", n, err)
	}
	testenv.WaitFor(t, 10*time.Second, "the frames at the server", func() bool {
		st, ok := hub.Lookup(stream.Key{App: "live", Name: "cam"})
		return ok && st.Stats().FramesIn == uint64(len(frames)) && st.Stats().Keyframes == 1 && st.Headers().Audio != nil
	})
}

// TestDialRTMPSChecksTheCertificate: a certificate the client does not
// trust fails the dial.
func TestDialRTMPSChecksTheCertificate(t *testing.T) {
	tc := testenv.NewCertificate(t, "127.0.0.1")
	certFile, keyFile := tc.CertFile, tc.KeyFile
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_ = c.(*tls.Conn).Handshake()
			_ = c.Close()
		}
	}()
	_, err = rtmp.Dial(context.Background(), "rtmps://"+ln.Addr().String()+"/live", rtmp.ClientConfig{Timeout: 5 * time.Second})
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Errorf("dial with an untrusted certificate: %v, want an unknown authority error", err)
	}
}
