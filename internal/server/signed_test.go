package server_test

import (
	"bytes"
	"encoding/base32"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mediaserver/mediaserver/internal/access"
	"github.com/mediaserver/mediaserver/internal/server"
	"github.com/mediaserver/mediaserver/internal/servertest"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

// statusOf GETs url and returns the status code, reading the body.
func statusOf(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// firstSegmentURI waits for the playlist at url to list a segment and
// returns the first segment's URI as listed.
func firstSegmentURI(t *testing.T, url string) string {
	t.Helper()
	var uri string
	testenv.WaitFor(t, 20*time.Second, "a segment in "+url, func() bool {
		body := fetch(t, url)
		for line := range strings.Lines(body) {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				uri = line
				return true
			}
		}
		return false
	})
	return uri
}

// publishCam publishes live/cam with ffmpeg and waits for it to go live.
func publishCam(t *testing.T, srv *server.Server) {
	t.Helper()
	testenv.Publish(t, "rtmp://"+srv.RTMPAddr()+"/live/cam", testenv.Source{Duration: 60 * time.Second})
	testenv.WaitFor(t, 20*time.Second, "the stream to go live", func() bool {
		st, ok := srv.Hub().Lookup(stream.Key{App: "live", Name: "cam"})
		return ok && st.Stats().Keyframes > 0
	})
}

// TestHLSSegmentGuessedAfterPlayHookRefusal pins the segment guess: with
// on_play refusing a viewer the playlist, its segments were still served
// to anyone who knew or guessed the path (the stream's start time in base
// 36). Now a refused viewer gets 403 for a segment too, by its real URL and
// by a guessed one, while an allowed viewer's ffmpeg plays the playlist,
// whose segment URIs carry its query; the path token holds at least 96
// random bits, and segment requests are answered from the play cache.
func TestHLSSegmentGuessedAfterPlayHookRefusal(t *testing.T) {
	hooks := &playCounter{next: &hookServer{}} // allows the query token=good only
	hookSrv := httptest.NewServer(hooks)
	defer hookSrv.Close()
	start := time.Now()
	srv := servertest.Start(t, func(c *server.Config) {
		c.Access.OnPlay = hookSrv.URL
		c.Access.PlayCacheTTL = time.Hour // no answer expires during the test
	})
	publishCam(t, srv)
	base := "http://" + srv.HTTPAddr() + "/live/cam"

	if code := statusOf(t, base+".m3u8?token=bad"); code != http.StatusForbidden {
		t.Fatalf("playlist for a refused viewer: %d, want 403", code)
	}
	uri := firstSegmentURI(t, base+".m3u8?token=good")
	name, query, _ := strings.Cut(uri, "?")
	if query != "token=good" {
		t.Errorf("segment URI %q does not carry the playlist's query", uri)
	}
	segment := "http://" + srv.HTTPAddr() + "/live/" + name
	for _, q := range []string{"", "?token=bad", "?token=goo"} {
		if code := statusOf(t, segment+q); code != http.StatusForbidden {
			t.Errorf("GET %s%s by a refused viewer: %d, want 403", name, q, code)
		}
	}
	if code := statusOf(t, segment+"?token=good"); code != http.StatusOK {
		t.Errorf("GET %s by the allowed viewer: %d", uri, code)
	}

	// The guess: the old path token was the stream's start time in base 36.
	for ms := start.UnixMilli() - 50; ms <= time.Now().UnixMilli(); ms += 97 {
		guess := "/live/cam/" + strconv.FormatInt(ms, 36) + "-0.ts"
		if code := statusOf(t, "http://"+srv.HTTPAddr()+guess); code == http.StatusOK {
			t.Fatalf("guessed segment %s served", guess)
		}
	}
	token, _, _ := strings.Cut(strings.TrimPrefix(name, "cam/"), "-")
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(token))
	if err != nil || 8*len(raw) < 96 {
		t.Errorf("segment path token %q: %d bits (%v), want at least 96 random bits", token, 8*len(raw), err)
	}

	if out, err := testenv.Decode(t, base+".m3u8?token=good", 2*time.Second); err != nil {
		t.Errorf("ffmpeg reading the allowed viewer's playlist: %v\n%s", err, out)
	}
	// Segments cost the hook nothing beyond the playlist: one call per
	// client and query while the answer is cached.
	if calls := hooks.calls(); len(calls) != 4 || calls["token=good"] != 1 || calls["token=bad"] != 1 || calls[""] != 1 {
		t.Errorf("on_play calls per query: %v; want one for each of the 4 queries", calls)
	}
}

// playCounter counts the on_play calls per query before handing them to
// next.
type playCounter struct {
	next http.Handler

	mu      sync.Mutex
	byQuery map[string]int
}

func (p *playCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req access.HookRequest
	if json.Unmarshal(body, &req) == nil && req.Action == access.HookPlay {
		p.mu.Lock()
		if p.byQuery == nil {
			p.byQuery = make(map[string]int)
		}
		p.byQuery[req.Query]++
		p.mu.Unlock()
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	p.next.ServeHTTP(w, r)
}

// calls returns the on_play calls so far per query.
func (p *playCounter) calls() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.byQuery)
}

