package clustertest

import (
	"context"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/cluster"
	"github.com/mediaserver/mediaserver/internal/server"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

// startOriginProcess runs the mediaserver binary as an origin, so that the
// test can kill the process.
func startOriginProcess(t *testing.T, redisURL string) *testenv.ServerProcess {
	t.Helper()
	httpAddr := freeAddr(t)
	return testenv.StartServer(t, testenv.BuildServer(t, "../../cmd/mediaserver"), []string{
		"MEDIASERVER_CLUSTER_ROLE=origin", "MEDIASERVER_CLUSTER_REDIS=" + redisURL,
		"MEDIASERVER_CLUSTER_ADVERTISE=http://" + httpAddr, "MEDIASERVER_CLUSTER_CLAIM_TTL=3s",
	}, "-rtmp-addr", "127.0.0.1:0", "-http-addr", httpAddr)
}

// TestEdgeViewersSurviveTheirOriginDying: origin A is a real process; an
// HTTP-FLV viewer watches through an edge. A is killed (SIGKILL: no claim
// released); its claim expires within the TTL; the publisher comes back on
// origin B (refused there until then); the edge finds the stream on B and
// its viewer goes on playing on the same connection.
func TestEdgeViewersSurviveTheirOriginDying(t *testing.T) {
	redis := testenv.StartRedis(t)
	a := startOriginProcess(t, redis.URL())
	b := startNode(t, cluster.RoleOrigin, redis.URL(), nil)
	edge := startNode(t, cluster.RoleEdge, redis.URL(), func(c *server.Config) {
		c.Relay.RetryDelay, c.Relay.RetryMaxDelay = 250*time.Millisecond, time.Second
	})
	src := testenv.Source{FPS: 25, Duration: 90 * time.Second}
	first := testenv.Publish(t, "rtmp://"+a.RTMPAddr+"/live/show", src)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var viewer *flvViewer
	testenv.WaitFor(t, 30*time.Second, "the edge viewer playing", func() bool {
		if viewer == nil || len(viewer.done) > 0 {
			viewer = watch(ctx, "http://"+edge.HTTPAddr()+"/live/show.flv")
			time.Sleep(500 * time.Millisecond)
		}
		return viewer.bytes.Load() > 100<<10
	})

	if err := a.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	first.Kill()
	// The encoder reconnects, to origin B this time, until B takes it.
	key := stream.Key{App: "live", Name: "show"}
	var second *testenv.Process
	testenv.WaitFor(t, 20*time.Second, "origin B to take the publisher", func() bool {
		if second == nil || isDone(second) {
			second = testenv.Publish(t, "rtmp://"+b.RTMPAddr()+"/live/show", src)
		}
		st, ok := b.Hub().Lookup(key)
		return ok && st.Stats().Keyframes > 0
	})
	t.Logf("publisher live on origin B %v after origin A died", time.Since(killed).Round(100*time.Millisecond))
	before := viewer.bytes.Load()
	testenv.WaitFor(t, 20*time.Second, "the edge viewer to receive media from origin B", func() bool {
		return viewer.bytes.Load() > before+200<<10
	})
	select {
	case err := <-viewer.done:
		t.Fatalf("the edge viewer was disconnected: %v", err)
	default:
	}
}

// isDone reports whether a process exited.
func isDone(p *testenv.Process) bool {
	select {
	case <-p.Done():
		return true
	default:
		return false
	}
}
