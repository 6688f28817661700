package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
)

// Errors a ForwardSource returns; the API answers them with 400, 404 and
// 409.
var (
	// ErrForwardURL: the target URL cannot be forwarded to.
	ErrForwardURL = errors.New("api: bad forward target url")
	// ErrForwardStreamNotLive: the stream is not live.
	ErrForwardStreamNotLive = errors.New("api: stream is not live")
	// ErrForwardNotFound: the stream has no forward target with the id.
	ErrForwardNotFound = errors.New("api: no such forward target")
	// ErrTooManyForwards: the stream has as many targets as it may.
	ErrTooManyForwards = errors.New("api: too many forward targets")
)

// Limits on a forward request.
const (
	// maxForwardBody caps the body of POST …/forwards.
	maxForwardBody = 8 << 10
	// MaxForwardIDLength caps a forward target id in a path.
	MaxForwardIDLength = 64
)

// ForwardSource lists, adds and removes the forward targets of live
// streams.
type ForwardSource interface {
	// Forwards returns the targets of the live stream app/name; ok is
	// false when it is not live.
	Forwards(app, name string) (targets []ForwardInfo, ok bool)
	// AddForward starts forwarding the live stream app/name to url. It
	// fails with an error wrapping ErrForwardURL,
	// ErrForwardStreamNotLive or ErrTooManyForwards.
	AddForward(app, name, url string) (ForwardInfo, error)
	// RemoveForward stops target id of app/name and waits for it to end.
	// It fails with an error wrapping ErrForwardNotFound.
	RemoveForward(app, name, id string) error
}

// ForwardInfo is a snapshot of one forward target.
type ForwardInfo struct {
	// ID names the target within its stream.
	ID string
	// URL is the target URL, its stream key shortened.
	URL string
	// Origin is "config", "hook" or "api".
	Origin string
	// State is "connecting", "live", "retrying" or "error".
	State string
	// Since is when the target entered State.
	Since time.Time
	// Bytes counts the bytes sent; Bitrate is the rate sent lately, in
	// bits per second.
	Bytes   uint64
	Bitrate float64
	// Retries counts failed attempts; Dropped the frames skipped because
	// the target fell behind.
	Retries, Dropped uint64
	// LastError is why the last attempt failed.
	LastError string
}

// forwardDoc is a forward target in the API.
type forwardDoc struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Origin    string    `json:"origin"`
	State     string    `json:"state"`
	Since     time.Time `json:"since"`
	Bytes     uint64    `json:"bytes"`
	Bitrate   float64   `json:"bitrate"`
	Retries   uint64    `json:"retries"`
	Dropped   uint64    `json:"dropped"`
	LastError string    `json:"last_error"`
}

// newForwardDoc renders f.
func newForwardDoc(f ForwardInfo) forwardDoc {
	return forwardDoc{ID: f.ID, URL: f.URL, Origin: f.Origin, State: f.State, Since: utc(f.Since), Bytes: f.Bytes,
		Bitrate: f.Bitrate, Retries: f.Retries, Dropped: f.Dropped, LastError: f.LastError}
}

// forwardsDoc is the list of a stream's forward targets.
type forwardsDoc struct {
	Items []forwardDoc `json:"items"`
}

// addForwardRequest is the body of POST …/forwards.
type addForwardRequest struct {
	URL string `json:"url"`
}

// noForwards is the ForwardSource used when Deps.Forwards is nil: no
// stream has targets, and none can be added.
type noForwards struct{ streams StreamSource }

// Forwards lists no target of a live stream.
func (n noForwards) Forwards(app, name string) ([]ForwardInfo, bool) {
	_, ok := n.streams.Stream(app, name)
	return nil, ok
}

// AddForward fails with ErrForwardStreamNotLive.
func (noForwards) AddForward(string, string, string) (ForwardInfo, error) {
	return ForwardInfo{}, ErrForwardStreamNotLive
}

