package clustertest

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/cluster"
	"github.com/mediaserver/mediaserver/internal/server"
	"github.com/mediaserver/mediaserver/internal/servertest"
	"github.com/mediaserver/mediaserver/internal/testenv"
)

// freeAddr returns a loopback address nothing listens on right now: a node
// must know the address it advertises before it starts.
func freeAddr(t *testing.T) string {
	t.Helper()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(testenv.FreePort(t)))
}

// startNode starts a cluster node with the given role on Redis at redisURL.
func startNode(t *testing.T, role cluster.Role, redisURL string, edit func(*server.Config)) *server.Server {
	t.Helper()
	addr := freeAddr(t)
	return servertest.Start(t, func(c *server.Config) {
		c.HTTP.Addr = addr
		c.Cluster = cluster.Config{Role: role, Redis: redisURL, Advertise: "http://" + addr, ClaimTTL: 3 * time.Second}
		if edit != nil {
			edit(c)
		}
	})
}

// countingProxy stands between nginx and an origin and counts the requests
// that reach the origin, per request URI.
type countingProxy struct {
	srv *httptest.Server
	mu  sync.Mutex
	n   map[string]int
}

func newCountingProxy(t *testing.T, origin string) *countingProxy {
	t.Helper()
	target, err := url.Parse("http://" + origin)
	if err != nil {
		t.Fatal(err)
	}
	p := &countingProxy{n: make(map[string]int)}
	rp := httputil.NewSingleHostReverseProxy(target)
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.n[r.URL.RequestURI()]++
		p.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// addr returns the proxy's host:port.
func (p *countingProxy) addr() string { return p.srv.Listener.Addr().String() }

// counts returns a copy of the counts.
func (p *countingProxy) counts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.n))
	for k, v := range p.n {
		out[k] = v
	}
	return out
}
