package api

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// testNow is the fixed clock of the tests.
var testNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeStreams is a StreamSource over a fixed list that records kicks.
type fakeStreams struct {
	mu     sync.Mutex
	list   []StreamInfo
	kicked []string
}

func (f *fakeStreams) Streams() []StreamInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]StreamInfo(nil), f.list...)
}

func (f *fakeStreams) Stream(app, name string) (StreamInfo, bool) {
	for _, s := range f.Streams() {
		if s.App == app && s.Name == name {
			return s, true
		}
	}
	return StreamInfo{}, false
}

func (f *fakeStreams) KickPublisher(app, name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, s := range f.list {
		if s.App == app && s.Name == name {
			f.kicked = append(f.kicked, app+"/"+name)
			f.list = append(f.list[:i], f.list[i+1:]...)
			return true
		}
	}
	return false
}

// fakeSessions is a SessionSource over a fixed list that records kicks.
type fakeSessions struct {
	mu     sync.Mutex
	list   []SessionInfo
	kicked []string
}

func (f *fakeSessions) Sessions() []SessionInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]SessionInfo(nil), f.list...)
}

func (f *fakeSessions) Kick(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, s := range f.list {
		if s.ID == id {
			f.kicked = append(f.kicked, id)
			f.list = append(f.list[:i], f.list[i+1:]...)
			return true
		}
	}
	return false
}

// camStream is a fully described stream.
func camStream() StreamInfo {
	return StreamInfo{
		App: "live", Name: "cam",
		Publisher: PublisherInfo{
			SessionID: "rtmp-1", Protocol: "rtmp", RemoteAddr: "192.0.2.7:50000",
			Encoder: "Lavf61.7.100", StartTime: testNow.Add(-90 * time.Second),
		},
		Video: &VideoTrack{Codec: "H.264", CodecString: "avc1.64001f", Profile: "High", Level: "3.1",
			Width: 1280, Height: 720, FPS: 29.968},
		Audio:   &AudioTrack{Codec: "AAC", CodecString: "mp4a.40.2", SampleRate: 48000, Channels: 2},
		Bitrate: 1_100_000.4, VideoBitrate: 1_000_000, AudioBitrate: 100_000.4,
		BytesIn: 12_345_678, FramesIn: 4000,
		KeyframeInterval: 2 * time.Second,
		Viewers:          ViewerCounts{RTMP: 1, FLV: 2, WS: 1, HLS: 3},
		Dropped:          17,
		StartTime:        testNow.Add(-90 * time.Second),
	}
}

// testSessions are a publisher and three viewers.
func testSessions() []SessionInfo {
	return []SessionInfo{
		{ID: "rtmp-1", Role: RolePublisher, Protocol: "rtmp", Stream: "live/cam", RemoteAddr: "192.0.2.7:50000",
			StartTime: testNow.Add(-90 * time.Second), BytesIn: 12_400_000, BytesOut: 3_000},
		{ID: "flv-1", Role: RoleViewer, Protocol: "flv", Stream: "live/cam", RemoteAddr: "198.51.100.1:40000",
			StartTime: testNow.Add(-60 * time.Second), BytesOut: 5_000_000, Dropped: 12},
		{ID: "ws-1", Role: RoleViewer, Protocol: "ws", Stream: "live/other", RemoteAddr: "198.51.100.2:40000",
			StartTime: testNow.Add(-30 * time.Second), BytesOut: 2_000_000},
		{ID: "rtmp-2", Role: RoleConnecting, Protocol: "rtmp", RemoteAddr: "198.51.100.3:40000",
			StartTime: testNow.Add(-1 * time.Second), BytesIn: 3073},
	}
}

// fixture is an API over fakes.
type fixture struct {
	streams  *fakeStreams
	sessions *fakeSessions
	handler  http.Handler
}

// newFixture builds an API with the given token over a camera stream and
// testSessions.
func newFixture(t *testing.T, token string) *fixture {
	t.Helper()
	f := &fixture{
		streams:  &fakeStreams{list: []StreamInfo{camStream(), {App: "live", Name: "audio-only", StartTime: testNow}}},
		sessions: &fakeSessions{list: testSessions()},
	}
	f.handler = newHandler(t, Config{Token: token}, Deps{
		Streams:  f.streams,
		Sessions: f.sessions,
		Server: func() ServerInfo {
			return ServerInfo{
				Version: "1.2.3", StartTime: testNow.Add(-time.Hour),
				Counters: map[string]uint64{"rtmp_handshake_failures": 4},
				Config: map[string]any{
					"api":    Config{Token: token},
					"access": map[string]any{"on_publish": "http://hook:pw@auth.local/publish?secret=s3&x=1"},
				},
			}
		},
		Now: func() time.Time { return testNow },
	})
	return f
}

// localHost is the Host header of the tests' requests: a client on this
// machine addressing the server by a loopback address.
const localHost = "127.0.0.1:8080"

// do sends one request from remote (default loopback) with optional
// Authorization header.
func (f *fixture) do(t *testing.T, method, target, remote, auth string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	req.Host = localHost
	req.RemoteAddr = remote
	if remote == "" {
		req.RemoteAddr = "127.0.0.1:43210"
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	return rec
}

// decode parses a JSON response into v, failing on a wrong content type.
func decode(t *testing.T, rec *httptest.ResponseRecorder, v any) {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, body %q", ct, rec.Body.String())
	}
	if err := json.NewDecoder(io.Reader(rec.Body)).Decode(v); err != nil {
		t.Fatalf("decode %q: %v", rec.Body.String(), err)
	}
}

// wantError checks an error response's status and code.
func wantError(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) errorBody {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d; body %s", rec.Code, status, rec.Body.String())
	}
	var doc errorDoc
	decode(t, rec, &doc)
	if doc.Error.Code != code || doc.Error.Message == "" {
		t.Fatalf("error %+v, want code %q and a message", doc.Error, code)
	}
	return doc.Error
}

// httptestRequest is a loopback request without credentials.
func httptestRequest(method, target string) *http.Request {
	req := httptest.NewRequest(method, target, nil)
	req.Host = localHost
	req.RemoteAddr = "127.0.0.1:1"
	return req
}

// serve runs one request through h.
func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}
