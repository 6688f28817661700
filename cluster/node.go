package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mediaserver/mediaserver/stream"
)

// redisTimeout bounds every Redis round trip: a publish or a lookup never
// waits longer on an unreachable Redis.
const redisTimeout = 2 * time.Second

// Hub is the part of the stream registry a node needs: whether a stream is
// live here.
type Hub interface {
	Lookup(key stream.Key) (*stream.Stream, bool)
}

// Node is a server's membership in a cluster. Create it with NewNode, add
// it as an observer of the hub (it releases claims of streams that end) and
// Close it on shutdown.
type Node struct {
	cfg Config
	hub Hub
	log *slog.Logger
	rdb *redis.Client

	// Scripts that act on a claim only while it holds this node's value.
	refresh, release *redis.Script

	mu      sync.Mutex
	claimed map[stream.Key]time.Time // claims held, with when each was last seen live
	ended   map[stream.Key]struct{}  // claims to release at the next tick
	owners  map[stream.Key]string    // owners looked up (edges: kept for a Redis outage)
	healthy bool
	lastErr error

	wake   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

// NewNode connects to cfg.Redis (lazily: an unreachable Redis does not fail
// it) and, for an origin, starts the goroutine refreshing its claims. It
// fails with an error wrapping ErrInvalidConfig when cfg does not validate
// or the cluster is not enabled.
func NewNode(cfg Config, hub Hub, log *slog.Logger) (*Node, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new cluster node: %w", err)
	}
	if !cfg.Enabled() {
		return nil, fmt.Errorf("new cluster node: no cluster.role: %w", ErrInvalidConfig)
	}
	opts, err := redis.ParseURL(cfg.Redis)
	if err != nil {
		return nil, fmt.Errorf("new cluster node: %w", err)
	}
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = redisTimeout, redisTimeout, redisTimeout
	opts.MaxRetries = 1
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &Node{
		cfg: cfg, hub: hub, log: log.With("component", "cluster", "role", string(cfg.Role)),
		rdb:     redis.NewClient(opts),
		refresh: redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) end return 0`),
		release: redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`),
		claimed: make(map[stream.Key]time.Time), ended: make(map[stream.Key]struct{}),
		owners: make(map[stream.Key]string), healthy: true,
		wake: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{}),
	}
	go n.run(ctx)
	return n, nil
}

// Role returns the node's role.
func (n *Node) Role() Role { return n.cfg.Role }

// Advertise returns the node's advertised base URL.
func (n *Node) Advertise() string { return n.cfg.Advertise }

// streamKey is the Redis key of a stream's claim.
func (n *Node) streamKey(key stream.Key) string {
	return n.cfg.KeyPrefix + "stream:" + key.String()
}

// Claim claims key for this origin. It succeeds when the name is free or
// already this origin's. A name another origin holds fails with an error
// wrapping stream.ErrStreamBusy. When Redis cannot be reached the publish
// is let through (a cluster outage must not stop live streaming), the node
// reports itself degraded and claims the name as soon as Redis is back.
func (n *Node) Claim(ctx context.Context, key stream.Key) error {
	if n.cfg.Role != RoleOrigin {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, redisTimeout)
	defer cancel()
	owner, err := n.claim(ctx, key)
	n.noteRedis(err)
	if err != nil {
		n.log.Warn("claim not recorded, Redis unreachable: publishing anyway", "stream", key.String(), "err", err)
	} else if owner != n.cfg.Advertise {
		return fmt.Errorf("%s is live on origin %s: %w", key, owner, stream.ErrStreamBusy)
	}
	n.mu.Lock()
	n.claimed[key] = time.Now()
	delete(n.ended, key)
	n.mu.Unlock()
	return nil
}

// claim sets the claim if free and returns its owner.
func (n *Node) claim(ctx context.Context, key stream.Key) (string, error) {
	rk := n.streamKey(key)
	ok, err := n.rdb.SetNX(ctx, rk, n.cfg.Advertise, n.cfg.ClaimTTL).Result()
	if err != nil || ok {
		return n.cfg.Advertise, err
	}
	owner, err := n.rdb.Get(ctx, rk).Result()
	switch {
	case errors.Is(err, redis.Nil): // expired in between: try once more
		if ok, err = n.rdb.SetNX(ctx, rk, n.cfg.Advertise, n.cfg.ClaimTTL).Result(); err == nil && !ok {
			return n.rdb.Get(ctx, rk).Result()
		}
		return n.cfg.Advertise, err
	case err != nil:
		return "", err
	case owner == n.cfg.Advertise:
		return owner, n.refresh.Run(ctx, n.rdb, []string{rk}, n.cfg.Advertise, n.cfg.ClaimTTL.Milliseconds()).Err()
	}
	return owner, nil
}

// StreamStarted implements stream.Observer.
func (n *Node) StreamStarted(*stream.Stream) {}

