package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/mediaserver/mediaserver/stream"
)

// Owner returns the base URL of the origin that has key live. A name no
// origin claims fails with ErrNotLive. While Redis is unreachable the owner
// last looked up is returned, if any, so that an edge keeps following the
// streams it knew; otherwise the Redis error.
func (n *Node) Owner(ctx context.Context, key stream.Key) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, redisTimeout)
	defer cancel()
	owner, err := n.rdb.Get(ctx, n.streamKey(key)).Result()
	owner = trimBase(owner)
	if errors.Is(err, redis.Nil) {
		n.noteRedis(nil)
		n.mu.Lock()
		delete(n.owners, key)
		n.mu.Unlock()
		return "", fmt.Errorf("%s: %w", key, ErrNotLive)
	}
	n.noteRedis(err)
	n.mu.Lock()
	defer n.mu.Unlock()
	if err != nil {
		if cached, ok := n.owners[key]; ok {
			return cached, nil
		}
		return "", fmt.Errorf("look up the owner of %s: %w", key, err)
	}
	n.owners[key] = owner
	return owner, nil
}

// ClusterStream is a stream live somewhere in the cluster.
type ClusterStream struct {
	// Stream is "app/name".
	Stream string `json:"stream"`
	// Origin is the owning origin's advertised base URL.
	Origin string `json:"origin"`
}

// Streams lists the streams live in the cluster, sorted by name.
func (n *Node) Streams(ctx context.Context) ([]ClusterStream, error) {
	ctx, cancel := context.WithTimeout(ctx, redisTimeout)
	defer cancel()
	prefix := n.cfg.KeyPrefix + "stream:"
	var keys []string
	iter := n.rdb.Scan(ctx, 0, prefix+"*", 256).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		n.noteRedis(err)
		return nil, fmt.Errorf("list cluster streams: %w", err)
	}
	out := make([]ClusterStream, 0, len(keys))
	if len(keys) > 0 {
		vals, err := n.rdb.MGet(ctx, keys...).Result()
		n.noteRedis(err)
		if err != nil {
			return nil, fmt.Errorf("list cluster streams: %w", err)
		}
		for i, v := range vals {
			if s, ok := v.(string); ok { // nil: expired in between
				out = append(out, ClusterStream{Stream: strings.TrimPrefix(keys[i], prefix), Origin: s})
			}
		}
	}
	slices.SortFunc(out, func(a, b ClusterStream) int { return strings.Compare(a.Stream, b.Stream) })
	return out, nil
}
