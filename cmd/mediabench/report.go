package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// maxReportedErrors caps the distinct viewer errors kept in a Result.
const maxReportedErrors = 5

// Result is what one run measured. Durations are in milliseconds or
// seconds as their names say; server figures are zero without a server
// PID (ServerPID 0).
type Result struct {
	Time          time.Time `json:"time"`
	Command       string    `json:"command"`
	Machine       string    `json:"machine"`
	Proto         string    `json:"proto"`
	Publishers    int       `json:"publishers"`
	PublisherMode string    `json:"publisher_mode"`
	Input         string    `json:"input"`
	InputMbps     float64   `json:"input_mbit_s"`

	Viewers      int     `json:"viewers"`      // asked for
	Connected    int     `json:"connected"`    // got a first keyframe
	Failed       int     `json:"failed"`       // never got one
	Disconnected int     `json:"disconnected"` // played, then ended before the run did
	PlayingAtEnd int     `json:"playing_at_end"`
	RampSeconds  float64 `json:"ramp_s"`
	Seconds      float64 `json:"seconds"` // measured window: ramp + duration

	Bytes        uint64  `json:"bytes"` // delivered to viewers in the window
	DeliveredMbs float64 `json:"delivered_mbit_s"`

	ServerPID          int     `json:"server_pid,omitempty"`
	ServerCPUSeconds   float64 `json:"server_cpu_s"`
	ServerCPUPercent   float64 `json:"server_cpu_percent"` // of one core
	CPUSecondsPerGB    float64 `json:"cpu_s_per_gb"`
	BaselineRSSBytes   int64   `json:"baseline_rss_bytes"` // before viewers
	EndRSSBytes        int64   `json:"end_rss_bytes"`      // with every viewer connected
	SampledRSSMaxBytes int64   `json:"sampled_rss_max_bytes"`
	PeakRSSBytes       int64   `json:"peak_rss_bytes"` // VmHWM: the process's lifetime peak
	RSSPerViewerBytes  float64 `json:"rss_per_viewer_bytes"`
	// LiveHeap* are the server's live heap after a collection (forced
	// through /debug/pprof when served, else the last one, from /metrics):
	// what it keeps, without the collector's headroom that RSS also
	// holds. Zero when unknown.
	BaselineLiveHeapBytes  int64   `json:"baseline_live_heap_bytes,omitempty"`
	EndLiveHeapBytes       int64   `json:"end_live_heap_bytes,omitempty"`
	LiveHeapPerViewerBytes float64 `json:"live_heap_per_viewer_bytes,omitempty"`
	ServerThreads          int     `json:"server_threads"`
	ServerDied             bool    `json:"server_died,omitempty"`
	ClientCPUSeconds       float64 `json:"client_cpu_s"` // the tool itself, on the same machine
	LoadStart              float64 `json:"load1_start"`
	LoadEnd                float64 `json:"load1_end"`

	TTFFP50ms float64 `json:"ttff_p50_ms"`
	TTFFP95ms float64 `json:"ttff_p95_ms"`
	TTFFMaxms float64 `json:"ttff_max_ms"`

	Stalled      int     `json:"stalled"` // viewers with a silence ≥ StallAfter (HLS: an underrun)
	MaxSilencems float64 `json:"max_silence_ms"`
	GapViewers   int     `json:"gap_viewers"` // viewers with a timestamp gap or step back
	Gaps         uint64  `json:"gaps"`
	Backwards    uint64  `json:"backwards"`

	// LatencyKind is "frame" (arrival − publisher send, per video frame),
	// "segment" (HLS: segment downloaded − its program date-time + duration),
	// "part" (LL-HLS part freshness: part arrived − publisher send of its
	// last video frame) or "" (not measured: ffmpeg publisher).
	LatencyKind    string  `json:"latency_kind"`
	LatencySamples uint64  `json:"latency_samples"`
	LatencyP50ms   float64 `json:"latency_p50_ms"`
	LatencyP99ms   float64 `json:"latency_p99_ms"`
	LatencyMaxms   float64 `json:"latency_max_ms"`
	LatencyMeanms  float64 `json:"latency_mean_ms"`
	// Latency* are taken when a frame arrived in the viewer's socket
	// (kernel receive timestamps, where the platform has them): on
	// loopback, when the server wrote it. ReadLatency* are the same frames
	// taken when the tool read them, which adds the tool's own delays.
	ReadLatencyP50ms float64 `json:"read_latency_p50_ms,omitempty"`
	ReadLatencyP99ms float64 `json:"read_latency_p99_ms,omitempty"`
	// AudioLatency* are arrival − send of live audio frames (the server
	// may hold audio for the next video frame: stream.audio_hold).
	AudioLatencySamples uint64  `json:"audio_latency_samples,omitempty"`
	AudioLatencyP50ms   float64 `json:"audio_latency_p50_ms,omitempty"`
	AudioLatencyP99ms   float64 `json:"audio_latency_p99_ms,omitempty"`
	AudioLatencyMaxms   float64 `json:"audio_latency_max_ms,omitempty"`

	HLS           hlsCounters       `json:"hls"`
	LLHLS         *llhlsResult      `json:"llhls,omitempty"`
	PublisherRes  []publisherResult `json:"publisher_results"`
	PubMaxLagms   float64           `json:"publisher_max_lag_ms"`
	PubLate       uint64            `json:"publisher_late_sends"`
	PubMaxWritems float64           `json:"publisher_max_write_ms"`
	PubSlowWrites uint64            `json:"publisher_slow_writes"`
	Errors        []string          `json:"errors,omitempty"`
	Interrupted   bool              `json:"interrupted,omitempty"`
}

