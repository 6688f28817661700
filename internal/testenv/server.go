package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// startedRE finds the listeners' addresses in the server's startup line.
var startedRE = regexp.MustCompile(`msg="mediaserver started".* rtmp=(\S+) http=(\S+)`)

// BuildServer builds the mediaserver binary from its package directory
// (cmd/mediaserver, relative to the calling test's package) into a
// temporary directory and returns its path.
func BuildServer(t testing.TB, pkgDir string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mediaserver")
	if out, err := exec.Command("go", "build", "-o", bin, pkgDir).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// ServerProcess is a mediaserver binary a test runs.
type ServerProcess struct {
	// Cmd is the running process.
	Cmd *exec.Cmd
	// Logs is what it wrote to its standard error (its log).
	Logs *LogBuffer
	// RTMPAddr and HTTPAddr are the addresses its startup line reports.
	RTMPAddr, HTTPAddr string
	done               chan struct{}
	err                error
}

// StartServer runs bin with the given arguments, the test's environment
// plus env, and waits up to 20 s for its startup line. The process is
// killed when the test ends, and its log shown if the test failed.
func StartServer(t testing.TB, bin string, env []string, args ...string) *ServerProcess {
	t.Helper()
	p := &ServerProcess{Logs: &LogBuffer{}, done: make(chan struct{})}
	p.Cmd = exec.Command(bin, args...)
	p.Cmd.Env = append(os.Environ(), env...)
	p.Cmd.Stderr = p.Logs
	if err := p.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.Cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.Cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("server log:\n%s", p.Logs.String())
		}
	})
	WaitFor(t, 20*time.Second, "the server to start", func() bool {
		m := startedRE.FindStringSubmatch(p.Logs.String())
		if m != nil {
			p.RTMPAddr, p.HTTPAddr = m[1], m[2]
		}
		return m != nil
	})
	return p
}

// Exited is closed when the process has exited; ExitErr then tells how.
func (p *ServerProcess) Exited() <-chan struct{} { return p.done }

// ExitErr returns the process's exit error, once Exited is closed.
func (p *ServerProcess) ExitErr() error {
	<-p.done
	return p.err
}
