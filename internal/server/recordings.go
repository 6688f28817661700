package server

import (
	"errors"
	"fmt"

	"github.com/mediaserver/mediaserver/api"
	"github.com/mediaserver/mediaserver/record"
)

// recordingSource serves the API's recording routes from the recording
// manager, translating its errors into the API's.
type recordingSource struct {
	m *record.Manager
}

// StartRecording implements api.RecordingSource.
func (r recordingSource) StartRecording(app, name string) (api.RecordingInfo, error) {
	in, err := r.m.Start(app, name)
	return recordingInfo(in), recordingError(err)
}

// StopRecording implements api.RecordingSource.
func (r recordingSource) StopRecording(app, name string) (api.RecordingInfo, error) {
	in, err := r.m.Stop(app, name)
	return recordingInfo(in), recordingError(err)
}

// Recordings implements api.RecordingSource.
func (r recordingSource) Recordings() []api.RecordingInfo {
	all := r.m.Recordings()
	out := make([]api.RecordingInfo, 0, len(all))
	for _, in := range all {
		out = append(out, recordingInfo(in))
	}
	return out
}

// DeleteRecording implements api.RecordingSource.
func (r recordingSource) DeleteRecording(id string) error {
	return recordingError(r.m.Delete(id))
}

// recordingInfo converts a record.Info.
func recordingInfo(in record.Info) api.RecordingInfo {
	return api.RecordingInfo{
		ID: in.ID, Path: in.Path, App: in.App, Name: in.Name, Format: in.Format, Start: in.Start,
		Duration: in.Duration, Size: in.Size, State: string(in.State), Reason: in.Reason,
	}
}

// recordingError wraps a record error in the API error that tells its
// status.
func recordingError(err error) error {
	var kind error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, record.ErrNotLive):
		kind = api.ErrRecordingNotLive
	case errors.Is(err, record.ErrNotFound), errors.Is(err, record.ErrInvalidID):
		kind = api.ErrRecordingNotFound
	case errors.Is(err, record.ErrAlreadyRecording), errors.Is(err, record.ErrNotRecording), errors.Is(err, record.ErrInProgress):
		kind = api.ErrRecordingConflict
	case errors.Is(err, record.ErrLowDisk):
		kind = api.ErrRecordingNoSpace
	case errors.Is(err, record.ErrClosed):
		kind = api.ErrRecordingsUnavailable
	default:
		return err
	}
	return fmt.Errorf("%w: %w", kind, err)
}
