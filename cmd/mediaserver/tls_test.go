package main

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/testenv"
)

// httpsRE finds the HTTPS address in the startup line.
var httpsRE = regexp.MustCompile(`msg="mediaserver started".* https=(\S+)`)

// TestSIGHUPReloadsCertificate: the certificate files are read again on
// SIGHUP, so a certificate renewed in place is presented from the next
// handshake on, without a restart.
func TestSIGHUPReloadsCertificate(t *testing.T) {
	dir := t.TempDir()
	bin := testenv.BuildServer(t, ".")
	first := testenv.NewCertificate(t, "first")
	renewed := testenv.NewCertificate(t, "renewed")
	config := filepath.Join(dir, "mediaserver.yaml")
	yaml := "access: {data_dir: " + filepath.Join(dir, "data") + "}\n" +
		"http: {tls_addr: \"127.0.0.1:0\"}\n" +
		"tls: {cert_file: " + first.CertFile + ", key_file: " + first.KeyFile + "}\n"
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := testenv.StartServer(t, bin, nil, "-config", config, "-rtmp-addr", "127.0.0.1:0", "-http-addr", "127.0.0.1:0")
	logs := srv.Logs
	var httpsAddr string
	testenv.WaitFor(t, 10*time.Second, "the HTTPS address", func() bool {
		m := httpsRE.FindStringSubmatch(logs.String())
		if m != nil {
			httpsAddr = m[1]
		}
		return m != nil
	})
	trustBoth := first.ClientTLS()
	trustBoth.RootCAs = first.Pool.Clone()
	trustBoth.RootCAs.AddCert(renewed.Cert)
	presented := func() string {
		conn, err := tls.Dial("tcp", httpsAddr, trustBoth)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].Subject.CommonName
	}
	if got := presented(); got != "first" {
		t.Fatalf("HTTPS presents %q, want first", got)
	}
	for src, dst := range map[string]string{renewed.CertFile: first.CertFile, renewed.KeyFile: first.KeyFile} {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.Cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 10*time.Second, "the renewed certificate to be presented", func() bool {
		return presented() == "renewed"
	})
}
