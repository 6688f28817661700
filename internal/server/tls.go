package server

import (
	"crypto/tls"
	"fmt"
	"strings"
	"sync/atomic"
)

// TLSConfig names the certificate that the HTTPS listener (http.tls_addr)
// and the RTMPS listener (rtmp.tls_addr) present. Both files are PEM; the
// certificate file may hold the chain after the leaf. SIGHUP reads them
// again (Server.Reload).
type TLSConfig struct {
	// CertFile is the certificate (chain) file. Required when a TLS
	// listener is set.
	CertFile string `yaml:"cert_file"`
	// KeyFile is the private key file of CertFile's certificate.
	// Required when a TLS listener is set.
	KeyFile string `yaml:"key_file"`
}

// configured reports whether a certificate is named.
func (c TLSConfig) configured() bool { return c.CertFile != "" || c.KeyFile != "" }

// validateTLS reports a TLS listener without a certificate, and a
// certificate without its key or key without its certificate.
func (c Config) validateTLS() error {
	var listeners []string
	if c.HTTP.TLSAddr != "" {
		listeners = append(listeners, "http.tls_addr")
	}
	if c.RTMP.TLSAddr != "" {
		listeners = append(listeners, "rtmp.tls_addr")
	}
	switch {
	case len(listeners) > 0 && (c.TLS.CertFile == "" || c.TLS.KeyFile == ""):
		return fmt.Errorf("%w: %s set without tls.cert_file and tls.key_file: a TLS listener needs a certificate and its key",
			ErrInvalidConfig, strings.Join(listeners, " and "))
	case c.TLS.configured() && (c.TLS.CertFile == "" || c.TLS.KeyFile == ""):
		return fmt.Errorf("%w: tls.cert_file and tls.key_file go together", ErrInvalidConfig)
	}
	return nil
}

// certificate holds the certificate the TLS listeners present. Reload
// swaps it; handshakes already under way keep the one they read.
type certificate struct {
	cur atomic.Pointer[tls.Certificate]
}

// loadCertificate reads the certificate and key files of cfg.
func loadCertificate(cfg TLSConfig) (*certificate, error) {
	pair, err := loadKeyPair(cfg)
	if err != nil {
		return nil, err
	}
	c := &certificate{}
	c.cur.Store(pair)
	return c, nil
}

// loadKeyPair reads the certificate and key files of cfg; its error names
// both.
func loadKeyPair(cfg TLSConfig) (*tls.Certificate, error) {
	pair, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("%w: tls.cert_file %s, tls.key_file %s: %w", ErrCertificate, cfg.CertFile, cfg.KeyFile, err)
	}
	return &pair, nil
}

// swap presents pair from the next handshake on.
func (c *certificate) swap(pair *tls.Certificate) { c.cur.Store(pair) }

// get implements tls.Config.GetCertificate. loadCertificate has loaded
// one before any listener uses it.
func (c *certificate) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return c.cur.Load(), nil
}

// serverTLS returns the TLS settings of a listener presenting c, offering
// the application protocols protos (ALPN) in order of preference.
func (c *certificate) serverTLS(protos ...string) *tls.Config {
	return &tls.Config{
		GetCertificate: c.get,
		MinVersion:     tls.VersionTLS12,
		NextProtos:     protos,
	}
}
