package metrics

import (
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mediaserver/mediaserver/stream"
)

// namespace prefixes every metric name.
const namespace = "mediaserver"

// Role label values of mediaserver_sessions.
const (
	rolePublisher = "publisher"
	roleViewer    = "viewer"
)

// descriptions of every metric.
var (
	descStreams = prometheus.NewDesc(namespace+"_streams",
		"Live streams.", nil, nil)
	descPublished = prometheus.NewDesc(namespace+"_streams_published_total",
		"Streams published since start.", nil, nil)
	descSessions = prometheus.NewDesc(namespace+"_sessions",
		"Current sessions by protocol and role (HLS viewers: distinct recent clients).", []string{"protocol", "role"}, nil)
	descStreamBytes = prometheus.NewDesc(namespace+"_stream_received_bytes_total",
		"Media payload bytes received from publishers since start.", nil, nil)
	descStreamFrames = prometheus.NewDesc(namespace+"_stream_received_frames_total",
		"Media frames received from publishers since start.", nil, nil)
	descDropped = prometheus.NewDesc(namespace+"_dropped_frames_total",
		"Frames skipped by viewers that fell behind, since start.", nil, nil)
	descReceived = prometheus.NewDesc(namespace+"_received_bytes_total",
		"Network bytes received from clients, by protocol.", []string{"protocol"}, nil)
	descSent = prometheus.NewDesc(namespace+"_sent_bytes_total",
		"Network bytes sent to clients, by protocol.", []string{"protocol"}, nil)
	descSegments = prometheus.NewDesc(namespace+"_hls_segments_total",
		"HLS segments produced since start.", nil, nil)
	descHandshakeFailures = prometheus.NewDesc(namespace+"_rtmp_handshake_failures_total",
		"RTMP handshakes that failed since start.", nil, nil)
	descAuthFailures = prometheus.NewDesc(namespace+"_auth_failures_total",
		"Publishers and viewers refused by access control since start.", []string{"action"}, nil)
	descStreamBitrate = prometheus.NewDesc(namespace+"_stream_bitrate_bits_per_second",
		"Measured bit rate of a live stream.", []string{"app", "name"}, nil)
	descStreamFPS = prometheus.NewDesc(namespace+"_stream_video_fps",
		"Measured video frame rate of a live stream.", []string{"app", "name"}, nil)
	descLimitHits = prometheus.NewDesc(namespace+"_limit_hits_total",
		"Times a resource limit was hit (connection refused or ended), by component and limit.",
		[]string{"component", "limit"}, nil)
	descStreamState = prometheus.NewDesc(namespace+"_stream_waiting",
		"1 while a stream waits for its publisher to come back (republish window), else 0.",
		[]string{"app", "name"}, nil)
	descStreamViewers = prometheus.NewDesc(namespace+"_stream_viewers",
		"Current viewers of a live stream (HLS: distinct recent clients).", []string{"app", "name"}, nil)
	descAdminRefusals = prometheus.NewDesc(namespace+"_admin_refusals_total",
		"Requests to the API, dashboard, metrics or profiler refused since start, by reason "+
			"(token_missing, token_invalid, not_local, host_not_allowed, cross_origin, not_json).",
		[]string{"reason"}, nil)
)

// Collector is a prometheus.Collector over the hub and the counter
// sources, and a stream.Observer of the hub. Build it with New.
type Collector struct {
	deps Deps

	// mu guards the stream set and the totals of ended streams: a stream's
	// contribution moves from live to ended atomically.
	mu        sync.Mutex
	live      map[*stream.Stream]struct{}
	published uint64
	ended     streamTotals
	// last holds the last value reported per counter series, so a counter
	// never goes down even if a source's does.
	last map[string]float64
	// lastTotals is the last Totals returned, for the same reason.
	lastTotals Totals
}

// streamTotals are the cumulative stream counters.
type streamTotals struct {
	bytes, frames, dropped uint64
}

