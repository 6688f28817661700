package record

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Recording formats (Config.Format, Rule.Format).
const (
	// FormatFMP4 is fragmented MP4 (".mp4").
	FormatFMP4 = "fmp4"
	// FormatFLV is FLV (".flv").
	FormatFLV = "flv"
)

// Defaults applied by Config.WithDefaults to zero fields.
const (
	// DefaultDir is the default Config.Dir.
	DefaultDir = "recordings"
	// DefaultFormat is the default Config.Format.
	DefaultFormat = FormatFMP4
	// DefaultTemplate is the default Config.Template.
	DefaultTemplate = "{app}-{name}-{start}"
	// DefaultFragmentDuration is the default Config.FragmentDuration.
	DefaultFragmentDuration = time.Second
	// DefaultMinFreeDisk is the default Config.MinFreeDisk (256 MiB).
	DefaultMinFreeDisk = 256 << 20
	// DefaultDiskCheckInterval is the default Config.DiskCheckInterval.
	DefaultDiskCheckInterval = 5 * time.Second
	// DefaultHookTimeout is the default Config.HookTimeout.
	DefaultHookTimeout = 5 * time.Second
	// DefaultHookWorkers is the default Config.HookWorkers.
	DefaultHookWorkers = 2
	// DefaultHookQueue is the default Config.HookQueue.
	DefaultHookQueue = 256
	// MinSegmentDuration is the shortest SegmentDuration accepted.
	MinSegmentDuration = time.Second
	// MinMaxSize is the smallest MaxSize accepted (1 MiB).
	MinMaxSize = 1 << 20
)

// Template placeholders.
const (
	placeholderApp   = "{app}"
	placeholderName  = "{name}"
	placeholderStart = "{start}"
)

// Rule selects recording for an app or a stream and may override the
// format and the rotation limits of Config.
type Rule struct {
	// Format is FormatFMP4 or FormatFLV; empty: Config.Format.
	Format string `yaml:"format"`
	// SegmentDuration starts a new file at the first keyframe after this
	// much media time; 0: Config.SegmentDuration.
	SegmentDuration time.Duration `yaml:"segment_duration"`
	// MaxSize starts a new file at the first keyframe after this many
	// bytes; 0: Config.MaxSize.
	MaxSize int64 `yaml:"max_size"`
}

// Config configures recording.
type Config struct {
	// Dir is the directory files are written to, created if missing.
	// Default DefaultDir ("recordings", relative to the working
	// directory).
	Dir string `yaml:"dir"`
	// Apps records every stream of the named apps from its start.
	Apps map[string]Rule `yaml:"apps"`
	// Streams records the named streams ("app/name") from their start; an
	// entry here overrides the stream's app entry.
	Streams map[string]Rule `yaml:"streams"`
	// Format is the format of recordings started through the API and of
	// rules without one. Default DefaultFormat (fmp4).
	Format string `yaml:"format"`
	// SegmentDuration rotates files by media time (at a keyframe). Default
	// 0: no rotation by time. At least MinSegmentDuration when set.
	SegmentDuration time.Duration `yaml:"segment_duration"`
	// MaxSize rotates files by size in bytes (at a keyframe). Default 0: no
	// rotation by size. At least MinMaxSize when set.
	MaxSize int64 `yaml:"max_size"`
	// Template names files: {app}, {name} and {start} (the file's start
	// time, UTC, as 20060102T150405Z) are replaced, and the format's
	// extension is appended. It must contain {start} and no path
	// separator. Default DefaultTemplate ("{app}-{name}-{start}").
	Template string `yaml:"template"`
	// FragmentDuration is how much media an MP4 fragment (and a flush of an
	// FLV file) holds at most, about: what a crash can lose. Default
	// DefaultFragmentDuration (1s).
	FragmentDuration time.Duration `yaml:"fragment_duration"`
	// MinFreeDisk stops recordings, with reason "low disk space", when the
	// free space of Dir falls below this many bytes, and refuses to start
	// new ones. Default DefaultMinFreeDisk (256 MiB); negative: no check.
	MinFreeDisk int64 `yaml:"min_free_disk"`
	// DiskCheckInterval is how often a recording checks the free space.
	// Default DefaultDiskCheckInterval (5s).
	DiskCheckInterval time.Duration `yaml:"disk_check_interval"`
	// OnRecordDone is the URL POSTed a JSON description of each completed
	// file (path, stream, format, duration, size, reason). Empty: none.
	OnRecordDone string `yaml:"on_record_done"`
	// HookTimeout bounds one on_record_done call. Default
	// DefaultHookTimeout (5s).
	HookTimeout time.Duration `yaml:"hook_timeout"`
	// HookWorkers is the number of concurrent on_record_done calls.
	// Default DefaultHookWorkers (2).
	HookWorkers int `yaml:"hook_workers"`
	// HookQueue is how many on_record_done calls may wait; more are dropped
	// and logged. Default DefaultHookQueue (256).
	HookQueue int `yaml:"hook_queue"`
}

