// Command flvfloor is a reference point for benchmarks, not a server to
// use: it takes one RTMP publisher per stream and serves HTTP-FLV by
// writing each batch of frames to every viewer in turn, one write per batch
// per viewer, from one goroutine per stream. It has no cache (a viewer
// starts with the next batch), no slow-viewer handling, no limits, no
// accounting and no API: what is left is the cost of the writes
// themselves. mediabench measures it like the real server:
//
//	mediabench -viewers 500 -proto flv -server-cmd "bin/flvfloor -rtmp-addr 127.0.0.1:29350 -http-addr 127.0.0.1:28080" \
//	  -rtmp rtmp://127.0.0.1:29350/live -http http://127.0.0.1:28080
//
// Batches are what the hub wakes readers for: with -audio-hold as in the
// server (50 ms), a video frame and the audio before it; with 0, every
// frame.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/rtmp"
	"github.com/mediaserver/mediaserver/stream"
)

func main() {
	rtmpAddr := flag.String("rtmp-addr", "127.0.0.1:1935", "RTMP listen address")
	httpAddr := flag.String("http-addr", "127.0.0.1:8080", "HTTP listen address")
	hold := flag.Duration("audio-hold", stream.DefaultAudioHold, "how long audio may wait for the next video frame (0: every frame is a batch)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *rtmpAddr, *httpAddr, *hold, log); err != nil {
		fmt.Fprintln(os.Stderr, "flvfloor:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends.
func run(ctx context.Context, rtmpAddr, httpAddr string, hold time.Duration, log *slog.Logger) error {
	reg, err := stream.NewRegistry(stream.Config{AudioHold: hold}, log)
	if err != nil {
		return err
	}
	f := &floor{reg: reg, fans: map[stream.Key]*fan{}}
	reg.AddObserver(f)
	rtmpLn, err := net.Listen("tcp", rtmpAddr)
	if err != nil {
		return err
	}
	httpLn, err := net.Listen("tcp", httpAddr)
	if err != nil {
		return err
	}
	rs, err := rtmp.NewServer(rtmp.ServerConfig{MaxConnsPerIP: -1}, reg, log)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: f}
	var wg sync.WaitGroup
	wg.Go(func() { _ = rs.Serve(rtmpLn) })
	wg.Go(func() { _ = hs.Serve(httpLn) })
	<-ctx.Done()
	_ = hs.Close()
	_ = rs.Close()
	reg.Close()
	f.wg.Wait()
	wg.Wait()
	return nil
}

// floor starts a fan-out per stream and adds viewers to it.
type floor struct {
	reg  *stream.Registry
	mu   sync.Mutex
	fans map[stream.Key]*fan
	wg   sync.WaitGroup
}

// fan writes one stream to its viewers.
type fan struct {
	mu      sync.Mutex
	viewers []net.Conn
}

// StreamStarted implements stream.Observer: the stream's fan-out starts.
func (f *floor) StreamStarted(s *stream.Stream) {
	fn := &fan{}
	f.mu.Lock()
	f.fans[s.Key()] = fn
	f.mu.Unlock()
	r := s.NewReader(stream.ReaderInfo{ID: "floor"})
	f.wg.Go(func() {
		defer r.Close()
		fn.run(r)
	})
}

// StreamEnded implements stream.Observer.
func (f *floor) StreamEnded(s *stream.Stream) {
	f.mu.Lock()
	delete(f.fans, s.Key())
	f.mu.Unlock()
}

// ServeHTTP takes a GET /{app}/{name}.flv over and adds it to the fan-out.
func (f *floor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	app, name, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	name, ok := strings.CutSuffix(name, ".flv")
	f.mu.Lock()
	fn := f.fans[stream.Key{App: app, Name: name}]
	f.mu.Unlock()
	if !ok || fn == nil {
		http.NotFound(w, r)
		return
	}
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	head := "HTTP/1.1 200 OK\r\nContent-Type: video/x-flv\r\nConnection: close\r\n\r\n"
	b := flv.AppendHeader([]byte(head), flv.Header{HasAudio: true, HasVideo: true})
	if _, err := conn.Write(b); err != nil {
		_ = conn.Close()
		return
	}
	fn.mu.Lock()
	fn.viewers = append(fn.viewers, conn)
	fn.mu.Unlock()
}

// run writes every batch the reader delivers to every viewer, one write
// each; a viewer whose write fails is dropped.
func (fn *fan) run(r *stream.Reader) {
	frames := make([]*stream.Frame, 256)
	var buf []byte
	for {
		n, err := r.Read(context.Background(), frames)
		if err != nil { // the stream ended
			fn.mu.Lock()
			for _, c := range fn.viewers {
				_ = c.Close()
			}
			fn.viewers = nil
			fn.mu.Unlock()
			return
		}
		buf = buf[:0]
		for _, f := range frames[:n] {
			buf = append(buf, f.FLVTag()...)
		}
		clear(frames[:n])
		fn.mu.Lock()
		live := fn.viewers[:0]
		for _, c := range fn.viewers {
			if _, err := c.Write(buf); err != nil {
				_ = c.Close()
				continue
			}
			live = append(live, c)
		}
		clear(fn.viewers[len(live):])
		fn.viewers = live
		fn.mu.Unlock()
	}
}
