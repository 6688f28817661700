package testenv

import (
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// RedisServer is a redis-server process a test started on a loopback port.
type RedisServer struct {
	// Addr is its host:port.
	Addr string
	t    testing.TB
	args []string
	proc *Process
}

// StartRedis starts a redis-server on a free loopback port, without
// persistence, and stops it when the test ends.
func StartRedis(t testing.TB) *RedisServer {
	t.Helper()
	port := FreePort(t)
	r := &RedisServer{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), t: t,
		args: []string{"--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--save", "", "--appendonly", "no",
			"--dir", t.TempDir(), "--protected-mode", "yes"}}
	r.Start()
	return r
}

// URL returns the server's redis:// URL.
func (r *RedisServer) URL() string { return "redis://" + r.Addr }

// Start starts the server again after Stop, on the same port.
func (r *RedisServer) Start() {
	r.t.Helper()
	r.proc = Start(r.t, "redis-server", r.args...)
	WaitFor(r.t, 10*time.Second, "redis-server to accept connections", func() bool {
		c, err := net.DialTimeout("tcp", r.Addr, time.Second)
		if err != nil {
			return false
		}
		_ = c.Close()
		return true
	})
}

// Stop stops the server (its data is lost).
func (r *RedisServer) Stop() {
	r.t.Helper()
	if err := r.proc.Stop(5 * time.Second); err != nil {
		r.t.Logf("redis-server stop: %v", err)
	}
	WaitFor(r.t, 10*time.Second, "redis-server to stop", func() bool {
		c, err := net.DialTimeout("tcp", r.Addr, 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
		}
		return err != nil
	})
}

// Cmd runs redis-cli against the server and returns its output.
func (r *RedisServer) Cmd(args ...string) (string, error) {
	host, port, _ := net.SplitHostPort(r.Addr)
	out, err := exec.Command(Tool(r.t, "redis-cli"), append([]string{"-h", host, "-p", port}, args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("redis-cli %v: %w", args, err)
	}
	return string(out), nil
}
