package stream

import "time"

// Default values applied by Config for zero or negative fields.
const (
	// DefaultGOPCacheFrames is the default Config.GOPCacheFrames.
	DefaultGOPCacheFrames = 2048
	// DefaultGOPCacheBytes is the default Config.GOPCacheBytes (32 MiB).
	DefaultGOPCacheBytes = 32 << 20
	// MaxGOPCacheFrames caps Config.GOPCacheFrames so the ring stays a sane size.
	MaxGOPCacheFrames = 1 << 20
	// DefaultRepublishWindow is the republish window the server configures
	// (server.DefaultConfig); the zero Config has republishing off.
	DefaultRepublishWindow = 10 * time.Second
	// DefaultReclaimStalled is the ReclaimStalled the server configures.
	DefaultReclaimStalled = 2 * time.Second
	// DefaultAudioHold is the AudioHold the server configures.
	DefaultAudioHold = 50 * time.Millisecond
)

// Config bounds the per-stream cache and the reader backlog.
type Config struct {
	// GOPCacheFrames is the most entries (frames of all types) a stream keeps.
	// Default DefaultGOPCacheFrames (2048); capped at MaxGOPCacheFrames.
	GOPCacheFrames int `yaml:"gop_cache_frames"`
	// GOPCacheBytes is the most payload bytes a stream keeps; the newest frame
	// is always kept even if it alone is larger. Default DefaultGOPCacheBytes
	// (32 MiB).
	GOPCacheBytes int `yaml:"gop_cache_bytes"`
	// MaxReaderLagBytes, when positive, makes a reader that is more than this
	// many payload bytes behind the live edge skip ahead to the newest
	// keyframe even though its position is still cached. Default 0: readers
	// are bounded by the cache only.
	MaxReaderLagBytes int `yaml:"max_reader_lag_bytes"`
	// RepublishWindow is how long a stream whose publisher left waits for a
	// publisher of the same key to come back (an encoder reconnecting): the
	// readers stay attached and the new publisher continues the stream with
	// rebased timestamps. 0 (the zero Config) ends a stream as soon as its
	// publisher leaves; the server sets DefaultRepublishWindow (10 s).
	// Negative is treated as 0.
	RepublishWindow time.Duration `yaml:"republish_window"`
	// Takeover decides what happens when a publisher asks for a key that is
	// live: TakeoverRefuse (default; any value but "allow") refuses it;
	// TakeoverAllow
	// lets it take the stream over when it was authorised as the stream's
	// owner (PublisherInfo.Owner).
	Takeover TakeoverMode `yaml:"takeover"`
	// ReclaimStalled lets a publisher take over a live key when it comes
	// from the same host as the current publisher and the current one has
	// sent nothing for this long: an encoder that lost its network
	// reconnects before the server noticed the old connection died (that
	// takes IdleTimeout). It continues the stream as a republish. 0 (the
	// zero Config) is off; the server sets DefaultReclaimStalled (2 s).
	ReclaimStalled time.Duration `yaml:"reclaim_stalled"`
	// AudioHold lets the audio frames of a stream with video wait for the
	// next video frame, at most this long, before readers are woken: each
	// video frame then reaches a viewer together with the audio before it,
	// in one write instead of two or three, which roughly halves the cost
	// of a viewer. Video frames and headers are never held; audio reaches
	// viewers up to one video frame interval later. 0 (the zero Config)
	// wakes readers for every frame; the server sets DefaultAudioHold
	// (50 ms). Negative is treated as 0.
	AudioHold time.Duration `yaml:"audio_hold"`
}

// withDefaults returns c with defaults applied to unset or invalid fields.
func (c Config) withDefaults() Config {
	if c.GOPCacheFrames <= 0 {
		c.GOPCacheFrames = DefaultGOPCacheFrames
	}
	if c.GOPCacheFrames > MaxGOPCacheFrames {
		c.GOPCacheFrames = MaxGOPCacheFrames
	}
	if c.GOPCacheBytes <= 0 {
		c.GOPCacheBytes = DefaultGOPCacheBytes
	}
	if c.MaxReaderLagBytes < 0 {
		c.MaxReaderLagBytes = 0
	}
	if c.RepublishWindow < 0 {
		c.RepublishWindow = 0
	}
	if c.AudioHold < 0 {
		c.AudioHold = 0
	}
	return c
}