// WithDefaults returns c with the documented defaults in its zero fields.
func (c Config) WithDefaults() Config {
	if c.Dir == "" {
		c.Dir = DefaultDir
	}
	if c.Format == "" {
		c.Format = DefaultFormat
	}
	if c.Template == "" {
		c.Template = DefaultTemplate
	}
	if c.FragmentDuration <= 0 {
		c.FragmentDuration = DefaultFragmentDuration
	}
	if c.MinFreeDisk == 0 {
		c.MinFreeDisk = DefaultMinFreeDisk
	}
	if c.DiskCheckInterval <= 0 {
		c.DiskCheckInterval = DefaultDiskCheckInterval
	}
	if c.HookTimeout <= 0 {
		c.HookTimeout = DefaultHookTimeout
	}
	if c.HookWorkers <= 0 {
		c.HookWorkers = DefaultHookWorkers
	}
	if c.HookQueue <= 0 {
		c.HookQueue = DefaultHookQueue
	}
	return c
}

// Validate reports every setting that cannot be used; call it on the
// result of WithDefaults.
func (c Config) Validate() error {
	var problems []string
	if err := checkFormat(c.Format); err != nil {
		problems = append(problems, "format: "+err.Error())
	}
	problems = append(problems, checkLimits("", c.SegmentDuration, c.MaxSize)...)
	if err := checkTemplate(c.Template); err != nil {
		problems = append(problems, "template: "+err.Error())
	}
	for app, rule := range c.Apps {
		if !validName(app) {
			problems = append(problems, fmt.Sprintf("apps: %q is not an app name", app))
		}
		problems = append(problems, rule.check("apps."+app)...)
	}
	for key, rule := range c.Streams {
		app, name, ok := strings.Cut(key, "/")
		if !ok || !validName(app) || !validName(name) {
			problems = append(problems, fmt.Sprintf("streams: %q is not app/name", key))
		}
		problems = append(problems, rule.check("streams."+key)...)
	}
	if c.OnRecordDone != "" {
		if u, err := url.Parse(c.OnRecordDone); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			problems = append(problems, fmt.Sprintf("on_record_done %q: want an http(s) URL", c.OnRecordDone))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalidConfig, strings.Join(problems, "; "))
	}
	return nil
}

// check reports the problems of a rule, prefixed with where it is.
func (r Rule) check(where string) []string {
	var problems []string
	if r.Format != "" {
		if err := checkFormat(r.Format); err != nil {
			problems = append(problems, where+".format: "+err.Error())
		}
	}
	return append(problems, checkLimits(where+".", r.SegmentDuration, r.MaxSize)...)
}

// checkFormat reports an unknown format.
func checkFormat(f string) error {
	if f != FormatFMP4 && f != FormatFLV {
		return fmt.Errorf("%q: want %s or %s", f, FormatFMP4, FormatFLV)
	}
	return nil
}

// checkLimits reports rotation limits that are set but too small.
func checkLimits(prefix string, d time.Duration, size int64) []string {
	var problems []string
	if d != 0 && d < MinSegmentDuration {
		problems = append(problems, fmt.Sprintf("%ssegment_duration %s: want 0 or at least %s", prefix, d, MinSegmentDuration))
	}
	if size != 0 && size < MinMaxSize {
		problems = append(problems, fmt.Sprintf("%smax_size %d: want 0 or at least %d bytes", prefix, size, MinMaxSize))
	}
	return problems
}

// checkTemplate reports a template that could name a file outside the
// directory or the same file twice.
func checkTemplate(t string) error {
	if !strings.Contains(t, placeholderStart) {
		return fmt.Errorf("%q lacks %s", t, placeholderStart)
	}
	rest := strings.NewReplacer(placeholderApp, "", placeholderName, "", placeholderStart, "").Replace(t)
	for i := 0; i < len(rest); i++ {
		if !nameChar(rest[i]) {
			return fmt.Errorf("%q has character %q: want letters, digits and -_.~", t, rest[i])
		}
	}
	if strings.HasPrefix(t, ".") {
		return fmt.Errorf("%q starts with a dot", t)
	}
	return nil
}

// validName reports whether s is a valid app or stream name, as the stream
// hub accepts them.
func validName(s string) bool {
	if s == "" || len(s) > 128 || s[0] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !nameChar(s[i]) {
			return false
		}
	}
	return true
}

// nameChar reports whether c may appear in a name.
func nameChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return c == '-' || c == '_' || c == '.' || c == '~'
}

// settings are the effective format and limits of one recording.
type settings struct {
	format          string
	segmentDuration time.Duration
	maxSize         int64
}

// rule returns the settings for app/name and whether the configuration
// records it from its start.
func (c Config) rule(app, name string) (settings, bool) {
	r, ok := c.Streams[app+"/"+name]
	if !ok {
		r, ok = c.Apps[app]
	}
	return c.settings(r), ok
}

// settings fills r's empty fields from c.
func (c Config) settings(r Rule) settings {
	s := settings{format: r.Format, segmentDuration: r.SegmentDuration, maxSize: r.MaxSize}
	if s.format == "" {
		s.format = c.Format
	}
	if s.segmentDuration == 0 {
		s.segmentDuration = c.SegmentDuration
	}
	if s.maxSize == 0 {
		s.maxSize = c.MaxSize
	}
	return s
}
