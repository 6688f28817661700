package clustertest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/cluster"
	"github.com/mediaserver/mediaserver/internal/server"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

// hlsClient polls a playlist through the cache and fetches every media
// URI it lists once, recording which it got.
func hlsClient(ctx context.Context, c *http.Client, base, playlist string, got map[string]bool) error {
	for ctx.Err() == nil {
		resp, err := c.Get(base + playlist)
		if err != nil {
			return err
		}
		var uris []string
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
				uris = append(uris, line)
			}
		}
		resp.Body.Close()
		for _, u := range uris {
			if got[u] {
				continue
			}
			dir := playlist[:strings.LastIndexByte(playlist, '/')+1]
			r, err := c.Get(base + dir + u)
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, r.Body)
			r.Body.Close()
			got[u] = r.StatusCode == http.StatusOK
		}
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
	return nil
}

// TestNginxFetchesEachSegmentFromTheOriginsOnce: two origins in a cluster
// behind nginx with deploy/nginx/mediaserver.conf (round robin over both);
// ffmpeg publishes to origin A; many HLS clients play through nginx. Every
// segment reaches the origins once however many clients fetch it, whichever
// origin nginx asks (B forwards to A), and every client gets every segment.
func TestNginxFetchesEachSegmentFromTheOriginsOnce(t *testing.T) {
	redis := testenv.StartRedis(t)
	hls := func(c *server.Config) { c.HLS.SegmentDuration = time.Second }
	a := startNode(t, cluster.RoleOrigin, redis.URL(), hls)
	b := startNode(t, cluster.RoleOrigin, redis.URL(), hls)
	pa, pb := newCountingProxy(t, a.HTTPAddr()), newCountingProxy(t, b.HTTPAddr())
	nginx := testenv.StartNginx(t, "../../deploy/nginx/mediaserver.conf", pa.addr(), pb.addr())

	testenv.Publish(t, "rtmp://"+a.RTMPAddr()+"/live/show", testenv.Source{FPS: 25, Duration: 60 * time.Second})
	testenv.WaitFor(t, 20*time.Second, "the stream live on A", func() bool {
		st, ok := a.Hub().Lookup(stream.Key{App: "live", Name: "show"})
		return ok && st.Stats().Keyframes > 1
	})

	const clients = 100
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Second)
	defer cancel()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 10 * time.Second}
	defer hc.CloseIdleConnections()
	got := make([]map[string]bool, clients)
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		got[i] = make(map[string]bool)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := hlsClient(ctx, hc, "http://"+nginx.Addr, "/live/show.m3u8", got[i]); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("client: %v", err)
	}

	origin := make(map[string]int)
	for _, p := range []*countingProxy{pa, pb} {
		for uri, n := range p.counts() {
			origin[uri] += n
		}
	}
	segments := 0
	for uri, n := range origin {
		if strings.HasSuffix(uri, ".m3u8") {
			continue
		}
		segments++
		if n != 1 {
			t.Errorf("%s reached the origins %d times, want once", uri, n)
		}
	}
	if segments < 5 {
		t.Fatalf("only %d segments were fetched: %v", segments, origin)
	}
	// Every client has every segment listed after its first playlist.
	for i, g := range got {
		for uri, ok := range g {
			if !ok {
				t.Errorf("client %d did not get %s", i, uri)
			}
		}
	}
	t.Logf("%d clients, %d segments, origin requests: %v", clients, segments, origin)
}

// TestNginxServesLLHLSPartsFromTheOriginOnce: 500 LL-HLS clients of the
// load tool (blocking playlist reloads, preload-hinted parts) play through
// nginx in front of two origins. Each part, segment and init section
// reaches the origins once, and no client misses a part.
func TestNginxServesLLHLSPartsFromTheOriginOnce(t *testing.T) {
	redis := testenv.StartRedis(t)
	ll := func(c *server.Config) {
		c.HLS.SegmentDuration, c.HLS.PartDuration = time.Second, 200*time.Millisecond
	}
	a := startNode(t, cluster.RoleOrigin, redis.URL(), ll)
	b := startNode(t, cluster.RoleOrigin, redis.URL(), ll)
	pa, pb := newCountingProxy(t, a.HTTPAddr()), newCountingProxy(t, b.HTTPAddr())
	nginx := testenv.StartNginx(t, "../../deploy/nginx/mediaserver.conf", pa.addr(), pb.addr())

	bin := filepath.Join(t.TempDir(), "mediabench")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/mediabench").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	const clients = 500
	cmd := exec.Command(bin, "-proto", "llhls", "-viewers", strconv.Itoa(clients), "-ramp", "0",
		"-rtmp", "rtmp://"+a.RTMPAddr()+"/live", "-http", "http://"+nginx.Addr, "-stream", "show",
		"-gop", "1s", "-gen-size", "640x360", "-gen-kbps", "800", "-gen-duration", "10s",
		"-warmup", "5s", "-duration", "15s", "-json", "-log-level", "warn")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("mediabench: %v\n%s", err, stderr.String())
	}
	var res struct {
		Connected    int `json:"connected"`
		PlayingAtEnd int `json:"playing_at_end"`
		LLHLS        *struct {
			Parts     uint64 `json:"parts"`
			Missed    uint64 `json:"missed"`
			Status4xx uint64 `json:"status_4xx"`
			Status5xx uint64 `json:"status_5xx"`
		} `json:"llhls"`
	}
	if err := json.Unmarshal(out, &res); err != nil || res.LLHLS == nil {
		t.Fatalf("mediabench output: %v\n%s", err, out)
	}
	t.Logf("clients: %d connected, %d playing at the end; parts %d, missed %d, 4xx %d, 5xx %d",
		res.Connected, res.PlayingAtEnd, res.LLHLS.Parts, res.LLHLS.Missed, res.LLHLS.Status4xx, res.LLHLS.Status5xx)
	if res.Connected != clients || res.PlayingAtEnd != clients || res.LLHLS.Missed != 0 || res.LLHLS.Status5xx != 0 {
		t.Errorf("not every client got every part:\n%s", out)
	}

	media, playlists := 0, 0
	for _, p := range []*countingProxy{pa, pb} {
		for uri, n := range p.counts() {
			path, _, _ := strings.Cut(uri, "?")
			if strings.HasSuffix(path, ".m3u8") {
				playlists += n
				continue
			}
			if !strings.HasSuffix(path, ".m4s") && !strings.HasSuffix(path, ".mp4") {
				continue // the load tool's reads of /metrics and the profiler
			}
			media++
			if n != 1 {
				t.Errorf("%s reached the origins %d times, want once", uri, n)
			}
		}
	}
	if media < 50 {
		t.Errorf("only %d media objects reached the origins", media)
	}
	t.Logf("origin requests: %d media objects once each, %d playlist requests for %d clients", media, playlists, clients)
}
