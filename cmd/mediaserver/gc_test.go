package main

import (
	"bufio"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/testenv"
)

// TestGCPercent: the binary collects garbage at defaultGCPercent, unless
// GOGC says otherwise.
func TestGCPercent(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "mediaserver")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOGC=") {
			env = append(env, kv)
		}
	}
	for _, tc := range []struct {
		env  []string
		want string
	}{
		{nil, "50"},
		{[]string{"GOGC=80"}, "80"},
	} {
		logs := &testenv.LogBuffer{}
		cmd := exec.Command(bin, "-rtmp-addr", "127.0.0.1:0", "-http-addr", "127.0.0.1:0")
		cmd.Env = append(append([]string(nil), env...), tc.env...)
		cmd.Stderr = logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var httpAddr string
		testenv.WaitFor(t, 10*time.Second, "the server to start", func() bool {
			m := startedRE.FindStringSubmatch(logs.String())
			if m != nil {
				httpAddr = m[2]
			}
			return m != nil
		})
		got := metric(t, "http://"+httpAddr+"/metrics", "go_gc_gogc_percent")
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
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
