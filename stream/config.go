package stream

// Default values applied by Config for zero or negative fields.
const (
	// DefaultGOPCacheFrames is the default Config.GOPCacheFrames.
	DefaultGOPCacheFrames = 2048
	// DefaultGOPCacheBytes is the default Config.GOPCacheBytes (32 MiB).
	DefaultGOPCacheBytes = 32 << 20
	// MaxGOPCacheFrames caps Config.GOPCacheFrames so the ring stays a sane size.
	MaxGOPCacheFrames = 1 << 20
)

// Config bounds the per-stream cache and the reader backlog.
type Config struct {
	// GOPCacheFrames is the most entries (frames of all types) a stream keeps.
	// Default DefaultGOPCacheFrames (2048); capped at MaxGOPCacheFrames.
	GOPCacheFrames int
	// GOPCacheBytes is the most payload bytes a stream keeps; the newest frame
	// is always kept even if it alone is larger. Default DefaultGOPCacheBytes
	// (32 MiB).
	GOPCacheBytes int
	// MaxReaderLagBytes, when positive, makes a reader that is more than this
	// many payload bytes behind the live edge skip ahead to the newest
	// keyframe even though its position is still cached. Default 0: readers
	// are bounded by the cache only.
	MaxReaderLagBytes int
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
	return c
}
