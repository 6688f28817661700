package access

import "github.com/mediaserver/mediaserver/stream"

// ChecksPublisher reports whether an accepted publish of key proves that
// the publisher owns the key: an on_publish hook vouched for it, the app
// only accepts listed stream keys (which the publisher knew), or the
// stream has a secret key in the key store. With
// neither, anyone may publish and an acceptance proves nothing, so a
// takeover of a live stream (stream.Config.Takeover) is not allowed.
func (c *Checker) ChecksPublisher(key stream.Key) bool {
	if c.cfg.OnPublish != "" {
		return true
	}
	if c.store != nil && c.store.Protects(key.App, key.Name) {
		return true
	}
	return c.keys.Load().lists(key.App)
}
