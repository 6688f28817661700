package hls

import (
	"context"
	"fmt"
	"time"

	"github.com/mediaserver/mediaserver/internal/cors"
	"github.com/mediaserver/mediaserver/stream"
)

// Start modes (Config.Start).
const (
	// StartOnPublish segments every stream from the moment it is published.
	StartOnPublish = "publish"
	// StartOnRequest segments a stream from the first HLS request for it and
	// stops after Config.IdleTimeout without requests.
	StartOnRequest = "request"
)

// Storage kinds (Config.Storage).
const (
	// StorageMemory keeps segments in memory.
	StorageMemory = "memory"
	// StorageDisk writes segments as files below Config.Dir.
	StorageDisk = "disk"
)

// Variant is the kind of HLS a Manager produces (Config.Variant).
type Variant string

// Variants (Config.Variant), named as MediaMTX users know them.
const (
	// VariantLowLatency is Low-Latency HLS over fMP4 (CMAF) segments, each
	// made of parts of Config.PartDuration. The default.
	VariantLowLatency Variant = "lowlatency"
	// VariantFMP4 is HLS over fMP4 (CMAF) segments without parts.
	VariantFMP4 Variant = "fmp4"
	// VariantMPEGTS is HLS over MPEG-TS segments, for old TVs and set-top
	// boxes.
	VariantMPEGTS Variant = "mpegts"
)

// Defaults applied by Config for zero fields.
const (
	DefaultSegmentDuration    = 2 * time.Second
	DefaultPlaylistLength     = 6
	DefaultEndListDelay       = 5 * time.Second
	DefaultEndedRetention     = 60 * time.Second
	DefaultIdleTimeout        = 60 * time.Second
	DefaultMaxSegmentBytes    = 32 << 20
	DefaultMaxSegmentDuration = 30 * time.Second
	DefaultRetainAfterWindow  = 1
	DefaultVariant            = VariantLowLatency
	DefaultPartDuration       = 200 * time.Millisecond
)

// Limits on configuration values.
const (
	// MinSegmentDuration and MaxTargetDuration bound Config.SegmentDuration.
	MinSegmentDuration = 500 * time.Millisecond
	MaxTargetDuration  = 60 * time.Second
	// MaxBlockingTimeout bounds Config.BlockingTimeout.
	MaxBlockingTimeout = 3 * MaxTargetDuration
	// MaxPlaylistLength bounds Config.PlaylistLength and
	// Config.RetainAfterWindow.
	MaxPlaylistLength = 1000
	// MinPartDuration is the shortest Config.PartDuration; the longest is
	// half Config.SegmentDuration.
	MinPartDuration = 50 * time.Millisecond
	// minMaxSegmentBytes is the smallest accepted Config.MaxSegmentBytes.
	minMaxSegmentBytes = 64 << 10
)

// viewerTargetDurations is how many target durations a client counts as an
// HLS viewer after its last request, unless Config.ViewerTimeout says
// otherwise.
const viewerTargetDurations = 3

// Authorizer decides whether a client may play a stream. An error refuses
// the playlist or segment request with 403 and the error's text.
type Authorizer interface {
	Authorize(ctx context.Context, req stream.AccessRequest) error
}

