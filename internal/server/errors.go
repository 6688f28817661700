package server

import "errors"

// ErrInvalidConfig is wrapped by Config.Validate and New for a
// configuration that cannot be used.
var ErrInvalidConfig = errors.New("server: invalid configuration")

// ErrCertificate is wrapped by New and Reload when the files of tls.cert_file
// and tls.key_file do not load as a certificate and its key.
var ErrCertificate = errors.New("server: certificate not loaded")
