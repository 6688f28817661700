package access

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mediaserver/mediaserver/internal/conns"
	"github.com/mediaserver/mediaserver/stream"
)

// Checker authorises publishers and viewers and sends the notify-only
// hooks. It is safe for concurrent use. Close stops its notification
// workers.
type Checker struct {
	cfg   Config
	log   *slog.Logger
	hooks *hookClient
	// keys holds, per app, the SHA-256 of each allowed stream key, so that
	// keys are compared in constant time.
	keys map[string][][sha256.Size]byte
	// slots bounds the on_publish/on_play calls in flight.
	slots chan struct{}
	now   func() time.Time

	cacheMu sync.Mutex
	cache   map[cacheKey]cacheEntry

	notifier *notifier

	// refusals rate-limits the refusal log, so that a flood of refused
	// clients cannot flood the log.
	refusals conns.LogLimiter

	publishAllowed, publishDenied atomic.Uint64
	playAllowed, playDenied       atomic.Uint64
	hookFailures                  atomic.Uint64
}

// cacheKey identifies an HLS client's play request.
type cacheKey struct {
	key   stream.Key
	query string
	host  string
}

// cacheEntry is a remembered on_play answer.
type cacheEntry struct {
	err     error
	expires time.Time
}

// Stats are a Checker's counters since it was created.
type Stats struct {
	// PublishAllowed and PublishDenied count publish decisions;
	// PlayAllowed and PlayDenied play decisions (HLS answers taken from
	// the cache included).
	PublishAllowed, PublishDenied, PlayAllowed, PlayDenied uint64
	// HookFailures counts on_publish/on_play calls that got no answer
	// (timeouts, connection errors, no free slot).
	HookFailures uint64
	// NotifySent, NotifyFailed and NotifyDropped count on_unpublish and
	// on_play_stop notifications delivered (2xx), failed (no answer or
	// another status) and dropped because the queue was full or the
	// Checker closed.
	NotifySent, NotifyFailed, NotifyDropped uint64
}

// New returns a Checker running with cfg.WithDefaults() and starts its
// notification workers; Close stops them. It fails with an error wrapping
// ErrInvalidConfig when the configuration does not validate. A nil log
// discards.
func New(cfg Config, log *slog.Logger) (*Checker, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new access checker: %w", err)
	}
	return startChecker(cfg, log), nil
}

// startChecker is New without validation, for a cfg with defaults
// applied: a hook URL that does not parse refuses every request it
// guards.
func startChecker(cfg Config, log *slog.Logger) *Checker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "access")
	c := &Checker{
		cfg:   cfg,
		log:   log,
		hooks: newHookClient(cfg.HookTimeout),
		keys:  make(map[string][][sha256.Size]byte, len(cfg.Apps)),
		slots: make(chan struct{}, cfg.MaxConcurrentHooks),
		now:   time.Now,
		cache: make(map[cacheKey]cacheEntry),
	}
	for app, rule := range cfg.Apps {
		sums := make([][sha256.Size]byte, 0, len(rule.PublishKeys))
		for _, k := range rule.PublishKeys {
			sums = append(sums, sha256.Sum256([]byte(k)))
		}
		c.keys[app] = sums
	}
	c.notifier = newNotifier(cfg, c.hooks, log)
	return c
}

// Authorize decides whether req may go ahead; nil allows. A publish must
// pass the app's key list, then the on_publish hook; a play must pass the
// on_play hook. A refusal's text is written for the client ("stream key
// not accepted for app \"live\"", "on_publish hook answered 403") and
// wraps ErrDenied, ErrHookRefused or ErrHookFailed. Authorize blocks only
// its caller, for at most Config.HookTimeout (plus the wait for a free
// hook slot, bounded the same way), and returns early when ctx ends.
func (c *Checker) Authorize(ctx context.Context, req stream.AccessRequest) error {
	var err error
	switch req.Action {
	case stream.ActionPublish:
		err = c.authorizePublish(ctx, req)
		if err != nil {
			c.publishDenied.Add(1)
		} else {
			c.publishAllowed.Add(1)
		}
	case stream.ActionPlay:
		err = c.authorizePlay(ctx, req)
		if err != nil {
			c.playDenied.Add(1)
		} else {
			c.playAllowed.Add(1)
		}
	default:
		err = &refusal{kind: ErrDenied, msg: fmt.Sprintf("unknown action %q", req.Action)}
	}
	if err != nil {
		// At most once per conns.LogInterval per action and kind of
		// refusal, with the number left out; every refusal is counted.
		var r *refusal
		kind := ""
		if errors.As(err, &r) {
			kind = r.kind.Error()
		}
		c.refusals.Warn(c.log, string(req.Action)+" "+kind, "access refused", "action", req.Action, "protocol", req.Protocol,
			"stream", req.Key.String(), "remote", req.RemoteAddr, "session", req.SessionID,
			"reason", err.Error(), "cause", causeOf(err))
	}
	return err
}

