package api

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/conns"
	"github.com/mediaserver/mediaserver/internal/testenv"
)

// request builds a request from a loopback client with the given Host,
// headers (name, value pairs) and body.
func request(method, target, host, body string, headers ...string) *http.Request {
	var req *http.Request
	if body == "" {
		req = httptest.NewRequest(method, target, nil)
	} else {
		req = httptest.NewRequest(method, target, strings.NewReader(body))
	}
	req.Host = host
	req.RemoteAddr = "127.0.0.1:50000"
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return req
}

// TestDNSRebindingHostRefused: with no token, a loopback request whose
// Host is another name (a page on rebind.attacker.example whose name
// resolves to 127.0.0.1) is refused and kicks nothing; requests addressed
// to this machine by a loopback name still work.
func TestDNSRebindingHostRefused(t *testing.T) {
	f := newFixture(t, "")
	for _, host := range []string{"rebind.attacker.example:8080", "rebind.attacker.example", "192.0.2.1:8080", "localhost.attacker.example", ""} {
		rec := serve(f.handler, request(http.MethodDelete, "/api/v1/streams/live/cam", host, ""))
		e := wantError(t, rec, http.StatusForbidden, CodeForbidden)
		if !strings.Contains(e.Message, "api.allowed_hosts") {
			t.Errorf("Host %q: message does not say how to allow a name: %q", host, e.Message)
		}
		wantError(t, serve(f.handler, request(http.MethodGet, "/api/v1/streams", host, "")), http.StatusForbidden, CodeForbidden)
	}
	if len(f.streams.kicked) != 0 {
		t.Fatalf("kicked %v through a foreign Host", f.streams.kicked)
	}
	for _, host := range []string{"127.0.0.1:8080", "localhost:8080", "LocalHost.", "localhost", "[::1]:8080", "127.0.0.2", "app.localhost:3000"} {
		if rec := serve(f.handler, request(http.MethodGet, "/api/v1/streams", host, "")); rec.Code != http.StatusOK {
			t.Errorf("Host %q: status %d: %s", host, rec.Code, rec.Body)
		}
	}
	if rec := serve(f.handler, request(http.MethodDelete, "/api/v1/streams/live/cam", "localhost:8080", "")); rec.Code != http.StatusNoContent {
		t.Fatalf("loopback Host: status %d: %s", rec.Code, rec.Body)
	}
}

// TestAllowedHostsAndTokenSkipTheHostCheck: names in api.allowed_hosts are
// served with any port; with a token, the token is what counts.
func TestAllowedHostsAndTokenSkipTheHostCheck(t *testing.T) {
	h := newHandler(t, Config{AllowedHosts: []string{"Media.Example.com"}}, Deps{})
	for _, host := range []string{"media.example.com", "media.example.com:8443", "MEDIA.example.com."} {
		if rec := serve(h, request(http.MethodGet, "/api/v1/streams", host, "")); rec.Code != http.StatusOK {
			t.Errorf("Host %q: status %d: %s", host, rec.Code, rec.Body)
		}
	}
	wantError(t, serve(h, request(http.MethodGet, "/api/v1/streams", "other.example.com", "")), http.StatusForbidden, CodeForbidden)

	withToken := newHandler(t, Config{Token: "tok"}, Deps{})
	rec := serve(withToken, request(http.MethodGet, "/api/v1/streams", "proxy.example.net", "", "Authorization", "Bearer tok"))
	if rec.Code != http.StatusOK {
		t.Fatalf("token with a public Host: status %d: %s", rec.Code, rec.Body)
	}

	for _, bad := range []string{"http://media.example.com", "media.example.com/api", "a b", ""} {
		if _, err := New(Config{AllowedHosts: []string{bad}}, Deps{}, nil); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("allowed host %q: %v, want ErrInvalidConfig", bad, err)
		}
	}
}

