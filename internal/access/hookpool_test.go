package access

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

// TestHangingPlayHookDoesNotStarvePublishers pins the slow hook
// starvation: 500 HLS playlist requests, each with a new query so that
// the play cache never answers, hang on an on_play hook that does not
// answer, and publishers must still be asked and accepted before they give
// up, because on_play calls never take on_publish's slots.
func TestHangingPlayHookDoesNotStarvePublishers(t *testing.T) {
	play := newHookServer(t, 200, "").blocking()
	defer play.unblock()
	publish := newHookServer(t, 200, "")
	c := newChecker(t, Config{OnPlay: play.URL, OnPublish: publish.URL, HookTimeout: 30 * time.Second})

	const viewers = 500
	var wg sync.WaitGroup
	defer wg.Wait()
	defer play.unblock() // before the wait above: release the viewers
	for i := range viewers {
		wg.Go(func() {
			req := playReq("hls", "live", "cam", fmt.Sprintf("203.0.113.7:%d", 1024+i))
			req.Query = fmt.Sprintf("nocache=%d", i)
			_ = c.Authorize(context.Background(), req)
		})
	}
	testenv.WaitFor(t, 20*time.Second, "every on_play slot taken", func() bool {
		return play.maxInFlight() >= DefaultMaxConcurrentHooks
	})

	// A publisher's session gives up well before the hanging calls time
	// out, as an encoder's connection setup would.
	for i := range 5 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := c.Authorize(ctx, publishReq("live", fmt.Sprintf("cam%d", i)))
		cancel()
		if err != nil {
			t.Fatalf("publisher %d refused while viewers hang on on_play: %v", i, err)
		}
	}
	if n := publish.count(); n != 5 {
		t.Fatalf("on_publish asked %d times, want 5", n)
	}
	if n := play.maxInFlight(); n > DefaultMaxConcurrentHooks {
		t.Fatalf("%d on_play calls at once, limit %d", n, DefaultMaxConcurrentHooks)
	}
}

// TestPlayPoolHasItsOwnSizeAndTimeout: the play pool's size and time
// bound are set apart from the publish pool's.
func TestPlayPoolHasItsOwnSizeAndTimeout(t *testing.T) {
	play := newHookServer(t, 200, "").blocking()
	defer play.unblock()
	c := newChecker(t, Config{OnPlay: play.URL, MaxConcurrentPlayHooks: 1,
		PlayHookTimeout: 200 * time.Millisecond, PublishHookTimeout: time.Minute})
	err := c.Authorize(context.Background(), playReq("flv", "live", "cam", "192.0.2.1:1"))
	if err == nil || !errors.Is(err, ErrHookFailed) || err.Error() != "on_play hook did not answer within 200ms" {
		t.Fatalf("err %v", err)
	}
	if cfg := c.cfg; cap(c.playHooks.slots) != 1 || cap(c.publishHooks.slots) != DefaultMaxConcurrentHooks ||
		cfg.PublishHookTimeout != time.Minute {
		t.Fatalf("pools %d/%d, config %+v", cap(c.playHooks.slots), cap(c.publishHooks.slots), cfg)
	}
}

// TestPlayCacheFloodKeepsKnownClients pins the play cache that a flood of
// new queries emptied: a viewer that keeps coming back stays cached while
// one other client sends more distinct queries than the cache holds, and
// the cache never holds more than its bound.
func TestPlayCacheFloodKeepsKnownClients(t *testing.T) {
	// More requests than newHookServer records: count them only.
	var asked atomic.Int64
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		asked.Add(1)
	}))
	t.Cleanup(hook.Close)
	c := newChecker(t, Config{OnPlay: hook.URL})
	viewer := playReq("hls", "live", "cam", "198.51.100.1:1000")
	ask := func(req stream.AccessRequest) {
		t.Helper()
		if err := c.Authorize(context.Background(), req); err != nil {
			t.Fatal(err)
		}
	}
	ask(viewer)
	const flood = DefaultPlayCacheEntries + 200
	for i := range flood {
		req := playReq("hls", "live", "cam", "203.0.113.9:2000")
		req.Query = fmt.Sprintf("n=%d", i)
		ask(req)
		if i%100 == 0 {
			ask(viewer)
		}
	}
	ask(viewer)
	if n := asked.Load(); n != flood+1 {
		t.Fatalf("on_play asked %d times, want %d: the returning viewer was forgotten", n, flood+1)
	}
	if n := c.playCache.len(); n > DefaultPlayCacheEntries {
		t.Fatalf("play cache holds %d entries, bound %d", n, DefaultPlayCacheEntries)
	}
	st := c.Stats()
	if st.PlayCacheMisses != flood+1 || st.PlayCacheHits != flood/100+2 {
		t.Fatalf("cache hits %d, misses %d; want %d and %d", st.PlayCacheHits, st.PlayCacheMisses, flood/100+2, flood+1)
	}
}

// TestPlayCacheEvictsLeastRecentlyUsed: a full cache forgets the entry
// used longest ago, and only that one.
func TestPlayCacheEvictsLeastRecentlyUsed(t *testing.T) {
	hook := newHookServer(t, 200, "")
	c := newChecker(t, Config{OnPlay: hook.URL, PlayCacheEntries: 2})
	ask := func(query string) {
		t.Helper()
		req := playReq("hls", "live", "cam", "198.51.100.1:1000")
		req.Query = query
		if err := c.Authorize(context.Background(), req); err != nil {
			t.Fatal(err)
		}
	}
	ask("a")
	ask("b")
	ask("a") // hit; b is now the least recently used
	ask("c") // evicts b
	ask("a") // hit
	if n := hook.count(); n != 3 {
		t.Fatalf("on_play asked %d times, want 3", n)
	}
	ask("b")
	if n := hook.count(); n != 4 {
		t.Fatalf("on_play asked %d times, want 4 (b was evicted)", n)
	}
	if n := c.playCache.len(); n != 2 {
		t.Fatalf("cache holds %d entries, bound 2", n)
	}
}

// TestRefusingHookBodyNotEchoed pins the hook answer echoed to clients: a
// refusing hook's body stays out of the refusal a client sees (it is kept
// for the log) unless expose_hook_reason is set.
func TestRefusingHookBodyNotEchoed(t *testing.T) {
	const body = "user 4711 banned by rule internal-fraud-7"
	for _, expose := range []bool{false, true} {
		hook := newHookServer(t, 403, body)
		c := newChecker(t, Config{OnPlay: hook.URL, ExposeHookReason: expose})
		err := c.Authorize(context.Background(), playReq("flv", "live", "cam", "192.0.2.1:1"))
		if !errors.Is(err, ErrHookRefused) {
			t.Fatalf("expose %v: err %v", expose, err)
		}
		if !strings.Contains(causeOf(err).Error(), body) {
			t.Fatalf("expose %v: the logged cause %q lacks the hook's body", expose, causeOf(err))
		}
		want := "on_play hook answered 403"
		if expose {
			want += ": " + body
		}
		if err.Error() != want {
			t.Fatalf("expose %v: client sees %q, want %q", expose, err.Error(), want)
		}
	}
}
