package hls

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/browsertest"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/rtmp"
	"github.com/mediaserver/mediaserver/stream"
)

// stack is an RTMP server and an HLS manager sharing one registry, as
// cmd/mediaserver wires them.
type stack struct {
	rtmpAddr string
	httpURL  string
	hls      *Manager
}

// integrationConfig ends playlists 3 s after the publisher left: long enough
// for a restarting ffmpeg to come back, short enough for the tests.
var integrationConfig = Config{EndListDelay: 3 * time.Second}

func startStack(t *testing.T, cfg Config) *stack {
	t.Helper()
	return startStackWithHub(t, cfg, stream.Config{})
}

// startStackWithHub is startStack with a configured registry (a republish
// window, for instance).
func startStackWithHub(t *testing.T, cfg Config, hubCfg stream.Config) *stack {
	if cfg.Variant == "" {
		cfg.Variant = VariantMPEGTS // these tests read MPEG-TS segments
	}
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub, err := stream.NewRegistry(hubCfg, log)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := rtmp.NewServer(rtmp.ServerConfig{}, hub, log)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	m, err := NewManager(cfg, hub, log)
	if err != nil {
		t.Fatal(err)
	}
	web := httptest.NewServer(m)
	t.Cleanup(func() {
		web.Close()
		_ = srv.Close()
		<-served
		hub.Close()
		m.Close()
	})
	return &stack{rtmpAddr: ln.Addr().String(), httpURL: web.URL, hls: m}
}

func (s *stack) rtmpURL(name string) string { return "rtmp://" + s.rtmpAddr + "/live/" + name }
func (s *stack) playlistURL(name string) string {
	return s.httpURL + "/live/" + name + ".m3u8"
}

// watcher reloads a playlist every interval, checks every reload with a
// playlistChecker and remembers every segment it saw.
type watcher struct {
	t      *testing.T
	url    string
	check  *playlistChecker
	mu     sync.Mutex
	last   parsedPlaylist
	loads  int
	order  []playlistSegment // every segment seen, by sequence
	errs   []string
	stop   chan struct{}
	done   chan struct{}
	newSeg chan playlistSegment
}