// authorizePublish checks the key list, then on_publish.
func (c *Checker) authorizePublish(ctx context.Context, req stream.AccessRequest) error {
	if err := c.checkKey(req.Key); err != nil {
		return err
	}
	if c.cfg.OnPublish == "" {
		return nil
	}
	return c.ask(ctx, "on_publish", c.cfg.OnPublish, req)
}

// checkKey applies Config.Apps to a publish of key.
func (c *Checker) checkKey(key stream.Key) error {
	if len(c.keys) == 0 {
		return nil
	}
	sums, ok := c.keys[key.App]
	if !ok {
		sums, ok = c.keys[WildcardApp]
	}
	if !ok {
		return &refusal{kind: ErrDenied, msg: fmt.Sprintf("app %q is not open for publishing", key.App)}
	}
	if len(sums) == 0 {
		return nil
	}
	sum := sha256.Sum256([]byte(key.Name))
	match := 0
	for i := range sums {
		match |= subtle.ConstantTimeCompare(sum[:], sums[i][:])
	}
	if match != 1 {
		return &refusal{kind: ErrDenied, msg: fmt.Sprintf("stream key not accepted for app %q", key.App)}
	}
	return nil
}

// authorizePlay asks on_play, through the cache for HLS clients.
func (c *Checker) authorizePlay(ctx context.Context, req stream.AccessRequest) error {
	if c.cfg.OnPlay == "" {
		return nil
	}
	if req.Protocol != "hls" || c.cfg.PlayCacheTTL < 0 {
		return c.ask(ctx, "on_play", c.cfg.OnPlay, req)
	}
	ck := cacheKey{key: req.Key, query: req.Query, host: conns.Host(req.RemoteAddr)}
	now := c.now()
	c.cacheMu.Lock()
	e, ok := c.cache[ck]
	c.cacheMu.Unlock()
	if ok && now.Before(e.expires) {
		return e.err
	}
	err := c.ask(ctx, "on_play", c.cfg.OnPlay, req)
	if err != nil && ctx.Err() != nil {
		return err // the client left: nothing learnt
	}
	c.cacheMu.Lock()
	if len(c.cache) >= MaxPlayCacheEntries {
		for k, e := range c.cache {
			if !now.Before(e.expires) {
				delete(c.cache, k)
			}
		}
		if len(c.cache) >= MaxPlayCacheEntries {
			clear(c.cache)
		}
	}
	c.cache[ck] = cacheEntry{err: err, expires: now.Add(c.cfg.PlayCacheTTL)}
	c.cacheMu.Unlock()
	return err
}

// ask calls an authorising hook once a slot is free.
func (c *Checker) ask(ctx context.Context, name, url string, req stream.AccessRequest) error {
	wait := time.NewTimer(c.cfg.HookTimeout)
	defer wait.Stop()
	select {
	case c.slots <- struct{}{}:
	case <-wait.C:
		c.hookFailures.Add(1)
		return &refusal{kind: ErrHookFailed, msg: name + " hook is busy", cause: fmt.Errorf("%d hook calls in flight", cap(c.slots))}
	case <-ctx.Done():
		return &refusal{kind: ErrHookFailed, msg: name + " hook not asked: session ended", cause: ctx.Err()}
	}
	defer func() { <-c.slots }()
	err := c.hooks.call(ctx, name, url, hookRequest(HookAction(req.Action), req))
	if err != nil && !isRefused(err) {
		c.hookFailures.Add(1)
	}
	return err
}

// hookRequest builds the body of a hook call.
func hookRequest(action HookAction, req stream.AccessRequest) HookRequest {
	return HookRequest{
		Action: action, Protocol: req.Protocol.APIName(), App: req.Key.App, Name: req.Key.Name,
		Query: req.Query, RemoteAddr: req.RemoteAddr, SessionID: req.SessionID,
	}
}

// Stats returns the Checker's counters.
func (c *Checker) Stats() Stats {
	sent, failed, dropped := c.notifier.counts()
	return Stats{
		PublishAllowed: c.publishAllowed.Load(), PublishDenied: c.publishDenied.Load(),
		PlayAllowed: c.playAllowed.Load(), PlayDenied: c.playDenied.Load(),
		HookFailures: c.hookFailures.Load(),
		NotifySent:   sent, NotifyFailed: failed, NotifyDropped: dropped,
	}
}

// AuthFailures returns the publish and play refusals so far (for the
// metrics collector).
func (c *Checker) AuthFailures() (publish, play uint64) {
	return c.publishDenied.Load(), c.playDenied.Load()
}

// Close stops the notification workers: notifications still queued get
// one HookTimeout to go out, later ones are dropped. It waits for the
// workers and is idempotent.
func (c *Checker) Close() {
	c.notifier.close()
	c.hooks.close()
}
