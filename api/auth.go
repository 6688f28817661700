package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
)

// forbiddenMessage tells a remote client without a configured token how to
// get access.
const forbiddenMessage = "no API token is configured, so the API answers only loopback clients; " +
	"set api.token in the configuration file or MEDIASERVER_API_TOKEN in the environment, " +
	"then send \"Authorization: Bearer <token>\""

// hostMessage tells a client whose Host header is not allowed why it was
// refused: a page on another name that resolves to this machine (DNS
// rebinding) must not reach the admin surface.
const hostMessage = "no API token is configured, so the admin surface answers only requests addressed to " +
	"localhost, a loopback address or a name listed in api.allowed_hosts; Host %q is none of them"

// Refusal reasons of the admin surface, as counted by Guard.Refusals (the
// "reason" label of mediaserver_admin_refusals_total).
const (
	// RefusedTokenMissing: a token is configured and the request has none.
	RefusedTokenMissing = "token_missing"
	// RefusedTokenInvalid: the request's bearer token is wrong.
	RefusedTokenInvalid = "token_invalid"
	// RefusedNotLocal: no token is configured and the client is not on a
	// loopback address.
	RefusedNotLocal = "not_local"
	// RefusedHost: no token is configured and the Host header is not
	// allowed.
	RefusedHost = "host_not_allowed"
	// RefusedCrossOrigin: a state-changing request came from a page of
	// another origin.
	RefusedCrossOrigin = "cross_origin"
	// RefusedNotJSON: a state-changing request's body is not JSON.
	RefusedNotJSON = "not_json"
)

// refusalReasons lists every reason, in the order of Guard's counters.
var refusalReasons = [...]string{
	RefusedTokenMissing, RefusedTokenInvalid, RefusedNotLocal, RefusedHost, RefusedCrossOrigin, RefusedNotJSON,
}

// LogLimiter logs an event at most once per interval and key, and tells in
// the next line it logs how many it left out. *conns.LogLimiter is one.
type LogLimiter interface {
	// Warn logs msg with args at warning level unless key was logged
	// recently.
	Warn(log *slog.Logger, key, msg string, args ...any)
}

// Guard closes the admin surface (the API, the dashboard, /metrics and
// the profiler) to whoever should not reach it:
//
//   - with a token, requests must carry it as a bearer token;
//   - without one, only loopback clients are served, and only when their
//     Host header names this machine (localhost, a loopback address) or one
//     of Config.AllowedHosts, so that a page on another name resolving to
//     127.0.0.1 (DNS rebinding) is refused;
//   - state-changing requests (POST, PUT, PATCH, DELETE) from a page of
//     another origin (Origin, Sec-Fetch-Site) are refused, and their body,
//     when they have one, must be JSON, which a cross-origin page can only
//     send after a CORS preflight that the server never grants.
//
// Refusals are counted by reason and logged through a LogLimiter, so a
// flood of wrong tokens cannot flood the log. Build it with NewGuard; it is
// safe for concurrent use.
type Guard struct {
	// tokenSum is the SHA-256 of the configured token; comparing digests
	// keeps the comparison constant-time whatever the lengths.
	tokenSum [sha256.Size]byte
	hasToken bool
	hosts    map[string]bool
	origins  *http.CrossOriginProtection
	limiter  LogLimiter
	log      *slog.Logger
	refused  [len(refusalReasons)]atomic.Uint64
}

// NewGuard returns the guard for cfg. limiter rate-limits the refusal log;
// nil logs each refusal at debug level. A nil log discards. It fails with
// an error wrapping ErrInvalidConfig when cfg does not validate.
func NewGuard(cfg Config, limiter LogLimiter, log *slog.Logger) (*Guard, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new admin guard: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	g := &Guard{hasToken: cfg.Token != "", hosts: make(map[string]bool), origins: http.NewCrossOriginProtection(),
		limiter: limiter, log: log}
	if g.hasToken {
		g.tokenSum = sha256.Sum256([]byte(cfg.Token))
	}
	for _, h := range cfg.AllowedHosts {
		g.hosts[normalHost(h)] = true
	}
	return g, nil
}

// Refusals returns the requests refused since start, by reason (every
// Refused* constant is present).
func (g *Guard) Refusals() map[string]uint64 {
	m := make(map[string]uint64, len(refusalReasons))
	for i, reason := range refusalReasons {
		m[reason] = g.refused[i].Load()
	}
	return m
}

