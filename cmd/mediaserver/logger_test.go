package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mediaserver/mediaserver/internal/server"
)

// TestLoggerMasksSecrets: the process logger masks secrets in queries in
// both formats, at debug level too.
func TestLoggerMasksSecrets(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		var buf bytes.Buffer
		log, err := newLogger(server.LogConfig{Level: "debug", Format: format}, &buf)
		if err != nil {
			t.Fatal(err)
		}
		log.With("tcUrl", "rtmp://h/live?key=S1").Debug("publish live/cam?token=S2", "query", "sig=S3&x=1")
		if out := buf.String(); strings.Contains(out, "S1") || strings.Contains(out, "S2") || strings.Contains(out, "S3") ||
			strings.Count(out, "REDACTED") != 3 {
			t.Errorf("%s: %s", format, out)
		}
	}
}
