package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Certificate is a self-signed certificate for 127.0.0.1, ::1 and
// localhost, made for one test: PEM files in a temporary directory for
// servers and tools (ffmpeg -ca_file, curl --cacert), and the pool that
// trusts it for Go clients.
type Certificate struct {
	// CertFile is the certificate, PEM; it is its own CA.
	CertFile string
	// KeyFile is its private key, PEM (PKCS #8).
	KeyFile string
	// Pool trusts the certificate.
	Pool *x509.CertPool
	// Cert is the certificate.
	Cert *x509.Certificate
}

// ClientTLS returns a client configuration that trusts only c, offering
// the application protocols protos (ALPN).
func (c Certificate) ClientTLS(protos ...string) *tls.Config {
	return &tls.Config{RootCAs: c.Pool, NextProtos: protos, MinVersion: tls.VersionTLS12}
}

// NewCertificate makes a certificate valid for an hour with the given
// common name (it tells certificates apart, as after a renewal).
func NewCertificate(t testing.TB, commonName string) Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c := Certificate{
		CertFile: filepath.Join(dir, "server.crt"),
		KeyFile:  filepath.Join(dir, "server.key"),
		Pool:     x509.NewCertPool(),
		Cert:     cert,
	}
	c.Pool.AddCert(cert)
	writePEM(t, c.CertFile, "CERTIFICATE", der)
	writePEM(t, c.KeyFile, "PRIVATE KEY", keyDER)
	return c
}

// writePEM writes one PEM block to file, readable by its owner only.
func writePEM(t testing.TB, file, blockType string, der []byte) {
	t.Helper()
	data := pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der})
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
