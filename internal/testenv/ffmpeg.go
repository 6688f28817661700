// Package testenv runs the real peers the integration tests talk to:
// ffmpeg publishing synthetic streams and ffprobe/ffmpeg reading them back.
// The tools are required: a test that needs one fails when it is missing
// (make test installs them), it never skips.
package testenv

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Tool returns the path of a required command-line tool or fails the test.
func Tool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is required (make test installs it): %v", name, err)
	}
	return path
}

// Source describes a synthetic stream for ffmpeg to encode.
type Source struct {
	Width, Height int           // default 640x360
	FPS           int           // default 30
	GOP           int           // keyframe interval in frames; default FPS (1 s)
	SampleRate    int           // default 48000
	Duration      time.Duration // 0: until stopped
	NoAudio       bool
	NoVideo       bool
	// Extra ffmpeg output options, placed before the output URL.
	Extra []string
}

func (s Source) withDefaults() Source {
	if s.Width == 0 {
		s.Width, s.Height = 640, 360
	}
	if s.FPS == 0 {
		s.FPS = 30
	}
	if s.GOP == 0 {
		s.GOP = s.FPS
	}
	if s.SampleRate == 0 {
		s.SampleRate = 48000
	}
	return s
}

// encodeArgs returns the ffmpeg arguments that encode a clip of the
// source, frames long, to out (FLV).
func (s Source) encodeArgs(frames int, out string) []string {
	args := []string{"-hide_banner", "-nostdin", "-loglevel", "error", "-y"}
	if !s.NoVideo {
		args = append(args, "-f", "lavfi", "-i",
			fmt.Sprintf("testsrc2=size=%dx%d:rate=%d", s.Width, s.Height, s.FPS))
	}
	if !s.NoAudio {
		args = append(args, "-f", "lavfi", "-i",
			fmt.Sprintf("sine=frequency=440:sample_rate=%d", s.SampleRate))
	}
	args = append(args, "-t", strconv.FormatFloat(float64(frames)/float64(s.FPS), 'f', 3, 64))
	if !s.NoVideo {
		args = append(args, "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
			"-pix_fmt", "yuv420p", "-g", strconv.Itoa(s.GOP), "-keyint_min", strconv.Itoa(s.GOP),
			"-sc_threshold", "0", "-b:v", "1M")
	}
	if !s.NoAudio {
		args = append(args, "-c:a", "aac", "-b:a", "96k")
	}
	args = append(args, s.Extra...)
	return append(args, "-f", "flv", out)
}

