package cluster

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

// testOrigin is a registry with a cluster node observing it.
type testOrigin struct {
	hub  *stream.Registry
	node *Node
}

func newTestNode(t *testing.T, redisURL string, role Role, advertise string, ttl time.Duration) testOrigin {
	t.Helper()
	hub, err := stream.NewRegistry(stream.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hub.Close)
	n, err := NewNode(Config{Role: role, Redis: redisURL, Advertise: advertise, ClaimTTL: ttl}, hub,
		testenv.TestLogger(t, -4))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	hub.AddObserver(n)
	return testOrigin{hub: hub, node: n}
}

// publish claims key on o and publishes it there, as the RTMP server does
// through PublishGate.
func (o testOrigin) publish(t *testing.T, key stream.Key) (*stream.Publisher, error) {
	t.Helper()
	if err := o.node.Claim(context.Background(), key); err != nil {
		return nil, err
	}
	return o.hub.Publish(key, stream.PublisherInfo{ID: "p-" + key.Name, Protocol: stream.ProtocolRTMP, RemoteAddr: "127.0.0.1:1"})
}

func TestNameIsLiveOnAtMostOneOrigin(t *testing.T) {
	testenv.CheckGoroutines(t)
	r := testenv.StartRedis(t)
	a := newTestNode(t, r.URL(), RoleOrigin, "http://origin-a:8080", 3*time.Second)
	b := newTestNode(t, r.URL(), RoleOrigin, "http://origin-b:8080", 3*time.Second)
	key := stream.Key{App: "live", Name: "show"}

	pub, err := a.publish(t, key)
	if err != nil {
		t.Fatalf("publish on A: %v", err)
	}
	if _, err := b.publish(t, key); !errors.Is(err, stream.ErrStreamBusy) || !strings.Contains(err.Error(), "origin-a") {
		t.Fatalf("publish on B: %v, want ErrStreamBusy naming origin A", err)
	}
	if owner, err := b.node.Owner(context.Background(), key); err != nil || owner != "http://origin-a:8080" {
		t.Fatalf("owner seen from B: %q %v", owner, err)
	}
	list, err := b.node.Streams(context.Background())
	if err != nil || len(list) != 1 || list[0] != (ClusterStream{Stream: "live/show", Origin: "http://origin-a:8080"}) {
		t.Fatalf("cluster streams from B: %+v %v", list, err)
	}
	// The claim outlives its TTL while the stream is live: it is refreshed.
	time.Sleep(4 * time.Second)
	if _, err := b.node.Owner(context.Background(), key); err != nil {
		t.Fatalf("claim not refreshed: %v", err)
	}
	// The stream ends: the claim goes, and B may publish the name.
	pub.End()
	testenv.WaitFor(t, 5*time.Second, "claim released", func() bool {
		_, err := b.node.Owner(context.Background(), key)
		return errors.Is(err, ErrNotLive)
	})
	if p, err := b.publish(t, key); err != nil {
		t.Fatalf("publish on B after A ended: %v", err)
	} else {
		p.End()
	}
}

