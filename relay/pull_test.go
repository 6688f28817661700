package relay

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/amf"
	"github.com/mediaserver/mediaserver/flv"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/rtmp"
	"github.com/mediaserver/mediaserver/stream"
)

// TestPullConfigValidate: the settings a pull cannot run with are refused,
// naming the setting.
func TestPullConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  PullConfig
		ok   bool
	}{
		{"empty", PullConfig{}, true},
		{"source and app", PullConfig{
			Sources: map[string]PullSource{"live/cam1": {URL: "rtmp://10.0.0.5/live/cam1", OnDemand: true}},
			Apps:    map[string]string{"edge": "http://origin:8080/live/{name}.flv"},
		}, true},
		{"rtmps and https", PullConfig{Sources: map[string]PullSource{
			"a/b": {URL: "rtmps://h/app/b"}, "a/c": {URL: "https://h/c.flv"},
		}}, true},
		{"source key without name", PullConfig{Sources: map[string]PullSource{"cam1": {URL: "rtmp://h/live/cam1"}}}, false},
		{"source key with two slashes", PullConfig{Sources: map[string]PullSource{"a/b/c": {URL: "rtmp://h/live/c"}}}, false},
		{"unknown scheme", PullConfig{Sources: map[string]PullSource{"a/b": {URL: "srt://h/b"}}}, false},
		{"no host", PullConfig{Sources: map[string]PullSource{"a/b": {URL: "http:///b.flv"}}}, false},
		{"app template without name", PullConfig{Apps: map[string]string{"edge": "http://origin/live/x.flv"}}, false},
		{"app with slash", PullConfig{Apps: map[string]string{"a/b": "http://origin/{name}.flv"}}, false},
		{"source name with a space", PullConfig{Sources: map[string]PullSource{"live/a b": {URL: "rtmp://h/live/c"}}}, false},
		{"negative idle timeout", PullConfig{IdleTimeout: -time.Second}, false},
		{"max delay below delay", PullConfig{RetryDelay: time.Minute, RetryMaxDelay: time.Second}, false},
	} {
		err := tc.cfg.WithDefaults().Validate()
		if tc.ok != (err == nil) {
			t.Errorf("%s: Validate = %v, want ok %v", tc.name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidPullConfig) {
			t.Errorf("%s: %v does not wrap ErrInvalidPullConfig", tc.name, err)
		}
	}
}

// TestPullConfigSource: a stream's own source wins over its app's
// template, which is filled with the name and always pulled on demand.
func TestPullConfigSource(t *testing.T) {
	cfg := PullConfig{
		Sources: map[string]PullSource{"edge/special": {URL: "rtmp://other/live/s"}},
		Apps:    map[string]string{"edge": "http://origin:8080/live/{name}.flv"},
	}
	for _, tc := range []struct {
		key  stream.Key
		want PullSource
		ok   bool
	}{
		{stream.Key{App: "edge", Name: "special"}, PullSource{URL: "rtmp://other/live/s"}, true},
		{stream.Key{App: "edge", Name: "cam"}, PullSource{URL: "http://origin:8080/live/cam.flv", OnDemand: true}, true},
		{stream.Key{App: "live", Name: "cam"}, PullSource{}, false},
	} {
		got, ok := cfg.source(tc.key)
		if got != tc.want || ok != tc.ok {
			t.Errorf("source(%s) = %+v, %v; want %+v, %v", tc.key, got, ok, tc.want, tc.ok)
		}
	}
}

// TestPullerBackoffGrowsWithJitterUpToTheCap: every wait lies between half
// and all of RetryDelay·2^attempt, capped at RetryMaxDelay.
func TestPullerBackoffGrowsWithJitterUpToTheCap(t *testing.T) {
	p := &Puller{cfg: PullConfig{RetryDelay: 100 * time.Millisecond, RetryMaxDelay: time.Second}}
	for attempt, full := range []time.Duration{100, 200, 400, 800, 1000, 1000, 1000} {
		full *= time.Millisecond
		for range 50 {
			if d := p.backoff(attempt); d <= full/2 || d > full {
				t.Fatalf("backoff(%d) = %v, want in (%v, %v]", attempt, d, full/2, full)
			}
		}
	}
	if d := p.backoff(1000); d > time.Second {
		t.Fatalf("backoff(1000) = %v, above the cap", d)
	}
}

