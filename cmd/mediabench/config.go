package main

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/mediaserver/mediaserver/stream"
)

// Viewer protocols (Config.Proto).
const (
	protoFLV  = "flv"  // HTTP-FLV: GET {http}/{app}/{name}.flv
	protoWS   = "ws"   // WebSocket-FLV: ws://{http host}/{app}/{name}.flv
	protoRTMP = "rtmp" // RTMP play: {rtmp}/{name}
	protoHLS  = "hls"  // HLS: {http}/{app}/{name}.m3u8 and its segments
	// protoLLHLS is a low-latency HLS client: {http}/{app}/{name}.m3u8,
	// blocking reloads and fMP4 parts.
	protoLLHLS = "llhls"
)

// Publisher implementations (Config.PublisherMode).
const (
	// publishGo is the tool's own RTMP publisher: it paces the input by its
	// timestamps and records each video frame's send time, which is what
	// server-added latency is measured against.
	publishGo = "go"
	// publishFFmpeg runs `ffmpeg -re -stream_loop -1 -i INPUT -c copy` per
	// publisher: a real encoder-side peer, but without send times, so no
	// latency figures.
	publishFFmpeg = "ffmpeg"
)

// Defaults applied by Config.withDefaults to zero fields.
const (
	defaultRTMPURL  = "rtmp://127.0.0.1:1935/live"
	defaultHTTPURL  = "http://127.0.0.1:8080"
	defaultStream   = "bench"
	defaultViewers  = 100
	defaultDuration = 30 * time.Second
	defaultRamp     = 200 // viewers per second
	defaultWarmup   = 3 * time.Second
	// defaultHLSWarmup lets the playlist fill with hlsLiveEdgeSegments
	// segments of the server's default 2 s, so that viewers start in the
	// steady state rather than on a stream too young to buffer.
	defaultHLSWarmup      = 8 * time.Second
	defaultConnectTimeout = 10 * time.Second
	defaultStallAfter     = 2 * time.Second
	defaultServerWait     = 20 * time.Second
)

// Limits on configuration values.
const (
	maxPublishers = 1000
	maxViewers    = 100_000
	// minDuration keeps a run long enough for a keyframe interval or two.
	minDuration = time.Second
)

// Config is one load run. The zero value is usable: every zero field takes
// its documented default.
type Config struct {
	// RTMPURL is the RTMP base URL, rtmp://host:port/app; publishers publish
	// (and RTMP viewers play) {RTMPURL}/{stream name}. Default
	// rtmp://127.0.0.1:1935/live.
	RTMPURL string
	// HTTPURL is the HTTP base URL of the server's media endpoints; viewers
	// read {HTTPURL}/{app}/{name}.flv or .m3u8, the app taken from RTMPURL.
	// Default http://127.0.0.1:8080.
	HTTPURL string
	// Stream is the stream name with one publisher, or the name prefix with
	// several ({Stream}-0, {Stream}-1, …). Default "bench".
	Stream string
	// Publishers is the number of publishers (streams). Default 1. Viewers
	// are spread over the streams round-robin.
	Publishers int
	// Viewers is the number of viewers. Default 100; a negative value means
	// none (a publisher-only run).
	Viewers int
	// Proto is how viewers read: protoFLV (default), protoWS, protoRTMP,
	// protoHLS or protoLLHLS.
	Proto string
	// LLProbe makes LL-HLS viewers ignore preload hints: each part is
	// fetched once a blocking playlist reload lists it, which measures when
	// parts become available (publisher send → listed).
	LLProbe bool
	// Duration is how long the run lasts once every viewer has been started.
	// Default 30s.
	Duration time.Duration
	// Ramp is how many viewers are started per second. Default 200; a
	// negative value starts them all at once.
	Ramp float64
	// Warmup is how long publishers run before the first viewer connects, so
	// that the server has a keyframe cached (and, for HLS, a playlist of
	// three segments to start from). Default 3s; 8s for HLS.
	Warmup time.Duration
	// ConnectTimeout bounds a viewer's connection set-up. Default 10s.
	ConnectTimeout time.Duration
	// StallAfter is the silence after which a viewer counts as stalled.
	// Default 2s.
	StallAfter time.Duration
	// Input is an FLV file to publish in a loop. Empty: a synthetic input is
	// generated with ffmpeg (see Generate) and cached in CacheDir.
	Input string
	// Generate describes the synthetic input. Zero fields take the defaults
	// of inputSpec (720p30 H.264 at 2.5 Mbit/s, AAC, keyframe every 2 s).
	Generate inputSpec
	// CacheDir holds generated inputs. Default: the user cache directory's
	// "mediabench" folder, or the temporary directory.
	CacheDir string
	// PublisherMode is publishGo (default) or publishFFmpeg.
	PublisherMode string
	// ServerPID is the PID of a server already running, whose CPU time and
	// memory are measured. Zero (and no ServerCmd): no server figures.
	ServerPID int
	// ServerCmd starts the server as a child process (argv: a built binary
	// and its flags; not `go run`, whose PID is not the server's). The tool
	// waits for the RTMP (and HTTP) ports to accept and stops it at the end.
	ServerCmd []string
	// ServerLog receives the child server's output. Empty: discarded.
	ServerLog string
	// ServerWait bounds the wait for a child server's ports. Default 20s.
	ServerWait time.Duration
	// Command is the command line reported with the results.
	Command string
}