// Config configures HLS output. The zero value is usable: every zero field
// takes its documented default.
type Config struct {
	// SegmentDuration is the target segment duration: a segment is cut at the
	// first video keyframe once it is this long (audio-only streams are cut on
	// time). Default 2s, at least MinSegmentDuration. A playlist's
	// EXT-X-TARGETDURATION is decided with its first segment (this rounded
	// up to whole seconds, or the first segment's duration when the stream's
	// GOP is longer) and never changes: a later GOP too long for it is cut
	// early, without a keyframe (such a segment is not independent).
	SegmentDuration time.Duration `yaml:"segment_duration"`
	// PlaylistLength is the number of segments in the sliding-window
	// playlist. Default 6.
	PlaylistLength int `yaml:"playlist_length"`
	// Start is StartOnPublish ("publish", the default) or StartOnRequest
	// ("request").
	Start string `yaml:"start"`
	// Storage is StorageMemory ("memory", the default) or StorageDisk
	// ("disk", which needs Dir). In memory, segment bytes are kept outside
	// the Go heap on Linux (one memory mapping per segment; on other
	// systems, or when a mapping fails, on the heap): the collector's
	// headroom does not grow with them, and they are returned to the
	// system as soon as they expire and their last reader is done.
	Storage string `yaml:"storage"`
	// Dir is the directory segments are written to with StorageDisk, as
	// {app}/{name}/{file}: directories 0750, files 0640. The package only
	// creates and deletes files it names itself below it, and follows no
	// symbolic link below it (Dir itself may be one).
	Dir string `yaml:"dir"`
	// RetainAfterWindow is how many segments stay fetchable after they left
	// the playlist window, for players that loaded an older playlist. A
	// player asks only for segments listed in a playlist it loaded, fetches
	// them about as fast as the window slides (it plays in real time), and
	// loads the playlist again every target duration (RFC 8216 section
	// 6.3.4): only a player holding the playlist from before the last slide
	// can still ask for a segment that left, for about one target duration.
	// So the newest RetainAfterWindow segments out of the window are kept
	// while the stream is live, and once the publisher left each goes
	// RetainAfterWindow target durations after it left the window. Default
	// 1. RFC 8216 section 6.2.2 asks for more (a removed segment stays for
	// its duration plus the playlist's): PlaylistLength + 1 gives that, at
	// the memory cost of as many segments per stream.
	RetainAfterWindow int `yaml:"retain_after_window"`
	// EndListDelay is how long the playlist stays live after the publisher
	// left before it gets EXT-X-ENDLIST, so that a publisher reconnecting
	// under the same name continues the same playlist (with a
	// discontinuity) and players keep playing. A publisher returning after
	// EXT-X-ENDLIST starts a new playlist at the same URL (the ended one is
	// never reopened). Default 5s; negative: at once.
	EndListDelay time.Duration `yaml:"end_list_delay"`
	// EndedRetention is how long a stream's HLS data (playlist and segments)
	// is kept after the publisher left; then it is freed. Default 60s; never
	// less than EndListDelay. The data of a stream no client ever requested
	// is freed after EndListDelay, and that of every ended stream while
	// the memory budget is low (Memory).
	EndedRetention time.Duration `yaml:"ended_retention"`
	// IdleTimeout stops the segmenter of a stream started on request after
	// this long without HLS requests. Default 60s. Unused with
	// StartOnPublish.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// ViewerTimeout is how long a client (a remote IP address, an IPv6 one
	// by its /64, whatever its User-Agent) counts as a viewer after its
	// last request. Default: three of the stream's
	// target durations.
	ViewerTimeout time.Duration `yaml:"viewer_timeout"`

	// BlockingTimeout bounds how long a blocking playlist reload
	// (_HLS_msn, _HLS_part) of the lowlatency variant, or a GET of the
	// part its EXT-X-PRELOAD-HINT names, waits for what it asks for; then
	// it is answered 503. Default three times SegmentDuration rounded up
	// to whole seconds (about three target durations); at most
	// MaxBlockingTimeout.
	BlockingTimeout time.Duration `yaml:"blocking_timeout"`

	// AllowedOrigins lists the origins allowed to read HLS responses
	// (CORS). Empty or "*": any origin.
	AllowedOrigins []string `yaml:"allowed_origins"`
	// Authorizer decides who may fetch a stream's playlist and segments;
	// nil allows everyone. A segment request is asked with the query its
	// URI carries: the playlist's, which the playlist appends to every URI
	// it lists (a signed URL's token, say).
	Authorizer Authorizer `yaml:"-"`
	// MaxSegmentBytes caps a segment's size: a segment reaching it is cut at
	// the next frame even without a keyframe. Default 32 MiB.
	MaxSegmentBytes int `yaml:"max_segment_bytes"`
	// MaxSegmentDuration caps a segment's duration the same way, for streams
	// whose keyframes stop. Default 30s, at least twice SegmentDuration.
	MaxSegmentDuration time.Duration `yaml:"max_segment_duration"`
	// Memory is the budget the segments kept in memory count against,
	// shared with the streams' caches (stream.Registry.Memory); nil counts
	// nothing. While it is low, the data of ended streams is freed at the
	// next janitor pass instead of after EndedRetention; while it is full,
	// no segmenter starts on request.
	Memory MemoryAccount `yaml:"-"`

	// Variant is the kind of HLS served: VariantLowLatency ("lowlatency",
	// the default: LL-HLS over fMP4), VariantFMP4 ("fmp4") or VariantMPEGTS
	// ("mpegts").
	Variant Variant `yaml:"variant"`
	// PartDuration is the LL-HLS part target (VariantLowLatency only): a
	// part lasts at most this long; it ends with the video frame the next
	// would not fit after (and goes out with that frame), or before the
	// frame that would pass it; a keyframe that cuts a segment starts a
	// part.
	// Default 200ms, at least MinPartDuration and at most half
	// SegmentDuration.
	PartDuration time.Duration `yaml:"part_duration"`

	// Groups publishes multivariant playlists over streams published
	// separately, one per rendition: "live/show" → ["live/show_1080",
	// "live/show_720"] serves /live/show.m3u8 listing the media playlists
	// of the members that are live. A stream is in one group at most.
	Groups map[string][]string `yaml:"groups"`
}

// MemoryAccount is a memory budget that the bytes of the segments kept in
// memory are added to and taken from (*stream.MemoryBudget).
type MemoryAccount interface {
	// Add counts n more bytes held (negative: released).
	Add(n int64)
	// Full reports whether the budget is used up.
	Full() bool
	// Low reports whether little of the budget is left.
	Low() bool
}