// TestCrossOriginReconnectRefused: a page on another origin cannot ask a
// publisher to reconnect (a POST without preflight), with or without a
// token; the server's own pages and non-browser clients can.
func TestCrossOriginReconnectRefused(t *testing.T) {
	const path = "/api/v1/streams/live/cam/reconnect"
	for _, token := range []string{"", "tok"} {
		f := newFixture(t, token)
		src := &reconnectingStreams{fakeStreams: f.streams}
		h := newHandler(t, Config{Token: token}, Deps{Streams: src})
		auth := []string{}
		if token != "" {
			auth = []string{"Authorization", "Bearer " + token}
		}
		post := func(headers ...string) *httptest.ResponseRecorder {
			return serve(h, request(http.MethodPost, path, localHost, "", append(headers, auth...)...))
		}
		for _, headers := range [][]string{
			{"Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site"},
			{"Origin", "http://evil.example"},
			{"Origin", "http://sub.127.0.0.1.example:8080", "Sec-Fetch-Site", "same-site"},
			{"Sec-Fetch-Site", "cross-site"},
			{"Origin", "null"},
		} {
			e := wantError(t, post(headers...), http.StatusForbidden, CodeForbidden)
			if !strings.Contains(e.Message, "origin") {
				t.Errorf("%v: message %q", headers, e.Message)
			}
		}
		if len(src.asked) != 0 {
			t.Fatalf("token %q: cross-origin requests asked %v", token, src.asked)
		}
		for _, headers := range [][]string{
			{"Origin", "http://" + localHost, "Sec-Fetch-Site", "same-origin"},
			{"Origin", "http://" + localHost},
			{"Sec-Fetch-Site", "none"},
			nil, // curl
		} {
			if rec := post(headers...); rec.Code != http.StatusAccepted {
				t.Errorf("token %q, %v: status %d: %s", token, headers, rec.Code, rec.Body)
			}
		}
		// Reading stays possible cross-origin: the answer is not readable
		// there without CORS, and nothing changes.
		rec := serve(h, request(http.MethodGet, "/api/v1/streams", localHost, "", append([]string{"Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site"}, auth...)...))
		if rec.Code != http.StatusOK {
			t.Errorf("token %q: cross-origin GET: status %d", token, rec.Code)
		}
	}
}

// TestStateChangingBodyMustBeJSON: a body a form or a simple cross-origin
// request can send (text/plain, form encoding) is refused; JSON, which
// needs a preflight across origins, is accepted.
func TestStateChangingBodyMustBeJSON(t *testing.T) {
	f := newFixture(t, "")
	src := &reconnectingStreams{fakeStreams: f.streams}
	h := newHandler(t, Config{}, Deps{Streams: src})
	const path = "/api/v1/streams/live/cam/reconnect"
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""} {
		rec := serve(h, request(http.MethodPost, path, localHost, `{}`, "Content-Type", ct))
		wantError(t, rec, http.StatusUnsupportedMediaType, CodeUnsupportedMediaType)
	}
	if len(src.asked) != 0 {
		t.Fatalf("asked %v", src.asked)
	}
	for _, ct := range []string{"application/json", "application/json; charset=utf-8"} {
		if rec := serve(h, request(http.MethodPost, path, localHost, `{}`, "Content-Type", ct)); rec.Code != http.StatusAccepted {
			t.Errorf("%q: status %d: %s", ct, rec.Code, rec.Body)
		}
	}
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestWrongTokenFloodLogsAFewLines: a flood of wrong tokens is counted
// one by one but logged once per interval, the next line telling how
// many were left out.
func TestWrongTokenFloodLogsAFewLines(t *testing.T) {
	var logs testenv.LogBuffer
	clock := &fakeClock{now: testNow}
	guard, err := NewGuard(Config{Token: "tok"}, &conns.LogLimiter{Now: clock.Now}, logs.Logger(slog.LevelDebug))
	if err != nil {
		t.Fatal(err)
	}
	h := newHandler(t, Config{Token: "tok"}, Deps{Guard: guard})
	const flood = 1000
	for i := range flood {
		rec := serve(h, request(http.MethodGet, "/api/v1/streams", localHost, "", "Authorization", "Bearer wrong"))
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("request %d: status %d", i, rec.Code)
		}
	}
	if lines := strings.Count(logs.String(), "\n"); lines != 1 {
		t.Fatalf("%d wrong tokens logged %d lines:\n%s", flood, lines, logs.String())
	}
	clock.Add(conns.LogInterval)
	serve(h, request(http.MethodGet, "/api/v1/streams", localHost, "", "Authorization", "Bearer wrong"))
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], "suppressed_since_last_log=999") || !strings.Contains(lines[1], "reason=token_invalid") {
		t.Fatalf("after the interval, want one more line with the suppressed count:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "wrong\"") || strings.Contains(logs.String(), "Bearer") {
		t.Fatalf("the log shows the token sent:\n%s", logs.String())
	}
	want := map[string]uint64{RefusedTokenMissing: 0, RefusedTokenInvalid: flood + 1, RefusedNotLocal: 0,
		RefusedHost: 0, RefusedCrossOrigin: 0, RefusedNotJSON: 0}
	if got := guard.Refusals(); !reflect.DeepEqual(got, want) {
		t.Fatalf("refusals %v, want %v", got, want)
	}
}
