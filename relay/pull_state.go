package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mediaserver/mediaserver/stream"
)

// PullState is where a pull is in its life.
type PullState string

// States of a pull (PullStatus.State).
const (
	// PullConnecting: connecting to the source for the first time.
	PullConnecting PullState = "connecting"
	// PullLive: the source is connected and its stream published.
	PullLive PullState = "live"
	// PullRetrying: the source failed or ended; the pull waits before it
	// connects again.
	PullRetrying PullState = "retrying"
	// PullIdle: the pull stopped (no viewer left, or it was stopped).
	PullIdle PullState = "idle"
)

// PullStatus describes one pull.
type PullStatus struct {
	// Key is the stream pulled into the hub.
	Key stream.Key
	// ID is the publisher id of the pull (stream.PublisherInfo.ID).
	ID string
	// URL is the source.
	URL string
	// OnDemand tells a pull started by a viewer from an always-on one.
	OnDemand bool
	// State is where the pull is.
	State PullState
	// Since is when the pull entered State.
	Since time.Time
	// Bytes counts the payload bytes received from the source.
	Bytes uint64
	// Retries counts the connections made after the first.
	Retries uint64
	// LastError is why the source last failed or ended ("" before).
	LastError string
}

// pull is one stream pulled from its source, retried until it is stopped.
type pull struct {
	p   *Puller
	id  string
	key stream.Key
	src PullSource
	// resolve, when not nil, names the source before each connection.
	resolve Resolver
	log     *slog.Logger
	ctx     context.Context
	cancel  context.CancelCauseFunc
	// prev is the pull of the same key stopped before this one started;
	// this one waits for it to finish.
	prev *pull
	done chan struct{}

	bytes   atomic.Uint64
	retries atomic.Uint64
	// waiters counts the viewers waiting for the pull to go live; they
	// keep it from stopping as idle.
	waiters atomic.Int32

	mu         sync.Mutex
	state      PullState
	since      time.Time
	lastErr    string
	lastViewer time.Time
	// url is the source connected to last (src.URL unless resolved).
	url string
	// changed is closed (and replaced) on every state change.
	changed chan struct{}
}

// touch records that the pull had a viewer at now.
func (pl *pull) touch(now time.Time) {
	pl.mu.Lock()
	if now.After(pl.lastViewer) {
		pl.lastViewer = now
	}
	pl.mu.Unlock()
}

// idleSince returns how long the pull has had no viewer at now.
func (pl *pull) idleSince(now time.Time) time.Duration {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	return now.Sub(pl.lastViewer)
}

// setState moves the pull to state, noting err as the last error when not
// nil, and wakes those waiting for a change.
func (pl *pull) setState(state PullState, err error) {
	pl.mu.Lock()
	if state != pl.state {
		pl.state, pl.since = state, pl.p.now()
	}
	if err != nil {
		pl.lastErr = err.Error()
	}
	close(pl.changed)
	pl.changed = make(chan struct{})
	pl.mu.Unlock()
}

// waitLive waits until the pull is live, or fails when ctx ends or the
// pull stops first.
func (pl *pull) waitLive(ctx context.Context) error {
	for {
		pl.mu.Lock()
		state, lastErr, changed := pl.state, pl.lastErr, pl.changed
		pl.mu.Unlock()
		if state == PullLive {
			return nil
		}
		select {
		case <-changed:
		case <-pl.done:
			return fmt.Errorf("%w: the pull stopped (%s)", ErrNotLive, context.Cause(pl.ctx))
		case <-ctx.Done():
			if lastErr != "" {
				return fmt.Errorf("%w: %w (last error: %s)", ErrNotLive, ctx.Err(), lastErr)
			}
			return fmt.Errorf("%w: %w", ErrNotLive, ctx.Err())
		}
	}
}

// status snapshots the pull.
func (pl *pull) status() PullStatus {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	return PullStatus{
		Key: pl.key, ID: pl.id, URL: pl.url, OnDemand: pl.src.OnDemand, State: pl.state, Since: pl.since,
		Bytes: pl.bytes.Load(), Retries: pl.retries.Load(), LastError: pl.lastErr,
	}
}