// flvClip is a short FLV stream: header, metadata, sequence headers and
// frames keyframes+1 GOPs of video (one keyframe then an inter frame) and
// audio.
func flvClip(gops int) []byte {
	b := flv.AppendHeader(nil, flv.Header{HasAudio: true, HasVideo: true})
	meta := []byte{0x02, 0x00, 0x0a}
	meta = append(meta, "onMetaData"...)
	meta = append(meta, 0x03, 0, 0, 0x09) // empty object
	b = flv.AppendTag(b, flv.TagScript, 0, meta)
	b = flv.AppendTag(b, flv.TagVideo, 0, []byte{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff, 0xe0, 0, 0})
	b = flv.AppendTag(b, flv.TagAudio, 0, []byte{0xaf, 0, 0x11, 0x90})
	for i := range uint32(gops) {
		ts := i * 80
		b = flv.AppendTag(b, flv.TagVideo, ts, []byte{0x17, 1, 0, 0, 0, 0, 0, 0, 1, 0x65})
		b = flv.AppendTag(b, flv.TagAudio, ts, []byte{0xaf, 1, 0x21})
		b = flv.AppendTag(b, flv.TagVideo, ts+40, []byte{0x27, 1, 0, 0, 0, 0, 0, 0, 1, 0x41})
	}
	return b
}

// newTestHub returns a registry closed when the test ends.
func newTestHub(t *testing.T, cfg stream.Config) *stream.Registry {
	t.Helper()
	hub, err := stream.NewRegistry(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hub.Close)
	return hub
}

// newTestPuller returns a puller over hub, closed when the test ends.
func newTestPuller(t *testing.T, cfg PullConfig, hub PullHub) *Puller {
	t.Helper()
	p, err := NewPuller(cfg, hub, nil, testenv.TestLogger(t, -4))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// TestPullerRetriesAnEndedSourceAndStopsWhenIdle: an HTTP-FLV source that
// ends after a few frames is pulled into the hub, retried (the stream waits
// for it in the republish window) and counted; with nobody watching, the
// pull stops after the idle timeout and its stream ends. Close leaves no
// goroutine behind.
func TestPullerRetriesAnEndedSourceAndStopsWhenIdle(t *testing.T) {
	testenv.CheckGoroutines(t)
	var requests atomic.Int64
	clip := flvClip(5)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "video/x-flv")
		_, _ = w.Write(clip)
	}))
	t.Cleanup(origin.Close)
	hub := newTestHub(t, stream.Config{RepublishWindow: 5 * time.Second})
	p := newTestPuller(t, PullConfig{
		IdleTimeout: 2 * time.Second, RetryDelay: 20 * time.Millisecond, RetryMaxDelay: 100 * time.Millisecond,
	}, hub)
	key := stream.Key{App: "edge", Name: "cam"}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Pull(ctx, key, origin.URL+"/cam.flv"); err != nil {
		t.Fatal(err)
	}
	s, ok := hub.Lookup(key)
	if !ok {
		t.Fatal("pulled stream not in the hub")
	}
	if info := s.Info(); info.Protocol != ProtocolRelay || info.RemoteAddr != origin.Listener.Addr().String() {
		t.Fatalf("publisher %+v, want the relay from %s", info, origin.Listener.Addr())
	}
	testenv.WaitFor(t, 10*time.Second, "retries of the ended source", func() bool {
		st := p.Status()
		return len(st) == 1 && st[0].Retries >= 2 && requests.Load() >= 3
	})
	st := p.Status()[0]
	if st.Bytes == 0 || st.LastError == "" || st.URL != origin.URL+"/cam.flv" || !st.OnDemand {
		t.Fatalf("status %+v: want bytes, the last error, the URL and on demand", st)
	}
	if s.Republishes() == 0 {
		t.Fatal("the retried pull did not continue its stream")
	}
	testenv.WaitFor(t, 10*time.Second, "the idle pull to stop", func() bool { return len(p.Status()) == 0 })
	testenv.WaitFor(t, 10*time.Second, "the stream to end", s.Ended)
	if _, ok := hub.Lookup(key); ok {
		t.Fatal("stream of a stopped pull still in the hub")
	}
}

