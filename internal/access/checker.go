package access

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/mediaserver/mediaserver/internal/conns"
	"github.com/mediaserver/mediaserver/internal/keystore"
	"github.com/mediaserver/mediaserver/stream"
)

// Checker authorises publishers and viewers and sends the notify-only
// hooks. It is safe for concurrent use. Close stops its notification
// workers.
type Checker struct {
	cfg   Config
	log   *slog.Logger
	hooks *hookClient
	// keys holds the configured publish keys (Config.Apps); Reload swaps
	// it.
	keys atomic.Pointer[keyTable]
	// store holds the secret stream keys made through the API.
	store *keystore.Store
	// publishHooks and playHooks bound the on_publish and on_play calls in
	// flight, each on its own, so that viewers cannot take the slots
	// publishers need.
	publishHooks, playHooks hookPool
	now                     func() time.Time

	playCache *playCache

	notifier *notifier

	// refusals rate-limits the refusal log, so that a flood of refused
	// clients cannot flood the log.
	refusals conns.LogLimiter

	publishAllowed, publishDenied atomic.Uint64
	playAllowed, playDenied       atomic.Uint64
	hookFailures                  atomic.Uint64
	playCacheHits, playCacheMiss  atomic.Uint64
}

// hookPool is the slots and the time bound of one authorising hook.
type hookPool struct {
	name    string // "on_publish"
	url     string
	slots   chan struct{}
	timeout time.Duration
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
	// PlayCacheHits counts HLS play decisions answered from the play
	// cache, PlayCacheMisses those that asked on_play.
	PlayCacheHits, PlayCacheMisses uint64
	// NotifySent, NotifyFailed and NotifyDropped count on_unpublish and
	// on_play_stop notifications delivered (2xx), failed (no answer or
	// another status) and dropped because the queue was full or the
	// Checker closed.
	NotifySent, NotifyFailed, NotifyDropped uint64
}

// New returns a Checker running with cfg.WithDefaults(), opens its key
// store under Config.DataDir and starts its notification workers; Close
// stops them. It fails with an error wrapping ErrInvalidConfig when the
// configuration does not validate, and when the key store cannot be read.
// A nil log discards.
func New(cfg Config, log *slog.Logger) (*Checker, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new access checker: %w", err)
	}
	store, err := keystore.Open(cfg.DataDir, log)
	if err != nil {
		return nil, fmt.Errorf("new access checker: %w", err)
	}
	c := startChecker(cfg, log)
	c.store = store
	return c, nil
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
		hooks: newHookClient(cfg.ExposeHookReason),
		publishHooks: hookPool{
			name: "on_publish", url: cfg.OnPublish,
			slots: make(chan struct{}, cfg.MaxConcurrentPublishHooks), timeout: cfg.PublishHookTimeout,
		},
		playHooks: hookPool{
			name: "on_play", url: cfg.OnPlay,
			slots: make(chan struct{}, cfg.MaxConcurrentPlayHooks), timeout: cfg.PlayHookTimeout,
		},
		now:       time.Now,
		playCache: newPlayCache(cfg.PlayCacheEntries),
	}
	c.keys.Store(newKeyTable(cfg.Apps))
	c.notifier = newNotifier(cfg, c.hooks, log)
	return c
}

// Authorize decides whether req may go ahead; nil allows. A publish must
// pass the key store or the app's key list (see AuthorizePublish, which
// an ingest uses to learn the stream a secret key publishes; Authorize
// refuses a bare secret key), then the on_publish hook; a play must carry a
// valid token when its app has a play secret, then pass the on_play hook.
// A refusal's text is written for the client ("stream key not accepted for
// app \"live\"", "on_publish hook answered 403") and wraps ErrDenied,
// ErrHookRefused or ErrHookFailed; a hook's answer body is only part of it
// with Config.ExposeHookReason. Authorize blocks only its caller, for at
// most the hook's timeout (Config.PublishHookTimeout or PlayHookTimeout;
// plus the wait for a free slot of its pool, bounded the same way), and
// returns early when ctx ends.
func (c *Checker) Authorize(ctx context.Context, req stream.AccessRequest) error {
	var err error
	switch req.Action {
	case stream.ActionPublish:
		_, err = c.decidePublish(ctx, req, false)
		c.countPublish(err)
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
		c.logRefusal(req, err)
	}
	return err
}

// logRefusal logs a refused request, its stream name masked if it is a
// secret key: at most once per conns.LogInterval per action and kind of
// refusal, with the number left out (every refusal is counted).
func (c *Checker) logRefusal(req stream.AccessRequest, err error) {
	var r *refusal
	kind := ""
	if errors.As(err, &r) {
		kind = r.kind.Error()
	}
	c.refusals.Warn(c.log, string(req.Action)+" "+kind, "access refused", "action", req.Action, "protocol", req.Protocol,
		"stream", maskedKey(req.Key), "remote", req.RemoteAddr, "session", req.SessionID,
		"reason", err.Error(), "cause", causeOf(err))
}

// authorizePlay checks the app's play token, then asks on_play, through
// the cache for HLS clients. The token is checked on every request, HLS
// segments included, as it may expire while its answer is cached.
func (c *Checker) authorizePlay(ctx context.Context, req stream.AccessRequest) error {
	if err := c.checkPlayToken(req); err != nil {
		return err
	}
	if c.cfg.OnPlay == "" {
		return nil
	}
	if req.Protocol != stream.ProtocolHLS || c.cfg.PlayCacheTTL < 0 {
		return c.ask(ctx, &c.playHooks, req)
	}
	ck := playCacheKey{key: req.Key, query: req.Query, host: conns.Host(req.RemoteAddr)}
	if e, ok := c.playCache.get(ck, c.now()); ok {
		c.playCacheHits.Add(1)
		return e.err
	}
	c.playCacheMiss.Add(1)
	err := c.ask(ctx, &c.playHooks, req)
	if err != nil && ctx.Err() != nil {
		return err // the client left: nothing learnt
	}
	c.playCache.put(ck, err, c.now().Add(c.cfg.PlayCacheTTL))
	return err
}

// ask calls pool's hook once one of its slots is free.
func (c *Checker) ask(ctx context.Context, pool *hookPool, req stream.AccessRequest) error {
	wait := time.NewTimer(pool.timeout)
	defer wait.Stop()
	select {
	case pool.slots <- struct{}{}:
	case <-wait.C:
		c.hookFailures.Add(1)
		return &refusal{kind: ErrHookFailed, msg: pool.name + " hook is busy",
			cause: fmt.Errorf("%d %s calls in flight", cap(pool.slots), pool.name)}
	case <-ctx.Done():
		return &refusal{kind: ErrHookFailed, msg: pool.name + " hook not asked: session ended", cause: ctx.Err()}
	}
	defer func() { <-pool.slots }()
	err := c.hooks.call(ctx, pool.name, pool.url, pool.timeout, hookRequest(HookAction(req.Action), req))
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
		HookFailures:  c.hookFailures.Load(),
		PlayCacheHits: c.playCacheHits.Load(), PlayCacheMisses: c.playCacheMiss.Load(),
		NotifySent: sent, NotifyFailed: failed, NotifyDropped: dropped,
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
	if c.store != nil {
		if err := c.store.Close(); err != nil {
			c.log.Warn("key store not closed cleanly", "err", err)
		}
	}
}