// withDefaults returns c with defaults applied to zero fields.
func (c Config) withDefaults() Config {
	setDefault(&c.RTMPURL, defaultRTMPURL)
	setDefault(&c.HTTPURL, defaultHTTPURL)
	setDefault(&c.Stream, defaultStream)
	setDefault(&c.Publishers, 1)
	setDefault(&c.Viewers, defaultViewers)
	c.Viewers = max(c.Viewers, 0)
	setDefault(&c.Proto, protoFLV)
	setDefault(&c.Duration, defaultDuration)
	setDefault(&c.Ramp, defaultRamp)
	if c.Proto == protoHLS {
		setDefault(&c.Warmup, defaultHLSWarmup)
	}
	setDefault(&c.Warmup, defaultWarmup)
	setDefault(&c.ConnectTimeout, defaultConnectTimeout)
	setDefault(&c.StallAfter, defaultStallAfter)
	setDefault(&c.PublisherMode, publishGo)
	setDefault(&c.ServerWait, defaultServerWait)
	c.Generate = c.Generate.withDefaults()
	c.HTTPURL = strings.TrimSuffix(c.HTTPURL, "/")
	c.RTMPURL = strings.TrimSuffix(c.RTMPURL, "/")
	return c
}

// setDefault stores def in *v when *v is the zero value.
func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// validate checks a Config with defaults applied.
func (c Config) validate() error {
	var errs []error
	if c.Publishers < 1 || c.Publishers > maxPublishers {
		errs = append(errs, fmt.Errorf("publishers %d not in 1..%d", c.Publishers, maxPublishers))
	}
	if c.Viewers > maxViewers {
		errs = append(errs, fmt.Errorf("viewers %d above %d", c.Viewers, maxViewers))
	}
	switch c.Proto {
	case protoFLV, protoWS, protoRTMP, protoHLS, protoLLHLS:
	default:
		errs = append(errs, fmt.Errorf("proto %q: want flv, ws, rtmp, hls or llhls", c.Proto))
	}
	if c.LLProbe && c.Proto != protoLLHLS {
		errs = append(errs, errors.New("-ll-probe is for -proto llhls"))
	}
	switch c.PublisherMode {
	case publishGo, publishFFmpeg:
	default:
		errs = append(errs, fmt.Errorf("publisher %q: want go or ffmpeg", c.PublisherMode))
	}
	if c.Duration < minDuration {
		errs = append(errs, fmt.Errorf("duration %v below %v", c.Duration, minDuration))
	}
	if _, err := c.app(); err != nil {
		errs = append(errs, err)
	}
	if u, err := url.Parse(c.HTTPURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("http base %q: want http://host:port", c.HTTPURL))
	}
	for i := range c.Publishers {
		if err := stream.CheckName(c.streamName(i)); err != nil {
			errs = append(errs, fmt.Errorf("stream name: %w", err))
			break
		}
	}
	if c.ServerPID != 0 && len(c.ServerCmd) > 0 {
		errs = append(errs, errors.New("give -server-pid or -server-cmd, not both"))
	}
	if len(c.ServerCmd) > 0 && (c.ServerCmd[0] == "go" || strings.HasSuffix(c.ServerCmd[0], "/go")) {
		errs = append(errs, errors.New("-server-cmd must start the server binary itself (go build it first): "+
			"with go run the measured PID would be the go command's"))
	}
	return errors.Join(errs...)
}

// app returns the application name: the first path element of RTMPURL.
func (c Config) app() (string, error) {
	u, err := url.Parse(c.RTMPURL)
	if err != nil || u.Scheme != "rtmp" || u.Host == "" {
		return "", fmt.Errorf("rtmp base %q: want rtmp://host:port/app", c.RTMPURL)
	}
	app := strings.Trim(u.Path, "/")
	if err := stream.CheckName(app); err != nil {
		return "", fmt.Errorf("rtmp base %q: app: %w", c.RTMPURL, err)
	}
	return app, nil
}

// streamName returns the name of publisher i's stream.
func (c Config) streamName(i int) string {
	if c.Publishers == 1 {
		return c.Stream
	}
	return fmt.Sprintf("%s-%d", c.Stream, i)
}

// viewerURL returns the URL a viewer of stream name reads.
func (c Config) viewerURL(app, name string) string {
	switch c.Proto {
	case protoRTMP:
		return c.RTMPURL + "/" + name
	case protoWS:
		base := c.HTTPURL
		if rest, ok := strings.CutPrefix(base, "https://"); ok {
			base = "wss://" + rest
		} else {
			base = "ws://" + strings.TrimPrefix(base, "http://")
		}
		return base + "/" + app + "/" + name + ".flv"
	case protoHLS, protoLLHLS:
		return c.HTTPURL + "/" + app + "/" + name + ".m3u8"
	default:
		return c.HTTPURL + "/" + app + "/" + name + ".flv"
	}
}

// usesHTTP reports whether viewers talk to the HTTP listener.
func (c Config) usesHTTP() bool { return c.Proto != protoRTMP && c.Viewers > 0 }