// run connects, publishes and copies until the pull is cancelled,
// retrying with backoff whenever the source fails or ends. Its owner
// closes done once it returned.
func (pl *pull) run() {
	defer pl.setState(PullIdle, nil)
	if pl.prev != nil {
		select {
		case <-pl.prev.done:
		case <-pl.ctx.Done():
			return
		}
	}
	pl.log.Info("pull started", "on_demand", pl.src.OnDemand, "source", pl.src.URL)
	attempt := 0
	for {
		live, err := pl.once()
		if pl.ctx.Err() != nil {
			pl.log.Info("pull stopped", "reason", context.Cause(pl.ctx).Error(), "bytes", pl.bytes.Load())
			return
		}
		if errors.Is(err, stream.ErrClosed) {
			pl.log.Info("pull stopped", "reason", "the hub closed")
			return
		}
		if live {
			attempt = 0
		}
		wait := pl.p.backoff(attempt)
		attempt++
		pl.log.Warn("source lost, retrying", "error", err, "retry_in", wait)
		pl.setState(PullRetrying, err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-pl.ctx.Done():
			t.Stop()
			pl.log.Info("pull stopped", "reason", context.Cause(pl.ctx).Error(), "bytes", pl.bytes.Load())
			return
		}
		pl.retries.Add(1)
	}
}

// sourceURL returns the URL to connect to now: the resolver's answer for
// a resolved pull, src.URL otherwise.
func (pl *pull) sourceURL() (string, error) {
	if pl.resolve == nil {
		return pl.src.URL, nil
	}
	rawURL, err := pl.resolve(pl.ctx, pl.key)
	if err == nil {
		err = checkSourceURL(rawURL)
	}
	if err != nil {
		return "", fmt.Errorf("resolve the source: %w", err)
	}
	pl.mu.Lock()
	pl.url = rawURL
	pl.mu.Unlock()
	return rawURL, nil
}

// once connects to the source, publishes the stream and copies frames
// until the source ends, the publisher is cut off or the pull is
// cancelled. It reports whether the stream got live.
func (pl *pull) once() (bool, error) {
	rawURL, err := pl.sourceURL()
	if err != nil {
		return false, err
	}
	src, err := pl.p.dialer.open(pl.ctx, rawURL)
	if err != nil {
		return false, err
	}
	defer func() { _ = src.Close() }()
	pub, err := pl.p.hub.Publish(pl.key, stream.PublisherInfo{
		ID: pl.id, Protocol: ProtocolRelay, RemoteAddr: sourceAddr(rawURL), Encoder: "relay",
	})
	if err != nil {
		return false, fmt.Errorf("publish: %w", err)
	}
	pl.setState(PullLive, nil)
	pl.log.Info("pulled stream live", "source", rawURL)
	// Cancelling the pull or the hub cutting the publisher off closes the
	// source, which ends the copy.
	var watch sync.WaitGroup
	copied := make(chan struct{})
	watch.Go(func() {
		select {
		case <-pl.ctx.Done():
		case <-pub.Done():
		case <-copied:
			return
		}
		_ = src.Close()
	})
	err = src.copy(func(f *stream.Frame) {
		pl.bytes.Add(uint64(len(f.Payload)))
		pub.WriteFrame(f)
	})
	close(copied)
	watch.Wait()
	switch {
	case pl.ctx.Err() != nil:
		// Stopped: the stream ends now, viewers get its end.
		pub.End()
		return true, context.Cause(pl.ctx)
	case pub.CutOff() != nil:
		return true, fmt.Errorf("publisher cut off: %w", pub.CutOff())
	case pub.TakenOver():
		return true, ErrTakenOver
	}
	select {
	case <-pub.Done():
		// Ended by the hub: it is closing.
		return true, fmt.Errorf("publish: %w", stream.ErrClosed)
	default:
	}
	// The source failed or ended: the stream waits for the retry within
	// the republish window, its viewers attached.
	pub.Close()
	return true, fmt.Errorf("source: %w", err)
}
