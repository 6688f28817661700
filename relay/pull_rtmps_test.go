package relay

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/rtmp"
	"github.com/mediaserver/mediaserver/stream"
)

// loopbackCert returns a self-signed certificate for 127.0.0.1 and a pool
// that trusts it.
func loopbackCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	c := testenv.NewCertificate(t, "relay test")
	cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	return cert, c.Pool
}

// mustFrame builds a frame of the test clip's kind.
func mustFrame(t *testing.T, typ flv.TagType, ts uint32, payload []byte) *stream.Frame {
	t.Helper()
	f, err := stream.NewFrame(typ, ts, payload)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestPullerPlaysAnRTMPSSource: an rtmps:// source (an RTMP server behind
// TLS, with a certificate the puller is told to trust) is played and its
// frames reach the hub; the same source is refused with an untrusted
// certificate.
func TestPullerPlaysAnRTMPSSource(t *testing.T) {
	testenv.CheckGoroutines(t)
	cert, roots := loopbackCert(t)
	originHub := newTestHub(t, stream.Config{})
	srv, err := rtmp.NewServer(rtmp.ServerConfig{}, originHub, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}})) }()
	t.Cleanup(func() {
		_ = srv.Close()
		<-served
	})
	pub, err := originHub.Publish(stream.Key{App: "live", Name: "cam"}, stream.PublisherInfo{ID: "enc", Protocol: stream.ProtocolRTMP})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	pub.WriteFrame(mustFrame(t, flv.TagVideo, 0, []byte{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff, 0xe0, 0, 0}))
	pub.WriteFrame(mustFrame(t, flv.TagVideo, 0, []byte{0x17, 1, 0, 0, 0, 0, 0, 0, 1, 0x65}))

	sourceURL := "rtmps://" + ln.Addr().String() + "/live/cam"
	edgeHub := newTestHub(t, stream.Config{})
	untrusting := newTestPuller(t, PullConfig{StartTimeout: 300 * time.Millisecond, RetryDelay: time.Minute}, edgeHub)
	if untrusting.Demand(stream.Key{App: "x", Name: "y"}) {
		t.Fatal("demand without a source")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := untrusting.Pull(ctx, stream.Key{App: "edge", Name: "untrusted"}, sourceURL); err == nil {
		t.Fatal("pulled from a server whose certificate is not trusted")
	}
	testenv.WaitFor(t, 10*time.Second, "the pull to fail on the certificate", func() bool {
		st := untrusting.Status()
		return len(st) == 1 && strings.Contains(st[0].LastError, "certificate")
	})
	untrusting.Close()

	p := newTestPuller(t, PullConfig{TLS: &tls.Config{RootCAs: roots}}, edgeHub)
	key := stream.Key{App: "edge", Name: "cam"}
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Pull(ctx, key, sourceURL); err != nil {
		t.Fatal(err)
	}
	s, ok := edgeHub.Lookup(key)
	if !ok {
		t.Fatal("pulled stream not in the hub")
	}
	r := s.NewReader(stream.ReaderInfo{ID: "viewer", Protocol: stream.ProtocolFLV})
	defer r.Close()
	var keyframes int
	frames := make([]*stream.Frame, 16)
	for ts := uint32(40); keyframes < 2; ts += 40 {
		pub.WriteFrame(mustFrame(t, flv.TagVideo, ts, []byte{0x17, 1, 0, 0, 0, 0, 0, 0, 1, 0x65}))
		rctx, rcancel := context.WithTimeout(ctx, 100*time.Millisecond)
		n, err := r.Read(rctx, frames)
		rcancel()
		if ctx.Err() != nil {
			t.Fatalf("the pulled stream delivered %d keyframes in time: %v", keyframes, err)
		}
		for _, f := range frames[:n] {
			if f.Type == flv.TagVideo && f.Keyframe {
				keyframes++
			}
		}
	}
}
