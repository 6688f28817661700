package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
)

// MaxRecordingIDLength caps a recording id (a file name).
const MaxRecordingIDLength = 255

// CodeInsufficientStorage: the recordings directory lacks free space.
const CodeInsufficientStorage = "insufficient_storage"

// RecordingSource starts, stops, lists and deletes recordings. Errors wrap
// ErrRecordingNotLive, ErrRecordingConflict, ErrRecordingNotFound,
// ErrRecordingNoSpace or ErrRecordingsUnavailable; any other is a failure
// of the server.
type RecordingSource interface {
	// StartRecording records the live stream app/name.
	StartRecording(app, name string) (RecordingInfo, error)
	// StopRecording ends the recording of app/name and returns its last
	// file.
	StopRecording(app, name string) (RecordingInfo, error)
	// Recordings lists the recorded files, newest first.
	Recordings() []RecordingInfo
	// DeleteRecording removes a file that is not being written.
	DeleteRecording(id string) error
}

// RecordingInfo describes one recorded file.
type RecordingInfo struct {
	// ID names the recording (its file name); Path is where it is.
	ID, Path string
	// App and Name identify the recorded stream (empty when unknown).
	App, Name string
	// Format is "fmp4" or "flv".
	Format string
	// Start is when the file started.
	Start time.Time
	// Duration is the media time it holds.
	Duration time.Duration
	// Size is its size in bytes.
	Size int64
	// State is "recording", "done", "failed" or "incomplete"; Reason
	// tells why the file ended.
	State, Reason string
}

// recordingDoc is one recorded file.
type recordingDoc struct {
	ID              string    `json:"id"`
	Path            string    `json:"path"`
	Stream          string    `json:"stream"`
	Format          string    `json:"format"`
	Start           time.Time `json:"start"`
	DurationSeconds float64   `json:"duration_seconds"`
	Size            int64     `json:"size"`
	State           string    `json:"state"`
	Reason          string    `json:"reason"`
}

// newRecordingDoc converts a RecordingInfo.
func newRecordingDoc(in RecordingInfo) recordingDoc {
	doc := recordingDoc{
		ID: in.ID, Path: in.Path, Format: in.Format, Start: utc(in.Start),
		DurationSeconds: seconds(in.Duration), Size: in.Size, State: in.State, Reason: in.Reason,
	}
	if in.App != "" {
		doc.Stream = in.App + "/" + in.Name
	}
	return doc
}

// noRecordings is the RecordingSource used when Deps.Recordings is nil.
type noRecordings struct{}

// StartRecording fails: nothing records.
func (noRecordings) StartRecording(string, string) (RecordingInfo, error) {
	return RecordingInfo{}, ErrRecordingsUnavailable
}

// StopRecording fails: nothing records.
func (noRecordings) StopRecording(string, string) (RecordingInfo, error) {
	return RecordingInfo{}, ErrRecordingsUnavailable
}

// Recordings lists none.
func (noRecordings) Recordings() []RecordingInfo { return nil }

// DeleteRecording finds nothing.
func (noRecordings) DeleteRecording(string) error { return ErrRecordingNotFound }

// startRecording serves POST /streams/{app}/{name}/recording.
func (h *handler) startRecording(w http.ResponseWriter, r *http.Request) {
	app, name, ok := streamParams(w, r)
	if !ok {
		return
	}
	in, err := h.deps.Recordings.StartRecording(app, name)
	if err != nil {
		h.recordingError(w, err)
		return
	}
	h.log.Info("recording started through the API", "stream", app+"/"+name, "remote", r.RemoteAddr)
	writeJSON(w, http.StatusCreated, newRecordingDoc(in))
}

// stopRecording serves DELETE /streams/{app}/{name}/recording.
func (h *handler) stopRecording(w http.ResponseWriter, r *http.Request) {
	app, name, ok := streamParams(w, r)
	if !ok {
		return
	}
	in, err := h.deps.Recordings.StopRecording(app, name)
	if err != nil {
		h.recordingError(w, err)
		return
	}
	h.log.Info("recording stopped through the API", "stream", app+"/"+name, "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, newRecordingDoc(in))
}

// listRecordings serves GET /recordings.
func (h *handler) listRecordings(w http.ResponseWriter, r *http.Request) {
	p, err := parsePaging(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, CodeBadRequest, err.Error())
		return
	}
	all := h.deps.Recordings.Recordings()
	page := pageOf(all, p)
	doc := listDoc[recordingDoc]{Items: make([]recordingDoc, 0, len(page)), Total: len(all), Page: p.page, PerPage: p.perPage}
	for _, in := range page {
		doc.Items = append(doc.Items, newRecordingDoc(in))
	}
	writeJSON(w, http.StatusOK, doc)
}

// deleteRecording serves DELETE /recordings/{id}.
func (h *handler) deleteRecording(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	if err := checkRecordingID(id); err != nil {
		writeError(w, http.StatusBadRequest, CodeBadRequest, err.Error())
		return
	}
	if err := h.deps.Recordings.DeleteRecording(id); err != nil {
		h.recordingError(w, err)
		return
	}
	h.log.Info("recording deleted through the API", "id", id, "remote", r.RemoteAddr)
	w.WriteHeader(http.StatusNoContent)
}

// checkRecordingID checks a recording id: a file name of letters, digits
// and -_.~, not starting with a dot (so never a path).
func checkRecordingID(id string) error {
	if id == "" || len(id) > MaxRecordingIDLength || id[0] == '.' {
		return fmt.Errorf("recording id %q: want 1 to %d letters, digits or -_.~, not starting with a dot", shorten(id), MaxRecordingIDLength)
	}
	for i := 0; i < len(id); i++ {
		if !nameChar(id[i]) {
			return fmt.Errorf("recording id %q has character %q", shorten(id), id[i])
		}
	}
	return nil
}

// recordingError answers a RecordingSource error.
func (h *handler) recordingError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrRecordingNotLive), errors.Is(err, ErrRecordingNotFound):
		writeError(w, http.StatusNotFound, CodeNotFound, err.Error())
	case errors.Is(err, ErrRecordingConflict):
		writeError(w, http.StatusConflict, CodeConflict, err.Error())
	case errors.Is(err, ErrRecordingNoSpace):
		writeError(w, http.StatusInsufficientStorage, CodeInsufficientStorage, err.Error())
	case errors.Is(err, ErrRecordingsUnavailable):
		writeError(w, http.StatusServiceUnavailable, CodeUnavailable, err.Error())
	default:
		h.log.Error("recording request failed", "err", err)
		writeError(w, http.StatusInternalServerError, CodeInternal, "recording request failed")
	}
}
