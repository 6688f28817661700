// Package cors answers cross-origin requests for the media endpoints, so a
// player on another site can fetch streams.
package cors

import (
	"net/http"
	"strings"
)

// Policy lists the origins allowed to read responses. An empty list or "*"
// allows every origin.
type Policy struct {
	AllowedOrigins []string
}

// allowAll reports whether any origin is allowed.
func (p Policy) allowAll() bool {
	if len(p.AllowedOrigins) == 0 {
		return true
	}
	for _, o := range p.AllowedOrigins {
		if o == "*" {
			return true
		}
	}
	return false
}

// Allowed reports whether a request from origin may read the response.
func (p Policy) Allowed(origin string) bool {
	if origin == "" || p.allowAll() {
		return true
	}
	for _, o := range p.AllowedOrigins {
		if strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}

// SetHeaders adds the CORS response headers for r. It reports false when
// the request comes from an origin that is not allowed; the caller should
// then answer 403.
func (p Policy) SetHeaders(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if !p.Allowed(origin) {
		return false
	}
	h := w.Header()
	if p.allowAll() {
		h.Set("Access-Control-Allow-Origin", "*")
	} else if origin != "" {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
	}
	h.Set("Access-Control-Expose-Headers", "Content-Length, Content-Range")
	return true
}

// Preflight answers an OPTIONS request. It reports whether r was one.
func (p Policy) Preflight(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodOptions {
		return false
	}
	if !p.SetHeaders(w, r) {
		w.WriteHeader(http.StatusForbidden)
		return true
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		h.Set("Access-Control-Allow-Headers", req)
	}
	h.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
	return true
}
