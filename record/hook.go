package record

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/mediaserver/mediaserver/internal/workqueue"
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
	queue   *workqueue.Queue[DoneEvent] // nil without a URL
}

// newHookPool starts cfg.HookWorkers workers posting to
// cfg.OnRecordDone; with no URL it starts none and drops nothing.
func newHookPool(cfg Config, log *slog.Logger) *hookPool {
	p := &hookPool{
		url: cfg.OnRecordDone, timeout: cfg.HookTimeout, log: log,
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	}
	if p.url != "" {
		p.queue = workqueue.New(cfg.HookWorkers, cfg.HookQueue, cfg.HookTimeout, p.send)
	}
	return p
}

// send posts one event, logging a failure.
func (p *hookPool) send(ctx context.Context, ev DoneEvent) error {
	err := p.post(ctx, ev)
	if err != nil {
		p.log.Warn("on_record_done failed", "id", ev.ID, "stream", ev.Stream, "err", err)
	}
	return err
}

// post sends one event and checks for a 2xx answer.
func (p *hookPool) post(ctx context.Context, ev DoneEvent) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
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
	if p.queue != nil && errors.Is(p.queue.Enqueue(ev), workqueue.ErrFull) {
		p.log.Warn("on_record_done dropped: queue full", "id", ev.ID, "stream", ev.Stream)
	}
}

// close stops accepting events, gives the queued ones one timeout to go
// out and waits for the workers.
func (p *hookPool) close() {
	if p.queue != nil {
		p.queue.Close()
	}
}