// Protect serves next only to authorised requests (see Guard) and answers
// the others with a JSON error: 401 for a missing or wrong token, 403 for
// a client or Host not allowed without a token and for a cross-origin
// request, 415 for a body that is not JSON.
func (g *Guard) Protect(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g.authorise(w, r) && g.sameOrigin(w, r) {
			next.ServeHTTP(w, r)
		}
	})
}

// ProtectPage guards the dashboard's pages: without a token they are
// served as Protect serves the API; with one they are open, since the page
// itself asks for the token before it calls the API.
func (g *Guard) ProtectPage(next http.Handler) http.Handler {
	if g.hasToken {
		return next
	}
	return g.Protect(next)
}

// authorise checks the token, or the client and Host without one; on
// refusal it has answered.
func (g *Guard) authorise(w http.ResponseWriter, r *http.Request) bool {
	if !g.hasToken {
		if !IsLoopback(r.RemoteAddr) {
			g.refuse(r, RefusedNotLocal, "remote client and no token configured")
			writeError(w, http.StatusForbidden, CodeForbidden, forbiddenMessage)
			return false
		}
		if !g.hostAllowed(r.Host) {
			g.refuse(r, RefusedHost, "Host not allowed and no token configured", "host", shorten(r.Host))
			writeError(w, http.StatusForbidden, CodeForbidden, fmt.Sprintf(hostMessage, shorten(r.Host)))
			return false
		}
		return true
	}
	token, ok := bearerToken(r.Header.Get("Authorization"))
	if !ok {
		g.refuse(r, RefusedTokenMissing, "missing token")
		w.Header().Set("WWW-Authenticate", `Bearer realm="mediaserver"`)
		writeError(w, http.StatusUnauthorized, CodeUnauthorized,
			`missing bearer token: send "Authorization: Bearer <token>"`)
		return false
	}
	sum := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare(sum[:], g.tokenSum[:]) != 1 {
		g.refuse(r, RefusedTokenInvalid, "wrong token")
		w.Header().Set("WWW-Authenticate", `Bearer realm="mediaserver", error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, CodeUnauthorized, "invalid bearer token")
		return false
	}
	return true
}

// sameOrigin refuses state-changing requests from other origins and
// bodies that are not JSON; on refusal it has answered.
func (g *Guard) sameOrigin(w http.ResponseWriter, r *http.Request) bool {
	if err := g.origins.Check(r); err != nil {
		g.refuse(r, RefusedCrossOrigin, "cross-origin request", "origin", shorten(r.Header.Get("Origin")),
			"sec_fetch_site", shorten(r.Header.Get("Sec-Fetch-Site")))
		writeError(w, http.StatusForbidden, CodeForbidden,
			"cross-origin "+r.Method+" refused: the API changes state only for requests from its own origin")
		return false
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	if r.ContentLength == 0 {
		return true
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		g.refuse(r, RefusedNotJSON, "body is not JSON", "content_type", shorten(r.Header.Get("Content-Type")))
		writeError(w, http.StatusUnsupportedMediaType, CodeUnsupportedMediaType,
			"a request body must be JSON: send \"Content-Type: application/json\"")
		return false
	}
	return true
}

// refuse counts a refusal and logs it, rate-limited by reason.
func (g *Guard) refuse(r *http.Request, reason, msg string, args ...any) {
	for i, rr := range refusalReasons {
		if rr == reason {
			g.refused[i].Add(1)
		}
	}
	args = append([]any{"reason", reason, "remote", r.RemoteAddr, "method", shorten(r.Method), "path", shorten(r.URL.Path)}, args...)
	msg = "admin request refused: " + msg
	if g.limiter == nil {
		g.log.Debug(msg, args...)
		return
	}
	g.limiter.Warn(g.log, "admin refusal "+reason, msg, args...)
}

// hostAllowed reports whether a request's Host names this machine or an
// allowed host.
func (g *Guard) hostAllowed(hostport string) bool {
	host := normalHost(hostport)
	if host == "" {
		return false
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") || g.hosts[host] {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Unmap().IsLoopback()
}

// normalHost returns the host of a Host header or allowed name, without
// port, brackets or trailing dot, in lower case.
func normalHost(hostport string) string {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return strings.ToLower(strings.TrimSuffix(host, "."))
}

// bearerToken extracts the token of an "Authorization: Bearer <token>"
// header value (scheme case-insensitive).
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// IsLoopback reports whether a request's RemoteAddr ("host:port") is a
// loopback address. Anything unparsable is not.
func IsLoopback(remote string) bool {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		addr, err := netip.ParseAddr(remote)
		if err != nil {
			return false
		}
		return addr.Unmap().IsLoopback()
	}
	return ap.Addr().Unmap().IsLoopback()
}