// TestPullerKeepsAWatchedStream: a reader on the stream keeps an on-demand
// pull going past the idle timeout; Stop ends it at once.
func TestPullerKeepsAWatchedStream(t *testing.T) {
	clip := flvClip(2)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(clip)
		w.(http.Flusher).Flush()
		<-r.Context().Done() // a live source: nothing more, but open
	}))
	t.Cleanup(origin.Close)
	hub := newTestHub(t, stream.Config{})
	p := newTestPuller(t, PullConfig{IdleTimeout: 200 * time.Millisecond}, hub)
	key := stream.Key{App: "edge", Name: "cam"}
	if err := p.Pull(context.Background(), key, origin.URL+"/cam.flv"); err != nil {
		t.Fatal(err)
	}
	s, _ := hub.Lookup(key)
	r := s.NewReader(stream.ReaderInfo{ID: "viewer", Protocol: stream.ProtocolFLV})
	defer r.Close()
	time.Sleep(time.Second) // five idle timeouts
	if st := p.Status(); len(st) != 1 || st[0].State != PullLive {
		t.Fatalf("watched pull: %+v, want it live", st)
	}
	if !p.Stop(key) {
		t.Fatal("Stop found no pull")
	}
	if !s.Ended() {
		t.Fatal("stream of a stopped pull not ended")
	}
}

// TestPullerDemand: the hub's Demander knows only the configured keys; a
// demanded source that cannot be reached is not live within the start
// timeout, and the pull shows why it retries; no pull starts past
// max_pulls.
func TestPullerDemand(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := ln.Addr().String()
	_ = ln.Close()
	hub := newTestHub(t, stream.Config{})
	p := newTestPuller(t, PullConfig{
		Apps:         map[string]string{"edge": "rtmp://" + deadAddr + "/live/{name}"},
		StartTimeout: 500 * time.Millisecond, RetryDelay: 50 * time.Millisecond, RetryMaxDelay: 100 * time.Millisecond,
		MaxPulls: 1,
	}, hub)
	if p.Demand(stream.Key{App: "live", Name: "cam"}) {
		t.Fatal("Demand of a key without a source reported it live")
	}
	if len(p.Status()) != 0 {
		t.Fatal("Demand of a key without a source started a pull")
	}
	key := stream.Key{App: "edge", Name: "cam"}
	if p.Demand(key) {
		t.Fatal("Demand of an unreachable source reported it live")
	}
	st := p.Status()
	if len(st) != 1 || st[0].State != PullRetrying || st[0].LastError == "" || st[0].URL != "rtmp://"+deadAddr+"/live/cam" {
		t.Fatalf("status %+v: want the pull retrying with its error", st)
	}
	err = p.Pull(context.Background(), key, "srt://x/y")
	if !errors.Is(err, ErrUnsupportedSource) {
		t.Fatalf("Pull of an srt URL: %v, want ErrUnsupportedSource", err)
	}
	if err := p.Pull(context.Background(), stream.Key{App: "edge", Name: "more"}, "rtmp://"+deadAddr+"/live/more"); !errors.Is(err, ErrTooManyPulls) {
		t.Fatalf("a pull past max_pulls: %v, want ErrTooManyPulls", err)
	}
	p.Close()
	if err := p.Pull(context.Background(), key, "rtmp://h/a/b"); !errors.Is(err, ErrPullerClosed) {
		t.Fatalf("Pull after Close: %v, want ErrPullerClosed", err)
	}
}

// TestPullerListsConfiguredSourcesIdle: an on-demand source of the
// configuration is listed idle until a viewer comes; after its pull
// stopped it is idle again with the counters of that run.
func TestPullerListsConfiguredSourcesIdle(t *testing.T) {
	clip := flvClip(2)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(clip)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	t.Cleanup(origin.Close)
	hub := newTestHub(t, stream.Config{})
	key := stream.Key{App: "live", Name: "cam"}
	p := newTestPuller(t, PullConfig{
		Sources: map[string]PullSource{key.String(): {URL: origin.URL + "/cam.flv", OnDemand: true}},
	}, hub)
	want := PullStatus{Key: key, URL: origin.URL + "/cam.flv", OnDemand: true, State: PullIdle}
	if st := p.Status(); len(st) != 1 || st[0] != want {
		t.Fatalf("before any viewer: %+v, want %+v", st, want)
	}
	if !p.Demand(key) {
		t.Fatal("demanded source not live")
	}
	if st, ok := p.StatusOf(key); !ok || st.State != PullLive {
		t.Fatalf("demanded source: %+v, want live", st)
	}
	if _, ok := p.StatusOf(stream.Key{App: "live", Name: "other"}); ok {
		t.Fatal("status of a key without a source")
	}
	testenv.WaitFor(t, 10*time.Second, "bytes from the source", func() bool {
		st, _ := p.StatusOf(key)
		return st.Bytes > 0
	})
	p.Stop(key)
	st, _ := p.StatusOf(key)
	if st.State != PullIdle || st.Bytes == 0 || st.ID == "" {
		t.Fatalf("after Stop: %+v, want idle with the last run's counters", st)
	}
}

