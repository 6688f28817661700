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

// TestPerAddressCapWalkedAroundByIPv6Slash64 pins the bug where the
// per-address cap counted each IPv6 address apart, so a client holding a
// /64 (every home line has one) opened as many connections as it liked by
// changing the low 64 bits.
func TestPerAddressCapWalkedAroundByIPv6Slash64(t *testing.T) {
	c := Counter{MaxPerHost: 2}
	for i, host := range []string{"2001:db8:1:2::1", "2001:db8:1:2::2"} {
		if got := c.Admit(host); got != Admitted {
			t.Fatalf("connection %d from %s: %d", i, host, got)
		}
	}
	if got := c.Admit("2001:db8:1:2:dead:beef:0:3"); got != TooManyFromHost {
		t.Fatalf("a third address of the same /64 was admitted (%d): the cap counts addresses, not /64s", got)
	}
	if got := c.Admit("2001:db8:1:3::1"); got != Admitted {
		t.Fatalf("an address of another /64 was refused: %d", got)
	}
	c.Release("2001:db8:1:2::1")
	if got := c.Admit("2001:db8:1:2::99"); got != Admitted {
		t.Fatalf("after a release the /64 was still full: %d", got)
	}
	for _, host := range []string{"2001:db8:1:2::2", "2001:db8:1:2::99", "2001:db8:1:3::1"} {
		c.Release(host)
	}
	if n := c.Open(); n != 0 || len(c.perHost) != 0 {
		t.Fatalf("after releasing everything: %d open, %d groups remembered", n, len(c.perHost))
	}
}