func TestClaimOfAVanishedOriginExpiresWithinTTL(t *testing.T) {
	r := testenv.StartRedis(t)
	key := stream.Key{App: "live", Name: "crash"}
	// A crash: the claim is written and never refreshed nor released.
	if out, err := r.Cmd("SET", "mediaserver:stream:live/crash", "http://origin-a:8080", "PX", "2000"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	b := newTestNode(t, r.URL(), RoleOrigin, "http://origin-b:8080", 2*time.Second)
	if _, err := b.publish(t, key); !errors.Is(err, stream.ErrStreamBusy) {
		t.Fatalf("publish while A's claim lives: %v", err)
	}
	testenv.WaitFor(t, 5*time.Second, "A's claim to expire", func() bool {
		_, err := b.node.Owner(context.Background(), key)
		return errors.Is(err, ErrNotLive)
	})
	p, err := b.publish(t, key)
	if err != nil {
		t.Fatalf("publish after the TTL: %v", err)
	}
	p.End()
}

func TestRedisOutageDegradesAndKeepsOwnersKnown(t *testing.T) {
	r := testenv.StartRedis(t)
	a := newTestNode(t, r.URL(), RoleOrigin, "http://origin-a:8080", time.Second)
	edge := newTestNode(t, r.URL(), RoleEdge, "", time.Second)
	key := stream.Key{App: "live", Name: "x"}
	pub, err := a.publish(t, key)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.End()
	if owner, err := edge.node.Owner(context.Background(), key); err != nil || owner != "http://origin-a:8080" {
		t.Fatalf("owner: %q %v", owner, err)
	}
	r.Stop()
	testenv.WaitFor(t, 10*time.Second, "edge to report degraded", func() bool { return errors.Is(edge.node.Health(), ErrDegraded) })
	if owner, err := edge.node.Owner(context.Background(), key); err != nil || owner != "http://origin-a:8080" {
		t.Fatalf("owner during the outage: %q %v, want the one known", owner, err)
	}
	// An origin still takes publishers during the outage, and claims them
	// once Redis is back.
	other := stream.Key{App: "live", Name: "during-outage"}
	p2, err := a.publish(t, other)
	if err != nil {
		t.Fatalf("publish during the outage: %v", err)
	}
	defer p2.End()
	r.Start()
	testenv.WaitFor(t, 10*time.Second, "claim after the outage", func() bool {
		owner, err := edge.node.Owner(context.Background(), other)
		return err == nil && owner == "http://origin-a:8080"
	})
	testenv.WaitFor(t, 10*time.Second, "edge healthy again", func() bool { return edge.node.Health() == nil })
}

func TestHLSProxyForwardsToTheOwningOrigin(t *testing.T) {
	r := testenv.StartRedis(t)
	var got *http.Request
	owner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		got = req
		w.Header().Set("Cache-Control", "public, max-age=60, immutable")
		_, _ = io.WriteString(w, "segment bytes")
	}))
	defer owner.Close()
	a := newTestNode(t, r.URL(), RoleOrigin, owner.URL, 3*time.Second)
	edge := newTestNode(t, r.URL(), RoleEdge, "", 3*time.Second)
	key := stream.Key{App: "live", Name: "x"}
	pub, err := a.publish(t, key)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.End()
	local := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "local", http.StatusNotFound) })
	h := edge.node.HLSProxy(local)
	for _, c := range []struct {
		path, want string
		forwarded  bool
	}{
		{"/live/x/abc-1.m4s?token=t", "segment bytes", true},
		{"/live/x.m3u8?_HLS_msn=3", "segment bytes", true},
		{"/live/other.m3u8", "local\n", false}, // not live anywhere
	} {
		got = nil
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, c.path, nil))
		if rec.Body.String() != c.want || (got != nil) != c.forwarded {
			t.Errorf("%s: body %q forwarded %v, want %q %v", c.path, rec.Body.String(), got != nil, c.want, c.forwarded)
		}
		if got != nil && (got.URL.RequestURI() != c.path || got.Header.Get(ForwardedHeader) == "") {
			t.Errorf("%s: origin saw %q headers %v", c.path, got.URL.RequestURI(), got.Header)
		}
		if c.forwarded && rec.Header().Get("Cache-Control") != "public, max-age=60, immutable" {
			t.Errorf("%s: origin's caching headers lost: %v", c.path, rec.Header())
		}
	}
	// A forwarded request is never forwarded again.
	req := httptest.NewRequest(http.MethodGet, "/live/x.m3u8", nil)
	req.Header.Set(ForwardedHeader, "http://edge")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound {
		t.Errorf("forwarded request: status %d, want the local answer", rec.Code)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []struct {
		cfg Config
		ok  bool
	}{
		{Config{}, true},
		{Config{Role: RoleOrigin, Redis: "redis://127.0.0.1:6379", Advertise: "http://a:8080"}, true},
		{Config{Role: RoleEdge, Redis: "redis://127.0.0.1:6379"}, true},
		{Config{Role: RoleOrigin, Redis: "redis://127.0.0.1:6379"}, false},                               // no advertise
		{Config{Role: RoleOrigin, Redis: "redis://127.0.0.1:6379", Advertise: "origin-a:8080"}, false},   // not a URL
		{Config{Role: RoleOrigin, Redis: "redis://127.0.0.1:6379", Advertise: "http://a:8080/x"}, false}, // a path
		{Config{Role: RoleEdge, Redis: "tcp://127.0.0.1"}, false},
		{Config{Role: "leader", Redis: "redis://127.0.0.1:6379"}, false},
		{Config{Role: RoleEdge, Redis: "redis://127.0.0.1:6379", ClaimTTL: time.Millisecond}, false},
	} {
		err := c.cfg.WithDefaults().Validate()
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrInvalidConfig)) {
			t.Errorf("%+v: %v, want ok %v", c.cfg, err, c.ok)
		}
	}
}
