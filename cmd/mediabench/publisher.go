package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/mediaserver/mediaserver/amf"
	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/rtmp"
	"github.com/mediaserver/mediaserver/rtmp/chunk"
)

// lateSend is how far behind its due time a send must be to count as late:
// the tool itself could not keep pace, and latency figures are suspect.
const lateSend = 100 * time.Millisecond

// ffmpegStopGrace is how long an ffmpeg publisher gets to exit after
// SIGINT before it is killed.
const ffmpegStopGrace = 5 * time.Second

// clock is the run's time base: durations since one monotonic instant,
// shared by publishers and viewers so their times compare.
type clock struct{ base time.Time }

// since returns the time elapsed since the base.
func (c clock) since() time.Duration { return time.Since(c.base) }

// publisherResult is what one publisher did.
type publisherResult struct {
	Name   string        `json:"name"`
	Frames uint64        `json:"frames"`
	Bytes  uint64        `json:"bytes"`
	Loops  int           `json:"loops"`
	MaxLag time.Duration `json:"max_lag_ns"`
	Late   uint64        `json:"late_sends"`
	// MaxWrite is the longest a single write took: the server not reading
	// (back-pressure) rather than the tool being late.
	MaxWrite   time.Duration `json:"max_write_ns"`
	SlowWrites uint64        `json:"slow_writes"`
	Err        string        `json:"error,omitempty"`
}

// publisher publishes one stream for the whole run.
type publisher struct {
	url   string // rtmp base URL (rtmp://host:port/app)
	name  string
	in    *input
	sends *sendTable // nil for the ffmpeg publisher
	// audioSends records the audio frames' send times (nil with sends).
	audioSends *sendTable
	// keys records the latest keyframes' send times (nil with sends).
	keys  *keyRing
	clock clock
	log   *slog.Logger
	res   publisherResult
}

// runGo publishes the input in a loop with the tool's RTMP client, paced
// in real time by the timestamps, recording video send times. ready is
// called once: with nil when publishing started, or with the set-up error.
// It returns when ctx ends (nil) or on a failure.
func (p *publisher) runGo(ctx context.Context, ready func(error)) error {
	c, err := rtmp.Dial(ctx, p.url, rtmp.ClientConfig{})
	if err != nil {
		err = fmt.Errorf("publisher %s: dial: %w", p.name, err)
		ready(err)
		return err
	}
	if err := c.Publish(p.name); err != nil {
		_ = c.Close()
		err = fmt.Errorf("publisher %s: publish: %w", p.name, err)
		ready(err)
		return err
	}
	// Drain what the server sends (status, acknowledgements) so its writes
	// never block; stopped by closing the connection.
	var wg sync.WaitGroup
	wg.Go(func() { drainRTMP(c) })
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	defer func() {
		stop()
		_ = c.Close()
		wg.Wait()
	}()
	ready(nil)
	if err := p.sendHeaders(c); err != nil {
		return p.fail(ctx, err)
	}
	return p.fail(ctx, p.loop(ctx, c))
}

// fail records err unless it is only the consequence of ctx ending.
func (p *publisher) fail(ctx context.Context, err error) error {
	if err == nil || ctx.Err() != nil {
		return nil
	}
	err = fmt.Errorf("publisher %s: %w", p.name, err)
	p.res.Err = err.Error()
	return err
}

// sendHeaders sends the metadata (as @setDataFrame, as encoders do) and the
// sequence headers at timestamp 0.
func (p *publisher) sendHeaders(c *rtmp.Client) error {
	for _, h := range p.in.headers {
		typ, data := chunk.MessageType(h.typ), h.data
		if h.typ == flv.TagScript {
			prefix, err := amf.Append0(nil, "@setDataFrame")
			if err != nil {
				return err
			}
			data = append(prefix, data...)
			typ = chunk.TypeDataAMF0
		}
		if err := c.WriteMedia(typ, 0, data); err != nil {
			return fmt.Errorf("headers: %w", err)
		}
	}
	return nil
}

// loop sends the media forever, timestamps continuing across loops.
func (p *publisher) loop(ctx context.Context, c *rtmp.Client) error {
	start := p.clock.since()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for loop := uint32(0); ; loop++ {
		offset := loop * p.in.loopSpan
		for i := range p.in.media {
			m := &p.in.media[i]
			ts := m.ts + offset
			due := start + time.Duration(ts)*time.Millisecond
			if wait := due - p.clock.since(); wait > 0 {
				timer.Reset(wait)
				select {
				case <-ctx.Done():
					return nil
				case <-timer.C:
				}
			} else if lag := -wait; lag > p.res.MaxLag {
				p.res.MaxLag = lag
			}
			if ctx.Err() != nil {
				return nil
			}
			now := p.clock.since()
			if now-due > lateSend {
				p.res.Late++
			}
			if m.video {
				p.sends.record(ts, now)
				if m.key {
					p.keys.record(ts, now)
				}
			} else if m.typ == flv.TagAudio {
				p.audioSends.record(ts, now)
			}
			if err := c.WriteMedia(chunk.MessageType(m.typ), ts, m.data); err != nil {
				return fmt.Errorf("write at %d ms: %w", ts, err)
			}
			if took := p.clock.since() - now; took > p.res.MaxWrite {
				p.res.MaxWrite = took
			}
			if p.clock.since()-now > lateSend {
				p.res.SlowWrites++
			}
			p.res.Frames++
			p.res.Bytes += uint64(len(m.data))
		}
		p.res.Loops++
	}
}

// drainRTMP reads and drops what the server sends after publish (status
// messages) until a read fails. The client's read deadline ends it once the
// server has been silent for the client timeout; the server sends nothing
// a publisher must answer (no pings, no acknowledgements without a window
// from us), and the kernel buffers absorb anything later.
func drainRTMP(c *rtmp.Client) {
	for {
		if _, err := c.ReadMessage(); err != nil {
			return
		}
	}
}

// runFFmpeg publishes the input file with `ffmpeg -re -stream_loop -1 -c
// copy` until ctx ends. ready is called once ffmpeg started.
func (p *publisher) runFFmpeg(ctx context.Context, ready func(error)) error {
	path, err := exec.LookPath("ffmpeg")
	if err != nil {
		err = fmt.Errorf("publisher %s: %w", p.name, err)
		ready(err)
		return err
	}
	args := []string{"-hide_banner", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1",
		"-i", p.in.path, "-c", "copy", "-f", "flv", p.url + "/" + p.name}
	cmd := exec.Command(path, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		err = fmt.Errorf("publisher %s: start ffmpeg: %w", p.name, err)
		ready(err)
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	ready(nil)
	select {
	case err := <-done:
		if ctx.Err() != nil {
			return nil
		}
		err = fmt.Errorf("publisher %s: ffmpeg exited: %v: %s", p.name, err, bytes.TrimSpace(out.Bytes()))
		p.res.Err = err.Error()
		return err
	case <-ctx.Done():
	}
	_ = cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-done:
	case <-time.After(ffmpegStopGrace):
		_ = cmd.Process.Kill()
		<-done
	}
	return nil
}
