package testenv

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Nginx is an nginx a test started on a loopback port.
type Nginx struct {
	// Addr is its host:port.
	Addr string
}

// StartNginx runs nginx with the repository's deploy/nginx/mediaserver.conf
// (read from confPath) on a free loopback port, its upstreams replaced by
// the given addresses and its cache in a temporary directory. It stops when
// the test ends.
func StartNginx(t testing.TB, confPath string, upstreams ...string) *Nginx {
	t.Helper()
	conf, err := os.ReadFile(confPath)
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(FreePort(t)))
	dir := t.TempDir()
	var servers strings.Builder
	for _, u := range upstreams {
		servers.WriteString("    server " + u + " max_fails=0;\n")
	}
	text := string(conf)
	for old, repl := range map[string]string{
		"    server origin-a:8080 max_fails=0;\n    server origin-b:8080 max_fails=0;\n": servers.String(),
		"listen 8080;":                 "listen " + addr + ";",
		"/var/cache/nginx/mediaserver": filepath.Join(dir, "cache"),
	} {
		if !strings.Contains(text, old) {
			t.Fatalf("%s: %q not found: the harness and the file disagree", confPath, old)
		}
		text = strings.ReplaceAll(text, old, repl)
	}
	if err := os.WriteFile(filepath.Join(dir, "mediaserver.conf"), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	main := "user root;\ndaemon off;\nworker_processes 1;\npid " + filepath.Join(dir, "nginx.pid") + ";\n" +
		"error_log stderr warn;\nevents { worker_connections 8192; }\nhttp {\n  access_log off;\n" +
		"  client_body_temp_path " + filepath.Join(dir, "body") + ";\n  proxy_temp_path " + filepath.Join(dir, "proxy") + ";\n" +
		"  fastcgi_temp_path " + filepath.Join(dir, "fastcgi") + ";\n  uwsgi_temp_path " + filepath.Join(dir, "uwsgi") + ";\n" +
		"  scgi_temp_path " + filepath.Join(dir, "scgi") + ";\n  include " + filepath.Join(dir, "mediaserver.conf") + ";\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	proc := Start(t, nginxPath(t), "-e", "stderr", "-p", dir, "-c", filepath.Join(dir, "nginx.conf"))
	t.Cleanup(func() { // before Start's kill: the master stops its workers on SIGTERM, not on SIGKILL
		_ = proc.cmd.Process.Signal(syscall.SIGTERM)
		_, _ = proc.Wait(10 * time.Second)
	})
	WaitFor(t, 10*time.Second, "nginx to accept connections", func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return false
		}
		_ = c.Close()
		return true
	})
	return &Nginx{Addr: addr}
}

// nginxPath finds nginx, which Debian installs in /usr/sbin (not on every
// user's PATH).
func nginxPath(t testing.TB) string {
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	return Tool(t, "nginx")
}