// Totals are the server's cumulative counters since start, ended streams
// and closed sessions included: what the _total metrics report.
type Totals struct {
	// StreamBytes and StreamFrames count the media payload bytes and frames
	// received from publishers (mediaserver_stream_received_*_total).
	StreamBytes, StreamFrames uint64
	// Dropped counts frames viewers skipped (mediaserver_dropped_frames_total).
	Dropped uint64
	// BytesReceived and BytesSent sum the network bytes of every Deps.Traffic
	// source (mediaserver_received_bytes_total, mediaserver_sent_bytes_total).
	BytesReceived, BytesSent uint64
}

// New returns a Collector reading deps and registers it as an observer of
// deps.Hub. Create one per hub, before or after streams start.
func New(deps Deps) *Collector {
	c := &Collector{deps: deps, live: make(map[*stream.Stream]struct{}), last: make(map[string]float64)}
	if deps.Hub != nil {
		deps.Hub.AddObserver(c)
		// Streams published before the observer was added.
		existing := deps.Hub.Streams()
		c.mu.Lock()
		for _, s := range existing {
			if !s.Ended() {
				c.live[s] = struct{}{}
			}
		}
		c.mu.Unlock()
	}
	return c
}

// StreamStarted implements stream.Observer.
func (c *Collector) StreamStarted(s *stream.Stream) {
	c.mu.Lock()
	c.live[s] = struct{}{}
	c.published++
	c.mu.Unlock()
}

// StreamEnded implements stream.Observer: the stream's final counters move
// to the totals.
func (c *Collector) StreamEnded(s *stream.Stream) {
	st := s.Stats()
	c.mu.Lock()
	delete(c.live, s)
	c.ended.add(st)
	c.mu.Unlock()
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		descStreams, descPublished, descSessions, descStreamBytes, descStreamFrames, descDropped,
		descReceived, descSent, descSegments, descHandshakeFailures, descAuthFailures,
		descStreamBitrate, descStreamFPS, descStreamViewers, descLimitHits, descStreamState, descAdminRefusals,
	} {
		ch <- d
	}
}

