package cluster

import (
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"

	"github.com/mediaserver/mediaserver/stream"
)

// ForwardedHeader marks a request one node forwarded to another; it is
// never forwarded again (no loops when two nodes disagree on the owner).
const ForwardedHeader = "X-Mediaserver-Forwarded"

// HLSProxy returns a handler that serves HLS requests (playlists, init
// sections, segments and parts: /{app}/{name}.m3u8 and /{app}/{name}/…)
// of streams another node owns by forwarding them to that node, and
// everything else with next. HLS is produced by the owning origin only, so
// every node, and a cache in front of any of them, sees one set of
// playlists and segment names; forwarding rather than redirecting keeps the
// cache in the path (a redirect would send viewers around it). An origin
// serves the streams live on it itself; an edge forwards all HLS.
func (n *Node) HLSProxy(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, ok := hlsStreamKey(r.URL.Path)
		if !ok || r.Header.Get(ForwardedHeader) != "" {
			next.ServeHTTP(w, r)
			return
		}
		if _, live := n.hub.Lookup(key); live && n.cfg.Role == RoleOrigin {
			next.ServeHTTP(w, r)
			return
		}
		owner, err := n.Owner(r.Context(), key)
		if err != nil || owner == trimBase(n.cfg.Advertise) {
			next.ServeHTTP(w, r)
			return
		}
		target, err := url.Parse(owner)
		if err != nil {
			next.ServeHTTP(w, r)
			return
		}
		n.proxyTo(target).ServeHTTP(w, r)
	})
}

// proxyTo returns a reverse proxy to an owner's base URL.
func (n *Node) proxyTo(target *url.URL) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = target.Host
			pr.Out.Header.Set(ForwardedHeader, "1")
			pr.SetXForwarded()
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			n.log.Warn("forward HLS request to its origin", "url", r.URL.Path, "origin", target.String(), "err", err)
			w.Header().Set("Cache-Control", "no-store")
			http.Error(w, "origin unreachable", http.StatusBadGateway)
		},
	}
}

// hlsStreamKey returns the stream an HLS request path names.
func hlsStreamKey(path string) (stream.Key, bool) {
	parts := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 3)
	switch {
	case len(parts) == 2 && strings.HasSuffix(parts[1], ".m3u8"):
		return stream.Key{App: parts[0], Name: strings.TrimSuffix(parts[1], ".m3u8")}, parts[0] != ""
	case len(parts) == 3 && parts[0] != "" && parts[1] != "" && parts[2] != "":
		return stream.Key{App: parts[0], Name: parts[1]}, true
	}
	return stream.Key{}, false
}
