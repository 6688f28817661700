package record

import "errors"

// Sentinel errors of the package, wrapped with context by the functions
// that return them.
var (
	// ErrInvalidConfig is wrapped by Config.Validate and NewManager for a
	// Config that cannot be used.
	ErrInvalidConfig = errors.New("record: invalid configuration")
	// ErrNotLive: the stream to record is not published.
	ErrNotLive = errors.New("record: stream is not live")
	// ErrAlreadyRecording: the stream is being recorded already.
	ErrAlreadyRecording = errors.New("record: stream is being recorded already")
	// ErrNotRecording: the stream is not being recorded.
	ErrNotRecording = errors.New("record: stream is not being recorded")
	// ErrNotFound: no recording has the id.
	ErrNotFound = errors.New("record: no such recording")
	// ErrInProgress: the recording's file is still being written.
	ErrInProgress = errors.New("record: recording in progress")
	// ErrInvalidID: an id that does not name a file of the recordings
	// directory.
	ErrInvalidID = errors.New("record: invalid recording id")
	// ErrLowDisk: the free space of the recordings directory is below
	// Config.MinFreeDisk.
	ErrLowDisk = errors.New("record: free disk space below the minimum")
	// ErrClosed: the Manager was closed.
	ErrClosed = errors.New("record: closed")
	// ErrNoTracks: the stream has nothing a file of the format can carry.
	ErrNoTracks = errors.New("record: no track to record")
)
