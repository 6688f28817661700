// Package mediahttp is the front the HTTP media endpoints (HTTP-FLV,
// WebSocket-FLV, HLS) share: the CORS preflight, the method check, the
// stream key from the path, the play authorisation, and one way of
// answering with an error.
package mediahttp

import (
	"context"
	"net/http"

	"github.com/mediaserver/mediaserver/internal/cors"
	"github.com/mediaserver/mediaserver/stream"
)

// Authorizer decides whether a client may play a stream. An error refuses,
// and its text is sent to the client. httpflv.Authorizer and
// hls.Authorizer are this interface.
type Authorizer interface {
	Authorize(ctx context.Context, req stream.AccessRequest) error
}

// Front is the preamble of a media endpoint. The zero Front allows every
// origin and every client.
type Front struct {
	// CORS decides which origins may read the responses.
	CORS cors.Policy
	// Authorizer decides who may play; nil allows everyone.
	Authorizer Authorizer
	// NameMethod makes a 405 answer name the refused method ("method POST
	// not allowed" rather than "method not allowed").
	NameMethod bool
}

// Admit runs the part of the preamble every request goes through: it
// answers a CORS preflight (OPTIONS), refuses methods other than GET and
// HEAD with 405 and an Allow header, refuses an origin the policy does not
// allow with 403, and otherwise sets the CORS response headers. It reports
// whether the request is admitted; when not, it has been answered.
func (f Front) Admit(w http.ResponseWriter, r *http.Request) bool {
	if f.CORS.Preflight(w, r) {
		return false
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD, OPTIONS")
		msg := "method not allowed"
		if f.NameMethod {
			msg = "method " + r.Method + " not allowed"
		}
		Error(w, http.StatusMethodNotAllowed, msg)
		return false
	}
	if !f.CORS.SetHeaders(w, r) {
		Error(w, http.StatusForbidden, "origin not allowed")
		return false
	}
	return true
}

// Key returns the stream key of a path /{app}/{name}{suffix}. When the path
// names no valid stream it answers 404 with notFound followed by the reason
// and reports false.
func Key(w http.ResponseWriter, path, suffix, notFound string) (stream.Key, bool) {
	key, err := stream.KeyFromPath(path, suffix)
	if err != nil {
		Error(w, http.StatusNotFound, notFound+err.Error())
		return stream.Key{}, false
	}
	return key, true
}

// Authorize asks the Authorizer whether req may play. Only GET requests
// are asked: HEAD and OPTIONS carry no media. A refusal is answered with
// 403 ("playing app/name is not allowed: reason") and returned, for the
// caller to log; nil means go on.
func (f Front) Authorize(w http.ResponseWriter, r *http.Request, req stream.AccessRequest) error {
	if f.Authorizer == nil || r.Method != http.MethodGet {
		return nil
	}
	if err := f.Authorizer.Authorize(r.Context(), req); err != nil {
		Error(w, http.StatusForbidden, "playing "+req.Key.String()+" is not allowed: "+err.Error())
		return err
	}
	return nil
}

// Error answers with code and a short plain-text reason (followed by a
// newline) that no cache may keep.
func Error(w http.ResponseWriter, code int, reason string) {
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, reason, code)
}
