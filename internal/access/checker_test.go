package access

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/stream"
)

func publishReq(app, name string) stream.AccessRequest {
	return stream.AccessRequest{
		Action: stream.ActionPublish, Protocol: "rtmp", Key: stream.Key{App: app, Name: name},
		Query: "token=t1", RemoteAddr: "192.0.2.5:50123", SessionID: "rtmp-7",
	}
}

func playReq(protocol, app, name, remote string) stream.AccessRequest {
	return stream.AccessRequest{
		Action: stream.ActionPlay, Protocol: stream.Protocol(protocol), Key: stream.Key{App: app, Name: name},
		Query: "sig=abc", RemoteAddr: remote, SessionID: protocol + "-1",
	}
}

func TestPublishKeys(t *testing.T) {
	cfg := Config{Apps: map[string]AppRule{
		"live":  {PublishKeys: []string{"key-a", "key-b"}},
		"open":  {},
		"other": {PublishKeys: []string{"only"}},
	}}
	withWildcard := cfg
	withWildcard.Apps = map[string]AppRule{"live": {PublishKeys: []string{"key-a"}}, WildcardApp: {PublishKeys: []string{"w"}}}
	cases := []struct {
		name    string
		cfg     Config
		app     string
		key     string
		wantErr string
	}{
		{"no rules: anything", Config{}, "any", "thing", ""},
		{"listed key", cfg, "live", "key-a", ""},
		{"second listed key", cfg, "live", "key-b", ""},
		{"unlisted key", cfg, "live", "key-c", `stream key not accepted for app "live"`},
		{"key of another app", cfg, "live", "only", `stream key not accepted for app "live"`},
		{"prefix of a key", cfg, "live", "key-", `stream key not accepted for app "live"`},
		{"key with extra", cfg, "live", "key-aa", `stream key not accepted for app "live"`},
		{"case matters", cfg, "live", "KEY-A", `stream key not accepted for app "live"`},
		{"app without keys", cfg, "open", "whatever", ""},
		{"unknown app", cfg, "nope", "key-a", `app "nope" is not open for publishing`},
		{"wildcard rule applies", withWildcard, "elsewhere", "w", ""},
		{"wildcard rule refuses", withWildcard, "elsewhere", "key-a", `stream key not accepted for app "elsewhere"`},
		{"listed app beats wildcard", withWildcard, "live", "w", `stream key not accepted for app "live"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newChecker(t, tc.cfg)
			err := c.Authorize(context.Background(), publishReq(tc.app, tc.key))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if st := c.Stats(); st.PublishAllowed != 1 || st.PublishDenied != 0 {
					t.Fatalf("stats %+v", st)
				}
				return
			}
			if err == nil || err.Error() != tc.wantErr || !errors.Is(err, ErrDenied) {
				t.Fatalf("err %v, want %q wrapping ErrDenied", err, tc.wantErr)
			}
			if pub, play := c.AuthFailures(); pub != 1 || play != 0 {
				t.Fatalf("failures %d %d", pub, play)
			}
		})
	}
	// Keys restrict publishing only.
	c := newChecker(t, cfg)
	if err := c.Authorize(context.Background(), playReq("rtmp", "live", "anything", "192.0.2.1:1")); err != nil {
		t.Fatalf("play refused by key list: %v", err)
	}
}

func TestPublishHook(t *testing.T) {
	cases := []struct {
		name    string
		status  int
		body    string
		expose  bool
		wantErr string
		sent    error
	}{
		{"200 allows", 200, "ok", false, "", nil},
		{"204 allows", 204, "", false, "", nil},
		{"403 refuses", 403, "", false, "on_publish hook answered 403", ErrHookRefused},
		{"403 with reason", 403, "banned until tomorrow\nsecond line", true, "on_publish hook answered 403: banned until tomorrow", ErrHookRefused},
		{"reason is sanitised", 401, "\x1b[31mno\x00 way", true, "on_publish hook answered 401: [31mno way", ErrHookRefused},
		{"reason is not exposed by default", 403, "banned until tomorrow", false, "on_publish hook answered 403", ErrHookRefused},
		{"500 refuses", 500, "", false, "on_publish hook answered 500", ErrHookRefused},
		{"redirect is not followed", 302, "", false, "on_publish hook answered 302", ErrHookRefused},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hook := newHookServer(t, tc.status, tc.body)
			c := newChecker(t, Config{OnPublish: hook.URL, ExposeHookReason: tc.expose})
			err := c.Authorize(context.Background(), publishReq("live", "cam"))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
			} else if err == nil || err.Error() != tc.wantErr || !errors.Is(err, tc.sent) {
				t.Fatalf("err %v, want %q", err, tc.wantErr)
			}
			got := hook.next(t)
			want := HookRequest{Action: "publish", Protocol: "rtmp", App: "live", Name: "cam",
				Query: "token=t1", RemoteAddr: "192.0.2.5:50123", SessionID: "rtmp-7"}
			if got != want {
				t.Fatalf("hook got %+v, want %+v", got, want)
			}
			if hook.count() != 1 {
				t.Fatalf("hook called %d times", hook.count())
			}
			if st := c.Stats(); st.HookFailures != 0 {
				t.Fatalf("a refusal counted as a hook failure: %+v", st)
			}
		})
	}
}

func TestKeyRefusalSkipsHook(t *testing.T) {
	hook := newHookServer(t, 200, "")
	c := newChecker(t, Config{OnPublish: hook.URL, Apps: map[string]AppRule{"live": {PublishKeys: []string{"k"}}}})
	if err := c.Authorize(context.Background(), publishReq("live", "wrong")); !errors.Is(err, ErrDenied) {
		t.Fatalf("err %v", err)
	}
	if err := c.Authorize(context.Background(), publishReq("live", "k")); err != nil {
		t.Fatalf("listed key refused: %v", err)
	}
	if hook.count() != 1 {
		t.Fatalf("hook called %d times, want once (for the listed key)", hook.count())
	}
}

func TestHookTimeoutRefuses(t *testing.T) {
	hook := newHookServer(t, 200, "").blocking()
	defer hook.unblock()
	c := newChecker(t, Config{OnPublish: hook.URL, HookTimeout: 200 * time.Millisecond})
	err := c.Authorize(context.Background(), publishReq("live", "cam"))
	if err == nil || !errors.Is(err, ErrHookFailed) || err.Error() != "on_publish hook did not answer within 200ms" {
		t.Fatalf("err %v", err)
	}
	if st := c.Stats(); st.HookFailures != 1 || st.PublishDenied != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestHookUnreachableRefuses(t *testing.T) {
	hook := newHookServer(t, 200, "")
	url := hook.URL
	hook.Close()
	c := newChecker(t, Config{OnPlay: url + "/play"})
	err := c.Authorize(context.Background(), playReq("flv", "live", "cam", "192.0.2.1:1"))
	if err == nil || !errors.Is(err, ErrHookFailed) || err.Error() != "on_play hook is unavailable" {
		t.Fatalf("err %v", err)
	}
	if strings.Contains(err.Error(), "127.0.0.1") {
		t.Fatalf("transport detail in the client message: %v", err)
	}
}

func TestBadHookURLRefuses(t *testing.T) {
	if _, err := New(Config{OnPublish: "http://[::1"}, nil); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("New with a bad hook URL: %v, want ErrInvalidConfig", err)
	}
	c := startChecker(Config{OnPublish: "http://[::1"}.WithDefaults(), nil)
	t.Cleanup(c.Close)
	if err := c.Authorize(context.Background(), publishReq("live", "cam")); !errors.Is(err, ErrHookFailed) {
		t.Fatalf("err %v", err)
	}
}

func TestCancelledSessionRefuses(t *testing.T) {
	hook := newHookServer(t, 200, "").blocking()
	defer hook.unblock()
	c := newChecker(t, Config{OnPublish: hook.URL, HookTimeout: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Authorize(ctx, publishReq("live", "cam")) }()
	hook.next(t)
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("allowed after the session ended")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Authorize did not return when its context ended")
	}
}

func TestPlayHook(t *testing.T) {
	hook := newHookServer(t, 403, "")
	c := newChecker(t, Config{OnPlay: hook.URL})
	for _, proto := range []string{"rtmp", "flv", "ws", "hls"} {
		err := c.Authorize(context.Background(), playReq(proto, "live", "cam", "198.51.100.4:999"))
		if err == nil || err.Error() != "on_play hook answered 403" {
			t.Fatalf("%s: err %v", proto, err)
		}
		got := hook.next(t)
		if got.Action != "play" || got.Protocol != proto || got.App != "live" || got.Name != "cam" ||
			got.Query != "sig=abc" || got.RemoteAddr != "198.51.100.4:999" || got.Bytes != nil || got.DurationSeconds != nil {
			t.Fatalf("%s: hook got %+v", proto, got)
		}
	}
	if _, play := c.AuthFailures(); play != 4 {
		t.Fatalf("play failures %d", play)
	}
	// Publishing is not asked on_play.
	if err := c.Authorize(context.Background(), publishReq("live", "cam")); err != nil {
		t.Fatalf("publish refused: %v", err)
	}
}

func TestNoHooksAllowEverything(t *testing.T) {
	c := newChecker(t, Config{})
	for _, req := range []stream.AccessRequest{publishReq("a", "b"), playReq("hls", "a", "b", "x:1")} {
		if err := c.Authorize(context.Background(), req); err != nil {
			t.Fatalf("%+v: %v", req, err)
		}
	}
	if err := c.Authorize(context.Background(), stream.AccessRequest{Action: "record"}); !errors.Is(err, ErrDenied) {
		t.Fatalf("unknown action: %v", err)
	}
}

func TestHLSPlayCache(t *testing.T) {
	hook := newHookServer(t, 200, "")
	c := newChecker(t, Config{OnPlay: hook.URL})
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return now }
	ask := func(proto, remote string) {
		t.Helper()
		if err := c.Authorize(context.Background(), playReq(proto, "live", "cam", remote)); err != nil {
			t.Fatal(err)
		}
	}
	ask("hls", "198.51.100.1:1000")
	ask("hls", "198.51.100.1:1001") // same host, new connection: cached
	if hook.count() != 1 {
		t.Fatalf("hook called %d times, want 1", hook.count())
	}
	ask("hls", "198.51.100.2:1000") // another client
	ask("flv", "198.51.100.1:1000") // other protocols are never cached
	ask("flv", "198.51.100.1:1000")
	if hook.count() != 4 {
		t.Fatalf("hook called %d times, want 4", hook.count())
	}
	now = now.Add(DefaultPlayCacheTTL)
	ask("hls", "198.51.100.1:1000") // expired
	if hook.count() != 5 {
		t.Fatalf("hook called %d times, want 5", hook.count())
	}
	if st := c.Stats(); st.PlayAllowed != 6 {
		t.Fatalf("stats %+v", st)
	}
}

func TestHLSPlayCacheRemembersRefusals(t *testing.T) {
	hook := newHookServer(t, http.StatusForbidden, "")
	c := newChecker(t, Config{OnPlay: hook.URL})
	for range 3 {
		if err := c.Authorize(context.Background(), playReq("hls", "live", "cam", "198.51.100.1:1")); !errors.Is(err, ErrHookRefused) {
			t.Fatalf("err %v", err)
		}
	}
	if hook.count() != 1 {
		t.Fatalf("hook called %d times", hook.count())
	}
}

func TestHookConcurrencyBounded(t *testing.T) {
	hook := newHookServer(t, 200, "").blocking()
	c := newChecker(t, Config{OnPublish: hook.URL, MaxConcurrentHooks: 2, HookTimeout: 5 * time.Second})
	errs := make(chan error, 5)
	for i := range 5 {
		go func() { errs <- c.Authorize(context.Background(), publishReq("live", "cam"+string(rune('0'+i)))) }()
	}
	hook.next(t)
	hook.next(t)
	hook.unblock()
	for range 5 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if hook.maxInFlight() > 2 {
		t.Fatalf("%d hook calls at once, limit 2", hook.maxInFlight())
	}
}

func TestValidate(t *testing.T) {
	good := Config{
		Apps:      map[string]AppRule{"live": {PublishKeys: []string{"k"}}, WildcardApp: {}},
		OnPublish: "http://auth.local/publish", OnPlay: "https://auth.local/play",
		OnUnpublish: "http://127.0.0.1:9/x", HookTimeout: time.Second,
	}
	if err := good.Validate(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	if err := (Config{}).Validate(); err != nil {
		t.Fatalf("zero config: %v", err)
	}
	bad := []Config{
		{OnPublish: "auth.local/publish"},
		{OnPlay: "ftp://auth.local/"},
		{OnPlayStop: "http://"},
		{OnUnpublish: "http://[::1"},
		{Apps: map[string]AppRule{"bad app": {}}},
		{Apps: map[string]AppRule{"live": {PublishKeys: []string{""}}}},
		{HookTimeout: -time.Second},
		{NotifyWorkers: -1},
	}
	for _, cfg := range bad {
		if err := cfg.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%+v: %v", cfg, err)
		}
	}
}