// newResult starts a Result with the run's description.
func newResult(cfg Config, in *input) *Result {
	return &Result{
		Time: time.Now().UTC().Truncate(time.Second), Command: cfg.Command, Machine: machineDescription(),
		Proto: cfg.Proto, Publishers: cfg.Publishers, PublisherMode: cfg.PublisherMode,
		Input: in.path, InputMbps: in.bitrate() / 1e6, Viewers: cfg.Viewers,
	}
}

// ms converts a duration to float milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// fill records the window's server, traffic and machine figures from the
// snapshots taken before the viewers and at the end.
func (res *Result) fill(r *runner, base, end snapshot, phaseStart time.Duration) {
	window := end.at - phaseStart
	res.Seconds = window.Seconds()
	if r.cfg.Ramp > 0 && r.cfg.Viewers > 1 {
		res.RampSeconds = float64(r.cfg.Viewers-1) / r.cfg.Ramp
	}
	res.Bytes = end.bytes
	if window > 0 {
		res.DeliveredMbs = float64(end.bytes) * 8 / window.Seconds() / 1e6
	}
	res.PlayingAtEnd = end.playing
	res.ClientCPUSeconds = (end.selfCPU - base.selfCPU).Seconds()
	res.LoadStart, res.LoadEnd = base.load, end.load
	if r.pid == 0 {
		return
	}
	if err := errors.Join(base.serverErr, end.serverErr); err != nil {
		res.Errors = append(res.Errors, fmt.Sprintf("server pid %d: %v", r.pid, err))
		res.ServerDied = true
		return
	}
	res.ServerPID = r.pid
	cpu := end.cpu - base.cpu
	res.ServerCPUSeconds = cpu.Seconds()
	if window > 0 {
		res.ServerCPUPercent = 100 * cpu.Seconds() / window.Seconds()
	}
	if end.bytes > 0 {
		res.CPUSecondsPerGB = cpu.Seconds() / (float64(end.bytes) / 1e9)
	}
	res.BaselineRSSBytes, res.EndRSSBytes = base.mem.RSS, end.mem.RSS
	res.SampledRSSMaxBytes = max(r.rssMax, end.mem.RSS)
	res.PeakRSSBytes = end.mem.HWM
	res.ServerThreads = max(r.threads, end.mem.Threads)
	if end.playing > 0 {
		res.RSSPerViewerBytes = float64(end.mem.RSS-base.mem.RSS) / float64(end.playing)
		if r.liveHeapBase > 0 && r.liveHeapEnd > 0 {
			res.BaselineLiveHeapBytes, res.EndLiveHeapBytes = r.liveHeapBase, r.liveHeapEnd
			res.LiveHeapPerViewerBytes = float64(r.liveHeapEnd-r.liveHeapBase) / float64(end.playing)
		}
	}
}

