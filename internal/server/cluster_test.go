package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/api"
	"github.com/mediaserver/mediaserver/cluster"
	"github.com/mediaserver/mediaserver/internal/server"
	"github.com/mediaserver/mediaserver/internal/servertest"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

// getJSON fetches url and decodes its JSON body into v.
func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	return resp.StatusCode
}

// TestSecondOriginRefusesANameLiveOnTheFirst: two origins share one Redis;
// ffmpeg publishes live/show to A; a second ffmpeg publishing live/show to
// B is refused as a second publisher on one server is, and the cluster API
// of either lists the stream on A. When Redis goes away the nodes say they
// are degraded, and A's stream plays on.
func TestSecondOriginRefusesANameLiveOnTheFirst(t *testing.T) {
	redis := testenv.StartRedis(t)
	origin := func(advertise string) *server.Server {
		return servertest.Start(t, func(c *server.Config) {
			c.Cluster = cluster.Config{Role: cluster.RoleOrigin, Redis: redis.URL(), Advertise: advertise, ClaimTTL: 2 * time.Second}
		})
	}
	a, b := origin("http://origin-a.test:8080"), origin("http://origin-b.test:8080")
	key := stream.Key{App: "live", Name: "show"}
	src := testenv.Source{FPS: 25, Duration: 60 * time.Second}
	testenv.Publish(t, "rtmp://"+a.RTMPAddr()+"/live/show", src)
	testenv.WaitFor(t, 20*time.Second, "the stream live on A", func() bool {
		st, ok := a.Hub().Lookup(key)
		return ok && st.Stats().Keyframes > 0
	})

	second := testenv.Publish(t, "rtmp://"+b.RTMPAddr()+"/live/show", src)
	if exited, _ := second.Wait(20 * time.Second); !exited {
		t.Fatal("the second publisher was not refused")
	}
	if out := second.Output(); !strings.Contains(out, "already being published") {
		t.Errorf("the second publisher was not told why:\n%s", out)
	}
	if _, ok := b.Hub().Lookup(key); ok {
		t.Error("live/show went live on B too")
	}
	for _, srv := range []*server.Server{a, b} {
		var info api.ClusterInfo
		if code := getJSON(t, "http://"+srv.HTTPAddr()+api.BasePath+"/cluster", &info); code != http.StatusOK ||
			info.Redis != "ok" || len(info.Streams) != 1 || info.Streams[0].Stream != "live/show" ||
			info.Streams[0].Origin != "http://origin-a.test:8080" {
			t.Errorf("cluster seen from %s: %d %+v", srv.HTTPAddr(), code, info)
		}
	}

	redis.Stop()
	testenv.WaitFor(t, 10*time.Second, "A to report degraded", func() bool {
		var h map[string]string
		return getJSON(t, "http://"+a.HTTPAddr()+"/healthz", &h) == http.StatusOK && h["status"] == "degraded"
	})
	st, ok := a.Hub().Lookup(key)
	if !ok {
		t.Fatal("the stream ended with Redis")
	}
	frames := st.Stats().FramesIn
	testenv.WaitFor(t, 10*time.Second, "frames during the outage", func() bool { return st.Stats().FramesIn > frames+25 })
}
