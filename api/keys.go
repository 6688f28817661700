package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
)

// Errors a KeySource returns; the API answers them with 404 and 503.
var (
	// ErrKeyNotFound: no key has the id.
	ErrKeyNotFound = errors.New("api: no such stream key")
	// ErrKeysUnavailable: the server keeps no key store.
	ErrKeysUnavailable = errors.New("api: stream keys are not available")
)

// CodeUnavailable: the feature is not available on this server.
const CodeUnavailable = "unavailable"

// MaxKeyIDLength caps a key id in a path.
const MaxKeyIDLength = 64

// maxKeyBody caps the body of POST /keys.
const maxKeyBody = 4 << 10

// KeySource manages the secret stream keys: an encoder publishes a key's
// stream by sending the secret, which is shown once, when the key is
// created or rotated.
type KeySource interface {
	// Keys returns every key, without secrets.
	Keys() []KeyInfo
	// CreateKey makes a key for app/name and returns it with its secret.
	CreateKey(app, name string) (KeyInfo, string, error)
	// RotateKey gives key id a new secret, which it returns; the old one
	// stops working. It fails with an error wrapping ErrKeyNotFound.
	RotateKey(id string) (KeyInfo, string, error)
	// RevokeKey deletes key id and disconnects a publisher live with it.
	// It fails with an error wrapping ErrKeyNotFound.
	RevokeKey(id string) (KeyInfo, error)
}

// KeyInfo describes a stream key without its secret.
type KeyInfo struct {
	// ID names the key; it is not secret.
	ID string
	// App and Name are the stream the key publishes.
	App, Name string
	// Masked shows the secret's prefix and last characters ("live_…3f9c").
	Masked string
	// Created is when the key was made; Updated when its secret last
	// changed (Created if never rotated).
	Created, Updated time.Time
}

// keyDoc is a stream key in a listing: its secret masked.
type keyDoc struct {
	ID        string    `json:"id"`
	App       string    `json:"app"`
	Name      string    `json:"name"`
	MaskedKey string    `json:"masked_key"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// newKeyDoc renders k.
func newKeyDoc(k KeyInfo) keyDoc {
	return keyDoc{ID: k.ID, App: k.App, Name: k.Name, MaskedKey: k.Masked, CreatedAt: utc(k.Created), UpdatedAt: utc(k.Updated)}
}

// secretKeyDoc is a key just created or rotated, with its secret: the
// only time the secret is shown.
type secretKeyDoc struct {
	ID        string    `json:"id"`
	App       string    `json:"app"`
	Name      string    `json:"name"`
	Key       string    `json:"key"`
	StreamKey string    `json:"stream_key"`
	MaskedKey string    `json:"masked_key"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// newSecretKeyDoc renders k with its secret, and the two ways to put it
// in an encoder's stream key field.
func newSecretKeyDoc(k KeyInfo, secret string) secretKeyDoc {
	return secretKeyDoc{ID: k.ID, App: k.App, Name: k.Name, Key: secret, StreamKey: k.Name + "?key=" + secret,
		MaskedKey: k.Masked, CreatedAt: utc(k.Created), UpdatedAt: utc(k.Updated)}
}

// createKeyRequest is the body of POST /keys.
type createKeyRequest struct {
	App  string `json:"app"`
	Name string `json:"name"`
}

// noKeys is the KeySource used when Deps.Keys is nil.
type noKeys struct{}

// Keys returns nothing.
func (noKeys) Keys() []KeyInfo { return nil }

// CreateKey fails with ErrKeysUnavailable.
func (noKeys) CreateKey(string, string) (KeyInfo, string, error) {
	return KeyInfo{}, "", ErrKeysUnavailable
}

// RotateKey fails with ErrKeyNotFound.
func (noKeys) RotateKey(string) (KeyInfo, string, error) { return KeyInfo{}, "", ErrKeyNotFound }

// RevokeKey fails with ErrKeyNotFound.
func (noKeys) RevokeKey(string) (KeyInfo, error) { return KeyInfo{}, ErrKeyNotFound }

// listKeys serves GET /keys: every key, its secret masked.
func (h *handler) listKeys(w http.ResponseWriter, r *http.Request) {
	p, err := parsePaging(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, CodeBadRequest, err.Error())
		return
	}
	all := h.deps.Keys.Keys()
	slices.SortFunc(all, func(a, b KeyInfo) int {
		if c := strings.Compare(a.App, b.App); c != 0 {
			return c
		}
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	page := pageOf(all, p)
	doc := listDoc[keyDoc]{Items: make([]keyDoc, 0, len(page)), Total: len(all), Page: p.page, PerPage: p.perPage}
	for _, k := range page {
		doc.Items = append(doc.Items, newKeyDoc(k))
	}
	writeJSON(w, http.StatusOK, doc)
}

// createKey serves POST /keys with a JSON body {"app", "name"}: the new
// key with its secret, shown this once.
func (h *handler) createKey(w http.ResponseWriter, r *http.Request) {
	// The guard (Guard.Protect) has refused a body that is not JSON.
	var req createKeyRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, maxKeyBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, CodeBadRequest, "key request: "+shorten(err.Error()))
		return
	}
	for _, v := range []struct{ what, s string }{{"app", req.App}, {"stream name", req.Name}} {
		if err := checkName(v.s); err != nil {
			writeError(w, http.StatusBadRequest, CodeBadRequest, v.what+": "+err.Error())
			return
		}
	}
	k, secret, err := h.deps.Keys.CreateKey(req.App, req.Name)
	if err != nil {
		h.keyError(w, err)
		return
	}
	h.log.Info("stream key created through the API", "key", k.ID, "stream", k.App+"/"+k.Name, "remote", r.RemoteAddr)
	w.Header().Set("Location", BasePath+"/keys/"+k.ID)
	writeJSON(w, http.StatusCreated, newSecretKeyDoc(k, secret))
}