// TestPlayEnded: the onStatus codes by which RTMP servers end a play end
// the source; others, and other commands, do not.
func TestPlayEnded(t *testing.T) {
	status := func(code string) rtmp.Command {
		return rtmp.Command{Name: "onStatus", Args: []any{amf.Object{{Key: "level", Value: "status"}, {Key: "code", Value: code}}}}
	}
	for _, tc := range []struct {
		cmd  rtmp.Command
		ends bool
	}{
		{status("NetStream.Play.UnpublishNotify"), true},
		{status("NetStream.Play.Stop"), true},
		{status("NetStream.Play.Complete"), true},
		{status("NetStream.Play.Start"), false},
		{status("NetStream.Play.PublishNotify"), false},
		{rtmp.Command{Name: "onStatus"}, false},
		{rtmp.Command{Name: "onBWDone", Args: []any{amf.Object{{Key: "code", Value: "NetStream.Play.Stop"}}}}, false},
	} {
		if _, ends := playEnded(tc.cmd); ends != tc.ends {
			t.Errorf("playEnded(%v) = %v, want %v", tc.cmd, ends, tc.ends)
		}
	}
}

// TestPullResolvedFindsAMovedSource: a resolved pull asks its resolver
// before every connection: when its first source ends, the retry goes to
// where the resolver names now; a resolver that fails is retried like a
// source that fails.
func TestPullResolvedFindsAMovedSource(t *testing.T) {
	clip := flvClip(2)
	ending := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(clip) // then the response ends: the source is gone
	}))
	t.Cleanup(ending.Close)
	var movedRequests atomic.Int64
	moved := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		movedRequests.Add(1)
		_, _ = w.Write(clip)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	t.Cleanup(moved.Close)
	hub := newTestHub(t, stream.Config{RepublishWindow: 5 * time.Second})
	p := newTestPuller(t, PullConfig{RetryDelay: 20 * time.Millisecond, RetryMaxDelay: 50 * time.Millisecond}, hub)
	var asked atomic.Int64
	resolve := func(ctx context.Context, key stream.Key) (string, error) {
		switch asked.Add(1) {
		case 1:
			return ending.URL + "/" + key.Name + ".flv", nil
		case 2:
			return "", errors.New("owner unknown")
		}
		return moved.URL + "/" + key.Name + ".flv", nil
	}
	key := stream.Key{App: "edge", Name: "cam"}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.PullResolved(ctx, key, resolve); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 10*time.Second, "the pull from the moved source", func() bool {
		st, _ := p.StatusOf(key)
		return st.State == PullLive && st.URL == moved.URL+"/cam.flv" && movedRequests.Load() == 1
	})
	if st, _ := p.StatusOf(key); st.Retries < 2 || asked.Load() != 3 {
		t.Fatalf("status %+v after %d resolutions, want 2 retries and 3 resolutions", st, asked.Load())
	}
	if err := p.PullResolved(ctx, stream.Key{App: "edge", Name: "none"}, nil); !errors.Is(err, ErrNoSource) {
		t.Fatalf("PullResolved without a resolver: %v, want ErrNoSource", err)
	}
}

// TestPullerCloseInterruptsAnRTMPHandshake: Close does not wait for the
// read timeout of a source that accepted the connection and never
// answers the handshake.
func TestPullerCloseInterruptsAnRTMPHandshake(t *testing.T) {
	testenv.CheckGoroutines(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	accepted := make(chan net.Conn, 1)
	go func() {
		if conn, err := ln.Accept(); err == nil {
			accepted <- conn // held open, never answered
		}
	}()
	hub := newTestHub(t, stream.Config{})
	p, err := NewPuller(PullConfig{
		Sources:     map[string]PullSource{"live/mute": {URL: "rtmp://" + ln.Addr().String() + "/live/mute"}},
		ReadTimeout: time.Hour,
	}, hub, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var conn net.Conn
	select {
	case conn = <-accepted:
	case <-time.After(10 * time.Second):
		t.Fatal("the pull did not connect")
	}
	defer conn.Close()
	closed := make(chan struct{})
	go func() {
		p.Close()
		close(closed)
	}()
	testenv.WaitFor(t, 10*time.Second, "Close to return during the handshake", func() bool {
		select {
		case <-closed:
			return true
		default:
			return false
		}
	})
}
