package access

import "github.com/mediaserver/mediaserver/stream"

// ChecksPublisher reports whether an accepted publish of key proves that
// the publisher owns the key: an on_publish hook vouched for it, or the
// app only accepts listed stream keys (which the publisher knew). With
// neither, anyone may publish and an acceptance proves nothing, so a
// takeover of a live stream (stream.Config.Takeover) is not allowed.
func (c *Checker) ChecksPublisher(key stream.Key) bool {
	if c.cfg.OnPublish != "" {
		return true
	}
	sums, ok := c.keys[key.App]
	if !ok {
		sums = c.keys[WildcardApp]
	}
	return len(sums) > 0
}
