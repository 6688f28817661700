package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/access"
	"github.com/mediaserver/mediaserver/internal/server"
	"github.com/mediaserver/mediaserver/internal/servertest"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

// TestSlowPlayHookStarvesPublishers pins the slow hook starvation: while
// 500 HLS playlist requests, each with its own query, hang on an on_play
// hook that does not answer, five ffmpeg publishers are still asked
// on_publish and go live, long before the hanging calls time out.
func TestSlowPlayHookStarvesPublishers(t *testing.T) {
	release := make(chan struct{})
	var playInFlight atomic.Int64
	play := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		playInFlight.Add(1)
		defer playInFlight.Add(-1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(play.Close)
	var publishAsked atomic.Int64
	publish := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		publishAsked.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(publish.Close)

	srv := servertest.Start(t, func(c *server.Config) {
		c.Access.OnPlay, c.Access.OnPublish = play.URL, publish.URL
		// Far beyond the waits below: a publisher behind the hanging
		// calls is not let in within the test.
		c.Access.HookTimeout = 2 * time.Minute
		c.HTTP.MaxConnsPerIP = -1 // the 500 requests come from one address
	})

	const viewers = 500
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: -1}}
	defer client.CloseIdleConnections()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(release) // before the wait above: the viewers are let go
	for i := range viewers {
		wg.Go(func() {
			url := fmt.Sprintf("http://%s/live/cam%d.m3u8?nocache=%d", srv.HTTPAddr(), i, i)
			resp, err := client.Get(url)
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	testenv.WaitFor(t, 30*time.Second, "every on_play slot taken", func() bool {
		return playInFlight.Load() >= access.DefaultMaxConcurrentHooks
	})

	const publishers = 5
	for i := range publishers {
		url := fmt.Sprintf("rtmp://%s/live/pub%d", srv.RTMPAddr(), i)
		testenv.Publish(t, url, testenv.Source{Width: 320, Height: 180, FPS: 15})
	}
	testenv.WaitFor(t, 30*time.Second, "every publisher live", func() bool {
		for i := range publishers {
			if _, ok := srv.Hub().Lookup(stream.Key{App: "live", Name: fmt.Sprintf("pub%d", i)}); !ok {
				return false
			}
		}
		return true
	})
	if n := publishAsked.Load(); n < publishers {
		t.Fatalf("on_publish asked %d times for %d publishers", n, publishers)
	}
	if n := playInFlight.Load(); n > access.DefaultMaxConcurrentHooks {
		t.Fatalf("%d on_play calls at once, limit %d", n, access.DefaultMaxConcurrentHooks)
	}
	// Every playlist request missed the play cache, and the API says so.
	resp, err := http.Get("http://" + srv.HTTPAddr() + "/api/v1/server")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Counters map[string]uint64 `json:"counters"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.Counters["play_cache_misses"] < access.DefaultMaxConcurrentHooks || doc.Counters["play_cache_hits"] != 0 {
		t.Fatalf("play cache counters %v, want at least %d misses and no hit", doc.Counters, access.DefaultMaxConcurrentHooks)
	}
}
