package cluster

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Role is what a server does in a cluster.
type Role string

// Roles.
const (
	// RoleNone is a server outside any cluster: no Redis, nothing changes.
	RoleNone Role = ""
	// RoleOrigin accepts publishers and claims their names.
	RoleOrigin Role = "origin"
	// RoleEdge serves viewers by pulling streams from their origins.
	RoleEdge Role = "edge"
)

// Config configures a cluster node (config key cluster.*).
type Config struct {
	// Role is "origin", "edge" or empty (no cluster).
	Role Role `yaml:"role"`
	// Redis is the Redis URL (redis://[user:password@]host:port[/db]).
	Redis string `yaml:"redis"`
	// Advertise is the HTTP base URL other nodes reach this node at
	// (http://origin-a:8080); required for origins, whose claims carry it.
	Advertise string `yaml:"advertise"`
	// ClaimTTL is how long a claim outlives its origin: it is refreshed
	// every third of it while the stream is live. Default 10 s.
	ClaimTTL time.Duration `yaml:"claim_ttl"`
	// KeyPrefix starts every Redis key the cluster writes. Default
	// "mediaserver:".
	KeyPrefix string `yaml:"key_prefix"`
}

// Defaults.
const (
	DefaultClaimTTL  = 10 * time.Second
	DefaultKeyPrefix = "mediaserver:"
	minClaimTTL      = time.Second
)

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.ClaimTTL == 0 {
		c.ClaimTTL = DefaultClaimTTL
	}
	if c.KeyPrefix == "" {
		c.KeyPrefix = DefaultKeyPrefix
	}
	return c
}

// Enabled reports whether the server is part of a cluster.
func (c Config) Enabled() bool { return c.Role != RoleNone }

// Validate checks c (after WithDefaults); errors wrap ErrInvalidConfig.
func (c Config) Validate() error {
	switch c.Role {
	case RoleNone:
		return nil
	case RoleOrigin, RoleEdge:
	default:
		return fmt.Errorf("cluster.role %q: want origin, edge or empty: %w", c.Role, ErrInvalidConfig)
	}
	if _, err := redis.ParseURL(c.Redis); err != nil {
		return fmt.Errorf("cluster.redis %q: %v: %w", c.Redis, err, ErrInvalidConfig)
	}
	if c.Role == RoleOrigin || c.Advertise != "" {
		u, err := url.Parse(c.Advertise)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.TrimRight(u.Path, "/") != "" {
			return fmt.Errorf("cluster.advertise %q: want the node's HTTP base URL, like http://origin-a:8080: %w",
				c.Advertise, ErrInvalidConfig)
		}
	}
	if c.ClaimTTL < minClaimTTL {
		return fmt.Errorf("cluster.claim_ttl %v: at least %v: %w", c.ClaimTTL, minClaimTTL, ErrInvalidConfig)
	}
	return nil
}
