package access

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/mediaserver/mediaserver/internal/workqueue"
	"github.com/mediaserver/mediaserver/stream"
)

// notification is one queued notify-only hook call.
type notification struct {
	name string // "on_unpublish"
	url  string
	req  HookRequest
}

// notifier sends notify-only hooks from a bounded queue with a fixed set
// of workers. Enqueueing never blocks.
type notifier struct {
	hooks   *hookClient
	log     *slog.Logger
	timeout time.Duration
	queue   *workqueue.Queue[notification]
}

// newNotifier starts cfg.NotifyWorkers workers over a queue of
// cfg.NotifyQueue.
func newNotifier(cfg Config, hooks *hookClient, log *slog.Logger) *notifier {
	n := &notifier{hooks: hooks, log: log, timeout: cfg.HookTimeout}
	n.queue = workqueue.New(cfg.NotifyWorkers, cfg.NotifyQueue, cfg.HookTimeout, n.send)
	return n
}

// send sends one notification.
func (n *notifier) send(ctx context.Context, job notification) error {
	err := n.hooks.call(ctx, job.name, job.url, n.timeout, job.req)
	if err != nil {
		n.log.Warn("notification failed", "hook", job.name, "stream", job.req.App+"/"+job.req.Name,
			"session", job.req.SessionID, "reason", err.Error(), "cause", causeOf(err))
	}
	return err
}

// enqueue queues a notification, or drops and counts it when the queue is
// full or the notifier closed. It never blocks.
func (n *notifier) enqueue(job notification) {
	if errors.Is(n.queue.Enqueue(job), workqueue.ErrFull) {
		n.log.Warn("notification dropped: queue full", "hook", job.name,
			"stream", job.req.App+"/"+job.req.Name, "session", job.req.SessionID)
	}
}

// close stops accepting notifications, gives the queued ones one timeout
// to go out and waits for the workers.
func (n *notifier) close() { n.queue.Close() }

// counts returns the sent, failed and dropped counters.
func (n *notifier) counts() (sent, failed, dropped uint64) { return n.queue.Counts() }

// StreamStarted implements stream.Observer; publishing was authorised
// before, so there is nothing to do.
func (c *Checker) StreamStarted(*stream.Stream) {}

// StreamEnded implements stream.Observer: it queues the on_unpublish
// notification (with the bytes received and the stream's duration). It
// never blocks.
func (c *Checker) StreamEnded(s *stream.Stream) {
	if c.cfg.OnUnpublish == "" {
		return
	}
	info := s.Info()
	req := HookRequest{
		Action: HookUnpublish, Protocol: info.Protocol.APIName(), App: s.Key().App, Name: s.Key().Name,
		Query: info.Query, RemoteAddr: info.RemoteAddr, SessionID: info.ID,
	}
	bytes := s.Stats().BytesIn
	secs := c.now().Sub(s.StartTime()).Seconds()
	req.Bytes, req.DurationSeconds = &bytes, &secs
	c.notifier.enqueue(notification{name: "on_unpublish", url: c.cfg.OnUnpublish, req: req})
}

// PlayStopped queues the on_play_stop notification for a viewer that
// played req's stream for duration and was sent bytes. Outputs call it when
// a viewer that was authorised ends. It never blocks.
func (c *Checker) PlayStopped(req stream.AccessRequest, bytes uint64, duration time.Duration) {
	if c.cfg.OnPlayStop == "" {
		return
	}
	body := hookRequest(HookPlayStop, req)
	secs := duration.Seconds()
	body.Bytes, body.DurationSeconds = &bytes, &secs
	c.notifier.enqueue(notification{name: "on_play_stop", url: c.cfg.OnPlayStop, req: body})
}
