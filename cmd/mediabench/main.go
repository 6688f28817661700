// Command mediabench is the load tool of the media server (issue #8): it
// publishes one or more streams over RTMP from an FLV file, in real time
// and in a loop, and plays them with N viewers over HTTP-FLV, WebSocket-FLV,
// RTMP or HLS, then reports viewers connected, bytes delivered, the
// server's CPU seconds (per GB delivered) and memory, time to first frame,
// stalled viewers, viewers with timestamp gaps and the latency the server
// adds.
//
// The server is either started by the tool (-server-cmd, a built binary so
// that its PID is the server's) or named by -server-pid; without either the
// server figures are n/a. Example, from the repository root:
//
//	go build -o bin/mediaserver ./cmd/mediaserver
//	go run ./cmd/mediabench -viewers 100 -proto flv -duration 60s \
//	    -server-cmd "bin/mediaserver -rtmp-addr 127.0.0.1:19350 -http-addr 127.0.0.1:18080 -log-level warn" \
//	    -rtmp rtmp://127.0.0.1:19350/live -http http://127.0.0.1:18080 -markdown
//
// Without -input the tool generates its input once with ffmpeg (720p30
// H.264 at a constant 2.5 Mbit/s, keyframe every 2 s, AAC 128 kbit/s, 30 s)
// and caches it. The exit status is 1 when the run itself failed (no
// publisher, no viewer connected, the server died), 2 on bad flags; the
// performance figures never fail a run.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run parses the flags, runs the benchmark and prints the result. It
// returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	cfg, opts, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "mediabench:", err)
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(opts.logLevel)); err != nil {
		fmt.Fprintln(stderr, "mediabench: -log-level:", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if opts.cpuProfile != "" {
		f, err := os.Create(opts.cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "mediabench:", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "mediabench:", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}

	res, err := runBench(ctx, cfg, log)
	if err != nil {
		fmt.Fprintln(stderr, "mediabench:", err)
		return 1
	}
	if opts.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			fmt.Fprintln(stderr, "mediabench:", err)
			return 1
		}
	} else {
		res.writeSummary(stdout)
	}
	if opts.markdown {
		fmt.Fprint(stdout, "\n"+markdownHeader+res.markdownRow())
		if row := res.llMarkdownRow(); row != "" {
			fmt.Fprint(stdout, "\n"+llMarkdownHeader+row)
		}
	}
	if err := res.failure(); err != nil {
		fmt.Fprintln(stderr, "mediabench: run failed:", strings.ReplaceAll(err.Error(), "\n", "; "))
		return 1
	}
	return 0
}

// outputOptions are the flags that shape the output.
type outputOptions struct {
	json       bool
	markdown   bool
	logLevel   string
	cpuProfile string
}

