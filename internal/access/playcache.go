package access

import (
	"container/list"
	"sync"
	"time"

	"github.com/mediaserver/mediaserver/stream"
)

// playCacheKey is what the on_play hook sees of an HLS client's request,
// less what changes from one request of the same client to the next (the
// remote port, the session ID): the stream, the query and the remote host.
type playCacheKey struct {
	key   stream.Key
	query string
	host  string
}

// playCacheEntry is a remembered on_play answer.
type playCacheEntry struct {
	key     playCacheKey
	err     error
	expires time.Time
}

// playCache remembers on_play answers for HLS clients, at most max
// entries: when full, the least recently used entry makes room, so a flood
// of new queries can neither grow it nor empty it at once. It is safe for
// concurrent use.
type playCache struct {
	max int

	mu      sync.Mutex
	entries map[playCacheKey]*list.Element // of *playCacheEntry
	order   list.List                      // most recently used first
}

// newPlayCache returns an empty cache of at most max entries.
func newPlayCache(max int) *playCache {
	return &playCache{max: max, entries: make(map[playCacheKey]*list.Element)}
}

// get returns the entry remembered for k when it has not expired at now.
func (c *playCache) get(k playCacheKey, now time.Time) (playCacheEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, found := c.entries[k]
	if !found {
		return playCacheEntry{}, false
	}
	e := el.Value.(*playCacheEntry)
	if !now.Before(e.expires) {
		c.order.Remove(el)
		delete(c.entries, k)
		return playCacheEntry{}, false
	}
	c.order.MoveToFront(el)
	return *e, true
}

// put remembers err for k until expires, evicting the least recently used
// entry when the cache is full.
func (c *playCache) put(k playCacheKey, err error, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, found := c.entries[k]; found {
		e := el.Value.(*playCacheEntry)
		e.err, e.expires = err, expires
		c.order.MoveToFront(el)
		return
	}
	for c.order.Len() >= c.max {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.entries, oldest.Value.(*playCacheEntry).key)
	}
	c.entries[k] = c.order.PushFront(&playCacheEntry{key: k, err: err, expires: expires})
}

// len returns the number of entries held.
func (c *playCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
