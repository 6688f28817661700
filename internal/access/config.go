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
	// DefaultDataDir is the default Config.DataDir, relative to the
	// working directory.
	DefaultDataDir = "data"

	// MaxPlayCacheEntries bounds the HLS play decision cache.
	MaxPlayCacheEntries = 4096
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
	// HTTP-FLV, WebSocket-FLV, HLS playlists), the same way with action
	// "play". Default none.
	OnPlay string `yaml:"on_play"`
	// OnUnpublish is told (action "unpublish") when a stream ends; its
	// answer is ignored. Default none.
	OnUnpublish string `yaml:"on_unpublish"`
	// OnPlayStop is told (action "play_stop") when a viewer stops; its
	// answer is ignored. Default none.
	OnPlayStop string `yaml:"on_play_stop"`
	// HookTimeout bounds every hook call, from connecting to the end of the
	// answer. Default DefaultHookTimeout (3 s).
	HookTimeout time.Duration `yaml:"hook_timeout"`
	// MaxConcurrentHooks bounds the on_publish/on_play calls in flight; a
	// session that cannot get a slot within HookTimeout is refused. Default
	// DefaultMaxConcurrentHooks (64).
	MaxConcurrentHooks int `yaml:"max_concurrent_hooks"`
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
	// DataDir is the directory of the secret stream key store (a bbolt
	// file, keys.db), created with the first key made through the API.
	// Default DefaultDataDir ("data", under the working directory).
	DataDir string `yaml:"data_dir"`
}

// AppRule is the publishing rule of one app.
type AppRule struct {
	// PublishKeys lists the stream keys (stream names) that may be
	// published in the app; empty allows any. They are names, seen by
	// viewers: secret keys are made through the API (see Config.DataDir).
	// They are read again on SIGHUP (Checker.Reload). Default empty.
	PublishKeys []string `yaml:"publish_keys"`
}

// WithDefaults returns c with the documented defaults in its unset fields:
// the configuration a Checker runs with. Applying it twice changes
// nothing.
func (c Config) WithDefaults() Config {
	if c.HookTimeout <= 0 {
		c.HookTimeout = DefaultHookTimeout
	}
	if c.MaxConcurrentHooks <= 0 {
		c.MaxConcurrentHooks = DefaultMaxConcurrentHooks
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
	if c.HookTimeout < 0 || c.MaxConcurrentHooks < 0 || c.NotifyQueue < 0 || c.NotifyWorkers < 0 {
		errs = append(errs, fmt.Errorf("%w: negative hook_timeout, max_concurrent_hooks, notify_queue or notify_workers", ErrInvalidConfig))
	}
	return errors.Join(errs...)
}
