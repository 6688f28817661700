package api

import (
	"encoding/json"
	"errors"
	"net/http"
)

// ErrInvalidConfig is wrapped by Config.Validate and New for a Config that
// cannot be used.
var ErrInvalidConfig = errors.New("api: invalid configuration")

// Error codes written in the "code" field of an error document.
const (
	// CodeBadRequest: a malformed parameter (paging, name, id, filter).
	CodeBadRequest = "bad_request"
	// CodeUnauthorized: the bearer token is missing or wrong.
	CodeUnauthorized = "unauthorized"
	// CodeForbidden: no token is configured and the client is not local
	// or its Host header is not allowed; or a state-changing request came
	// from another origin.
	CodeForbidden = "forbidden"
	// CodeUnsupportedMediaType: a request body that is not JSON.
	CodeUnsupportedMediaType = "unsupported_media_type"
	// CodeNotFound: no such route, stream or session.
	CodeNotFound = "not_found"
	// CodeMethodNotAllowed: the route exists but not for this method.
	CodeMethodNotAllowed = "method_not_allowed"
	// CodeInternal: the server failed.
	CodeInternal = "internal"
)

// errorDoc is the JSON body of every error response.
type errorDoc struct {
	Error errorBody `json:"error"`
}

// errorBody is the "error" member of an error document.
type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeJSON writes v as a JSON response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	body, err := json.Marshal(v)
	if err != nil {
		// Only DTOs are marshalled; a failure is a bug, reported as such.
		status = http.StatusInternalServerError
		body = []byte(`{"error":{"code":"internal","message":"encode response"}}`)
	}
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// writeError writes an error document.
func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, errorDoc{Error: errorBody{Code: code, Message: message}})
}

// Errors a RecordingSource wraps so that the API answers with the right
// status.
var (
	// ErrRecordingNotLive: the stream to record is not live (404).
	ErrRecordingNotLive = errors.New("api: stream is not live")
	// ErrRecordingConflict: the stream is recorded already, is not being
	// recorded, or the file is still being written (409).
	ErrRecordingConflict = errors.New("api: recording state does not allow this")
	// ErrRecordingNotFound: no recording has the id (404).
	ErrRecordingNotFound = errors.New("api: no such recording")
	// ErrRecordingNoSpace: the recordings directory lacks free space
	// (507).
	ErrRecordingNoSpace = errors.New("api: not enough free disk space to record")
	// ErrRecordingsUnavailable: the server does not record (503).
	ErrRecordingsUnavailable = errors.New("api: recording is not available")
)
