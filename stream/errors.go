package stream

import "errors"

// Sentinel errors returned by this package; callers compare with errors.Is.
var (
	// ErrStreamBusy is returned by Registry.Publish when the key already has a
	// live publisher.
	ErrStreamBusy = errors.New("stream: stream is already being published")
	// ErrKeyMismatch is returned by Registry.Publish when the key is held
	// (live or waiting for its publisher to come back) by a publisher that
	// was authorised with a secret stream key the new publisher does not
	// have (PublisherInfo.KeyID).
	ErrKeyMismatch = errors.New("stream: stream is published with another stream key")
	// ErrStreamNotFound is returned by helpers that look a stream up by key
	// when no live stream has that key.
	ErrStreamNotFound = errors.New("stream: stream not found")
	// ErrClosed is returned when using a closed Registry or a closed Reader.
	ErrClosed = errors.New("stream: closed")
	// ErrUnsupportedTag is returned by NewFrame for a tag type other than
	// audio, video or script data.
	ErrUnsupportedTag = errors.New("stream: unsupported tag type")
	// ErrWouldBlock is what a Sink returns from TryWrite when it could not
	// take everything without waiting. The sink keeps what it has not
	// written yet; its owner finishes that with a blocking write once
	// resumed.
	ErrWouldBlock = errors.New("stream: write would block")
	// ErrInvalidConfig is wrapped by Config.Validate and NewRegistry for a
	// Config that cannot be used.
	ErrInvalidConfig = errors.New("stream: invalid configuration")
	// ErrOverBudget is wrapped by the LimitError of a publisher refused
	// by Registry.Publish, or cut off, because a budget was reached
	// (Config.MaxStreams, MaxStreamsPerIP, MaxIngestBitrate,
	// MemoryBudget).
	ErrOverBudget = errors.New("stream: over budget")
	// ErrUnknownTrack is returned by ParseTrackQuery and
	// Stream.SelectTracks for a track a player asked for that the stream
	// does not have (or a track parameter that is not a track id).
	ErrUnknownTrack = errors.New("stream: unknown track")
)