// fillViewers records the per-viewer figures; the viewers have ended.
func (res *Result) fillViewers(viewers []*viewer) {
	var ttffs []time.Duration
	var lat, latRead, audioLat, avail histogram
	var ll llCounters
	errs := map[string]int{}
	var maxSilence time.Duration
	for _, v := range viewers {
		if t, ok := v.ttff(); ok {
			res.Connected++
			ttffs = append(ttffs, t)
			if v.endedEarly {
				res.Disconnected++
			}
		} else {
			res.Failed++
		}
		if v.stalled.Load() {
			res.Stalled++
		}
		maxSilence = max(maxSilence, v.maxSilence)
		if v.gaps+v.backwards > 0 {
			res.GapViewers++
		}
		res.Gaps += v.gaps
		res.Backwards += v.backwards
		if v.lat != nil {
			lat.merge(v.lat)
		}
		if v.audioLat != nil {
			audioLat.merge(v.audioLat)
		}
		if v.latRead != nil {
			latRead.merge(v.latRead)
		}
		if v.avail != nil {
			avail.merge(v.avail)
		}
		ll.add(v.ll)
		res.HLS.Segments += v.hls.Segments
		res.HLS.Missed += v.hls.Missed
		res.HLS.Playlists += v.hls.Playlists
		res.HLS.Underruns += v.hls.Underruns
		if v.err != nil {
			errs[v.err.Error()]++
		}
	}
	res.MaxSilencems = ms(maxSilence)
	res.TTFFP50ms = ms(percentile(ttffs, 0.50))
	res.TTFFP95ms = ms(percentile(ttffs, 0.95))
	res.TTFFMaxms = ms(percentile(ttffs, 1))
	if lat.n > 0 {
		res.LatencyKind = "frame"
		switch res.Proto {
		case protoHLS:
			res.LatencyKind = "segment"
		case protoLLHLS:
			res.LatencyKind = "part"
		}
		res.LatencySamples = lat.n
		res.LatencyP50ms = ms(lat.quantile(0.50))
		res.LatencyP99ms = ms(lat.quantile(0.99))
		res.LatencyMaxms = ms(lat.max)
		res.LatencyMeanms = ms(lat.mean())
	}
	if latRead.n > 0 {
		res.ReadLatencyP50ms = ms(latRead.quantile(0.50))
		res.ReadLatencyP99ms = ms(latRead.quantile(0.99))
	}
	if res.Proto == protoLLHLS {
		res.LLHLS = newLLHLSResult(ll, &lat, &avail)
	}
	if audioLat.n > 0 {
		res.AudioLatencySamples = audioLat.n
		res.AudioLatencyP50ms = ms(audioLat.quantile(0.50))
		res.AudioLatencyP99ms = ms(audioLat.quantile(0.99))
		res.AudioLatencyMaxms = ms(audioLat.max)
	}
	// The most frequent errors first.
	texts := slices.SortedFunc(maps.Keys(errs), func(a, b string) int {
		return cmp.Or(errs[b]-errs[a], strings.Compare(a, b))
	})
	for _, t := range texts[:min(len(texts), maxReportedErrors)] {
		res.Errors = append(res.Errors, fmt.Sprintf("%d viewer(s): %s", errs[t], t))
	}
}

// fillPublishers records what the publishers did; they have ended.
func (res *Result) fillPublishers(pubs []*publisher) {
	for _, p := range pubs {
		res.PublisherRes = append(res.PublisherRes, p.res)
		res.PubMaxLagms = max(res.PubMaxLagms, ms(p.res.MaxLag))
		res.PubLate += p.res.Late
		res.PubMaxWritems = max(res.PubMaxWritems, ms(p.res.MaxWrite))
		res.PubSlowWrites += p.res.SlowWrites
	}
}

// failure says why the run does not count, or nil. Performance figures
// never fail a run; a publisher that failed, a server that died or no
// viewer at all do.
func (res *Result) failure() error {
	var errs []error
	for _, p := range res.PublisherRes {
		if p.Err != "" {
			errs = append(errs, errors.New(p.Err))
		}
	}
	if res.ServerDied {
		errs = append(errs, errors.New("the server exited during the run (or its figures could not be read)"))
	}
	if res.Viewers > 0 && res.Connected == 0 {
		errs = append(errs, errors.New("no viewer got a frame"))
	}
	return errors.Join(errs...)
}