// keyParam reads and checks {key_id}; on failure it has answered.
func keyParam(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := chi.URLParam(r, "key_id")
	if id == "" || len(id) > MaxKeyIDLength || strings.IndexFunc(id, func(c rune) bool { return c > 0x7f || !nameChar(byte(c)) }) >= 0 {
		writeError(w, http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("key id %q: want 1 to %d letters, digits or -_.~", shorten(id), MaxKeyIDLength))
		return "", false
	}
	return id, true
}

// revokeKey serves DELETE /keys/{key_id}: the key stops working and a
// publisher live with it is disconnected.
func (h *handler) revokeKey(w http.ResponseWriter, r *http.Request) {
	id, ok := keyParam(w, r)
	if !ok {
		return
	}
	k, err := h.deps.Keys.RevokeKey(id)
	if err != nil {
		h.keyError(w, err)
		return
	}
	h.log.Info("stream key revoked through the API", "key", k.ID, "stream", k.App+"/"+k.Name, "remote", r.RemoteAddr)
	w.WriteHeader(http.StatusNoContent)
}

// rotateKey serves POST /keys/{key_id}/rotate: the key gets a new secret,
// shown this once.
func (h *handler) rotateKey(w http.ResponseWriter, r *http.Request) {
	id, ok := keyParam(w, r)
	if !ok {
		return
	}
	k, secret, err := h.deps.Keys.RotateKey(id)
	if err != nil {
		h.keyError(w, err)
		return
	}
	h.log.Info("stream key rotated through the API", "key", k.ID, "stream", k.App+"/"+k.Name, "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, newSecretKeyDoc(k, secret))
}

// keyError answers a KeySource failure.
func (h *handler) keyError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrKeyNotFound):
		writeError(w, http.StatusNotFound, CodeNotFound, "no such stream key")
	case errors.Is(err, ErrKeysUnavailable):
		writeError(w, http.StatusServiceUnavailable, CodeUnavailable, "this server keeps no stream keys")
	default:
		h.log.Error("stream key store failed", "err", err)
		writeError(w, http.StatusInternalServerError, CodeInternal, "the stream key store failed")
	}
}
