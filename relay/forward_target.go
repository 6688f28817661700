package relay

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/rtmp"
	"github.com/mediaserver/mediaserver/stream"
)

// Target states (TargetInfo.State).
const (
	// StateConnecting: the target is being dialled, connected and asked
	// to publish.
	StateConnecting = "connecting"
	// StateLive: the stream is being sent to the target.
	StateLive = "live"
	// StateRetrying: the last attempt failed; the target waits for its
	// backoff to end, then connects again.
	StateRetrying = "retrying"
	// StateError: the target cannot take the stream as it is (a codec it
	// did not announce); it is tried again after MaxBackoff, in case the
	// stream is republished with other codecs.
	StateError = "error"
)

const (
	// forwardBatch is how many frames a target takes from the hub per
	// write.
	forwardBatch = 64
	// bitrateWindow is the shortest span a target's bitrate is measured
	// over.
	bitrateWindow = time.Second
)

// forwardCaps is what a forward declares in its connect command: the
// codecs it may send, each one it can forward, in Enhanced RTMP form.
func forwardCaps() rtmp.EnhancedCaps {
	caps := rtmp.EnhancedCaps{Declared: true}
	for _, m := range []struct {
		fourCCs []string
		dst     *[]rtmp.FourCCInfo
	}{
		{[]string{"av01", "avc1", "hvc1", "vp08", "vp09"}, &caps.Video},
		{[]string{".mp3", "Opus", "ac-3", "ec-3", "fLaC", "mp4a"}, &caps.Audio},
	} {
		for _, f := range m.fourCCs {
			caps.FourCCList = append(caps.FourCCList, f)
			*m.dst = append(*m.dst, rtmp.FourCCInfo{FourCC: f, Mask: rtmp.FourCCCanForward})
		}
	}
	return caps
}

// TargetInfo is a snapshot of one forward target.
type TargetInfo struct {
	// ID names the target within its stream (for RemoveTarget).
	ID string
	// URL is the target URL with its stream key shortened.
	URL string
	// Origin is OriginConfig, OriginHook or OriginAPI.
	Origin string
	// State is StateConnecting, StateLive, StateRetrying or StateError.
	State string
	// Since is when the target entered State.
	Since time.Time
	// Bytes counts the bytes sent to the target, over every connection.
	Bytes uint64
	// Bitrate is the rate sent over the last seconds, in bits per second
	// (0 unless live).
	Bitrate float64
	// Retries counts the failed attempts.
	Retries uint64
	// Dropped counts the frames skipped because the target fell behind.
	Dropped uint64
	// LastError is why the last attempt failed ("" if none did).
	LastError string
}

// targetSpec is what a target is made from.
type targetSpec struct {
	id, url, connectURL, name, origin string
	cfg                               ForwardConfig
	tls                               *tls.Config
	log                               *slog.Logger
}

// target forwards one stream to one server, reconnecting until its
// context ends or the stream does.
type target struct {
	spec   targetSpec
	st     *stream.Stream
	cancel context.CancelFunc
	done   chan struct{} // closed when run returns

	bytes   atomic.Uint64
	dropped atomic.Uint64 // of readers already closed
	reader  atomic.Pointer[stream.Reader]

	mu        sync.Mutex
	state     string
	since     time.Time
	retries   uint64
	lastErr   string
	bitrate   float64
	rateBytes uint64    // bytes at rateMark
	rateMark  time.Time // start of the current bitrate window
}

// newTarget returns a target in state connecting; run drives it.
func newTarget(spec targetSpec, st *stream.Stream, cancel context.CancelFunc) *target {
	return &target{spec: spec, st: st, cancel: cancel, done: make(chan struct{}),
		state: StateConnecting, since: time.Now()}
}

// info returns the target's snapshot.
func (t *target) info() TargetInfo {
	t.mu.Lock()
	defer t.mu.Unlock()
	dropped := t.dropped.Load()
	if r := t.reader.Load(); r != nil {
		dropped += r.Stats().Dropped
	}
	return TargetInfo{ID: t.spec.id, URL: t.spec.url, Origin: t.spec.origin, State: t.state, Since: t.since,
		Bytes: t.bytes.Load(), Bitrate: t.bitrate, Retries: t.retries, Dropped: dropped, LastError: t.lastErr}
}

// setState moves the target to state.
func (t *target) setState(state string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.state != state {
		t.state, t.since = state, time.Now()
	}
	if state != StateLive {
		t.bitrate = 0
	}
}

// failed records a failed attempt and moves the target to state. It
// returns the error's text as shown, the target's stream name (a
// platform's stream key, which targets quote in their refusals)
// shortened.
func (t *target) failed(state string, err error) string {
	msg := err.Error()
	if name := t.spec.name; len(name) > 4 {
		msg = strings.ReplaceAll(msg, name, name[:4]+"…")
	}
	t.mu.Lock()
	t.retries++
	t.lastErr = msg
	t.mu.Unlock()
	t.setState(state)
	return msg
}

