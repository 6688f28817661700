package relay_test

import (
	"fmt"
	"log/slog"
	"syscall"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/server"
	"github.com/mediaserver/mediaserver/internal/servertest"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/relay"
	"github.com/mediaserver/mediaserver/stream"
)

// benchPeers is how many forward targets, or HTTP-FLV viewers, the
// benchmark feeds.
const benchPeers = 10

// benchWindow is how long each measurement runs once every peer is
// receiving.
const benchWindow = 20 * time.Second

// processCPU returns the CPU time (user + system) this process used so
// far: the server runs in it, the peers (ffmpeg) do not.
func processCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkForwardCPU compares the server's CPU for one 2.5 Mbit/s stream
// forwarded to 10 RTMP targets (ffmpeg -listen, copying to null) with the
// same stream played by 10 HTTP-FLV viewers (ffmpeg, copying to null). It
// reports the server's CPU seconds per second of stream (cpu-s/s); the
// peers run in their own processes and are not counted. It needs a quiet
// machine: run it with
//
//	go test -run '^$' -bench BenchmarkForwardCPU -benchtime 1x ./relay/
func BenchmarkForwardCPU(b *testing.B) {
	for _, mode := range []string{"forward", "httpflv"} {
		b.Run(fmt.Sprintf("%s-%d", mode, benchPeers), func(b *testing.B) {
			for range b.N {
				b.ReportMetric(measureCPU(b, mode), "cpu-s/s")
			}
		})
	}
}

// measureCPU runs one server with a 2.5 Mbit/s stream and benchPeers
// peers of mode and returns the server's CPU seconds per second over
// benchWindow.
func measureCPU(b *testing.B, mode string) float64 {
	b.StopTimer()
	defer b.StartTimer()
	ports := make([]int, benchPeers)
	var targets []string
	for i := range ports {
		ports[i] = testenv.FreePort(b)
		targets = append(targets, fmt.Sprintf("rtmp://127.0.0.1:%d/app/key", ports[i]))
	}
	srv := servertest.StartWithLogger(b, func(c *server.Config) {
		if mode == "forward" {
			c.Forward.Apps = map[string][]string{"live": targets}
		}
		c.Forward.MinBackoff, c.Forward.MaxBackoff = 200*time.Millisecond, time.Second
	}, slog.New(slog.DiscardHandler))
	if mode == "forward" {
		for _, p := range ports {
			testenv.Start(b, "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-listen", "1",
				"-i", fmt.Sprintf("rtmp://127.0.0.1:%d/app/key", p), "-c", "copy", "-f", "null", "-")
		}
	}
	testenv.Publish(b, "rtmp://"+srv.RTMPAddr()+"/live/bench", testenv.Source{Width: 1280, Height: 720,
		Extra: []string{"-b:v", "2400k", "-maxrate", "2400k", "-bufsize", "2400k"}})
	key := stream.Key{App: "live", Name: "bench"}
	var st *stream.Stream
	testenv.WaitFor(b, 30*time.Second, "the stream", func() bool {
		var ok bool
		st, ok = srv.Hub().Lookup(key)
		return ok && st.Stats().Keyframes > 0
	})
	if mode == "httpflv" {
		for range benchPeers {
			testenv.Start(b, "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
				"-i", "http://"+srv.HTTPAddr()+"/live/bench.flv", "-c", "copy", "-f", "null", "-")
		}
	}
	testenv.WaitFor(b, 60*time.Second, "every peer receiving", func() bool {
		n := 0
		for _, r := range st.Readers() {
			if p := r.Info().Protocol; p == relay.ForwardProtocol || p == stream.ProtocolFLV {
				if r.Stats().Frames > 0 {
					n++
				}
			}
		}
		return n == benchPeers
	})
	cpu0, wall0 := processCPU(b), time.Now()
	time.Sleep(benchWindow)
	cpu, wall := processCPU(b)-cpu0, time.Since(wall0)
	b.Logf("%s: stream %.2f Mbit/s, server CPU %v over %v", mode, st.Stats().Bitrate/1e6, cpu.Round(time.Millisecond), wall.Round(time.Millisecond))
	return cpu.Seconds() / wall.Seconds()
}
