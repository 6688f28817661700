package access

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/mediaserver/mediaserver/stream"
)

// Defaults applied to zero Config fields.
const (
	// DefaultHookTimeout is the default Config.HookTimeout.
	DefaultHookTimeout = 3 * time.Second
	// DefaultMaxConcurrentHooks is the default Config.MaxConcurrentHooks.
	DefaultMaxConcurrentHooks = 64
	// DefaultNotifyQueue is the default Config.NotifyQueue.
	DefaultNotifyQueue = 1024
	// DefaultNotifyWorkers is the default Config.NotifyWorkers.
	DefaultNotifyWorkers = 4
	// DefaultPlayCacheTTL is the default Config.PlayCacheTTL.
	DefaultPlayCacheTTL = 10 * time.Second
	// DefaultPlayCacheEntries is the default Config.PlayCacheEntries.
	DefaultPlayCacheEntries = 4096

	// DefaultDataDir is the default Config.DataDir, relative to the
	// working directory.
	DefaultDataDir = "data"
)

// WildcardApp is the Apps key whose rule applies to apps not listed.
const WildcardApp = "*"

// Config configures a Checker. The zero value allows everyone and calls no
// hook.
type Config struct {
	// Apps restricts publishing per app. When empty, any app and any
	// stream key may publish (hooks permitting). When not empty, only the
	// apps listed may be published to (WildcardApp "*" matches the others),
	// each with its own rule. Default empty.
	Apps map[string]AppRule `yaml:"apps"`
	// OnPublish is the URL asked before a stream is published: a POST of a
	// JSON HookRequest with action "publish"; a 2xx answer allows. Default
	// none.
	OnPublish string `yaml:"on_publish"`
	// OnPlay is the URL asked before a viewer plays a stream (RTMP,
	// HTTP-FLV, WebSocket-FLV, HLS playlists and segments), the same way
	// with action "play". Default none.
	OnPlay string `yaml:"on_play"`
	// OnUnpublish is told (action "unpublish") when a stream ends; its
	// answer is ignored. Default none.
	OnUnpublish string `yaml:"on_unpublish"`
	// OnPlayStop is told (action "play_stop") when a viewer stops; its
	// answer is ignored. Default none.
	OnPlayStop string `yaml:"on_play_stop"`
	// HookTimeout bounds every hook call, from connecting to the end of the
	// answer, unless PublishHookTimeout or PlayHookTimeout says otherwise.
	// Default DefaultHookTimeout (3 s).
	HookTimeout time.Duration `yaml:"hook_timeout"`
	// PublishHookTimeout bounds an on_publish call, and the wait for a free
	// slot of its pool. Default HookTimeout.
	PublishHookTimeout time.Duration `yaml:"publish_hook_timeout"`
	// PlayHookTimeout bounds an on_play call, and the wait for a free slot
	// of its pool. Default HookTimeout.
	PlayHookTimeout time.Duration `yaml:"play_hook_timeout"`
	// MaxConcurrentHooks is the default size of each of the two pools of
	// authorising hook calls, MaxConcurrentPublishHooks and
	// MaxConcurrentPlayHooks. Default DefaultMaxConcurrentHooks (64).
	MaxConcurrentHooks int `yaml:"max_concurrent_hooks"`
	// MaxConcurrentPublishHooks bounds the on_publish calls in flight; a
	// publisher that cannot get a slot within PublishHookTimeout is
	// refused. on_play calls never take these slots, so viewers cannot
	// starve publishers. Default MaxConcurrentHooks.
	MaxConcurrentPublishHooks int `yaml:"max_concurrent_publish_hooks"`
	// MaxConcurrentPlayHooks bounds the on_play calls in flight; a viewer
	// that cannot get a slot within PlayHookTimeout is refused. Default
	// MaxConcurrentHooks.
	MaxConcurrentPlayHooks int `yaml:"max_concurrent_play_hooks"`
	// ExposeHookReason, when set, appends the first line of a refusing
	// hook's answer (sanitised, at most 128 bytes) to the refusal the
	// client sees. By default clients only learn the status and the body
	// is logged. Default false.
	ExposeHookReason bool `yaml:"expose_hook_reason"`
	// NotifyQueue is how many on_unpublish/on_play_stop notifications may
	// wait for a worker; more are dropped (and counted). Default
	// DefaultNotifyQueue (1024).
	NotifyQueue int `yaml:"notify_queue"`
	// NotifyWorkers is how many notifications are sent at once. Default
	// DefaultNotifyWorkers (4).
	NotifyWorkers int `yaml:"notify_workers"`
	// PlayCacheTTL is how long an on_play answer for an HLS client (same
	// stream, query and remote host) is reused, since players fetch the
	// playlist every few seconds. Other protocols ask once per session and
	// are never cached. Negative disables. Default DefaultPlayCacheTTL
	// (10 s).
	PlayCacheTTL time.Duration `yaml:"play_cache_ttl"`
	// PlayCacheEntries bounds the HLS play cache; when it is full the
	// least recently used answer is forgotten. Default
	// DefaultPlayCacheEntries (4096).
	PlayCacheEntries int `yaml:"play_cache_entries"`
	// DataDir is the directory of the secret stream key store (a bbolt
	// file, keys.db), created with the first key made through the API.
	// Default DefaultDataDir ("data", under the working directory).
	DataDir string `yaml:"data_dir"`
}

