// Package metrics exposes the server's state in the Prometheus text format
// at /metrics, and a /healthz endpoint.
//
// A Collector reads snapshots when it is scraped: the live streams of the
// hub, their readers, and cumulative counters offered by the other
// components through the small interfaces declared here. Nothing is
// instrumented on the media path. The Collector observes the hub so that
// the totals of ended streams stay counted. Handler serves it from a
// private prometheus.Registry, never the global default one. Who may read
// it is the server's choice (Config.Public); the per-stream series, which
// name every live stream, can be left out (Config.StreamLabels).
package metrics