// WithDefaults returns c with the documented defaults in its zero fields:
// the configuration a Manager runs with. Applying it twice changes
// nothing.
func (c Config) WithDefaults() Config {
	if c.SegmentDuration == 0 {
		c.SegmentDuration = DefaultSegmentDuration
	}
	if c.PlaylistLength == 0 {
		c.PlaylistLength = DefaultPlaylistLength
	}
	if c.Start == "" {
		c.Start = StartOnPublish
	}
	if c.Storage == "" {
		c.Storage = StorageMemory
	}
	if c.RetainAfterWindow == 0 {
		c.RetainAfterWindow = DefaultRetainAfterWindow
	}
	if c.EndListDelay == 0 {
		c.EndListDelay = DefaultEndListDelay
	}
	if c.EndedRetention == 0 {
		c.EndedRetention = DefaultEndedRetention
	}
	c.EndedRetention = max(c.EndedRetention, c.EndListDelay)
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.BlockingTimeout == 0 {
		c.BlockingTimeout = 3 * ((c.SegmentDuration + time.Second - 1) / time.Second * time.Second)
	}
	if c.MaxSegmentBytes == 0 {
		c.MaxSegmentBytes = DefaultMaxSegmentBytes
	}
	if c.MaxSegmentDuration == 0 {
		c.MaxSegmentDuration = DefaultMaxSegmentDuration
	}
	c.MaxSegmentDuration = max(c.MaxSegmentDuration, 2*c.SegmentDuration)
	if c.Variant == "" {
		c.Variant = DefaultVariant
	}
	if c.PartDuration == 0 {
		c.PartDuration = DefaultPartDuration
	}
	return c
}

// Validate reports a configuration that cannot be used; call it on the
// result of WithDefaults.
func (c Config) Validate() error {
	if err := (cors.Policy{AllowedOrigins: c.AllowedOrigins}).Validate(); err != nil {
		return fmt.Errorf("%w: allowed_origins: %w", ErrInvalidConfig, err)
	}
	switch {
	case c.SegmentDuration < MinSegmentDuration || c.SegmentDuration > MaxTargetDuration:
		return fmt.Errorf("%w: segment duration %v not in %v..%v", ErrInvalidConfig,
			c.SegmentDuration, MinSegmentDuration, MaxTargetDuration)
	case c.PlaylistLength < 1 || c.PlaylistLength > MaxPlaylistLength:
		return fmt.Errorf("%w: playlist length %d not in 1..%d", ErrInvalidConfig, c.PlaylistLength, MaxPlaylistLength)
	case c.RetainAfterWindow < 1 || c.RetainAfterWindow > MaxPlaylistLength:
		return fmt.Errorf("%w: retain after window %d not in 1..%d", ErrInvalidConfig, c.RetainAfterWindow, MaxPlaylistLength)
	case c.Start != StartOnPublish && c.Start != StartOnRequest:
		return fmt.Errorf("%w: start %q is neither %q nor %q", ErrInvalidConfig, c.Start, StartOnPublish, StartOnRequest)
	case c.Storage != StorageMemory && c.Storage != StorageDisk:
		return fmt.Errorf("%w: storage %q is neither %q nor %q", ErrInvalidConfig, c.Storage, StorageMemory, StorageDisk)
	case c.Storage == StorageDisk && c.Dir == "":
		return fmt.Errorf("%w: disk storage needs a directory", ErrInvalidConfig)
	case c.EndedRetention < 0 || c.IdleTimeout < 0 || c.ViewerTimeout < 0:
		return fmt.Errorf("%w: negative retention, idle or viewer timeout", ErrInvalidConfig)
	case c.BlockingTimeout < 0 || c.BlockingTimeout > MaxBlockingTimeout:
		return fmt.Errorf("%w: blocking timeout %v not in 0..%v", ErrInvalidConfig, c.BlockingTimeout, MaxBlockingTimeout)
	case c.MaxSegmentBytes < minMaxSegmentBytes:
		return fmt.Errorf("%w: max segment bytes %d below %d", ErrInvalidConfig, c.MaxSegmentBytes, minMaxSegmentBytes)
	}
	return c.validateVariant()
}

// validateVariant reports an unknown variant or a part duration out of
// bounds.
func (c Config) validateVariant() error {
	switch {
	case c.Variant != VariantLowLatency && c.Variant != VariantFMP4 && c.Variant != VariantMPEGTS:
		return fmt.Errorf("%w: variant %q is none of %q, %q, %q", ErrInvalidConfig, c.Variant,
			VariantLowLatency, VariantFMP4, VariantMPEGTS)
	case groupsInvalid(c.Groups) != nil:
		return fmt.Errorf("%w: groups: %w", ErrInvalidConfig, groupsInvalid(c.Groups))
	case c.PartDuration < MinPartDuration || c.PartDuration > c.SegmentDuration/2:
		return fmt.Errorf("%w: part duration %v not in %v..%v", ErrInvalidConfig,
			c.PartDuration, MinPartDuration, c.SegmentDuration/2)
	}
	return nil
}
