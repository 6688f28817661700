package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
)

// forbiddenMessage tells a remote client without a configured token how to
// get access.
const forbiddenMessage = "no API token is configured, so the API answers only loopback clients; " +
	"set api.token in the configuration file or MEDIASERVER_API_TOKEN in the environment, " +
	"then send \"Authorization: Bearer <token>\""

// authorizer guards every route: with a token, requests must carry it as a
// bearer token; without one, only loopback clients are served.
type authorizer struct {
	// tokenSum is the SHA-256 of the configured token; comparing digests
	// keeps the comparison constant-time whatever the lengths.
	tokenSum [sha256.Size]byte
	hasToken bool
	log      *slog.Logger
}

// newAuthorizer returns the guard for token (empty: loopback only).
func newAuthorizer(token string, log *slog.Logger) *authorizer {
	a := &authorizer{hasToken: token != "", log: log}
	if a.hasToken {
		a.tokenSum = sha256.Sum256([]byte(token))
	}
	return a
}

// middleware refuses unauthorised requests with 401 or 403.
func (a *authorizer) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.hasToken {
			if !isLoopback(r.RemoteAddr) {
				a.log.Info("API request refused: remote client and no token configured", "remote", r.RemoteAddr)
				writeError(w, http.StatusForbidden, CodeForbidden, forbiddenMessage)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		token, ok := bearerToken(r.Header.Get("Authorization"))
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="mediaserver"`)
			writeError(w, http.StatusUnauthorized, CodeUnauthorized,
				`missing bearer token: send "Authorization: Bearer <token>"`)
			return
		}
		sum := sha256.Sum256([]byte(token))
		if subtle.ConstantTimeCompare(sum[:], a.tokenSum[:]) != 1 {
			a.log.Info("API request refused: wrong token", "remote", r.RemoteAddr)
			w.Header().Set("WWW-Authenticate", `Bearer realm="mediaserver", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, CodeUnauthorized, "invalid bearer token")
			return
		}
		next.ServeHTTP(w, r)
	})
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

// isLoopback reports whether a request's RemoteAddr ("host:port") is a
// loopback address. Anything unparsable is not.
func isLoopback(remote string) bool {
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
