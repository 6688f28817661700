package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/internal/server"
	"github.com/mediaserver/mediaserver/internal/servertest"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

// startTLS runs the server with HTTPS and RTMPS on loopback ports beside
// plain HTTP and RTMP, presenting cert.
func startTLS(t *testing.T, cert testenv.Certificate, edit func(*server.Config)) *server.Server {
	t.Helper()
	return servertest.Start(t, func(c *server.Config) {
		c.HTTP.TLSAddr, c.RTMP.TLSAddr = "127.0.0.1:0", "127.0.0.1:0"
		c.TLS = server.TLSConfig{CertFile: cert.CertFile, KeyFile: cert.KeyFile}
		if edit != nil {
			edit(c)
		}
	})
}

// waitLive waits until the stream live/name has a keyframe.
func waitLive(t *testing.T, srv *server.Server, name string) {
	t.Helper()
	testenv.WaitFor(t, 30*time.Second, "stream "+name+" to go live", func() bool {
		st, ok := srv.Hub().Lookup(stream.Key{App: "live", Name: name})
		return ok && st.Stats().Keyframes > 0
	})
}

// curlHTTP2 fetches url with curl over HTTP/2, trusting only cert, for at
// most maxTime, and returns the HTTP version and status curl reports and
// the body it got.
func curlHTTP2(t *testing.T, cert testenv.Certificate, url string, maxTime time.Duration) (version, status string, body []byte) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "body")
	cmd := exec.Command(testenv.Tool(t, "curl"), "--http2", "--cacert", cert.CertFile, "-s", "-o", out,
		"--max-time", strings.TrimSuffix(maxTime.String(), "s"), "-w", "%{http_version} %{response_code}", url)
	report, err := cmd.Output()
	var exit *exec.ExitError
	// 28: the time ran out, as it does for a live HTTP-FLV body.
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 28) {
		t.Fatalf("curl %s: %v (%s)", url, err, report)
	}
	version, status, _ = strings.Cut(string(report), " ")
	body, err = os.ReadFile(out)
	if err != nil {
		t.Fatalf("curl %s wrote no body: %v", url, err)
	}
	return version, status, body
}

