package main

import (
	"bufio"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/mediaserver/mediaserver/internal/testenv"
)

// TestGCPercent: the binary collects garbage at defaultGCPercent, unless
// GOGC says otherwise.
func TestGCPercent(t *testing.T) {
	bin := testenv.BuildServer(t, ".")
	if v, ok := os.LookupEnv("GOGC"); ok { // the server must not inherit the test's GOGC
		t.Setenv("GOGC", v) // restored when the test ends
		if err := os.Unsetenv("GOGC"); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		env  []string
		want string
	}{
		{nil, "50"},
		{[]string{"GOGC=80"}, "80"},
	} {
		srv := testenv.StartServer(t, bin, tc.env, "-rtmp-addr", "127.0.0.1:0", "-http-addr", "127.0.0.1:0")
		httpAddr := srv.HTTPAddr
		got := metric(t, "http://"+httpAddr+"/metrics", "go_gc_gogc_percent")
		_ = srv.Cmd.Process.Kill()
		<-srv.Exited()
		if got != tc.want {
			t.Errorf("with %v: go_gc_gogc_percent %q, want %s", tc.env, got, tc.want)
		}
	}
}

// metric returns the value of an unlabelled metric from a /metrics page.
func metric(t *testing.T, url, name string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return v
		}
	}
	t.Fatalf("%s: no %s", url, name)
	return ""
}