// AppRule is the publishing and playing rule of one app.
type AppRule struct {
	// PublishKeys lists the stream keys (stream names) that may be
	// published in the app; empty allows any. They are names, seen by
	// viewers: secret keys are made through the API (see Config.DataDir).
	// They are read again on SIGHUP (Checker.Reload). Default empty.
	PublishKeys []string `yaml:"publish_keys"`
	// PlaySecret, when set, makes every play of the app (RTMP, HTTP-FLV,
	// WebSocket-FLV, HLS playlists and segments) require a token=… query
	// parameter signed with it (see SignPlayToken); at least
	// MinPlaySecretLen characters. Default none: play is not signed.
	PlaySecret string `yaml:"play_secret"`
}

// WithDefaults returns c with the documented defaults in its unset fields:
// the configuration a Checker runs with. Applying it twice changes
// nothing.
func (c Config) WithDefaults() Config {
	if c.HookTimeout <= 0 {
		c.HookTimeout = DefaultHookTimeout
	}
	if c.PublishHookTimeout <= 0 {
		c.PublishHookTimeout = c.HookTimeout
	}
	if c.PlayHookTimeout <= 0 {
		c.PlayHookTimeout = c.HookTimeout
	}
	if c.MaxConcurrentHooks <= 0 {
		c.MaxConcurrentHooks = DefaultMaxConcurrentHooks
	}
	if c.MaxConcurrentPublishHooks <= 0 {
		c.MaxConcurrentPublishHooks = c.MaxConcurrentHooks
	}
	if c.MaxConcurrentPlayHooks <= 0 {
		c.MaxConcurrentPlayHooks = c.MaxConcurrentHooks
	}
	if c.PlayCacheEntries <= 0 {
		c.PlayCacheEntries = DefaultPlayCacheEntries
	}
	if c.NotifyQueue <= 0 {
		c.NotifyQueue = DefaultNotifyQueue
	}
	if c.NotifyWorkers <= 0 {
		c.NotifyWorkers = DefaultNotifyWorkers
	}
	if c.PlayCacheTTL == 0 {
		c.PlayCacheTTL = DefaultPlayCacheTTL
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	return c
}

// Validate reports configuration mistakes: hook URLs that are not absolute
// http(s) URLs, app names the server would never see, empty keys and
// negative sizes. New refuses a Config that does not validate.
func (c Config) Validate() error {
	var errs []error
	for _, h := range []struct{ name, url string }{
		{"on_publish", c.OnPublish}, {"on_play", c.OnPlay},
		{"on_unpublish", c.OnUnpublish}, {"on_play_stop", c.OnPlayStop},
	} {
		if h.url == "" {
			continue
		}
		u, err := url.Parse(h.url)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("%w: %s: want an absolute http or https URL", ErrInvalidConfig, h.name))
		}
	}
	for app, rule := range c.Apps {
		if app != WildcardApp {
			if err := stream.CheckName(app); err != nil {
				errs = append(errs, fmt.Errorf("%w: apps: %w", ErrInvalidConfig, err))
			}
		}
		for i, key := range rule.PublishKeys {
			if key == "" {
				errs = append(errs, fmt.Errorf("%w: apps.%s.publish_keys[%d] is empty", ErrInvalidConfig, app, i))
			}
		}
	}
	for app, rule := range c.Apps {
		if rule.PlaySecret != "" && len(rule.PlaySecret) < MinPlaySecretLen {
			errs = append(errs, fmt.Errorf("%w: apps.%s.play_secret is shorter than %d characters", ErrInvalidConfig, app, MinPlaySecretLen))
		}
	}
	if c.HookTimeout < 0 || c.PublishHookTimeout < 0 || c.PlayHookTimeout < 0 {
		errs = append(errs, fmt.Errorf("%w: negative hook_timeout, publish_hook_timeout or play_hook_timeout", ErrInvalidConfig))
	}
	if c.MaxConcurrentHooks < 0 || c.MaxConcurrentPublishHooks < 0 || c.MaxConcurrentPlayHooks < 0 ||
		c.NotifyQueue < 0 || c.NotifyWorkers < 0 || c.PlayCacheEntries < 0 {
		errs = append(errs, fmt.Errorf("%w: negative max_concurrent_hooks, max_concurrent_publish_hooks, "+
			"max_concurrent_play_hooks, notify_queue, notify_workers or play_cache_entries", ErrInvalidConfig))
	}
	return errors.Join(errs...)
}