// TestTLSPublishAndPlay: ffmpeg publishes over rtmps:// trusting only the
// test certificate; over https:// the HLS playlist and HTTP-FLV come over
// HTTP/2 (curl), ffprobe reads HTTP-FLV and ffmpeg decodes it cleanly, the
// API and the dashboard answer over HTTP/2, and a wss:// client reads
// WebSocket-FLV over HTTP/1.1 on the same listener. The plain listeners
// keep serving beside the TLS ones.
func TestTLSPublishAndPlay(t *testing.T) {
	testenv.CheckGoroutines(t)
	cert := testenv.NewCertificate(t, "mediaserver test")
	srv := startTLS(t, cert, nil)
	src := testenv.Source{Extra: []string{"-tls_verify", "1", "-ca_file", cert.CertFile}}
	testenv.Publish(t, "rtmps://"+srv.RTMPSAddr()+"/live/cam", src)
	waitLive(t, srv, "cam")
	base := "https://" + srv.HTTPSAddr() + "/live/cam"

	t.Run("HLS over HTTP/2", func(t *testing.T) {
		testenv.WaitFor(t, 30*time.Second, "a playlist with a segment", func() bool {
			_, status, body := curlHTTP2(t, cert, base+".m3u8", 10*time.Second)
			return status == "200" && bytes.Contains(body, []byte("#EXTINF"))
		})
		version, status, body := curlHTTP2(t, cert, base+".m3u8", 10*time.Second)
		if version != "2" || status != "200" || !bytes.HasPrefix(body, []byte("#EXTM3U")) {
			t.Fatalf("playlist over https: HTTP version %q, status %q, body %q; want HTTP/2, 200, a playlist",
				version, status, body)
		}
	})

	t.Run("HTTP-FLV over HTTP/2", func(t *testing.T) {
		version, status, body := curlHTTP2(t, cert, base+".flv", 3*time.Second)
		if version != "2" || status != "200" {
			t.Fatalf("HTTP-FLV over https: HTTP version %q, status %q; want HTTP/2, 200", version, status)
		}
		r := flv.NewReader(bytes.NewReader(body))
		if _, err := r.ReadHeader(); err != nil {
			t.Fatalf("HTTP-FLV body over HTTP/2 (%d bytes): %v", len(body), err)
		}
		var video, key int
		for {
			tag, err := r.ReadTag()
			if err != nil {
				break
			}
			if tag.Type == flv.TagVideo {
				video++
				if h, err := flv.ParseVideoTagHeader(tag.Data); err == nil && h.Keyframe() && !h.IsSequenceHeader() {
					key++
				}
			}
		}
		if video < 10 || key == 0 {
			t.Fatalf("HTTP-FLV over HTTP/2: %d video tags, %d keyframes in %d bytes; want a playing stream", video, key, len(body))
		}
	})

	t.Run("ffprobe and ffmpeg read HTTP-FLV over https", func(t *testing.T) {
		verify := []string{"-tls_verify", "1", "-ca_file", cert.CertFile}
		p, err := testenv.FFprobe(t, base+".flv", 30*time.Second, verify...)
		if err != nil {
			t.Fatal(err)
		}
		if v, a := p.Video(), p.Audio(); v == nil || v.CodecName != "h264" || a == nil || a.CodecName != "aac" {
			t.Fatalf("ffprobe over https: streams %+v; want h264 and aac", p.Streams)
		}
		if out, err := testenv.Decode(t, base+".flv", 3*time.Second, verify...); err != nil || out != "" {
			t.Fatalf("ffmpeg decoding HTTP-FLV over https: %v\n%s", err, out)
		}
	})

	t.Run("API and dashboard over HTTP/2", func(t *testing.T) {
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: cert.ClientTLS(), ForceAttemptHTTP2: true}}
		defer client.CloseIdleConnections()
		for _, path := range []string{"/api/v1/streams", "/", "/healthz"} {
			resp, err := client.Get("https://" + srv.HTTPSAddr() + path)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
				t.Fatalf("GET %s over https: %s %s; want 200 over HTTP/2", path, resp.Proto, resp.Status)
			}
		}
	})

	t.Run("WebSocket-FLV over wss", func(t *testing.T) {
		// A WebSocket client asks for HTTP/1.1 through ALPN, as browsers do
		// on a connection of their own for WebSockets.
		dialer := websocket.Dialer{TLSClientConfig: cert.ClientTLS("http/1.1"), HandshakeTimeout: 10 * time.Second}
		conn, resp, err := dialer.Dial("wss://"+srv.HTTPSAddr()+"/live/cam.flv", nil)
		if err != nil {
			t.Fatalf("wss dial: %v (response %+v)", err, resp)
		}
		defer conn.Close()
		tc, ok := conn.NetConn().(*tls.Conn)
		if !ok || tc.ConnectionState().NegotiatedProtocol != "http/1.1" {
			t.Fatalf("WebSocket over %T; want TLS with ALPN http/1.1", conn.NetConn())
		}
		_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		var got bytes.Buffer
		for got.Len() < 64<<10 {
			typ, msg, err := conn.ReadMessage()
			if err != nil {
				t.Fatalf("wss read after %d bytes: %v", got.Len(), err)
			}
			if typ != websocket.BinaryMessage {
				t.Fatalf("message type %d, want binary", typ)
			}
			got.Write(msg)
		}
		if _, err := flv.NewReader(&got).ReadHeader(); err != nil {
			t.Fatalf("WebSocket-FLV over wss: %v", err)
		}
	})

	t.Run("plain HTTP still serves", func(t *testing.T) {
		p, err := testenv.FFprobe(t, "http://"+srv.HTTPAddr()+"/live/cam.flv", 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if p.Video() == nil || p.Audio() == nil {
			t.Fatalf("ffprobe over plain HTTP: streams %+v", p.Streams)
		}
	})
}

// TestHTTP2FLVViewerIsKicked: an HTTP-FLV viewer over HTTP/2, which is
// written through the response writer rather than taken over, is listed
// as a session and ends at once when kicked.
func TestHTTP2FLVViewerIsKicked(t *testing.T) {
	cert := testenv.NewCertificate(t, "mediaserver test")
	srv := startTLS(t, cert, nil)
	testenv.Publish(t, "rtmp://"+srv.RTMPAddr()+"/live/cam", testenv.Source{})
	waitLive(t, srv, "cam")

	tr := &http.Transport{TLSClientConfig: cert.ClientTLS(), ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+srv.HTTPSAddr()+"/live/cam.flv", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ProtoMajor != 2 || resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP-FLV over https: %s %s; want 200 over HTTP/2", resp.Proto, resp.Status)
	}
	read := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, resp.Body)
		read <- err
	}()
	api := "https://" + srv.HTTPSAddr() + "/api/v1/sessions"
	client := &http.Client{Transport: tr}
	var id string
	testenv.WaitFor(t, 10*time.Second, "the HTTP/2 viewer to be listed", func() bool {
		id = flvSessionID(t, client, api)
		return id != ""
	})
	kick, err := http.NewRequest(http.MethodDelete, api+"/"+id, nil)
	if err != nil {
		t.Fatal(err)
	}
	kicked, err := client.Do(kick)
	if err != nil {
		t.Fatal(err)
	}
	kicked.Body.Close()
	if kicked.StatusCode/100 != 2 {
		t.Fatalf("kick %s: %s", id, kicked.Status)
	}
	select {
	case err := <-read:
		t.Logf("body ended after the kick: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the HTTP/2 response did not end within 10 s of the kick")
	}
	testenv.WaitFor(t, 10*time.Second, "the kicked viewer to be gone", func() bool {
		return flvSessionID(t, client, api) == ""
	})
}