// RemoveForward fails with ErrForwardNotFound.
func (noForwards) RemoveForward(string, string, string) error { return ErrForwardNotFound }

// listForwards serves GET /streams/{app}/{name}/forwards.
func (h *handler) listForwards(w http.ResponseWriter, r *http.Request) {
	app, name, ok := streamParams(w, r)
	if !ok {
		return
	}
	targets, live := h.deps.Forwards.Forwards(app, name)
	if !live {
		writeError(w, http.StatusNotFound, CodeNotFound, "stream "+app+"/"+name+" is not live")
		return
	}
	doc := forwardsDoc{Items: make([]forwardDoc, 0, len(targets))}
	for _, t := range targets {
		doc.Items = append(doc.Items, newForwardDoc(t))
	}
	writeJSON(w, http.StatusOK, doc)
}

// addForward serves POST /streams/{app}/{name}/forwards with a JSON body
// {"url"}: the new target, connecting.
func (h *handler) addForward(w http.ResponseWriter, r *http.Request) {
	app, name, ok := streamParams(w, r)
	if !ok {
		return
	}
	// The guard (Guard.Protect) has refused a body that is not JSON.
	var req addForwardRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, maxForwardBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, CodeBadRequest, "forward request: "+shorten(err.Error()))
		return
	}
	if req.URL == "" {
		writeError(w, http.StatusBadRequest, CodeBadRequest, "forward request: url is required")
		return
	}
	f, err := h.deps.Forwards.AddForward(app, name, req.URL)
	if err != nil {
		h.forwardError(w, app, name, err)
		return
	}
	h.log.Info("forward added through the API", "stream", app+"/"+name, "target", f.ID, "url", f.URL, "remote", r.RemoteAddr)
	w.Header().Set("Location", BasePath+"/streams/"+app+"/"+name+"/forwards/"+f.ID)
	writeJSON(w, http.StatusCreated, newForwardDoc(f))
}

// removeForward serves DELETE /streams/{app}/{name}/forwards/{id}: the
// target is stopped.
func (h *handler) removeForward(w http.ResponseWriter, r *http.Request) {
	app, name, ok := streamParams(w, r)
	if !ok {
		return
	}
	id := chi.URLParam(r, "id")
	if id == "" || len(id) > MaxForwardIDLength || !allNameChars(id) {
		writeError(w, http.StatusBadRequest, CodeBadRequest,
			fmt.Sprintf("forward id %q: want 1 to %d letters, digits or -_.~", shorten(id), MaxForwardIDLength))
		return
	}
	if err := h.deps.Forwards.RemoveForward(app, name, id); err != nil {
		h.forwardError(w, app, name, err)
		return
	}
	h.log.Info("forward removed through the API", "stream", app+"/"+name, "target", id, "remote", r.RemoteAddr)
	w.WriteHeader(http.StatusNoContent)
}

// forwardError answers a ForwardSource failure.
func (h *handler) forwardError(w http.ResponseWriter, app, name string, err error) {
	switch {
	case errors.Is(err, ErrForwardURL):
		writeError(w, http.StatusBadRequest, CodeBadRequest, shorten(err.Error()))
	case errors.Is(err, ErrForwardStreamNotLive):
		writeError(w, http.StatusNotFound, CodeNotFound, "stream "+app+"/"+name+" is not live")
	case errors.Is(err, ErrForwardNotFound):
		writeError(w, http.StatusNotFound, CodeNotFound, "no such forward target of "+app+"/"+name)
	case errors.Is(err, ErrTooManyForwards):
		writeError(w, http.StatusConflict, CodeConflict, shorten(err.Error()))
	default:
		h.log.Error("forward failed", "stream", app+"/"+name, "err", err)
		writeError(w, http.StatusInternalServerError, CodeInternal, "forwarding failed")
	}
}

// allNameChars reports whether every byte of s may appear in a name or
// id.
func allNameChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if !nameChar(s[i]) {
			return false
		}
	}
	return true
}
