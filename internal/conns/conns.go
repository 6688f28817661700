// Package conns is what the RTMP and HTTP listeners and the stream
// registry share about clients: the client's host, a count of connections in
// total and per group against caps, and a log that tells of refusals at
// most once per host and interval.
package conns

import (
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/mediaserver/mediaserver/stream"
)

// Host returns the host part of a "host:port" address, or addr itself when
// it has no port.
func Host(addr string) string { return stream.HostOf(addr) }

// HostOf returns the host part of a network address ("" for nil).
func HostOf(addr net.Addr) string {
	if addr == nil {
		return ""
	}
	return Host(addr.String())
}

// Refusal says which cap refused a connection.
type Refusal int

const (
	// Admitted: no cap refused it.
	Admitted Refusal = iota
	// TooMany: the total cap was reached.
	TooMany
	// TooManyFromHost: the per-host cap was reached.
	TooManyFromHost
)

// Counter counts open connections in total and per address group (see
// Group: IPv6 hosts of one /64 count together). Its zero value has no
// caps. It is safe for concurrent use.
type Counter struct {
	// Max and MaxPerHost cap the connections; <= 0 is no cap. MaxPerHost
	// applies to each address group.
	Max, MaxPerHost int

	mu      sync.Mutex
	total   int
	perHost map[string]int // by Group
}

// Admit reserves a slot for a connection from host, or says which cap
// refuses it. An admitted connection must be released.
func (c *Counter) Admit(host string) Refusal {
	group := stream.AddressGroup(host)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Max > 0 && c.total >= c.Max {
		return TooMany
	}
	if c.MaxPerHost > 0 && c.perHost[group] >= c.MaxPerHost {
		return TooManyFromHost
	}
	if c.perHost == nil {
		c.perHost = make(map[string]int)
	}
	c.total++
	c.perHost[group]++
	return Admitted
}

// Release frees the slot of an admitted connection from host.
func (c *Counter) Release(host string) {
	group := stream.AddressGroup(host)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total--
	if n := c.perHost[group] - 1; n > 0 {
		c.perHost[group] = n
	} else {
		delete(c.perHost, group)
	}
}

// Open returns the number of admitted connections.
func (c *Counter) Open() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

// LogInterval is how often one key is logged by a LogLimiter at most.
const LogInterval = 10 * time.Second

// maxLogKeys bounds the keys a LogLimiter remembers, so a flood from many
// addresses cannot grow it without end.
const maxLogKeys = 4096

// LogLimiter logs an event at most once per LogInterval per key, counting
// the occurrences it kept quiet about, so a flood of refusals cannot flood
// the log. Its zero value is ready; it is safe for concurrent use.
type LogLimiter struct {
	// Now is the clock; nil is time.Now.
	Now func() time.Time

	mu   sync.Mutex
	last map[string]logEntry
}

type logEntry struct {
	at         time.Time
	suppressed uint64
}

// Warn logs msg with args at warning level unless key was logged within
// LogInterval, adding how many were suppressed since.
func (l *LogLimiter) Warn(log *slog.Logger, key, msg string, args ...any) {
	now := time.Now()
	if l.Now != nil {
		now = l.Now()
	}
	l.mu.Lock()
	if l.last == nil {
		l.last = make(map[string]logEntry)
	}
	e, ok := l.last[key]
	if ok && now.Sub(e.at) < LogInterval {
		e.suppressed++
		l.last[key] = e
		l.mu.Unlock()
		return
	}
	if !ok && len(l.last) >= maxLogKeys {
		for k, v := range l.last {
			if now.Sub(v.at) >= LogInterval {
				delete(l.last, k)
			}
		}
		if len(l.last) >= maxLogKeys {
			clear(l.last)
		}
	}
	l.last[key] = logEntry{at: now}
	l.mu.Unlock()
	if e.suppressed > 0 {
		args = append(args, "suppressed_since_last_log", e.suppressed)
	}
	log.Warn(msg, args...)
}
