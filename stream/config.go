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
	// DefaultMaxStreams is the default Config.MaxStreams.
	DefaultMaxStreams = 1000
	// DefaultMaxStreamsPerIP is the default Config.MaxStreamsPerIP.
	DefaultMaxStreamsPerIP = 100
	// DefaultMaxIngestBitrate is the default Config.MaxIngestBitrate
	// (50 Mbit/s, above what the big platforms take for 4K60).
	DefaultMaxIngestBitrate = 50_000_000
	// DefaultIngestBitrateWindow is the default Config.IngestBitrateWindow.
	DefaultIngestBitrateWindow = 5 * time.Second
	// DefaultMemoryBudget is the default Config.MemoryBudget (1 GiB).
	DefaultMemoryBudget = 1 << 30
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
	// MaxStreams caps the streams the registry holds, those waiting for
	// their publisher to come back included: one more publisher of a new
	// key is refused (LimitStreams). 0 (the zero Config) is no cap;
	// DefaultConfig sets DefaultMaxStreams (1000). Negative is treated as
	// 0.
	MaxStreams int `yaml:"max_streams"`
	// MaxStreamsPerIP caps the streams started by publishers from one
	// address, IPv6 addresses of one /64 counting as one, waiting ones
	// included (LimitStreamsPerIP); publishers without a RemoteAddr are
	// not counted against it. 0 (the zero Config) is no cap;
	// DefaultConfig sets DefaultMaxStreamsPerIP (100). Negative is treated
	// as 0.
	MaxStreamsPerIP int `yaml:"max_streams_per_ip"`
	// MaxIngestBitrate caps what one publisher may send, in bits per
	// second of payload averaged over IngestBitrateWindow of wall-clock
	// time: a publisher that sends more within a window is cut off and its
	// stream ends (LimitIngestBitrate). 0 (the zero Config) is no cap;
	// DefaultConfig sets DefaultMaxIngestBitrate (50 Mbit/s). Negative is
	// treated as 0.
	MaxIngestBitrate int64 `yaml:"max_ingest_bitrate"`
	// IngestBitrateWindow is the window MaxIngestBitrate is measured over.
	// Default DefaultIngestBitrateWindow (5s) when MaxIngestBitrate is set.
	IngestBitrateWindow time.Duration `yaml:"ingest_bitrate_window"`
	// MemoryBudget caps the bytes held by every stream's GOP cache and the
	// HLS segment stores together (Registry.Memory): while they hold this
	// much, publishers of new keys are refused (LimitMemory); from three
	// quarters of it on, HLS frees the data of ended streams without
	// waiting for their retention. 0
	// (the zero Config) is no cap, the bytes are still counted;
	// DefaultConfig sets DefaultMemoryBudget (1 GiB). Negative is treated
	// as 0.
	MemoryBudget int64 `yaml:"memory_budget"`
}

// DefaultConfig returns the configuration a server starts from before its
// settings are read: republishing (DefaultRepublishWindow), reclaiming a
// stalled publisher's key (DefaultReclaimStalled), audio hold
// (DefaultAudioHold), the readers' lag bound (DefaultMaxReaderLag) and
// the budgets (DefaultMaxStreams, DefaultMaxStreamsPerIP,
// DefaultMaxIngestBitrate, DefaultMemoryBudget), which are off in the
// zero Config. Its other fields
// are zero; WithDefaults fills them once every setting is known.
func DefaultConfig() Config {
	return Config{
		RepublishWindow: DefaultRepublishWindow,
		ReclaimStalled:  DefaultReclaimStalled,
		AudioHold:       DefaultAudioHold,
		MaxReaderLag:    DefaultMaxReaderLag,

		MaxStreams:       DefaultMaxStreams,
		MaxStreamsPerIP:  DefaultMaxStreamsPerIP,
		MaxIngestBitrate: DefaultMaxIngestBitrate,
		MemoryBudget:     DefaultMemoryBudget,
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
	c.MaxStreams = max(c.MaxStreams, 0)
	c.MaxStreamsPerIP = max(c.MaxStreamsPerIP, 0)
	c.MaxIngestBitrate = max(c.MaxIngestBitrate, 0)
	c.MemoryBudget = max(c.MemoryBudget, 0)
	if c.MaxIngestBitrate > 0 && c.IngestBitrateWindow <= 0 {
		c.IngestBitrateWindow = DefaultIngestBitrateWindow
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
