package access

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"strings"

	"github.com/mediaserver/mediaserver/internal/keystore"
	"github.com/mediaserver/mediaserver/stream"
)

// KeyParam is the query parameter that carries a secret stream key
// ("mystream?key=SECRET").
const KeyParam = "key"

// keyTable holds Config.Apps as last loaded and, per app, the SHA-256 of
// each publish key, so that keys are compared in constant time. It is
// immutable: Reload replaces it.
type keyTable struct {
	rules map[string]AppRule
	apps  map[string][][sha256.Size]byte
}

// newKeyTable hashes the publish keys of apps.
func newKeyTable(apps map[string]AppRule) *keyTable {
	t := &keyTable{rules: apps, apps: make(map[string][][sha256.Size]byte, len(apps))}
	for app, rule := range apps {
		sums := make([][sha256.Size]byte, 0, len(rule.PublishKeys))
		for _, k := range rule.PublishKeys {
			sums = append(sums, sha256.Sum256([]byte(k)))
		}
		t.apps[app] = sums
	}
	return t
}

// rule returns the hashed keys that apply to app and whether any rule
// does.
func (t *keyTable) rule(app string) ([][sha256.Size]byte, bool) {
	sums, ok := t.apps[app]
	if !ok {
		sums, ok = t.apps[WildcardApp]
	}
	return sums, ok
}

// lists reports whether app accepts only listed keys.
func (t *keyTable) lists(app string) bool {
	sums, _ := t.rule(app)
	return len(sums) > 0
}

// check applies Config.Apps to a publish of key.
func (t *keyTable) check(key stream.Key) error {
	if len(t.apps) == 0 {
		return nil
	}
	sums, ok := t.rule(key.App)
	if !ok {
		return &refusal{kind: ErrDenied, msg: fmt.Sprintf("app %q is not open for publishing", key.App)}
	}
	if len(sums) == 0 {
		return nil
	}
	sum := sha256.Sum256([]byte(key.Name))
	match := 0
	for i := range sums {
		match |= subtle.ConstantTimeCompare(sum[:], sums[i][:])
	}
	if match != 1 {
		return &refusal{kind: ErrDenied, msg: fmt.Sprintf("stream key not accepted for app %q", key.App)}
	}
	return nil
}

// Keys returns the store of secret stream keys, which the API manages.
func (c *Checker) Keys() *keystore.Store { return c.store }

// Reload applies the app rules of cfg (Config.Apps: publish keys and play
// secrets) to the publishes and plays that follow; streams already
// published and players already admitted go on. The other settings take
// effect on a restart. It fails with an error wrapping ErrInvalidConfig
// when cfg does not validate, and then changes nothing.
func (c *Checker) Reload(cfg Config) error {
	if err := cfg.WithDefaults().Validate(); err != nil {
		return fmt.Errorf("reload access: %w", err)
	}
	c.keys.Store(newKeyTable(cfg.Apps))
	c.log.Info("publish keys reloaded", "apps", len(cfg.Apps))
	return nil
}

// AuthorizePublish decides a publish as Authorize does and returns what
// to publish. A secret stream key from the key store, sent as the "key"
// query parameter of its stream's name or as the bare stream key, is
// accepted for the app and name it was made for: the grant names that
// stream (never the secret), carries the key's id and drops the secret
// from the query. A stream that has a secret key is published only with
// it, and a secret key that matches none (revoked, rotated) is refused.
// Other publishes follow Config.Apps. Then the on_publish hook is asked
// about the granted stream.
func (c *Checker) AuthorizePublish(ctx context.Context, req stream.AccessRequest) (stream.PublishGrant, error) {
	grant, err := c.decidePublish(ctx, req, true)
	c.countPublish(err)
	if err != nil {
		c.logRefusal(req, err)
		return stream.PublishGrant{}, err
	}
	return grant, nil
}

// decidePublish is AuthorizePublish without counting and logging. An
// ingest that cannot publish under another name than it asked for
// (renames false) is refused a bare secret key before any hook is asked:
// publishing it under its own name would show the secret to viewers.
func (c *Checker) decidePublish(ctx context.Context, req stream.AccessRequest, renames bool) (stream.PublishGrant, error) {
	grant, err := c.resolveKey(req)
	if err != nil {
		return stream.PublishGrant{}, err
	}
	if !renames && grant.Key != req.Key {
		return stream.PublishGrant{}, &refusal{kind: ErrDenied, msg: "a bare stream key needs an ingest that publishes the name it stands for"}
	}
	if grant.KeyID == "" {
		if err := c.keys.Load().check(grant.Key); err != nil {
			return stream.PublishGrant{}, err
		}
	}
	if c.cfg.OnPublish != "" {
		req.Key, req.Query = grant.Key, grant.Query
		if err := c.ask(ctx, &c.publishHooks, req); err != nil {
			return stream.PublishGrant{}, err
		}
	}
	return grant, nil
}

// resolveKey matches the secret key of a publish, if any, in the store.
func (c *Checker) resolveKey(req stream.AccessRequest) (stream.PublishGrant, error) {
	grant := stream.PublishGrant{Key: req.Key, Query: req.Query}
	if c.store == nil {
		return grant, nil
	}
	notAccepted := &refusal{kind: ErrDenied, msg: fmt.Sprintf("stream key not accepted for app %q", req.Key.App)}
	secret, rest, sent := cutQueryParam(req.Query, KeyParam)
	if k, ok := c.store.Match(secret); sent && ok {
		if k.App != req.Key.App || k.Name != req.Key.Name {
			return grant, notAccepted
		}
		grant.KeyID, grant.Query = k.ID, rest
		return grant, nil
	}
	if k, ok := c.store.Match(req.Key.Name); ok {
		if k.App != req.Key.App {
			return grant, notAccepted
		}
		grant.Key.Name, grant.KeyID = k.Name, k.ID
		return grant, nil
	}
	// A secret key that matches nothing (revoked, rotated, mistyped) is
	// refused rather than ignored, so that an encoder set up with a
	// revoked key cannot publish the name as if it had sent none.
	if (sent && strings.HasPrefix(secret, keystore.SecretPrefix)) || strings.HasPrefix(req.Key.Name, keystore.SecretPrefix) ||
		c.store.Protects(req.Key.App, req.Key.Name) {
		return grant, notAccepted
	}
	return grant, nil
}

// countPublish counts a publish decision.
func (c *Checker) countPublish(err error) {
	if err != nil {
		c.publishDenied.Add(1)
	} else {
		c.publishAllowed.Add(1)
	}
}

// cutQueryParam returns the first value of the parameter name in the raw
// query q, and q without it; the other parameters are kept as sent.
func cutQueryParam(q, name string) (value, rest string, found bool) {
	var kept []string
	for part := range strings.SplitSeq(q, "&") {
		k, v, _ := strings.Cut(part, "=")
		if k == name && !found {
			value, found = v, true
			continue
		}
		if part != "" {
			kept = append(kept, part)
		}
	}
	return value, strings.Join(kept, "&"), found
}

// maskedKey is key for logs: a name that looks like a secret key is cut
// to its prefix.
func maskedKey(key stream.Key) string {
	if strings.HasPrefix(key.Name, keystore.SecretPrefix) {
		return key.App + "/" + keystore.SecretPrefix + "…"
	}
	return key.String()
}

// Apps returns the app rules in force (Config.Apps as last loaded or
// reloaded).
func (c *Checker) Apps() map[string]AppRule { return c.keys.Load().rules }
