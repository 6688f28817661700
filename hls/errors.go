package hls

import "errors"

// Sentinel errors; functions wrap them with context, so test with errors.Is.
var (
	// ErrInvalidConfig reports a Config that cannot be used.
	ErrInvalidConfig = errors.New("hls: invalid configuration")
	// ErrUnsupportedCodec reports a track whose codec cannot be carried in
	// MPEG-TS by this package (yet); the track is left out.
	ErrUnsupportedCodec = errors.New("hls: unsupported codec")
	// ErrInvalidFrame reports a media frame whose payload cannot be parsed;
	// the frame is dropped.
	ErrInvalidFrame = errors.New("hls: invalid frame")
	// ErrNoConfig reports a coded frame that arrived before its track's
	// decoder configuration; the frame is dropped.
	ErrNoConfig = errors.New("hls: frame before decoder configuration")
	// ErrInvalidPath reports a request path that is not a playlist or
	// segment path of this package.
	ErrInvalidPath = errors.New("hls: invalid path")
	// ErrUnsafePath reports a path under Config.Dir that is not what the
	// disk store creates there (a symbolic link or a file where a
	// directory belongs); nothing is written through it.
	ErrUnsafePath = errors.New("hls: unsafe path in the segment directory")
	// ErrInvalidDirective reports a malformed LL-HLS delivery directive
	// (_HLS_msn, _HLS_part, _HLS_skip) or one asking for a segment
	// beyond the last plus two; the request is answered 400.
	ErrInvalidDirective = errors.New("hls: invalid delivery directive")
	// ErrMemoryFull is returned when a stream's segmenter would start
	// while the memory budget (Config.Memory) is full.
	ErrMemoryFull = errors.New("hls: memory budget full")
	// ErrClosed is returned when using a closed Manager.
	ErrClosed = errors.New("hls: closed")
	// errSegmentRemoved reports a memory store segment that was removed
	// before it could be opened.
	errSegmentRemoved = errors.New("hls: segment removed")
)
