package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Child server handling.
const (
	// serverStopGrace is how long the child server gets to shut down after
	// SIGINT before it is killed.
	serverStopGrace = 10 * time.Second
	// portPollInterval is the pause between attempts to reach a port.
	portPollInterval = 100 * time.Millisecond
	// portProbeTimeout bounds one connection attempt.
	portProbeTimeout = 500 * time.Millisecond
)

// childServer is the server process started by the tool (-server-cmd).
type childServer struct {
	cmd  *exec.Cmd
	out  io.Closer // the log file, if any
	done chan struct{}
	err  error // Wait's result, set before done closes
	log  *slog.Logger
}

// startServer runs argv, its output to logPath (discarded when empty),
// and waits up to wait for every address in addrs to accept connections.
// The addresses must be free before: a server already listening there
// would be measured in place of the child.
func startServer(ctx context.Context, argv []string, logPath string, addrs []string, wait time.Duration, log *slog.Logger) (*childServer, error) {
	for _, addr := range addrs {
		if c, err := net.DialTimeout("tcp", addr, portProbeTimeout); err == nil {
			_ = c.Close()
			return nil, fmt.Errorf("server address %s already has a listener: stop it or choose other ports", addr)
		}
	}
	s := &childServer{done: make(chan struct{}), log: log}
	s.cmd = exec.Command(argv[0], argv[1:]...)
	if logPath != "" {
		f, err := os.Create(logPath)
		if err != nil {
			return nil, fmt.Errorf("server log: %w", err)
		}
		s.cmd.Stdout, s.cmd.Stderr, s.out = f, f, f
	}
	if err := s.cmd.Start(); err != nil {
		s.closeLog()
		return nil, fmt.Errorf("start server: %w", err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	log.Info("server started", "pid", s.cmd.Process.Pid, "cmd", argv)
	deadline := time.Now().Add(wait)
	for _, addr := range addrs {
		for {
			c, err := net.DialTimeout("tcp", addr, portProbeTimeout)
			if err == nil {
				_ = c.Close()
				break
			}
			select {
			case <-s.done:
				s.closeLog()
				return nil, fmt.Errorf("server exited before listening on %s: %v", addr, s.err)
			case <-ctx.Done():
				_ = s.stop()
				return nil, ctx.Err()
			case <-time.After(portPollInterval):
			}
			if time.Now().After(deadline) {
				_ = s.stop()
				return nil, fmt.Errorf("server not listening on %s after %v", addr, wait)
			}
		}
	}
	return s, nil
}

// pid returns the child's process id.
func (s *childServer) pid() int { return s.cmd.Process.Pid }

// exitErr reports whether the server has exited, and how.
func (s *childServer) exitErr() (bool, error) {
	select {
	case <-s.done:
		return true, s.err
	default:
		return false, nil
	}
}

// stop asks the server to shut down (SIGINT), waits up to serverStopGrace,
// then kills it. It returns an error when the server had to be killed or
// exited with a failure.
func (s *childServer) stop() error {
	defer s.closeLog()
	select {
	case <-s.done:
		return s.err
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
		return s.err
	case <-time.After(serverStopGrace):
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	return fmt.Errorf("server did not stop within %v after SIGINT; killed", serverStopGrace)
}

// closeLog closes the log file, if any.
func (s *childServer) closeLog() {
	if s.out != nil {
		_ = s.out.Close()
		s.out = nil
	}
}

// hostPort returns host:port of a URL, with the scheme's default port.
func hostPort(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	if u.Port() != "" {
		return u.Host, nil
	}
	port := map[string]string{"rtmp": "1935", "http": "80", "https": "443"}[u.Scheme]
	if port == "" {
		return "", errors.New("no port for scheme " + u.Scheme)
	}
	return net.JoinHostPort(u.Hostname(), port), nil
}
