package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/server"
	"github.com/mediaserver/mediaserver/internal/servertest"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

// createdKey is the answer to POST /api/v1/keys.
type createdKey struct {
	ID        string `json:"id"`
	Key       string `json:"key"`
	StreamKey string `json:"stream_key"`
}

// startKeyServer runs a server keeping its stream keys under dir, with a
// republish window, logging at debug level into logs. The caller shuts it
// down.
func startKeyServer(t *testing.T, dir string, logs *testenv.LogBuffer) *server.Server {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.RTMP.Addr, cfg.HTTP.Addr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Access.DataDir = dir
	cfg.Stream.RepublishWindow = time.Minute
	srv, err := server.New(cfg, "test", logs.Logger(slog.LevelDebug))
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// apiCall sends one API request and returns the status and body.
func apiCall(t *testing.T, srv *server.Server, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+srv.HTTPAddr()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// createKey makes a stream key through the API.
func createKey(t *testing.T, srv *server.Server, app, name string) createdKey {
	t.Helper()
	status, body := apiCall(t, srv, http.MethodPost, "/api/v1/keys", `{"app":"`+app+`","name":"`+name+`"}`)
	if status != http.StatusCreated {
		t.Fatalf("create key: %d %s", status, body)
	}
	var k createdKey
	if err := json.Unmarshal([]byte(body), &k); err != nil {
		t.Fatal(err)
	}
	return k
}

// liveWithKey waits until key is live, published with the stream key id.
func liveWithKey(t *testing.T, srv *server.Server, key stream.Key, keyID string) *stream.Stream {
	t.Helper()
	var st *stream.Stream
	testenv.WaitFor(t, 20*time.Second, key.String()+" live with its stream key", func() bool {
		var ok bool
		st, ok = srv.Hub().Lookup(key)
		return ok && st.State() == stream.StateLive && st.Info().KeyID == keyID && st.Stats().Keyframes > 0
	})
	return st
}

// refused checks that an ffmpeg publisher gives up without publishing.
func refused(t *testing.T, p *testenv.Process, what string) {
	t.Helper()
	if exited, err := p.Wait(20 * time.Second); !exited || err == nil {
		t.Fatalf("%s was not refused (exited %v, %v)", what, exited, err)
	}
}

// TestStreamKeyLifecycle pins the bug where stream keys were stream names,
// public to every viewer: a key made through the API publishes with
// ffmpeg as name?key=SECRET and as the bare secret, under the stream's
// name; a publisher knowing only the name can neither publish nor continue
// the stream within the republish window; revoking the key cuts the
// publisher off for good; keys survive a restart on the same data
// directory; and no secret shows in the logs, the API, the metrics or the
// playback URLs.
func TestStreamKeyLifecycle(t *testing.T) {
	dir := t.TempDir()
	logs := &testenv.LogBuffer{}
	srv := startKeyServer(t, dir, logs)
	running := true
	defer func() {
		if running {
			_ = srv.Shutdown()
		}
	}()
	rtmpBase := "rtmp://" + srv.RTMPAddr() + "/live/"
	src := testenv.Source{FPS: 25, GOP: 25, Width: 320, Height: 180}
	mine := stream.Key{App: "live", Name: "mystream"}

	k1 := createKey(t, srv, "live", "mystream")
	if k1.StreamKey != "mystream?key="+k1.Key {
		t.Fatalf("stream_key %q", k1.StreamKey)
	}
	// The name alone no longer publishes it.
	refused(t, testenv.Publish(t, rtmpBase+"mystream", src), "a publisher with the name only")

	first := testenv.Publish(t, rtmpBase+k1.StreamKey, src)
	st := liveWithKey(t, srv, mine, k1.ID)
	if q := st.Info().Query; strings.Contains(q, k1.Key) {
		t.Errorf("the publisher's query keeps the secret: %q", q)
	}

	// The publisher drops: the stream waits for it; the name alone cannot
	// continue it, the key can.
	first.Kill()
	testenv.WaitFor(t, 10*time.Second, "the stream to wait for its publisher", func() bool {
		return st.State() == stream.StateWaiting
	})
	refused(t, testenv.Publish(t, rtmpBase+"mystream", src), "a publisher with the name only, in the republish window")
	if st.State() != stream.StateWaiting || st.Republishes() != 0 {
		t.Fatalf("the name continued the keyed stream: %v, %d republishes", st.State(), st.Republishes())
	}
	again := testenv.Publish(t, rtmpBase+k1.StreamKey, src)
	testenv.WaitFor(t, 20*time.Second, "the key's holder to continue the stream", func() bool {
		return st.State() == stream.StateLive && st.Republishes() == 1
	})

	// Nothing a viewer or the API shows carries the secret.
	for _, path := range []string{"/api/v1/keys", "/api/v1/streams", "/api/v1/sessions", "/api/v1/server", "/metrics",
		"/live/mystream.m3u8"} {
		status, body := apiCall(t, srv, http.MethodGet, path, "")
		if status != http.StatusOK || strings.Contains(body, k1.Key) || strings.Contains(body, k1.Key[len("live_"):]) {
			t.Errorf("GET %s: %d, secret shown or failed:\n%.400s", path, status, body)
		}
	}
	if _, body := apiCall(t, srv, http.MethodGet, "/api/v1/keys", ""); !strings.Contains(body, `"masked_key":"live_…`+k1.Key[len(k1.Key)-4:]+`"`) {
		t.Errorf("key list without the masked key: %s", body)
	}

	// Revoked: the publisher is cut off and cannot come back.
	if status, body := apiCall(t, srv, http.MethodDelete, "/api/v1/keys/"+k1.ID, ""); status != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", status, body)
	}
	if exited, _ := again.Wait(10 * time.Second); !exited {
		t.Fatal("the publisher of the revoked key is still connected")
	}
	refused(t, testenv.Publish(t, rtmpBase+k1.StreamKey, src), "a publisher with the revoked key")
	if st.State() == stream.StateLive {
		t.Fatal("the stream is live again with a revoked key")
	}

	// The bare secret publishes the key's stream under its name.
	k2 := createKey(t, srv, "live", "other")
	bare := testenv.Publish(t, rtmpBase+k2.Key, src)
	liveWithKey(t, srv, stream.Key{App: "live", Name: "other"}, k2.ID)
	if _, ok := srv.Hub().Lookup(stream.Key{App: "live", Name: k2.Key}); ok {
		t.Fatal("the bare secret was published as a stream name")
	}
	bare.Kill()

	// Restart on the same data directory: the live key works, the revoked
	// one does not.
	if err := srv.Shutdown(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	running = false
	srv = startKeyServer(t, dir, logs)
	running = true
	rtmpBase = "rtmp://" + srv.RTMPAddr() + "/live/"
	status, body := apiCall(t, srv, http.MethodGet, "/api/v1/keys", "")
	if status != http.StatusOK || !strings.Contains(body, `"id":"`+k2.ID+`"`) || strings.Contains(body, k1.ID) {
		t.Fatalf("keys after the restart: %d %s", status, body)
	}
	testenv.Publish(t, rtmpBase+k2.Key, src)
	liveWithKey(t, srv, stream.Key{App: "live", Name: "other"}, k2.ID)
	refused(t, testenv.Publish(t, rtmpBase+k1.StreamKey, src), "the revoked key after the restart")

	raw, _ := json.Marshal(logs.String())
	for _, k := range []createdKey{k1, k2} {
		if bytes.Contains(raw, []byte(k.Key[len("live_"):])) {
			t.Errorf("the logs show the secret of key %s", k.ID)
		}
	}
	if !strings.Contains(logs.String(), "stream key revoked") {
		t.Error("revoking a key was not logged")
	}
}

// TestTakeoverNeedsTheStreamKey pins the bug where, with stream.takeover:
// allow, anyone knowing a stream's name took it over from its publisher:
// a keyed stream is taken over only by a publisher with its key.
func TestTakeoverNeedsTheStreamKey(t *testing.T) {
	srv := servertest.Start(t, func(c *server.Config) { c.Stream.Takeover = stream.TakeoverAllow })
	rtmpBase := "rtmp://" + srv.RTMPAddr() + "/live/"
	src := testenv.Source{FPS: 25, GOP: 25, Width: 320, Height: 180}
	k := createKey(t, srv, "live", "stage")

	owner := testenv.Publish(t, rtmpBase+k.StreamKey, src)
	st := liveWithKey(t, srv, stream.Key{App: "live", Name: "stage"}, k.ID)
	ownerSession := st.Info().ID
	refused(t, testenv.Publish(t, rtmpBase+"stage", src), "a takeover by name")
	if id := st.Info().ID; id != ownerSession {
		t.Fatalf("the stream was taken over by %s without the key", id)
	}
	select {
	case <-owner.Done():
		t.Fatalf("the key's publisher was cut off:\n%s", owner.Output())
	default:
	}

	testenv.Publish(t, rtmpBase+k.Key, src) // the bare key takes over
	testenv.WaitFor(t, 20*time.Second, "the key's holder to take the stream over", func() bool {
		return st.Info().ID != ownerSession && st.Info().KeyID == k.ID
	})
	if exited, _ := owner.Wait(10 * time.Second); !exited {
		t.Error("the publisher taken over from is still connected")
	}
}

// TestRotatedKeyRefusesTheOldSecret: rotating a key through the API leaves
// its live publisher on; once it stops, the old secret is refused and the
// new one publishes.
func TestRotatedKeyRefusesTheOldSecret(t *testing.T) {
	// A short republish window: the killed publisher's stream must end
	// well within the wait below.
	srv := servertest.Start(t, func(c *server.Config) { c.Stream.RepublishWindow = 2 * time.Second })
	rtmpBase := "rtmp://" + srv.RTMPAddr() + "/live/"
	src := testenv.Source{FPS: 25, GOP: 25, Width: 320, Height: 180}
	key := stream.Key{App: "live", Name: "desk"}
	k := createKey(t, srv, "live", "desk")
	live := testenv.Publish(t, rtmpBase+k.StreamKey, src)
	st := liveWithKey(t, srv, key, k.ID)

	status, body := apiCall(t, srv, http.MethodPost, "/api/v1/keys/"+k.ID+"/rotate", "")
	var rotated createdKey
	if status != http.StatusOK || json.Unmarshal([]byte(body), &rotated) != nil || rotated.ID != k.ID || rotated.Key == k.Key {
		t.Fatalf("rotate: %d %s", status, body)
	}
	time.Sleep(time.Second)
	select {
	case <-live.Done():
		t.Fatalf("rotating the key cut the live publisher off:\n%s", live.Output())
	default:
	}
	if st.State() != stream.StateLive {
		t.Fatalf("stream %v after the rotation", st.State())
	}

	live.Kill()
	testenv.WaitFor(t, 10*time.Second, "the stream to end", func() bool { return st.Ended() })
	refused(t, testenv.Publish(t, rtmpBase+k.StreamKey, src), "the secret before the rotation")
	testenv.Publish(t, rtmpBase+rotated.StreamKey, src)
	liveWithKey(t, srv, key, k.ID)
}
