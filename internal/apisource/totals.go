package apisource

import (
	"github.com/mediaserver/mediaserver/api"
	"github.com/mediaserver/mediaserver/internal/metrics"
)

// Counters reads the server's cumulative counters; *metrics.Collector is
// one.
type Counters interface {
	// Totals returns the counters since start.
	Totals() metrics.Totals
}

// Totals returns the api.Deps.Totals of c: the server totals are the
// metrics' totals since start, so they do not fall back when streams end.
func Totals(c Counters) func() api.Totals {
	return func() api.Totals {
		t := c.Totals()
		return api.Totals{BytesIn: t.StreamBytes, BytesOut: t.BytesSent, Dropped: t.Dropped}
	}
}
