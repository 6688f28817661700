package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The Enhanced RTMP peer is enhanced.mjs (beside this file) on the FFmpeg 8
// libraries of the npm package node-av: Debian's ffmpeg 5.1 can neither
// publish Enhanced RTMP nor demux enhanced FLV, so it only encodes the
// HEVC and AV1 sources here. node and node-av are required (make test
// installs them with npm ci): a test that needs them fails without them.

// peerScript returns the path of enhanced.mjs, failing the test when node
// or the node-av package is missing.
func peerScript(t testing.TB) string {
	t.Helper()
	Tool(t, "node")
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate internal/testenv")
	}
	dir := filepath.Dir(file)
	root := filepath.Join(dir, "..", "..")
	if _, err := os.Stat(filepath.Join(root, "node_modules", "node-av", "package.json")); err != nil {
		t.Fatalf("the npm package node-av is required (make test runs npm ci): %v", err)
	}
	return filepath.Join(dir, "enhanced.mjs")
}

// Clip describes a short file for the Enhanced RTMP peer to publish,
// encoded by Debian's ffmpeg.
type Clip struct {
	// Video is "hevc" (libx265), "av1" (libsvtav1) or "vp9" (libvpx-vp9).
	Video string
	// Width and Height default to 320x240; FPS to 25 with a keyframe every
	// second.
	Width, Height, FPS int
	// Duration defaults to 4 s.
	Duration time.Duration
	// Audio is "aac" (the default, 64 kbit/s) or "opus" (libopus, 64
	// kbit/s, 20 ms frames).
	Audio string
}

// EncodeClip writes the clip with its audio (AAC unless it says Opus) as an
// MP4 file under dir and returns its path.
func EncodeClip(t testing.TB, dir string, c Clip) string {
	t.Helper()
	if c.Width == 0 {
		c.Width, c.Height = 320, 240
	}
	if c.FPS == 0 {
		c.FPS = 25
	}
	if c.Duration == 0 {
		c.Duration = 4 * time.Second
	}
	gop := strconv.Itoa(c.FPS)
	var codec []string
	switch c.Video {
	case "hevc":
		codec = []string{"-c:v", "libx265", "-preset", "ultrafast",
			"-x265-params", "log-level=error:keyint=" + gop + ":min-keyint=" + gop + ":scenecut=0:bframes=0"}
	case "av1":
		codec = []string{"-c:v", "libsvtav1", "-preset", "12", "-g", gop, "-svtav1-params", "scd=0"}
	case "vp9":
		codec = []string{"-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-g", gop, "-keyint_min", gop}
	default:
		t.Fatalf("clip video %q: want hevc, av1 or vp9", c.Video)
	}
	audio := []string{"-c:a", "aac"}
	switch c.Audio {
	case "", "aac":
	case "opus":
		audio = []string{"-c:a", "libopus", "-frame_duration", "20"}
	default:
		t.Fatalf("clip audio %q: want aac or opus", c.Audio)
	}
	out := filepath.Join(dir, c.Video+"-"+audio[1]+".mp4")
	args := []string{"-hide_banner", "-nostdin", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=%dx%d:rate=%d", c.Width, c.Height, c.FPS),
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", strconv.FormatFloat(c.Duration.Seconds(), 'f', 3, 64), "-pix_fmt", "yuv420p"}
	args = append(args, codec...)
	args = append(args, audio...)
	args = append(args, "-b:a", "64k", "-ac", "2", out)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, Tool(t, "ffmpeg"), args...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("encode %s clip: %v\n%s", c.Video, err, b)
	}
	return out
}

// Rendition is one video stream of a clip encoded by EncodeRenditions.
type Rendition struct {
	Width, Height int
}