// mib formats bytes as MiB.
func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// writeSummary prints the human-readable report.
func (res *Result) writeSummary(w io.Writer) {
	p := func(label, format string, args ...any) {
		fmt.Fprintf(w, "%-13s %s\n", label, fmt.Sprintf(format, args...))
	}
	p("run", "%s, %d publisher(s) (%s), %d viewers, %.1f s measured (ramp %.1f s), input %.2f Mbit/s",
		res.Proto, res.Publishers, res.PublisherMode, res.Viewers, res.Seconds, res.RampSeconds, res.InputMbps)
	p("viewers", "%d connected of %d (%d failed, %d disconnected early), %d playing at the end",
		res.Connected, res.Viewers, res.Failed, res.Disconnected, res.PlayingAtEnd)
	p("delivered", "%.3f GB = %.1f Mbit/s", float64(res.Bytes)/1e9, res.DeliveredMbs)
	if res.ServerPID != 0 {
		p("server CPU", "%.2f s (%.0f%% of one core) = %.2f CPU s per GB delivered (pid %d)",
			res.ServerCPUSeconds, res.ServerCPUPercent, res.CPUSecondsPerGB, res.ServerPID)
		p("server RSS", "%s before viewers, %s with them (%.0f KiB per viewer), sampled max %s, peak (VmHWM) %s; %d threads",
			mib(res.BaselineRSSBytes), mib(res.EndRSSBytes), res.RSSPerViewerBytes/1024,
			mib(res.SampledRSSMaxBytes), mib(res.PeakRSSBytes), res.ServerThreads)
		if res.LiveHeapPerViewerBytes != 0 {
			p("live heap", "%s before viewers, %s with them (%.1f KiB per viewer): kept after a collection; RSS adds the\n"+
				"%14s collector's headroom (GOGC) and freed memory not yet returned",
				mib(res.BaselineLiveHeapBytes), mib(res.EndLiveHeapBytes), res.LiveHeapPerViewerBytes/1024, "")
		}
		if res.Proto == protoHLS {
			p("", "(HLS: the segment store keeps filling for playlist + retained segments after the warm-up, so RSS per viewer\n"+
				"%14s includes that growth unless -warmup covers it, about 30 s with the server's defaults)", "")
		}
	} else {
		p("server", "n/a (no -server-pid or -server-cmd)")
	}
	p("tool CPU", "%.2f s (the load tool itself, on the same machine)", res.ClientCPUSeconds)
	p("TTFF", "p50 %.0f ms, p95 %.0f ms, max %.0f ms", res.TTFFP50ms, res.TTFFP95ms, res.TTFFMaxms)
	if res.Proto == protoHLS {
		p("stalled", "%d viewers (a player would have run out of media); longest wait between segments %.0f ms", res.Stalled, res.MaxSilencems)
	} else {
		p("stalled", "%d viewers (no data for the stall threshold); longest silence %.0f ms", res.Stalled, res.MaxSilencems)
	}
	p("gaps", "%d viewers with timestamp gaps (%d gaps, %d steps back)", res.GapViewers, res.Gaps, res.Backwards)
	switch res.LatencyKind {
	case "frame":
		p("latency", "server-added, per video frame, arrival in the viewer's socket: p50 %.1f ms, p99 %.1f ms, max %.1f ms, mean %.1f ms (%d samples)",
			res.LatencyP50ms, res.LatencyP99ms, res.LatencyMaxms, res.LatencyMeanms, res.LatencySamples)
		if res.ReadLatencyP99ms > 0 {
			p("", "read by the tool (adds its own scheduling): p50 %.1f ms, p99 %.1f ms", res.ReadLatencyP50ms, res.ReadLatencyP99ms)
		}
		if res.AudioLatencySamples > 0 {
			p("", "per audio frame, arrival in the viewer's socket: p50 %.1f ms, p99 %.1f ms, max %.1f ms (%d samples)",
				res.AudioLatencyP50ms, res.AudioLatencyP99ms, res.AudioLatencyMaxms, res.AudioLatencySamples)
		}
	case "part":
		p("latency", "LL-HLS part freshness (part arrived − publisher send of its last video frame): p50 %.0f ms, p99 %.0f ms, max %.0f ms (%d parts)",
			res.LatencyP50ms, res.LatencyP99ms, res.LatencyMaxms, res.LatencySamples)
	case "segment":
		p("latency", "HLS segment availability (downloaded − program date-time − duration, incl. polling): p50 %.0f ms, p99 %.0f ms, max %.0f ms (%d segments)",
			res.LatencyP50ms, res.LatencyP99ms, res.LatencyMaxms, res.LatencySamples)
	default:
		p("latency", "n/a")
	}
	if res.Proto == protoHLS {
		p("HLS", "%d segments, %d missed, %d playlist loads, %d underruns",
			res.HLS.Segments, res.HLS.Missed, res.HLS.Playlists, res.HLS.Underruns)
	}
	if ll := res.LLHLS; ll != nil {
		p("LL-HLS", "%d parts fetched, %d missed, %d playlist requests (%.2f per part), %d answered 4xx, %d 5xx, %d parts not matched to a send",
			ll.Parts, ll.Missed, ll.Playlists, ll.PlaylistsPerPart, ll.Status4xx, ll.Status5xx, ll.Unmapped)
		if ll.FreshSamples > 0 {
			p("", "part freshness p50 %.0f ms, p95 %.0f ms, max %.0f ms", ll.FreshP50ms, ll.FreshP95ms, ll.FreshMaxms)
		}
		if ll.AvailSamples > 0 {
			p("", "part availability (publisher send of its last frame → listed by a blocking reload): p50 %.0f ms, p95 %.0f ms, max %.0f ms (%d parts)",
				ll.AvailP50ms, ll.AvailP95ms, ll.AvailMaxms, ll.AvailSamples)
		}
	}
	if res.PublisherMode == publishGo {
		p("publisher", "max lag %.0f ms, %d sends later than %v; longest write %.0f ms, %d writes over %v (server back-pressure)",
			res.PubMaxLagms, res.PubLate, lateSend, res.PubMaxWritems, res.PubSlowWrites, lateSend)
	}
	p("load avg", "%.2f → %.2f (1 min, whole machine)", res.LoadStart, res.LoadEnd)
	p("machine", "%s", res.Machine)
	p("command", "%s", res.Command)
	for _, e := range res.Errors {
		p("error", "%s", e)
	}
	if res.Interrupted {
		p("note", "interrupted before the planned end")
	}
	if err := res.failure(); err != nil {
		p("FAILED", "%v", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
}

// markdownHeader is the table header matching markdownRow.
const markdownHeader = "| date | proto | pubs | viewers ok/asked | s | Mbit/s out | srv CPU s | CPU s/GB | srv CPU % | peak RSS MiB | RSS/viewer KiB | TTFF p50/p95 ms | stalled | gap viewers | latency p50/p99 ms | audio p50/p99 ms | load 1m start→end |\n" +
	"|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"

// markdownRow formats the result as one row of the docs/BENCHMARKS.md
// table.
func (res *Result) markdownRow() string {
	na := func(ok bool, format string, args ...any) string {
		if !ok {
			return "n/a"
		}
		return fmt.Sprintf(format, args...)
	}
	srv := res.ServerPID != 0
	lat := na(res.LatencyKind != "", "%.1f / %.1f", res.LatencyP50ms, res.LatencyP99ms)
	if res.LatencyKind == "segment" || res.LatencyKind == "part" {
		lat += " (" + res.LatencyKind + ")"
	}
	audioLat := na(res.AudioLatencySamples > 0, "%.1f / %.1f", res.AudioLatencyP50ms, res.AudioLatencyP99ms)
	return fmt.Sprintf("| %s | %s | %d | %d/%d | %.0f | %.0f | %s | %s | %s | %s | %s | %.0f / %.0f | %d | %d | %s | %s | %.2f → %.2f |\n",
		res.Time.Format("2006-01-02"), res.Proto, res.Publishers, res.Connected, res.Viewers, res.Seconds,
		res.DeliveredMbs,
		na(srv, "%.1f", res.ServerCPUSeconds), na(srv, "%.2f", res.CPUSecondsPerGB),
		na(srv, "%.0f", res.ServerCPUPercent), na(srv, "%.1f", float64(res.PeakRSSBytes)/(1<<20)),
		na(srv && res.PlayingAtEnd > 0, "%.0f", res.RSSPerViewerBytes/1024),
		res.TTFFP50ms, res.TTFFP95ms, res.Stalled, res.GapViewers, lat, audioLat, res.LoadStart, res.LoadEnd)
}

// llhlsResult is what the LL-HLS clients measured together.
type llhlsResult struct {
	llCounters
	PlaylistsPerPart float64 `json:"playlists_per_part"`
	// Fresh* are part freshness: the part arrived in the client's socket −
	// the publisher's send of the part's last video frame.
	FreshSamples uint64  `json:"freshness_samples"`
	FreshP50ms   float64 `json:"freshness_p50_ms"`
	FreshP95ms   float64 `json:"freshness_p95_ms"`
	FreshMaxms   float64 `json:"freshness_max_ms"`
	// Avail* are part availability (-ll-probe): a blocking reload listing
	// the part answered − the publisher's send of its last video frame.
	AvailSamples uint64  `json:"availability_samples,omitempty"`
	AvailP50ms   float64 `json:"availability_p50_ms,omitempty"`
	AvailP95ms   float64 `json:"availability_p95_ms,omitempty"`
	AvailMaxms   float64 `json:"availability_max_ms,omitempty"`
}

// add sums another client's counters into c.
func (c *llCounters) add(o llCounters) {
	c.Parts += o.Parts
	c.Missed += o.Missed
	c.Playlists += o.Playlists
	c.Status4xx += o.Status4xx
	c.Status5xx += o.Status5xx
	c.Unmapped += o.Unmapped
}

// newLLHLSResult summarises the clients' counters and histograms.
func newLLHLSResult(c llCounters, fresh, avail *histogram) *llhlsResult {
	r := &llhlsResult{llCounters: c, FreshSamples: fresh.n, AvailSamples: avail.n}
	if c.Parts > 0 {
		r.PlaylistsPerPart = float64(c.Playlists) / float64(c.Parts)
	}
	if fresh.n > 0 {
		r.FreshP50ms, r.FreshP95ms, r.FreshMaxms = ms(fresh.quantile(0.50)), ms(fresh.quantile(0.95)), ms(fresh.max)
	}
	if avail.n > 0 {
		r.AvailP50ms, r.AvailP95ms, r.AvailMaxms = ms(avail.quantile(0.50)), ms(avail.quantile(0.95)), ms(avail.max)
	}
	return r
}

// llMarkdownHeader is the table header matching llMarkdownRow.
const llMarkdownHeader = "| date | clients ok/asked | parts | missed | playlists per part | 4xx / 5xx | CPU s/GB | RSS/client KiB | freshness p50/p95/max ms | availability p50/p95/max ms | load 1m start→end |\n" +
	"|---|---|---|---|---|---|---|---|---|---|---|\n"

// llMarkdownRow formats the LL-HLS figures as one row of the
// docs/BENCHMARKS.md LL-HLS table ("" for another protocol).
func (res *Result) llMarkdownRow() string {
	ll := res.LLHLS
	if ll == nil {
		return ""
	}
	na := func(ok bool, format string, args ...any) string {
		if !ok {
			return "n/a"
		}
		return fmt.Sprintf(format, args...)
	}
	srv := res.ServerPID != 0
	return fmt.Sprintf("| %s | %d/%d | %d | %d | %.2f | %d / %d | %s | %s | %s | %s | %.2f → %.2f |\n",
		res.Time.Format("2006-01-02"), res.Connected, res.Viewers, ll.Parts, ll.Missed, ll.PlaylistsPerPart,
		ll.Status4xx, ll.Status5xx, na(srv, "%.2f", res.CPUSecondsPerGB),
		na(srv && res.PlayingAtEnd > 0, "%.0f", res.RSSPerViewerBytes/1024),
		na(ll.FreshSamples > 0, "%.0f / %.0f / %.0f", ll.FreshP50ms, ll.FreshP95ms, ll.FreshMaxms),
		na(ll.AvailSamples > 0, "%.0f / %.0f / %.0f", ll.AvailP50ms, ll.AvailP95ms, ll.AvailMaxms),
		res.LoadStart, res.LoadEnd)
}
