package conns

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"testing"
)

func TestHost(t *testing.T) {
	for addr, want := range map[string]string{
		"10.0.0.1:1935": "10.0.0.1",
		"[::1]:8080":    "::1",
		"10.0.0.1":      "10.0.0.1",
		"":              "",
	} {
		if got := Host(addr); got != want {
			t.Errorf("Host(%q) = %q, want %q", addr, got, want)
		}
	}
	if got := HostOf(nil); got != "" {
		t.Errorf("HostOf(nil) = %q", got)
	}
	if got := HostOf(&net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 9}); got != "192.0.2.1" {
		t.Errorf("HostOf = %q", got)
	}
}

func TestCounter(t *testing.T) {
	c := Counter{Max: 3, MaxPerHost: 2}
	steps := []struct {
		host string
		want Refusal
	}{
		{"a", Admitted}, {"a", Admitted}, {"a", TooManyFromHost}, {"b", Admitted}, {"c", TooMany},
	}
	for i, s := range steps {
		if got := c.Admit(s.host); got != s.want {
			t.Fatalf("step %d: Admit(%s) = %d, want %d", i, s.host, got, s.want)
		}
	}
	c.Release("a")
	if got := c.Admit("c"); got != Admitted {
		t.Fatalf("after a release: Admit(c) = %d", got)
	}
	c.Release("a")
	c.Release("b")
	c.Release("c")
	if n := c.Open(); n != 0 || len(c.perHost) != 0 {
		t.Fatalf("after releasing everything: %d open, %d hosts remembered", n, len(c.perHost))
	}
	var none Counter // no caps
	for range 100 {
		if got := none.Admit("a"); got != Admitted {
			t.Fatal("a counter without caps refused")
		}
	}
}

func TestLogLimiter(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	var l LogLimiter
	for range 5 {
		l.Warn(log, "conns 10.0.0.1", "refused", "remote", "10.0.0.1")
	}
	l.Warn(log, "conns 10.0.0.2", "refused", "remote", "10.0.0.2")
	if n := strings.Count(buf.String(), "refused"); n != 2 {
		t.Fatalf("%d lines logged, want one per key:\n%s", n, buf.String())
	}
	// Once the interval has passed, the next line says how many were kept quiet.
	e := l.last["conns 10.0.0.1"]
	e.at = e.at.Add(-LogInterval)
	l.last["conns 10.0.0.1"] = e
	l.Warn(log, "conns 10.0.0.1", "refused", "remote", "10.0.0.1")
	if !strings.Contains(buf.String(), "suppressed_since_last_log=4") {
		t.Fatalf("no count of the suppressed lines:\n%s", buf.String())
	}
}