// EncodeRenditions writes an MP4 file under dir with one H.264 video
// stream per rendition, all scaled from one source at 25 fps with a
// keyframe every second on the same frames (aligned, as OBS and encoders
// with a shared GOP structure send them), and AAC audio. Published with
// PublishEnhanced, FFmpeg 8's flv muxer sends it as an Enhanced RTMP
// multitrack stream: the first video stream as track 0 (legacy AVC), the
// others as tracks 1, 2 … (multitrack avc1).
func EncodeRenditions(t testing.TB, dir string, d time.Duration, rs ...Rendition) string {
	t.Helper()
	if len(rs) == 0 {
		t.Fatal("EncodeRenditions: no rendition")
	}
	graph := fmt.Sprintf("testsrc2=size=%dx%d:rate=25,split=%d", rs[0].Width, rs[0].Height, len(rs))
	for i := range rs {
		graph += fmt.Sprintf("[s%d]", i)
	}
	args := []string{"-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-filter_complex", graph}
	for i, r := range rs {
		args[len(args)-1] += fmt.Sprintf(";[s%d]scale=%d:%d[v%d]", i, r.Width, r.Height, i)
	}
	args = append(args, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000")
	for i := range rs {
		args = append(args, "-map", fmt.Sprintf("[v%d]", i))
	}
	args = append(args, "-map", "0:a", "-t", strconv.FormatFloat(d.Seconds(), 'f', 3, 64), "-pix_fmt", "yuv420p",
		"-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-keyint_min", "25", "-sc_threshold", "0",
		"-c:a", "aac", "-b:a", "64k", "-ac", "2")
	out := filepath.Join(dir, "renditions.mp4")
	args = append(args, out)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, Tool(t, "ffmpeg"), args...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("encode renditions: %v\n%s", err, b)
	}
	return out
}

// PublishEnhanced starts the Enhanced RTMP peer publishing file to url (an
// rtmp:// URL) in real time with FFmpeg 8's flv muxer, which writes
// Enhanced RTMP for HEVC and AV1. It stops when the file ends or the test
// does.
func PublishEnhanced(t testing.TB, file, url string) *Process {
	t.Helper()
	return Start(t, "node", peerScript(t), "publish", file, url)
}

// PeerStream is one stream as the Enhanced RTMP peer reads it.
type PeerStream struct {
	Index      int    `json:"index"`
	Type       string `json:"type"`
	Codec      string `json:"codec"`
	Width      int    `json:"width"`
	Height     int    `json:"height"`
	SampleRate int    `json:"sample_rate"`
	Channels   int    `json:"channels"`
	// Packets counts the packets read after the streams were known (up to
	// 50 in all).
	Packets int `json:"packets"`
}

// PeerProbe is the Enhanced RTMP peer's view of a URL.
type PeerProbe struct {
	Format  string       `json:"format"`
	Streams []PeerStream `json:"streams"`
}

// Video returns the first video stream, or nil.
func (p PeerProbe) Video() *PeerStream { return p.first("video") }

// Audio returns the first audio stream, or nil.
func (p PeerProbe) Audio() *PeerStream { return p.first("audio") }

func (p PeerProbe) first(kind string) *PeerStream {
	for i := range p.Streams {
		if p.Streams[i].Type == kind {
			return &p.Streams[i]
		}
	}
	return nil
}

// ProbeEnhanced reads url (HTTP-FLV, RTMP or HLS) with FFmpeg 8's demuxers
// through the Enhanced RTMP peer and returns its streams.
func ProbeEnhanced(t testing.TB, url string, timeout time.Duration) (PeerProbe, error) {
	t.Helper()
	script := peerScript(t)
	ctx, cancel := context.WithTimeout(context.Background(), timeout+5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, Tool(t, "node"), script, "probe", url)
	cmd.Env = append(os.Environ(), "MEDIASERVER_PEER_TIMEOUT_MS="+strconv.FormatInt(timeout.Milliseconds(), 10))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return PeerProbe{}, fmt.Errorf("probe %s: %w: %s", url, err, strings.TrimSpace(stderr.String()))
	}
	var p PeerProbe
	if err := json.Unmarshal(bytes.TrimSpace(out), &p); err != nil {
		return PeerProbe{}, fmt.Errorf("probe output %q: %w", out, err)
	}
	return p, nil
}