// StreamEnded implements stream.Observer: the stream's claim is released
// (by the node's goroutine: an observer must not block).
func (n *Node) StreamEnded(s *stream.Stream) {
	n.mu.Lock()
	if _, ok := n.claimed[s.Key()]; ok {
		n.ended[s.Key()] = struct{}{}
	}
	n.mu.Unlock()
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// run refreshes the live claims every third of the TTL, releases those
// whose stream ended, and checks Redis, until Close.
func (n *Node) run(ctx context.Context) {
	defer close(n.done)
	tick := time.NewTicker(n.cfg.ClaimTTL / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			n.releaseAll()
			return
		case <-tick.C:
			n.tick(ctx)
		case <-n.wake:
			n.releaseEnded(ctx)
		}
	}
}

// tick refreshes (or re-claims) the claims of live streams and drops those
// not live for a whole TTL (a publish refused after its claim, say).
func (n *Node) tick(ctx context.Context) {
	n.releaseEnded(ctx)
	now := time.Now()
	n.mu.Lock()
	keys := make([]stream.Key, 0, len(n.claimed))
	for k := range n.claimed {
		keys = append(keys, k)
	}
	n.mu.Unlock()
	var err error
	for _, k := range keys {
		if _, live := n.hub.Lookup(k); !live {
			n.mu.Lock()
			if now.Sub(n.claimed[k]) > n.cfg.ClaimTTL {
				n.ended[k] = struct{}{}
			}
			n.mu.Unlock()
			continue
		}
		n.mu.Lock()
		n.claimed[k] = now
		n.mu.Unlock()
		err = errors.Join(err, n.refreshClaim(ctx, k))
	}
	if len(keys) == 0 {
		c, cancel := context.WithTimeout(ctx, redisTimeout)
		err = n.rdb.Ping(c).Err()
		cancel()
	}
	if ctx.Err() == nil { // not a shutdown in the middle
		n.noteRedis(err)
	}
}

// refreshClaim extends a claim of this node's, or claims the name again
// after it expired (a Redis outage longer than the TTL).
func (n *Node) refreshClaim(ctx context.Context, k stream.Key) error {
	ctx, cancel := context.WithTimeout(ctx, redisTimeout)
	defer cancel()
	kept, err := n.refresh.Run(ctx, n.rdb, []string{n.streamKey(k)}, n.cfg.Advertise, n.cfg.ClaimTTL.Milliseconds()).Int()
	if err != nil || kept == 1 {
		return err
	}
	owner, err := n.claim(ctx, k)
	if err == nil && owner != n.cfg.Advertise {
		n.log.Error("stream is live here and on another origin", "stream", k.String(), "other", owner)
	}
	return err
}

// releaseEnded deletes the claims of streams that ended.
func (n *Node) releaseEnded(ctx context.Context) {
	n.mu.Lock()
	keys := make([]stream.Key, 0, len(n.ended))
	for k := range n.ended {
		if _, live := n.hub.Lookup(k); live {
			delete(n.ended, k) // republished in between
			continue
		}
		keys = append(keys, k)
	}
	n.mu.Unlock()
	for _, k := range keys {
		c, cancel := context.WithTimeout(ctx, redisTimeout)
		err := n.release.Run(c, n.rdb, []string{n.streamKey(k)}, n.cfg.Advertise).Err()
		cancel()
		if err != nil {
			n.noteRedis(err)
			continue // the TTL ends it
		}
		n.mu.Lock()
		delete(n.ended, k)
		delete(n.claimed, k)
		n.mu.Unlock()
	}
}

// releaseAll deletes every claim on shutdown, best effort.
func (n *Node) releaseAll() {
	n.mu.Lock()
	for k := range n.claimed {
		n.ended[k] = struct{}{}
	}
	n.mu.Unlock()
	n.releaseEnded(context.Background())
}

// noteRedis records whether the last Redis operation worked.
func (n *Node) noteRedis(err error) {
	n.mu.Lock()
	was := n.healthy
	n.healthy, n.lastErr = err == nil, err
	n.mu.Unlock()
	switch {
	case was && err != nil:
		n.log.Error("Redis unreachable: cluster degraded", "err", err)
	case !was && err == nil:
		n.log.Info("Redis reachable again")
	}
}

// Health returns nil while Redis answers, otherwise an error wrapping
// ErrDegraded.
func (n *Node) Health() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.healthy {
		return nil
	}
	return fmt.Errorf("%w: %v", ErrDegraded, n.lastErr)
}

// Close releases the node's claims (best effort), stops its goroutine and
// closes the Redis client.
func (n *Node) Close() error {
	n.cancel()
	<-n.done
	return n.rdb.Close()
}

// trimBase returns a base URL without its trailing slashes.
func trimBase(u string) string { return strings.TrimRight(u, "/") }