func watch(t *testing.T, url string, interval time.Duration) *watcher {
	w := &watcher{t: t, url: url, check: newPlaylistChecker(), stop: make(chan struct{}), done: make(chan struct{}),
		newSeg: make(chan playlistSegment, 1000)}
	go func() {
		defer close(w.done)
		defer close(w.newSeg)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			w.reload()
			select {
			case <-w.stop:
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(w.close)
	return w
}

func (w *watcher) reload() {
	resp, err := http.Get(w.url)
	if err != nil {
		w.fail("GET playlist: %v", err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return // not started yet, or gone
	}
	p, err := w.check.check(body)
	if err != nil {
		w.fail("reload %d: %v\n%s", w.loads, err, body)
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.last = p
	w.loads++
	for _, s := range p.segments {
		if n := len(w.order); n == 0 || s.seq > w.order[n-1].seq {
			if n > 0 && s.seq != w.order[n-1].seq+1 {
				w.errs = append(w.errs, fmt.Sprintf("sequence jumped from %d to %d", w.order[n-1].seq, s.seq))
			}
			w.order = append(w.order, s)
			w.newSeg <- s
		}
	}
}

func (w *watcher) fail(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.errs = append(w.errs, fmt.Sprintf(format, args...))
}

// close stops the watcher and reports what it found wrong.
func (w *watcher) close() {
	select {
	case <-w.stop:
		return
	default:
	}
	close(w.stop)
	<-w.done
	for _, e := range w.errs {
		w.t.Errorf("playlist %s: %s", w.url, e)
	}
}

// snapshot returns the latest playlist and every segment seen.
func (w *watcher) snapshot() (parsedPlaylist, []playlistSegment) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last, append([]playlistSegment(nil), w.order...)
}

// waitUntil polls the watcher until cond holds.
func (w *watcher) waitUntil(t *testing.T, what string, timeout time.Duration, cond func(parsedPlaylist, []playlistSegment) bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if p, segs := w.snapshot(); cond(p, segs) {
			return
		}
		if time.Now().After(deadline) {
			p, _ := w.snapshot()
			t.Fatalf("timed out waiting for %s (last playlist: %d segments from %d, ended %v)", what,
				len(p.segments), p.mediaSeq, p.ended)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// segmentProbe is ffprobe's view of one segment.
type segmentProbe struct {
	Streams []struct {
		CodecType string `json:"codec_type"`
		CodecName string `json:"codec_name"`
	} `json:"streams"`
	Packets []struct {
		CodecType string `json:"codec_type"`
		Flags     string `json:"flags"`
	} `json:"packets"`
	Format struct {
		Duration string `json:"duration"`
	} `json:"format"`
}

// probeSegment runs ffprobe on a segment URL.
func probeSegment(t *testing.T, url string) (segmentProbe, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, testenv.Tool(t, "ffprobe"), "-v", "error",
		"-show_entries", "stream=codec_type,codec_name:format=duration:packet=codec_type,flags",
		"-of", "json", url).Output()
	var p segmentProbe
	if err != nil {
		return p, fmt.Errorf("ffprobe %s: %w", url, err)
	}
	if err := json.Unmarshal(out, &p); err != nil {
		return p, fmt.Errorf("ffprobe output: %w", err)
	}
	return p, nil
}

// segmentProblems probes one listed segment: the codecs, a keyframe first
// (when there is video) and a duration close to its EXTINF.
func segmentProblems(t *testing.T, base string, seg playlistSegment, wantVideo, wantAudio bool) []string {
	url := base + "/live/" + seg.uri
	p, err := probeSegment(t, url)
	if err != nil {
		return []string{fmt.Sprintf("segment %d: %v", seg.seq, err)}
	}
	var problems, codecs, want []string
	for _, s := range p.Streams {
		codecs = append(codecs, s.CodecType+":"+s.CodecName)
	}
	if wantVideo {
		want = append(want, "video:h264")
	}
	if wantAudio {
		want = append(want, "audio:aac")
	}
	if strings.Join(codecs, ",") != strings.Join(want, ",") {
		problems = append(problems, fmt.Sprintf("segment %d streams %v, want %v", seg.seq, codecs, want))
	}
	if wantVideo {
		for _, pk := range p.Packets {
			if pk.CodecType == "video" {
				if !strings.Contains(pk.Flags, "K") {
					problems = append(problems, fmt.Sprintf("segment %d: first video packet flags %q, want a keyframe", seg.seq, pk.Flags))
				}
				break
			}
		}
	}
	if d, err := strconv.ParseFloat(p.Format.Duration, 64); err != nil || math.Abs(d-seg.duration) > 0.2 {
		problems = append(problems, fmt.Sprintf("segment %d: ffprobe duration %q, EXTINF %.3f", seg.seq, p.Format.Duration, seg.duration))
	}
	return problems
}

// checkSegment reports the problems of one segment as test errors.
func checkSegment(t *testing.T, base string, seg playlistSegment, wantVideo, wantAudio bool) {
	t.Helper()
	for _, p := range segmentProblems(t, base, seg, wantVideo, wantAudio) {
		t.Error(p)
	}
}

// fatalPlayerErrors returns the player errors that stop playback.
func fatalPlayerErrors(r browsertest.Result) []string {
	var out []string
	for _, e := range r.Errors {
		if !strings.HasPrefix(e, "hls.js non-fatal") {
			out = append(out, e)
		}
	}
	return out
}

// aheadCheck is a stream published and checked in the background from the
// start of TestIntegration: streams whose checks need no player run while
// the player subtests run, keeping the wall-clock time near one publish (CI
// runs two parallel subtests at a time). Its subtest reports the result.
type aheadCheck struct {
	w        *watcher
	done     chan struct{}
	problems []string
	final    parsedPlaylist
	segs     []playlistSegment
}

// runAhead publishes src as name and, once it ended, probes every segment
// and decodes the playlist with ffmpeg -xerror.
func runAhead(t *testing.T, s *stack, name string, src testenv.Source, video, audio bool) *aheadCheck {
	testenv.Tool(t, "ffprobe")
	pub := testenv.Publish(t, s.rtmpURL(name), src)
	c := &aheadCheck{w: watch(t, s.playlistURL(name), 500*time.Millisecond), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		fail := func(format string, args ...any) { c.problems = append(c.problems, fmt.Sprintf(format, args...)) }
		if exited, err := pub.Wait(src.Duration + 40*time.Second); !exited || err != nil {
			fail("ffmpeg publisher: exited %v, %v", exited, err)
			return
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			if p, _ := c.w.snapshot(); p.ended {
				break
			}
			if time.Now().After(deadline) {
				fail("no EXT-X-ENDLIST")
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		c.final, c.segs = c.w.snapshot()
		for _, seg := range c.segs {
			c.problems = append(c.problems, segmentProblems(t, s.httpURL, seg, video, audio)...)
		}
		if out, err := testenv.Decode(t, s.playlistURL(name), src.Duration); err != nil || strings.TrimSpace(out) != "" {
			fail("ffmpeg -xerror -i playlist -c copy: %v, output:\n%s", err, out)
		}
	}()
	return c
}

// wait waits for the background check and reports its problems.
func (c *aheadCheck) wait(t *testing.T) {
	t.Helper()
	<-c.done
	for _, p := range c.problems {
		t.Error(p)
	}
}

func TestIntegration(t *testing.T) {
	s := startStack(t, integrationConfig)
	longGOP := runAhead(t, s, "longgop", testenv.Source{GOP: 300, Duration: 20 * time.Second}, true, true)
	audioOnly := runAhead(t, s, "audio-only", testenv.Source{NoVideo: true, Duration: 7 * time.Second}, false, true)
	videoOnly := runAhead(t, s, "video-only", testenv.Source{NoAudio: true, Duration: 7 * time.Second}, true, false)

	t.Run("publish 20s: playlist, segments, ffmpeg, hls.js", func(t *testing.T) {
		t.Parallel()
		pub := testenv.Publish(t, s.rtmpURL("main"), testenv.Source{Duration: 20 * time.Second})
		w := watch(t, s.playlistURL("main"), 500*time.Millisecond)
		var probes sync.WaitGroup
		probes.Add(1)
		go func() { // probe every segment as it appears
			defer probes.Done()
			for seg := range w.newSeg {
				checkSegment(t, s.httpURL, seg, true, true)
			}
		}()
		w.waitUntil(t, "the first segments", 30*time.Second, func(p parsedPlaylist, _ []playlistSegment) bool {
			return len(p.segments) >= 2
		})
		var players sync.WaitGroup
		players.Add(2)
		go func() {
			defer players.Done()
			out, err := testenv.Decode(t, s.playlistURL("main"), 8*time.Second)
			if err != nil || strings.TrimSpace(out) != "" {
				t.Errorf("ffmpeg -xerror -i playlist -c copy: %v, output:\n%s", err, out)
			}
		}()
		go func() {
			defer players.Done()
			r := browsertest.Play(t, browsertest.HLS, s.playlistURL("main"), 8*time.Second)
			if r.CurrentTime < 5 || len(fatalPlayerErrors(r)) > 0 {
				t.Errorf("hls.js: currentTime %.2f, errors %v", r.CurrentTime, r.Errors)
			}
		}()
		players.Wait()
		if exited, err := pub.Wait(30 * time.Second); !exited || err != nil {
			t.Errorf("ffmpeg publisher: exited %v, %v", exited, err)
		}
		w.waitUntil(t, "EXT-X-ENDLIST", 20*time.Second, func(p parsedPlaylist, _ []playlistSegment) bool { return p.ended })
		w.close()
		probes.Wait()
		_, all := w.snapshot()
		total := 0.0
		for _, seg := range all {
			total += seg.duration
		}
		if len(all) < 9 || total < 19 || total > 21 {
			t.Errorf("%d segments with %.3f s in all, want about 20 s", len(all), total)
		}
	})

	t.Run("publisher restart: discontinuity, hls.js plays across", func(t *testing.T) {
		t.Parallel()
		first := testenv.Publish(t, s.rtmpURL("restart"), testenv.Source{Duration: 8 * time.Second})
		w := watch(t, s.playlistURL("restart"), 500*time.Millisecond)
		w.waitUntil(t, "the first segments", 30*time.Second, func(p parsedPlaylist, _ []playlistSegment) bool {
			return len(p.segments) >= 2
		})
		_, before := w.snapshot()
		start := before[0].seq // hls.js loads this playlist or a later one
		var second *testenv.Process
		restarted := make(chan struct{})
		go func() {
			defer close(restarted)
			if exited, err := first.Wait(30 * time.Second); !exited || err != nil {
				t.Errorf("first publisher: exited %v, %v", exited, err)
			}
			second = testenv.Publish(t, s.rtmpURL("restart"), testenv.Source{Duration: 12 * time.Second})
		}()
		r := browsertest.Play(t, browsertest.HLS, s.playlistURL("restart"), 16*time.Second)
		<-restarted
		_, segs := w.snapshot()
		var disc *playlistSegment
		discAt := 0.0 // playback time of the discontinuity, counted from start
		for i := range segs {
			if segs[i].disc {
				disc = &segs[i]
				break
			}
			if segs[i].seq >= start {
				discAt += segs[i].duration
			}
		}
		if disc == nil {
			t.Fatalf("no EXT-X-DISCONTINUITY after the restart in %d segments", len(segs))
		}
		if disc.seq != segs[0].seq+uint64(indexOf(segs, disc.seq)) {
			t.Errorf("media sequence does not continue across the restart")
		}
		if len(fatalPlayerErrors(r)) > 0 || r.CurrentTime < discAt+2 {
			t.Errorf("hls.js: currentTime %.2f (discontinuity at %.2f), errors %v", r.CurrentTime, discAt, r.Errors)
		}
		if exited, err := second.Wait(30 * time.Second); !exited || err != nil {
			t.Errorf("second publisher: exited %v, %v", exited, err)
		}
		w.waitUntil(t, "EXT-X-ENDLIST", 20*time.Second, func(p parsedPlaylist, _ []playlistSegment) bool { return p.ended })
	})

	t.Run("long GOP: keyint 300 at 30 fps", func(t *testing.T) {
		t.Parallel()
		longGOP.wait(t)
		if p := longGOP.final; p.target < 10 || len(longGOP.segs) != 2 || math.Round(longGOP.segs[0].duration) != 10 {
			t.Errorf("long GOP: target %d, segments %+v", p.target, longGOP.segs)
		}
	})
	t.Run("audio only", func(t *testing.T) {
		t.Parallel()
		audioOnly.wait(t)
		if len(audioOnly.segs) < 3 {
			t.Errorf("%d segments", len(audioOnly.segs))
		}
	})
	t.Run("video only", func(t *testing.T) {
		t.Parallel()
		videoOnly.wait(t)
		if len(videoOnly.segs) < 3 {
			t.Errorf("%d segments", len(videoOnly.segs))
		}
	})
}

// indexOf returns the index of the segment with sequence seq.
func indexOf(segs []playlistSegment, seq uint64) int {
	for i, s := range segs {
		if s.seq == seq {
			return i
		}
	}
	return -1
}