// parseFlags turns the command line into a Config.
func parseFlags(args []string, stderr io.Writer) (Config, outputOptions, error) {
	var cfg Config
	var opts outputOptions
	fs := flag.NewFlagSet("mediabench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.RTMPURL, "rtmp", defaultRTMPURL, "RTMP base URL rtmp://host:port/app (publish and RTMP play)")
	fs.StringVar(&cfg.HTTPURL, "http", defaultHTTPURL, "HTTP base URL of the media endpoints (HTTP-FLV, WS-FLV, HLS)")
	fs.StringVar(&cfg.Stream, "stream", defaultStream, "stream name; with several publishers the prefix of NAME-0, NAME-1, …")
	fs.IntVar(&cfg.Publishers, "publishers", 1, "number of publishers (streams); viewers are spread over them")
	fs.IntVar(&cfg.Viewers, "viewers", defaultViewers, "number of viewers (0: publishers only)")
	fs.StringVar(&cfg.Proto, "proto", protoFLV, "viewer protocol: flv, ws, rtmp, hls or llhls (low-latency HLS: blocking reloads, preload hints, fMP4 parts)")
	fs.BoolVar(&cfg.LLProbe, "ll-probe", false, "llhls: ignore preload hints and fetch each part once a blocking reload lists it (measures part availability)")
	fs.DurationVar(&cfg.Duration, "duration", defaultDuration, "run length once every viewer was started")
	fs.Float64Var(&cfg.Ramp, "ramp", defaultRamp, "viewers started per second (0: all at once)")
	fs.DurationVar(&cfg.Warmup, "warmup", 0, "publishing time before the first viewer (default 3s, 8s for hls)")
	fs.DurationVar(&cfg.StallAfter, "stall", defaultStallAfter, "silence after which a viewer counts as stalled")
	fs.DurationVar(&cfg.ConnectTimeout, "connect-timeout", defaultConnectTimeout, "viewer connection set-up limit")
	fs.StringVar(&cfg.Input, "input", "", "FLV file to publish in a loop (default: generated with ffmpeg and cached)")
	fs.StringVar(&cfg.CacheDir, "cache-dir", "", "directory for the generated input (default: user cache dir/mediabench)")
	genSize := fs.String("gen-size", "1280x720", "generated input: video size WxH")
	fs.IntVar(&cfg.Generate.FPS, "gen-fps", 30, "generated input: frame rate")
	fs.IntVar(&cfg.Generate.VideoKbps, "gen-kbps", 2500, "generated input: constant video bit rate, kbit/s")
	fs.DurationVar(&cfg.Generate.Duration, "gen-duration", 30*time.Second, "generated input: length (looped)")
	gop := fs.Duration("gop", 2*time.Second, "generated input: keyframe interval (GOP length)")
	fs.StringVar(&cfg.PublisherMode, "publisher", publishGo, "publisher: go (paced, measures latency) or ffmpeg (-re -stream_loop -1 -c copy; no latency)")
	fs.IntVar(&cfg.ServerPID, "server-pid", 0, "PID of the running server to measure")
	serverCmd := fs.String("server-cmd", "", "start the server: a built binary and its flags, split on spaces (its PID is measured)")
	fs.StringVar(&cfg.ServerLog, "server-log", "", "file for the started server's output (default: discarded)")
	fs.BoolVar(&opts.json, "json", false, "print the result as JSON instead of the summary")
	fs.BoolVar(&opts.markdown, "markdown", false, "also print the result as a docs/BENCHMARKS.md table row")
	fs.StringVar(&opts.logLevel, "log-level", "info", "progress log level: debug, info, warn, error")
	fs.StringVar(&opts.cpuProfile, "cpuprofile", "", "write the load tool's own CPU profile to this file")
	if err := fs.Parse(args); err != nil {
		return Config{}, opts, err
	}
	if fs.NArg() > 0 {
		return Config{}, opts, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if _, err := fmt.Sscanf(*genSize, "%dx%d", &cfg.Generate.Width, &cfg.Generate.Height); err != nil {
		return Config{}, opts, fmt.Errorf("-gen-size %q: want WxH", *genSize)
	}
	if *gop <= 0 || cfg.Generate.FPS <= 0 {
		return Config{}, opts, fmt.Errorf("-gop %v at -gen-fps %d: want positive values", *gop, cfg.Generate.FPS)
	}
	cfg.Generate.KeyInt = max(1, int(math.Round(gop.Seconds()*float64(cfg.Generate.FPS))))
	cfg.ServerCmd = strings.Fields(*serverCmd)
	if cfg.Viewers == 0 {
		cfg.Viewers = -1 // Config: negative means none
	}
	if cfg.Ramp == 0 {
		cfg.Ramp = -1 // Config: negative means all at once
	}
	cfg.Command = commandLine(args)
	return cfg, opts, cfg.withDefaults().validate()
}

// commandLine renders the invocation, shell-quoted, for the record.
func commandLine(args []string) string {
	parts := []string{"mediabench"}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}()<>|&;#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}
