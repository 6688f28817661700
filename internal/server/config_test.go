package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/hls"
	"github.com/mediaserver/mediaserver/httpflv"
	"github.com/mediaserver/mediaserver/internal/access"
	"github.com/mediaserver/mediaserver/internal/server"
	"github.com/mediaserver/mediaserver/internal/servertest"
	"github.com/mediaserver/mediaserver/rtmp"
	"github.com/mediaserver/mediaserver/stream"
)

// TestServerAPIReportsDefaultedSettings: GET /api/v1/server is the
// effective configuration, so a server started with nothing set reports
// every default it runs with instead of 0, "0s" or "".
func TestServerAPIReportsDefaultedSettings(t *testing.T) {
	srv := servertest.Start(t, func(c *server.Config) {
		rtmpAddr, httpAddr := c.RTMP.Addr, c.HTTP.Addr
		*c = server.Config{}
		c.RTMP.Addr, c.HTTP.Addr = rtmpAddr, httpAddr
	})
	resp, err := http.Get("http://" + srv.HTTPAddr() + "/api/v1/server")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var doc struct {
		Config map[string]map[string]any `json:"config"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	dur := func(d time.Duration) any { return d.String() }
	num := func(n int) any { return float64(n) }
	want := map[string]map[string]any{
		"log": {"level": server.DefaultLogLevel, "format": server.DefaultLogFormat},
		"rtmp": {
			"chunk_size": num(rtmp.DefaultChunkSize), "window_ack_size": num(rtmp.DefaultWindowAckSize),
			"handshake_timeout": dur(rtmp.DefaultHandshakeTimeout), "setup_timeout": dur(rtmp.DefaultSetupTimeout),
			"idle_timeout": dur(rtmp.DefaultIdleTimeout), "write_timeout": dur(rtmp.DefaultWriteTimeout),
			"max_chunk_streams": num(rtmp.DefaultMaxChunkStreams), "refusal_delay": dur(rtmp.DefaultRefusalDelay),
			"max_conns": num(rtmp.DefaultMaxConns), "max_conns_per_ip": num(rtmp.DefaultMaxConnsPerIP),
		},
		"http": {
			"read_header_timeout": dur(server.DefaultReadHeaderTimeout), "idle_timeout": dur(server.DefaultIdleTimeout),
			"max_conns": num(server.DefaultHTTPMaxConns), "max_conns_per_ip": num(server.DefaultHTTPMaxConnsPerIP),
			"max_header_bytes": num(server.DefaultMaxHeaderBytes), "shutdown_linger": dur(server.DefaultShutdownLinger),
			"shutdown_grace": dur(server.DefaultShutdownGrace),
		},
		"stream": {
			"gop_cache_frames": num(stream.DefaultGOPCacheFrames), "gop_cache_bytes": num(stream.DefaultGOPCacheBytes),
			"takeover": stream.DefaultTakeover,
		},
		"flv": {
			"write_timeout": dur(httpflv.DefaultWriteTimeout), "ping_interval": dur(httpflv.DefaultPingInterval),
			"max_batch": num(httpflv.DefaultMaxBatch), "ws_read_limit": num(httpflv.DefaultWSReadLimit),
			"header_wait": dur(httpflv.DefaultHeaderWait),
		},
		"hls": {
			"segment_duration": dur(hls.DefaultSegmentDuration), "playlist_length": num(hls.DefaultPlaylistLength),
			"start": hls.StartOnPublish, "storage": hls.StorageMemory,
			"retain_after_window": num(hls.DefaultRetainAfterWindow), "end_list_delay": dur(hls.DefaultEndListDelay),
			"ended_retention": dur(hls.DefaultEndedRetention), "idle_timeout": dur(hls.DefaultIdleTimeout),
			"max_segment_bytes":    num(hls.DefaultMaxSegmentBytes),
			"max_segment_duration": dur(hls.DefaultMaxSegmentDuration),
			"variant":              string(hls.DefaultVariant),
			"part_duration":        dur(hls.DefaultPartDuration),
			"blocking_timeout":     dur(3 * hls.DefaultSegmentDuration),
		},
		"access": {
			"hook_timeout": dur(access.DefaultHookTimeout), "max_concurrent_hooks": num(access.DefaultMaxConcurrentHooks),
			"notify_queue": num(access.DefaultNotifyQueue), "notify_workers": num(access.DefaultNotifyWorkers),
			"play_cache_ttl": dur(access.DefaultPlayCacheTTL), "play_cache_entries": num(access.DefaultPlayCacheEntries),
			"publish_hook_timeout": dur(access.DefaultHookTimeout), "play_hook_timeout": dur(access.DefaultHookTimeout),
			"max_concurrent_publish_hooks": num(access.DefaultMaxConcurrentHooks),
			"max_concurrent_play_hooks":    num(access.DefaultMaxConcurrentHooks),
			"data_dir":                     access.DefaultDataDir,
		},
	}
	for part, settings := range want {
		for key, value := range settings {
			if got := doc.Config[part][key]; fmt.Sprint(got) != fmt.Sprint(value) {
				t.Errorf("%s.%s = %v, want the default %v", part, key, got, value)
			}
		}
	}
}
