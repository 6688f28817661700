package clustertest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/api"
	"github.com/mediaserver/mediaserver/cluster"
	"github.com/mediaserver/mediaserver/internal/server"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

// flvViewer reads an HTTP-FLV URL until ctx ends, counting the bytes.
type flvViewer struct {
	bytes atomic.Int64
	done  chan error
}

func watch(ctx context.Context, url string) *flvViewer {
	v := &flvViewer{done: make(chan error, 1)}
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			v.done <- err
			return
		}
		defer resp.Body.Close()
		buf := make([]byte, 32<<10)
		for {
			n, err := resp.Body.Read(buf)
			v.bytes.Add(int64(n))
			if err != nil {
				if ctx.Err() != nil {
					err = nil
				}
				v.done <- err
				return
			}
		}
	}()
	return v
}

// streamViewers returns the viewers of live/show that a server's API
// reports.
func streamViewers(t *testing.T, srv *server.Server) (flv int) {
	t.Helper()
	resp, err := http.Get("http://" + srv.HTTPAddr() + api.BasePath + "/streams/live/show")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Viewers struct {
			FLV int `json:"flv"`
		} `json:"viewers"`
	}
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, &doc); err != nil {
		return -1
	}
	return doc.Viewers.FLV
}

// TestEdgesPullOnceFromTheOwningOrigin: two origins, two edges, one Redis.
// ffmpeg publishes to origin A; HTTP-FLV viewers on both edges play it
// (ffprobe decodes it through an edge); A's API shows exactly one viewer
// per edge however many watch there; a second publisher of the name on
// origin B is refused.
func TestEdgesPullOnceFromTheOwningOrigin(t *testing.T) {
	redis := testenv.StartRedis(t)
	a := startNode(t, cluster.RoleOrigin, redis.URL(), nil)
	b := startNode(t, cluster.RoleOrigin, redis.URL(), nil)
	idle := func(c *server.Config) { c.Relay.IdleTimeout = 2 * time.Second }
	e1 := startNode(t, cluster.RoleEdge, redis.URL(), idle)
	e2 := startNode(t, cluster.RoleEdge, redis.URL(), idle)

	src := testenv.Source{FPS: 25, Duration: 90 * time.Second}
	testenv.Publish(t, "rtmp://"+a.RTMPAddr()+"/live/show", src)
	testenv.WaitFor(t, 20*time.Second, "the stream live on A", func() bool {
		st, ok := a.Hub().Lookup(stream.Key{App: "live", Name: "show"})
		return ok && st.Stats().Keyframes > 0
	})

	probe, err := testenv.FFprobe(t, "http://"+e1.HTTPAddr()+"/live/show.flv", 20*time.Second)
	if err != nil || probe.Video() == nil || probe.Audio() == nil {
		t.Fatalf("ffprobe through edge 1: %v %+v", err, probe)
	}
	ctx, cancel := context.WithCancel(context.Background())
	viewers := []*flvViewer{
		watch(ctx, "http://"+e1.HTTPAddr()+"/live/show.flv"),
		watch(ctx, "http://"+e1.HTTPAddr()+"/live/show.flv"),
		watch(ctx, "http://"+e2.HTTPAddr()+"/live/show.flv"),
	}
	testenv.WaitFor(t, 20*time.Second, "every edge viewer playing", func() bool {
		for _, v := range viewers {
			if v.bytes.Load() < 100<<10 {
				return false
			}
		}
		return true
	})
	if n := streamViewers(t, a); n != 2 {
		t.Errorf("origin A counts %d HTTP-FLV viewers, want 2 (one per edge)", n)
	}
	second := testenv.Publish(t, "rtmp://"+b.RTMPAddr()+"/live/show", src)
	if exited, _ := second.Wait(20 * time.Second); !exited {
		t.Error("a second publisher on origin B was not refused")
	}
	cancel()
	for _, v := range viewers {
		if err := <-v.done; err != nil {
			t.Errorf("viewer: %v", err)
		}
	}
	// The edges stop pulling after relay.idle_timeout.
	testenv.WaitFor(t, 15*time.Second, "the edges to stop pulling", func() bool { return streamViewers(t, a) == 0 })
}

// TestRedisOutageKeepsEdgesServingWhatTheyPull: with a stream pulled to an
// edge, Redis stops: the edge's viewer plays on, a new viewer of that
// stream on the edge still plays (ffprobe decodes it), and the edge's
// health says degraded.
func TestRedisOutageKeepsEdgesServingWhatTheyPull(t *testing.T) {
	redis := testenv.StartRedis(t)
	a := startNode(t, cluster.RoleOrigin, redis.URL(), nil)
	edge := startNode(t, cluster.RoleEdge, redis.URL(), nil)
	testenv.Publish(t, "rtmp://"+a.RTMPAddr()+"/live/show", testenv.Source{FPS: 25, Duration: 90 * time.Second})
	testenv.WaitFor(t, 20*time.Second, "the stream live on A", func() bool {
		st, ok := a.Hub().Lookup(stream.Key{App: "live", Name: "show"})
		return ok && st.Stats().Keyframes > 0
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url := "http://" + edge.HTTPAddr() + "/live/show.flv"
	v := watch(ctx, url)
	testenv.WaitFor(t, 20*time.Second, "the edge viewer playing", func() bool { return v.bytes.Load() > 100<<10 })

	redis.Stop()
	testenv.WaitFor(t, 15*time.Second, "the edge to report degraded", func() bool {
		resp, err := http.Get("http://" + edge.HTTPAddr() + "/healthz")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var h map[string]string
		return json.NewDecoder(resp.Body).Decode(&h) == nil && resp.StatusCode == http.StatusOK && h["status"] == "degraded"
	})
	before := v.bytes.Load()
	probe, err := testenv.FFprobe(t, url, 20*time.Second)
	if err != nil || probe.Video() == nil || probe.Audio() == nil {
		t.Fatalf("a new viewer during the outage: %v %+v", err, probe)
	}
	testenv.WaitFor(t, 10*time.Second, "the first viewer to go on", func() bool { return v.bytes.Load() > before+100<<10 })
	select {
	case err := <-v.done:
		t.Fatalf("the edge viewer was disconnected: %v", err)
	default:
	}
}