// TestPlayWithoutSignedURL pins signed play URLs: with a play secret for
// the app, RTMP play, HTTP-FLV, WebSocket-FLV, the HLS playlist and every
// segment refuse a request without a token, with a wrong or expired one,
// with another stream's or another address's, and ffmpeg plays every
// protocol with a valid token (the playlist passing it on to its
// segments).
func TestPlayWithoutSignedURL(t *testing.T) {
	const secret = "s3cret-play-signing-key"
	srv := servertest.Start(t, func(c *server.Config) {
		c.Access.Apps = map[string]access.AppRule{"live": {PlaySecret: secret}}
	})
	publishCam(t, srv)
	cam := stream.Key{App: "live", Name: "cam"}
	valid := "?token=" + access.SignPlayToken(secret, cam, time.Now().Add(time.Hour), "")
	refused := map[string]string{
		"no token":                 "",
		"other parameters only":    "?user=7",
		"wrong secret's token":     "?token=" + access.SignPlayToken("not-the-play-secret", cam, time.Now().Add(time.Hour), ""),
		"expired token":            "?token=" + access.SignPlayToken(secret, cam, time.Now().Add(-time.Second), ""),
		"other stream's token":     "?token=" + access.SignPlayToken(secret, stream.Key{App: "live", Name: "other"}, time.Now().Add(time.Hour), ""),
		"other address's token":    "?token=" + access.SignPlayToken(secret, cam, time.Now().Add(time.Hour), "192.0.2.1"),
		"malformed token":          "?token=1.2",
		"valid token, other param": "?t" + valid[1:],
	}
	base := "http://" + srv.HTTPAddr() + "/live/cam"

	t.Run("HLS", func(t *testing.T) {
		uri := firstSegmentURI(t, base+".m3u8"+valid)
		name, query, _ := strings.Cut(uri, "?")
		if "?"+query != valid {
			t.Errorf("segment URI %q does not carry the token", uri)
		}
		segment := "http://" + srv.HTTPAddr() + "/live/" + name
		for what, q := range refused {
			if code := statusOf(t, base+".m3u8"+q); code != http.StatusForbidden {
				t.Errorf("playlist, %s: %d, want 403", what, code)
			}
			if code := statusOf(t, segment+q); code != http.StatusForbidden {
				t.Errorf("segment, %s: %d, want 403", what, code)
			}
		}
		if code := statusOf(t, segment+valid); code != http.StatusOK {
			t.Errorf("segment, valid token: %d", code)
		}
		bound := "?token=" + access.SignPlayToken(secret, cam, time.Now().Add(time.Hour), "127.0.0.1")
		if code := statusOf(t, segment+bound); code != http.StatusOK {
			t.Errorf("segment, token bound to the client's address: %d", code)
		}
		if out, err := testenv.Decode(t, base+".m3u8"+valid, 2*time.Second); err != nil {
			t.Errorf("ffmpeg reading the signed playlist: %v\n%s", err, out)
		}
	})

	t.Run("HTTP-FLV", func(t *testing.T) {
		for what, q := range refused {
			if code := statusOf(t, base+".flv"+q); code != http.StatusForbidden {
				t.Errorf("%s: %d, want 403", what, code)
			}
		}
		if out, err := testenv.Decode(t, base+".flv"+valid, 2*time.Second); err != nil {
			t.Errorf("ffmpeg reading the signed HTTP-FLV URL: %v\n%s", err, out)
		}
	})

	t.Run("WebSocket-FLV", func(t *testing.T) {
		wsURL := "ws" + strings.TrimPrefix(base, "http") + ".flv"
		for what, q := range refused {
			conn, resp, err := websocket.DefaultDialer.Dial(wsURL+q, nil)
			if err == nil {
				conn.Close()
			}
			if resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s: %v, %v; want a refused handshake with 403", what, err, resp)
			}
		}
		conn, _, err := websocket.DefaultDialer.Dial(wsURL+valid, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		typ, msg, err := conn.ReadMessage()
		if err != nil || typ != websocket.BinaryMessage || !strings.HasPrefix(string(msg), "FLV") {
			t.Fatalf("first message: %d %q %v", typ, msg[:min(len(msg), 8)], err)
		}
	})

	t.Run("RTMP", func(t *testing.T) {
		url := "rtmp://" + srv.RTMPAddr() + "/live/cam"
		for _, what := range []string{"no token", "expired token", "other stream's token"} {
			out, err := testenv.Decode(t, url+refused[what], time.Second)
			if err == nil || !strings.Contains(out, "token") {
				t.Errorf("%s: ffmpeg %v\n%s; want a refusal naming the token", what, err, out)
			}
		}
		if out, err := testenv.Decode(t, url+valid, 2*time.Second); err != nil {
			t.Errorf("ffmpeg playing the signed RTMP URL: %v\n%s", err, out)
		}
	})
}
