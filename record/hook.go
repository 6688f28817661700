package record

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// HookActionRecordDone is the "action" of an on_record_done call.
const HookActionRecordDone = "record_done"

// maxHookDrain caps the bytes of a hook's answer read (and discarded) so
// that its connection can be reused.
const maxHookDrain = 64 << 10

// DoneEvent is the JSON body POSTed to on_record_done for each completed
// file.
type DoneEvent struct {
	// Action is HookActionRecordDone.
	Action string `json:"action"`
	// ID is the recording's id in the API.
	ID string `json:"id"`
	// Path is the file's path (absolute).
	Path string `json:"path"`
	// Stream is "app/name"; App and Name are its parts.
	Stream string `json:"stream"`
	App    string `json:"app"`
	Name   string `json:"name"`
	// Format is FormatFMP4 or FormatFLV.
	Format string `json:"format"`
	// Start is when the file started (UTC).
	Start time.Time `json:"start"`
	// DurationSeconds is the media time the file holds.
	DurationSeconds float64 `json:"duration_seconds"`
	// Size is the file's size in bytes.
	Size int64 `json:"size"`
	// Reason tells why the file ended (Reason* constants).
	Reason string `json:"reason"`
}

// hookPool posts DoneEvents from a bounded queue with a fixed set of
// workers, each call bounded by a timeout. Enqueueing never blocks.
type hookPool struct {
	url     string
	client  *http.Client
	timeout time.Duration
	log     *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.RWMutex // orders enqueue against close
	queue  chan DoneEvent
	closed bool

	sent, failed, dropped atomic.Uint64
}

// newHookPool starts cfg.HookWorkers workers posting to
// cfg.OnRecordDone; with no URL it starts none and drops nothing.
func newHookPool(cfg Config, log *slog.Logger) *hookPool {
	ctx, cancel := context.WithCancel(context.Background())
	p := &hookPool{
		url: cfg.OnRecordDone, timeout: cfg.HookTimeout, log: log,
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		ctx:    ctx, cancel: cancel, queue: make(chan DoneEvent, cfg.HookQueue),
	}
	if p.url == "" {
		return p
	}
	p.wg.Add(cfg.HookWorkers)
	for range cfg.HookWorkers {
		go p.work()
	}
	return p
}

// work posts queued events until the queue is closed and drained.
func (p *hookPool) work() {
	defer p.wg.Done()
	for ev := range p.queue {
		if err := p.post(ev); err != nil {
			p.failed.Add(1)
			p.log.Warn("on_record_done failed", "id", ev.ID, "stream", ev.Stream, "err", err)
			continue
		}
		p.sent.Add(1)
	}
}

// post sends one event and checks for a 2xx answer.
func (p *hookPool) post(ev DoneEvent) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	ctx, cancel := context.WithTimeout(p.ctx, p.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("post: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxHookDrain))
	_ = resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("post: answered %s", resp.Status)
	}
	return nil
}

// enqueue queues ev, or drops and logs it when the queue is full or the
// pool closed. Without a URL it does nothing.
func (p *hookPool) enqueue(ev DoneEvent) {
	if p.url == "" {
		return
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		p.dropped.Add(1)
		return
	}
	select {
	case p.queue <- ev:
	default:
		p.dropped.Add(1)
		p.log.Warn("on_record_done dropped: queue full", "id", ev.ID, "stream", ev.Stream)
	}
}

// close stops accepting events, gives the queued ones one timeout to go
// out and waits for the workers.
func (p *hookPool) close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.wg.Wait()
		return
	}
	p.closed = true
	close(p.queue)
	p.mu.Unlock()
	stop := time.AfterFunc(p.timeout, p.cancel)
	p.wg.Wait()
	stop.Stop()
	p.cancel()
}