// run connects, forwards and reconnects with backoff until ctx ends or
// the stream ends.
func (t *target) run(ctx context.Context) {
	defer close(t.done)
	log := t.spec.log
	log.Info("forward started", "origin", t.spec.origin)
	failures := 0
	for {
		t.setState(StateConnecting)
		started := time.Now()
		err := t.session(ctx)
		switch {
		case ctx.Err() != nil:
			log.Info("forward stopped")
			return
		case errors.Is(err, errStreamEnded):
			log.Info("forward ended: stream unpublished")
			return
		}
		if time.Since(started) > t.spec.cfg.MaxBackoff {
			failures = 0 // it ran a good while: start the backoff over
		}
		state, wait := StateRetrying, backoff(t.spec.cfg.MinBackoff, t.spec.cfg.MaxBackoff, failures)
		if errors.Is(err, ErrCodecNotAnnounced) {
			state, wait = StateError, t.spec.cfg.MaxBackoff
		}
		failures++
		msg := t.failed(state, err)
		log.Warn("forward failed", "err", msg, "state", state, "retry_in", wait.Round(time.Millisecond))
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			log.Info("forward stopped")
			return
		case <-t.st.Done():
			timer.Stop()
			log.Info("forward ended: stream unpublished")
			return
		case <-timer.C:
		}
	}
}

// backoff returns the wait after failures failures in a row: min doubled
// per failure up to max, less a random part of up to a half (jitter, so
// that targets cut off together do not come back together).
func backoff(minWait, maxWait time.Duration, failures int) time.Duration {
	d := minWait
	for i := 0; i < failures && d < maxWait; i++ {
		d *= 2
	}
	d = min(d, maxWait)
	if d <= 1 {
		return d
	}
	return d - rand.N(d/2)
}

// session runs one connection to the target: dial, publish, then send the
// stream until something fails. It returns errStreamEnded when the stream
// ended.
func (t *target) session(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cfg := rtmp.ClientConfig{Timeout: t.spec.cfg.Timeout, TLS: t.spec.tls, LimitUnsent: true,
		ConnectObject: forwardCaps().Properties(),
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			// Cancelling the session closes the connection, also while
			// the handshake or connect waits for the target.
			context.AfterFunc(ctx, func() { _ = conn.Close() })
			return conn, nil
		}}
	cl, err := rtmp.Dial(ctx, t.spec.connectURL, cfg)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() { _ = cl.Close() }()
	if err := cl.Publish(t.spec.name); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	caps := cl.ServerCaps()
	drained := make(chan error, 1)
	go func() {
		drained <- cl.Drain()
		cancel() // a target that hung up or refused ends the session
	}()
	err = t.pump(ctx, cl, caps)
	if errors.Is(err, errStreamEnded) {
		// The stream ended: end the publish as an encoder does, so the
		// target closes its recording or stream cleanly.
		_ = cl.DeleteStream()
	}
	_ = cl.Close()
	drainErr := <-drained
	if errors.Is(err, context.Canceled) && drainErr != nil && !errors.Is(drainErr, net.ErrClosed) {
		err = drainErr
	}
	return err
}

// pump sends the stream's frames to the target until reading or writing
// fails, or the stream ends (errStreamEnded).
func (t *target) pump(ctx context.Context, cl *rtmp.Client, caps rtmp.EnhancedCaps) error {
	r := t.st.NewReader(stream.ReaderInfo{ID: t.spec.id, Protocol: ForwardProtocol, RemoteAddr: cl.Conn().RemoteAddr().String()})
	t.reader.Store(r)
	defer func() {
		t.reader.Store(nil)
		r.Close()
		t.dropped.Add(r.Stats().Dropped)
	}()
	t.setState(StateLive)
	t.spec.log.Info("forward live")
	t.mu.Lock()
	t.rateBytes, t.rateMark = t.bytes.Load(), time.Now()
	t.mu.Unlock()
	frames := make([]*stream.Frame, forwardBatch)
	for {
		n, err := r.Read(ctx, frames)
		if errors.Is(err, io.EOF) {
			return errStreamEnded
		}
		if err != nil {
			return err
		}
		for _, f := range frames[:n] {
			if err := checkCodec(f, caps); err != nil {
				return err
			}
		}
		written, err := cl.WriteFrames(frames[:n])
		clear(frames[:n])
		t.bytes.Add(uint64(written))
		if err != nil {
			return err
		}
		t.measure()
	}
}

// measure updates the bitrate once a window has passed.
func (t *target) measure() {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if d := now.Sub(t.rateMark); d >= bitrateWindow {
		b := t.bytes.Load()
		t.bitrate = float64(b-t.rateBytes) * 8 / d.Seconds()
		t.rateBytes, t.rateMark = b, now
	}
}

// checkCodec fails with ErrCodecNotAnnounced for a decoder configuration
// frame in Enhanced RTMP form whose codec the target did not announce.
// Legacy FLV codecs (H.264, AAC, MP3 …) go to every target.
func checkCodec(f *stream.Frame, caps rtmp.EnhancedCaps) error {
	if !f.Header || f.Type == flv.TagScript || !enhancedForm(f) {
		return nil
	}
	if caps.Accepts(f.Codec.String()) {
		return nil
	}
	kind := "video"
	if f.Type == flv.TagAudio {
		kind = "audio"
	}
	if !caps.Declared {
		return fmt.Errorf("%w: the stream's %s is %s (Enhanced RTMP) and the target announced no Enhanced RTMP codecs",
			ErrCodecNotAnnounced, kind, f.Codec)
	}
	return fmt.Errorf("%w: the stream's %s is %s and the target announced only %v",
		ErrCodecNotAnnounced, kind, f.Codec, caps.Codecs())
}

// enhancedForm reports whether a video or audio frame uses the Enhanced
// RTMP tag header (IsExHeader set for video, SoundFormat 9 for audio).
func enhancedForm(f *stream.Frame) bool {
	if len(f.Payload) == 0 {
		return false
	}
	switch f.Type {
	case flv.TagVideo:
		return f.Payload[0]&0x80 != 0
	case flv.TagAudio:
		return f.Payload[0]>>4 == 9
	}
	return false
}