// Totals returns the cumulative counters since start. No field is ever
// lower than in an earlier call.
func (c *Collector) Totals() Totals {
	streams := c.liveStreams()
	stats := make([]stream.Stats, len(streams))
	for i, s := range streams {
		stats[i] = s.Stats()
	}
	var t Totals
	for _, src := range c.deps.Traffic {
		if src != nil {
			t.BytesReceived += src.BytesReceived()
			t.BytesSent += src.BytesSent()
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	sum := c.ended
	for i, s := range streams {
		// A stream that ended meanwhile is already in the ended totals.
		if _, ok := c.live[s]; ok {
			sum.add(stats[i])
		}
	}
	t.StreamBytes, t.StreamFrames, t.Dropped = sum.bytes, sum.frames, sum.dropped
	last := &c.lastTotals
	for _, f := range []struct{ v, last *uint64 }{
		{&t.StreamBytes, &last.StreamBytes}, {&t.StreamFrames, &last.StreamFrames}, {&t.Dropped, &last.Dropped},
		{&t.BytesReceived, &last.BytesReceived}, {&t.BytesSent, &last.BytesSent},
	} {
		*f.v = max(*f.v, *f.last)
		*f.last = *f.v
	}
	return t
}

// add adds a live stream's counters.
func (t *streamTotals) add(st stream.Stats) {
	t.bytes += st.BytesIn
	t.frames += st.FramesIn
	t.dropped += st.Dropped
}

// liveStreams returns the live streams, sorted by key.
func (c *Collector) liveStreams() []*stream.Stream {
	c.mu.Lock()
	streams := make([]*stream.Stream, 0, len(c.live))
	for s := range c.live {
		streams = append(streams, s)
	}
	c.mu.Unlock()
	sort.Slice(streams, func(i, j int) bool {
		a, b := streams[i].Key(), streams[j].Key()
		return a.App < b.App || a.App == b.App && a.Name < b.Name
	})
	return streams
}

// streamSample is what one scrape reads of a live stream.
type streamSample struct {
	s       *stream.Stream
	stats   stream.Stats
	viewers map[stream.Protocol]int // readers by protocol, the HLS segmenter left out
	hls     int
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	streams := c.liveStreams()

	// Read the streams without holding mu: observers must not wait for a
	// scrape.
	samples := make([]streamSample, 0, len(streams))
	for _, s := range streams {
		smp := streamSample{s: s, stats: s.Stats(), viewers: make(map[stream.Protocol]int)}
		for _, r := range s.Readers() {
			// A stream's one HLS reader is the segmenter; HLS viewers are
			// counted by HLSViewers. Readers of other protocols (a
			// forward to another server) are not viewers.
			if p := r.Info().Protocol; p != stream.ProtocolHLS && slices.Contains(stream.ViewerProtocols(), p) {
				smp.viewers[p]++
			}
		}
		if c.deps.HLSViewers != nil {
			smp.hls = c.deps.HLSViewers.Viewers(s.Key())
		}
		samples = append(samples, smp)
	}

	// A stream that ended meanwhile is already in the ended totals.
	c.mu.Lock()
	totals := c.ended
	published := c.published
	kept := samples[:0]
	for _, smp := range samples {
		if _, ok := c.live[smp.s]; ok {
			kept = append(kept, smp)
		}
	}
	samples = kept
	for _, smp := range samples {
		totals.add(smp.stats)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, c.monotonic(d, float64(v), labels), labels...)
	}
	counter(descPublished, published)
	counter(descStreamBytes, totals.bytes)
	counter(descStreamFrames, totals.frames)
	counter(descDropped, totals.dropped)
	if f := c.deps.HLSSegments; f != nil {
		counter(descSegments, f())
	}
	if f := c.deps.HandshakeFailures; f != nil {
		counter(descHandshakeFailures, f())
	}
	if a := c.deps.Auth; a != nil {
		pub, play := a.AuthFailures()
		counter(descAuthFailures, pub, "publish")
		counter(descAuthFailures, play, "play")
	}
	for proto, t := range c.deps.Traffic {
		if t == nil {
			continue
		}
		counter(descReceived, t.BytesReceived(), proto)
		counter(descSent, t.BytesSent(), proto)
	}
	if a := c.deps.Admin; a != nil {
		for reason, n := range a.Refusals() {
			counter(descAdminRefusals, n, reason)
		}
	}
	for component, l := range c.deps.Limits {
		if l == nil {
			continue
		}
		for limit, n := range l.LimitsHit() {
			counter(descLimitHits, n, component, limit)
		}
	}
	c.mu.Unlock()

	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(descStreams, float64(len(samples)))
	// Every viewer protocol is reported (zero when idle), so that the
	// series exist before the first viewer; HLS only when it is counted.
	publishers := map[stream.Protocol]int{stream.ProtocolRTMP: 0}
	viewers := make(map[stream.Protocol]int)
	for _, p := range stream.ViewerProtocols() {
		if p != stream.ProtocolHLS || c.deps.HLSViewers != nil {
			viewers[p] = 0
		}
	}
	for _, smp := range samples {
		publishers[smp.s.Info().Protocol]++
		total := smp.hls
		for p, n := range smp.viewers {
			viewers[p] += n
			total += n
		}
		if c.deps.HLSViewers != nil {
			viewers[stream.ProtocolHLS] += smp.hls
		}
		if c.deps.OmitStreamSeries {
			continue
		}
		k := smp.s.Key()
		gauge(descStreamBitrate, smp.stats.Bitrate, k.App, k.Name)
		gauge(descStreamFPS, smp.stats.VideoFPS, k.App, k.Name)
		gauge(descStreamViewers, float64(total), k.App, k.Name)
		waiting := 0.0
		if smp.s.State() == stream.StateWaiting {
			waiting = 1
		}
		gauge(descStreamState, waiting, k.App, k.Name)
	}
	for p, n := range publishers {
		gauge(descSessions, float64(n), p.MetricsLabel(), rolePublisher)
	}
	for p, n := range viewers {
		gauge(descSessions, float64(n), p.MetricsLabel(), roleViewer)
	}
}

// monotonic returns v, or the last value reported for the series when v
// is lower. c.mu must be held.
func (c *Collector) monotonic(d *prometheus.Desc, v float64, labels []string) float64 {
	key := d.String() + "\x00" + strings.Join(labels, "\x00")
	if last, ok := c.last[key]; ok && v < last {
		return last
	}
	c.last[key] = v
	return v
}
