package metrics

import "github.com/mediaserver/mediaserver/stream"

// Hub is the stream hub; *stream.Registry is one.
type Hub interface {
	// Streams returns the live streams.
	Streams() []*stream.Stream
	// AddObserver registers o for stream start and end events.
	AddObserver(o stream.Observer)
}

// HLSViewers counts a stream's HLS clients; *hls.Manager is one.
type HLSViewers interface {
	// Viewers counts the distinct HLS clients of key seen recently.
	Viewers(key stream.Key) int
}

// AuthSource counts refused publishers and viewers; *access.Checker is
// one.
type AuthSource interface {
	// AuthFailures returns the publish and play refusals since start.
	AuthFailures() (publish, play uint64)
}

// TrafficSource reports the cumulative network bytes of one protocol's
// endpoint since start, closed sessions included.
type TrafficSource interface {
	// BytesReceived returns the bytes read from clients.
	BytesReceived() uint64
	// BytesSent returns the bytes written to clients.
	BytesSent() uint64
}

// LimitSource counts the times a component's resource limits were hit
// (connections refused, timeouts, oversized messages …) since start;
// *rtmp.Server is one.
type LimitSource interface {
	// LimitsHit returns the count per limit name.
	LimitsHit() map[string]uint64
}

// AdminSource counts requests refused by the admin surface's guard;
// *api.Guard is one.
type AdminSource interface {
	// Refusals returns the refused requests since start, by reason.
	Refusals() map[string]uint64
}

// CounterFunc reads a cumulative counter at scrape time. A method value
// such as rtmpServer.HandshakeFailures is one.
type CounterFunc func() uint64

// TrafficFuncs adapts two CounterFuncs to a TrafficSource.
type TrafficFuncs struct {
	// Received and Sent read the byte counters; nil reads zero.
	Received, Sent CounterFunc
}

// BytesReceived implements TrafficSource.
func (t TrafficFuncs) BytesReceived() uint64 { return call(t.Received) }

// BytesSent implements TrafficSource.
func (t TrafficFuncs) BytesSent() uint64 { return call(t.Sent) }

// call reads f, or zero when it is nil.
func call(f CounterFunc) uint64 {
	if f == nil {
		return 0
	}
	return f()
}

// Deps are where the Collector reads. Only Hub is required; a nil field
// leaves its metrics out.
type Deps struct {
	// Hub lists the live streams; the Collector registers itself as an
	// observer of it.
	Hub Hub
	// HLSViewers counts HLS clients per stream (sessions{protocol="hls"}).
	HLSViewers HLSViewers
	// HLSSegments counts HLS segments produced since start.
	HLSSegments CounterFunc
	// HandshakeFailures counts failed RTMP handshakes since start.
	HandshakeFailures CounterFunc
	// Auth counts refused publishers and viewers.
	Auth AuthSource
	// Traffic maps a protocol label ("rtmp", "httpflv", "hls") to its
	// endpoint's byte counters.
	Traffic map[string]TrafficSource
	// Limits maps a component label ("rtmp", "http", "flv") to its limit
	// counters (mediaserver_limit_hits_total{component,limit}).
	Limits map[string]LimitSource
	// Admin counts refused requests to the API, dashboard, metrics and
	// profiler (mediaserver_admin_refusals_total{reason}).
	Admin AdminSource
	// OmitStreamSeries leaves out the per-stream series
	// (mediaserver_stream_*{app,name}), so that stream names are not
	// published (Config.StreamLabels false).
	OmitStreamSeries bool
}
