// Package browsertest drives headless Chromium with playwright-core. Play
// (play.mjs) plays a stream through the same player libraries a web page
// uses (mpegts.js for HTTP-FLV and WS-FLV, hls.js for HLS); Dashboard and
// CallModules (ui.mjs) drive the server's own web UI: the operator's path
// through the dashboard, and calls into the UI's JavaScript modules. make
// test installs Chromium and the npm packages; a test that needs them fails
// when they are missing.
package browsertest

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// Player selects the player library.
type Player string

// Players.
const (
	MPEGTS Player = "mpegts" // mpegts.js, for HTTP-FLV and WebSocket-FLV URLs
	HLS    Player = "hls"    // hls.js, for .m3u8 URLs
	File   Player = "file"   // the <video> element itself, for a media file's URL (MP4)
)

// Result is what the page saw.
type Result struct {
	CurrentTime float64      `json:"currentTime"`
	VideoWidth  int          `json:"videoWidth"`
	VideoHeight int          `json:"videoHeight"`
	ReadyState  int          `json:"readyState"`
	Errors      []string     `json:"errors"`
	Console     []string     `json:"console"`
	Samples     [][2]float64 `json:"samples"`
	// Latencies are the live latencies hls.js measured in low-latency mode
	// (PlayLowLatency), in milliseconds: Date.now() − hls.playingDate, one
	// per sample while playing.
	Latencies []float64 `json:"latencies"`
	// Levels are the variants hls.js found in a multivariant playlist, and
	// Switched the level switches it made: [ms since start, level index].
	Levels   []Level      `json:"levels"`
	Switched [][2]float64 `json:"switched"`
}

// Level is one variant as hls.js sees it.
type Level struct {
	Width   int `json:"width"`
	Height  int `json:"height"`
	Bitrate int `json:"bitrate"`
}

// Dir returns the directory of the harness script.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

// Play opens url in the player for the given time and reports the result.
func Play(t testing.TB, player Player, url string, d time.Duration) Result {
	t.Helper()
	return play(t, player, url, d, playOptions{})
}

// PlayTrustingAnyCertificate is Play for an https:// or wss:// url whose
// server presents a certificate the browser does not know, one made for
// the test: the page accepts any certificate.
func PlayTrustingAnyCertificate(t testing.TB, player Player, url string, d time.Duration) Result {
	t.Helper()
	return play(t, player, url, d, playOptions{ignoreHTTPSErrors: true})
}

// PlayLowLatency plays an HLS url with hls.js in lowLatencyMode for the
// given time and reports the result, with the live latencies it measured.
func PlayLowLatency(t testing.TB, url string, d time.Duration) Result {
	t.Helper()
	r := play(t, HLS, url, d, playOptions{lowLatency: true})
	t.Logf("hls.js low-latency latencies (ms): %v", r.Latencies)
	return r
}

// PlaySwitchingLevels plays a multivariant HLS url with hls.js in
// lowLatencyMode for d, making it play the next level every switchEvery
// through the hls.js API (hls.currentLevel), and reports the result with
// the levels and the switches hls.js made.
func PlaySwitchingLevels(t testing.TB, url string, d, switchEvery time.Duration) Result {
	t.Helper()
	r := runPlay(t, map[string]any{"url": url, "player": HLS, "seconds": d.Seconds(), "lowLatency": true,
		"switchEvery": switchEvery.Seconds()}, d)
	t.Logf("hls.js levels %v, switches %v", r.Levels, r.Switched)
	return r
}

// playOptions are play.mjs's switches.
type playOptions struct {
	// lowLatency runs hls.js in lowLatencyMode, recording its latency.
	lowLatency bool
	// ignoreHTTPSErrors makes the page accept any certificate.
	ignoreHTTPSErrors bool
}

// play runs play.mjs (see Play).
func play(t testing.TB, player Player, url string, d time.Duration, o playOptions) Result {
	t.Helper()
	return runPlay(t, map[string]any{"url": url, "player": player, "seconds": d.Seconds(),
		"lowLatency": o.lowLatency, "ignoreHTTPSErrors": o.ignoreHTTPSErrors}, d)
}

// runPlay runs play.mjs with options o for about d.
func runPlay(t testing.TB, o map[string]any, d time.Duration) Result {
	t.Helper()
	RequireTools(t)
	player, url := o["player"], o["url"]
	opts, _ := json.Marshal(o)
	ctx, cancel := context.WithTimeout(context.Background(), d+60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(Dir(), "play.mjs"), string(opts))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("browser harness: %v", err)
	}
	var r Result
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("browser harness output %q: %v", out, err)
	}
	t.Logf("%s %s: currentTime %.2f, %dx%d, samples %v", player, url, r.CurrentTime, r.VideoWidth, r.VideoHeight, r.Samples)
	return r
}

// RequireTools fails the test when node, Chromium or the npm packages are
// missing.
func RequireTools(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node is required for browser tests (make test installs it)")
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("chromium is required for browser tests (make test installs it): %v", err)
	}
	if _, err := os.Stat(filepath.Join(Dir(), "..", "..", "node_modules", "playwright-core")); err != nil {
		t.Fatal("npm packages are missing: run make test (it runs npm ci)")
	}
}