// flvSessionID returns the ID of the HTTP-FLV session that has been sent
// bytes, as the API at url lists it, or "".
func flvSessionID(t *testing.T, client *http.Client, url string) string {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sessions struct {
		Items []struct {
			ID       string `json:"id"`
			Protocol string `json:"protocol"`
			BytesOut uint64 `json:"bytes_out"`
		} `json:"items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&sessions); err != nil {
		t.Fatal(err)
	}
	for _, s := range sessions.Items {
		if s.Protocol == string(stream.ProtocolFLV) && s.BytesOut > 0 {
			return s.ID
		}
	}
	return ""
}

// TestTLSSettingsAreChecked: a TLS listener without a certificate is a
// configuration error naming the keys; a certificate that does not load
// stops the start with its path in the error.
func TestTLSSettingsAreChecked(t *testing.T) {
	cert := testenv.NewCertificate(t, "mediaserver test")
	garbage := filepath.Join(t.TempDir(), "garbage.crt")
	if err := os.WriteFile(garbage, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.crt")
	for _, tc := range []struct {
		name    string
		edit    func(*server.Config)
		is      error
		mention []string
	}{
		{"https without certificate", func(c *server.Config) { c.HTTP.TLSAddr = "127.0.0.1:0" },
			server.ErrInvalidConfig, []string{"http.tls_addr", "tls.cert_file", "tls.key_file"}},
		{"rtmps without key", func(c *server.Config) {
			c.RTMP.TLSAddr = "127.0.0.1:0"
			c.TLS.CertFile = cert.CertFile
		}, server.ErrInvalidConfig, []string{"rtmp.tls_addr", "tls.key_file"}},
		{"key without certificate", func(c *server.Config) { c.TLS.KeyFile = cert.KeyFile },
			server.ErrInvalidConfig, []string{"tls.cert_file"}},
		{"missing certificate file", func(c *server.Config) {
			c.HTTP.TLSAddr = "127.0.0.1:0"
			c.TLS = server.TLSConfig{CertFile: missing, KeyFile: cert.KeyFile}
		}, server.ErrCertificate, []string{missing}},
		{"certificate file that is not one", func(c *server.Config) {
			c.RTMP.TLSAddr = "127.0.0.1:0"
			c.TLS = server.TLSConfig{CertFile: garbage, KeyFile: cert.KeyFile}
		}, server.ErrCertificate, []string{garbage, cert.KeyFile}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := server.DefaultConfig()
			cfg.RTMP.Addr, cfg.HTTP.Addr = "127.0.0.1:0", "127.0.0.1:0"
			cfg.Access.DataDir = t.TempDir()
			tc.edit(&cfg)
			srv, err := server.New(cfg, "test", testenv.TestLogger(t, 0))
			if err == nil {
				_ = srv.Shutdown()
				t.Fatal("the server started")
			}
			t.Logf("refused: %v", err)
			if !errors.Is(err, tc.is) {
				t.Errorf("error %q does not wrap %v", err, tc.is)
			}
			for _, m := range tc.mention {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not name %s", err, m)
				}
			}
		})
	}
}

// TestReloadSwapsCertificate: a reload reads the certificate files again,
// and the next handshake on either TLS listener presents the new
// certificate; files that do not load fail the reload and keep it.
func TestReloadSwapsCertificate(t *testing.T) {
	first := testenv.NewCertificate(t, "first")
	srv := startTLS(t, first, nil)
	renewed := testenv.NewCertificate(t, "renewed")
	trustBoth := first.ClientTLS()
	trustBoth.RootCAs = first.Pool.Clone()
	trustBoth.RootCAs.AddCert(renewed.Cert)
	presented := func(addr string) string {
		t.Helper()
		conn, err := tls.Dial("tcp", addr, trustBoth)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].Subject.CommonName
	}
	if got := presented(srv.HTTPSAddr()); got != "first" {
		t.Fatalf("HTTPS presents %q, want first", got)
	}
	// Renewal in place: the same paths, new contents.
	copyFile(t, renewed.CertFile, first.CertFile)
	copyFile(t, renewed.KeyFile, first.KeyFile)
	cfg := server.Config{TLS: server.TLSConfig{CertFile: first.CertFile, KeyFile: first.KeyFile}}
	cfg.HTTP.TLSAddr, cfg.RTMP.TLSAddr = "127.0.0.1:0", "127.0.0.1:0"
	if err := srv.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{srv.HTTPSAddr(), srv.RTMPSAddr()} {
		if got := presented(addr); got != "renewed" {
			t.Fatalf("%s presents %q after the reload, want renewed", addr, got)
		}
	}
	if err := os.WriteFile(first.KeyFile, []byte("truncated"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := srv.Reload(cfg)
	if !errors.Is(err, server.ErrCertificate) || !strings.Contains(err.Error(), first.KeyFile) {
		t.Fatalf("reload with a broken key: %v; want ErrCertificate naming %s", err, first.KeyFile)
	}
	if got := presented(srv.HTTPSAddr()); got != "renewed" {
		t.Fatalf("HTTPS presents %q after a failed reload, want renewed still", got)
	}
}

// copyFile copies the file src over dst.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