// clip returns an FLV file holding a few seconds of the source, encoded
// once and cached across tests and runs: publishing it with -c copy costs
// almost no CPU, so the publisher keeps real time on a loaded machine. The
// clip is a whole number of GOPs (at least two and at least 10 s), so
// looping keeps the keyframe interval.
func (s Source) clip(t testing.TB) string {
	t.Helper()
	gops := max(2, (10*s.FPS+s.GOP-1)/s.GOP)
	frames := gops * s.GOP
	key := sha256.Sum256([]byte(strings.Join(s.encodeArgs(frames, ""), "\x00")))
	dir := filepath.Join(os.TempDir(), "mediaserver-test-clips")
	out := filepath.Join(dir, hex.EncodeToString(key[:8])+".flv")
	if _, err := os.Stat(out); err == nil {
		return out
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := fmt.Sprintf("%s.%d.tmp", out, os.Getpid())
	cmd := exec.Command(Tool(t, "ffmpeg"), s.encodeArgs(frames, tmp)...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("encode test clip: %v\n%s", err, msg)
	}
	if err := os.Rename(tmp, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// Args returns the ffmpeg arguments that publish the source in real time
// as FLV to url: the cached clip, looped, copied without re-encoding.
func (s Source) Args(t testing.TB, url string) []string {
	t.Helper()
	s = s.withDefaults()
	args := []string{"-hide_banner", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", s.clip(t)}
	if s.Duration > 0 {
		args = append(args, "-t", strconv.FormatFloat(s.Duration.Seconds(), 'f', 3, 64))
	}
	return append(args, "-c", "copy", "-f", "flv", url)
}

// Process is a running ffmpeg (or other tool) whose output is kept for the
// test log.
type Process struct {
	cmd    *exec.Cmd
	out    bytes.Buffer
	mu     sync.Mutex
	done   chan struct{}
	err    error
	cancel context.CancelFunc
}

// Start runs a tool in the background. It is stopped when the test ends.
func Start(t testing.TB, name string, args ...string) *Process {
	t.Helper()
	path := Tool(t, name)
	ctx, cancel := context.WithCancel(context.Background())
	p := &Process{done: make(chan struct{}), cancel: cancel}
	p.cmd = exec.CommandContext(ctx, path, args...)
	p.cmd.Stdout = &lockedWriter{p: p}
	p.cmd.Stderr = &lockedWriter{p: p}
	p.cmd.Cancel = func() error { return p.cmd.Process.Signal(syscall.SIGKILL) }
	// A tool whose children outlive it (nginx's workers) keeps the output
	// pipes open: stop waiting for them shortly after the tool exited.
	p.cmd.WaitDelay = 5 * time.Second
	if err := p.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Kill()
		if out := p.Output(); out != "" {
			t.Logf("%s output:\n%s", name, out)
		}
	})
	return p
}

// Publish starts ffmpeg publishing src to url.
func Publish(t testing.TB, url string, src Source) *Process {
	t.Helper()
	return Start(t, "ffmpeg", src.Args(t, url)...)
}

type lockedWriter struct{ p *Process }

func (w *lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.out.Write(b)
}

// Output returns what the process printed so far.
func (p *Process) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// Done is closed when the process exits.
func (p *Process) Done() <-chan struct{} { return p.done }

// Wait waits up to timeout for the process to exit. It reports whether it
// exited, and its error.
func (p *Process) Wait(timeout time.Duration) (exited bool, err error) {
	select {
	case <-p.done:
		return true, p.err
	case <-time.After(timeout):
		return false, nil
	}
}

// Stop asks the process to finish (SIGINT, as a user pressing Ctrl-C) and
// waits up to timeout, then kills it. ffmpeg exits with status 255 when it
// stops on a signal; that counts as a clean stop.
func (p *Process) Stop(timeout time.Duration) error {
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	if exited, err := p.Wait(timeout); exited {
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == 255 {
			return nil
		}
		return err
	}
	p.Kill()
	return fmt.Errorf("did not stop within %v", timeout)
}

// Kill ends the process at once and waits for it.
func (p *Process) Kill() {
	p.cancel()
	<-p.done
}

// Stream is one stream as ffprobe reports it.
type Stream struct {
	Index      int    `json:"index"`
	CodecType  string `json:"codec_type"`
	CodecName  string `json:"codec_name"`
	Profile    string `json:"profile"`
	Width      int    `json:"width"`
	Height     int    `json:"height"`
	SampleRate string `json:"sample_rate"`
	Channels   int    `json:"channels"`
	RFrameRate string `json:"r_frame_rate"`
}

// Probe is ffprobe's view of a URL.
type Probe struct {
	Streams []Stream `json:"streams"`
	Format  struct {
		FormatName string `json:"format_name"`
		Duration   string `json:"duration"`
	} `json:"format"`
}

// Video returns the first video stream, or nil.
func (p Probe) Video() *Stream { return p.first("video") }

// Audio returns the first audio stream, or nil.
func (p Probe) Audio() *Stream { return p.first("audio") }

func (p Probe) first(kind string) *Stream {
	for i := range p.Streams {
		if p.Streams[i].CodecType == kind {
			return &p.Streams[i]
		}
	}
	return nil
}

// FFprobe reads url with ffprobe and returns its streams and format. extra
// arguments go before the URL.
func FFprobe(t testing.TB, url string, timeout time.Duration, extra ...string) (Probe, error) {
	t.Helper()
	path := Tool(t, "ffprobe")
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	args := append([]string{"-v", "error", "-show_streams", "-show_format", "-of", "json"}, extra...)
	args = append(args, url)
	cmd := exec.CommandContext(ctx, path, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return Probe{}, fmt.Errorf("ffprobe %s: %w: %s", url, err, strings.TrimSpace(stderr.String()))
	}
	var p Probe
	if err := json.Unmarshal(out, &p); err != nil {
		return Probe{}, fmt.Errorf("ffprobe output: %w", err)
	}
	return p, nil
}

// Decode runs `ffmpeg -xerror -i url -c copy -f null -` for the given time
// and returns what ffmpeg printed and its error. ffmpeg with -xerror stops
// at the first error in the stream.
func Decode(t testing.TB, url string, d time.Duration, inputArgs ...string) (string, error) {
	t.Helper()
	path := Tool(t, "ffmpeg")
	ctx, cancel := context.WithTimeout(context.Background(), d+30*time.Second)
	defer cancel()
	args := []string{"-hide_banner", "-nostdin", "-loglevel", "warning", "-xerror"}
	args = append(args, inputArgs...)
	args = append(args, "-i", url, "-t", strconv.FormatFloat(d.Seconds(), 'f', 3, 64), "-c", "copy", "-f", "null", "-")
	cmd := exec.CommandContext(ctx, path, args...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
