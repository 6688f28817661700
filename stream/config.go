package stream

import (
	"fmt"
	"time"
)

// Default values applied by Config for zero or negative fields.
const (
	// DefaultGOPCacheFrames is the default Config.GOPCacheFrames.
	DefaultGOPCacheFrames = 2048
	// DefaultGOPCacheBytes is the default Config.GOPCacheBytes (32 MiB).
	DefaultGOPCacheBytes = 32 << 20
	// MaxGOPCacheFrames caps Config.GOPCacheFrames so the ring stays a sane size.
	MaxGOPCacheFrames = 1 << 20
	// DefaultTakeover is the default Config.Takeover.
	DefaultTakeover = TakeoverRefuse
	// DefaultRepublishWindow is the RepublishWindow of DefaultConfig; the
	// zero Config has republishing off.
	DefaultRepublishWindow = 10 * time.Second
	// DefaultReclaimStalled is the ReclaimStalled of DefaultConfig; the
	// zero Config has it off.
	DefaultReclaimStalled = 2 * time.Second
	// DefaultAudioHold is the AudioHold of DefaultConfig; the zero Config
	// holds no audio.
	DefaultAudioHold = 50 * time.Millisecond
	// DefaultMaxReaderLag is the MaxReaderLag the server configures.
	DefaultMaxReaderLag = 4 * time.Second
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
	// MaxReaderLag bounds how far behind the live edge a reader may fall,
	// in time: a reader whose next frame arrived more than this long
	// before the newest one skips ahead to the newest keyframe (the
	// newest frame, without video), and the frames it skipped count as
	// dropped. A consumer writing to a socket takes frames from its
	// reader only as fast as the socket accepts them, so a viewer on a
	// link slower than the stream is bounded by this. It also sizes the
	// cache: the stream keeps the newest GOP, for viewers that join, and
	// the frames of the last MaxReaderLag, for readers within the bound;
	// GOPCacheFrames and GOPCacheBytes stay hard caps. 0 (the zero
	// Config) bounds readers by the cache only; the server sets
	// DefaultMaxReaderLag (4 s). Negative is treated as 0.
	MaxReaderLag time.Duration `yaml:"max_reader_lag"`
	// RepublishWindow is how long a stream whose publisher left waits for a
	// publisher of the same key to come back (an encoder reconnecting): the
	// readers stay attached and the new publisher continues the stream with
	// rebased timestamps. 0 (the zero Config) ends a stream as soon as its
	// publisher leaves; DefaultConfig sets DefaultRepublishWindow (10 s).
	// Negative is treated as 0.
	RepublishWindow time.Duration `yaml:"republish_window"`
	// Takeover decides what happens when a publisher asks for a key that is
	// live: TakeoverRefuse ("refuse", the default) refuses it; TakeoverAllow
	// ("allow") lets it take the stream over when it was authorised as the
	// stream's owner (PublisherInfo.Owner). Other values are refused by
	// Validate.
	Takeover TakeoverMode `yaml:"takeover"`
	// ReclaimStalled lets a publisher take over a live key when it comes
	// from the same host as the current publisher and the current one has
	// sent nothing for this long: an encoder that lost its network
	// reconnects before the server noticed the old connection died (that
	// takes IdleTimeout). It continues the stream as a republish. 0 (the
	// zero Config) is off; DefaultConfig sets DefaultReclaimStalled (2 s).
	// Negative is treated as 0.
	ReclaimStalled time.Duration `yaml:"reclaim_stalled"`
	// AudioHold lets the audio frames of a stream with video wait for the
	// next video frame, at most this long, before readers are woken: each
	// video frame then reaches a viewer together with the audio before it,
	// in one write instead of two or three, which roughly halves the cost
	// of a viewer. Video frames and headers are never held; audio reaches
	// viewers up to one video frame interval later. 0 (the zero Config)
	// wakes readers for every frame; DefaultConfig sets DefaultAudioHold
	// (50 ms). Negative is treated as 0.
	AudioHold time.Duration `yaml:"audio_hold"`
}

// DefaultConfig returns the configuration a server starts from before its
// settings are read: republishing (DefaultRepublishWindow), reclaiming a
// stalled publisher's key (DefaultReclaimStalled), audio hold
// (DefaultAudioHold) and the readers' lag bound (DefaultMaxReaderLag),
// which are off in the zero Config. Its other fields
// are zero; WithDefaults fills them once every setting is known.
func DefaultConfig() Config {
	return Config{
		RepublishWindow: DefaultRepublishWindow,
		ReclaimStalled:  DefaultReclaimStalled,
		AudioHold:       DefaultAudioHold,
		MaxReaderLag:    DefaultMaxReaderLag,
	}
}

// WithDefaults returns c with the documented defaults in its unset fields
// and its out-of-range values brought into range: the configuration a
// Registry runs with. Applying it twice changes nothing.
func (c Config) WithDefaults() Config {
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
	if c.MaxReaderLag < 0 {
		c.MaxReaderLag = 0
	}
	if c.RepublishWindow < 0 {
		c.RepublishWindow = 0
	}
	if c.Takeover == "" {
		c.Takeover = DefaultTakeover
	}
	if c.ReclaimStalled < 0 {
		c.ReclaimStalled = 0
	}
	if c.AudioHold < 0 {
		c.AudioHold = 0
	}
	return c
}

// Validate reports a setting that cannot be used; call it on the result of
// WithDefaults.
func (c Config) Validate() error {
	if c.Takeover != TakeoverRefuse && c.Takeover != TakeoverAllow {
		return fmt.Errorf("%w: takeover %q is neither %q nor %q", ErrInvalidConfig, c.Takeover, TakeoverRefuse, TakeoverAllow)
	}
	return nil
}
