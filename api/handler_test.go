package api

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestListStreams(t *testing.T) {
	f := newFixture(t, "")
	rec := f.do(t, http.MethodGet, "/api/v1/streams", "", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var doc struct {
		Items   []map[string]any `json:"items"`
		Total   int              `json:"total"`
		Page    int              `json:"page"`
		PerPage int              `json:"per_page"`
	}
	decode(t, rec, &doc)
	if doc.Total != 2 || doc.Page != 1 || doc.PerPage != DefaultPerPage || len(doc.Items) != 2 {
		t.Fatalf("total %d page %d per_page %d items %d", doc.Total, doc.Page, doc.PerPage, len(doc.Items))
	}
	// Sorted by app, then name.
	if doc.Items[0]["name"] != "audio-only" || doc.Items[1]["name"] != "cam" {
		t.Fatalf("order: %v, %v", doc.Items[0]["name"], doc.Items[1]["name"])
	}
	cam := doc.Items[1]
	want := map[string]any{
		"app": "live", "name": "cam", "bitrate_bps": 1100000.0, "video_bitrate_bps": 1000000.0,
		"audio_bitrate_bps": 100000.0, "bytes_in": 12345678.0, "frames_in": 4000.0,
		"keyframe_interval_seconds": 2.0, "dropped_frames": 17.0, "uptime_seconds": 90.0,
		"start_time": "2025-03-01T11:58:30Z",
	}
	for k, v := range want {
		if cam[k] != v {
			t.Errorf("%s = %v (%T), want %v", k, cam[k], cam[k], v)
		}
	}
	pub := cam["publisher"].(map[string]any)
	if pub["id"] != "rtmp-1" || pub["protocol"] != "rtmp" || pub["remote_addr"] != "192.0.2.7:50000" ||
		pub["encoder"] != "Lavf61.7.100" || pub["start_time"] != "2025-03-01T11:58:30Z" {
		t.Errorf("publisher %v", pub)
	}
	tracks := cam["tracks"].(map[string]any)
	video := tracks["video"].(map[string]any)
	if video["codec"] != "H.264" || video["width"] != 1280.0 || video["height"] != 720.0 ||
		video["fps"] != 29.97 || video["profile"] != "High" || video["level"] != "3.1" || video["codec_string"] != "avc1.64001f" {
		t.Errorf("video %v", video)
	}
	audio := tracks["audio"].(map[string]any)
	if audio["codec"] != "AAC" || audio["sample_rate"] != 48000.0 || audio["channels"] != 2.0 {
		t.Errorf("audio %v", audio)
	}
	viewers := cam["viewers"].(map[string]any)
	if viewers["rtmp"] != 1.0 || viewers["flv"] != 2.0 || viewers["ws"] != 1.0 || viewers["hls"] != 3.0 || viewers["total"] != 7.0 {
		t.Errorf("viewers %v", viewers)
	}
	// A stream without tracks has them as null, not missing.
	bare := doc.Items[0]["tracks"].(map[string]any)
	if v, ok := bare["video"]; !ok || v != nil {
		t.Errorf("bare tracks %v", bare)
	}
}

func TestListStreamsPaging(t *testing.T) {
	f := newFixture(t, "")
	for i := range 45 {
		f.streams.list = append(f.streams.list, StreamInfo{App: "bulk", Name: "s" + string(rune('a'+i/26)) + string(rune('a'+i%26))})
	}
	cases := []struct {
		query           string
		page, perPage   int
		items           int
		first           string
		wantTotal       int
		wantEmptyButSet bool
	}{
		{"", 1, 20, 20, "saa", 47, false},
		{"?page=3", 3, 20, 7, "sbo", 47, false},
		{"?page=2&per_page=45", 2, 45, 2, "audio-only", 47, false},
		{"?per_page=100", 1, 100, 47, "saa", 47, false},
		{"?page=9", 9, 20, 0, "", 47, true},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			rec := f.do(t, http.MethodGet, "/api/v1/streams"+tc.query, "", "")
			if tc.wantEmptyButSet && !strings.Contains(rec.Body.String(), `"items":[]`) {
				t.Errorf("empty page not written as []: %s", rec.Body)
			}
			var doc listDoc[streamDoc]
			decode(t, rec, &doc)
			if doc.Page != tc.page || doc.PerPage != tc.perPage || len(doc.Items) != tc.items || doc.Total != tc.wantTotal {
				t.Fatalf("page %d per_page %d items %d total %d", doc.Page, doc.PerPage, len(doc.Items), doc.Total)
			}
			if tc.items > 0 && doc.Items[0].Name != tc.first {
				t.Errorf("first %q, want %q", doc.Items[0].Name, tc.first)
			}
		})
	}
}

func TestBadPaging(t *testing.T) {
	f := newFixture(t, "")
	for _, q := range []string{"page=0", "page=-1", "page=abc", "page=", "page=1.5", "page=99999999999999999999",
		"per_page=0", "per_page=101", "per_page=x", "per_page=", "page=2&per_page=-5"} {
		for _, path := range []string{"/api/v1/streams?", "/api/v1/sessions?"} {
			rec := f.do(t, http.MethodGet, path+q, "", "")
			e := wantError(t, rec, http.StatusBadRequest, CodeBadRequest)
			if !strings.Contains(e.Message, "page") {
				t.Errorf("%s%s: message %q does not name the parameter", path, q, e.Message)
			}
		}
	}
}

func TestGetStream(t *testing.T) {
	f := newFixture(t, "")
	rec := f.do(t, http.MethodGet, "/api/v1/streams/live/cam", "", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var doc streamDoc
	decode(t, rec, &doc)
	if doc.App != "live" || doc.Name != "cam" || doc.Tracks.Video == nil || doc.Tracks.Video.Width != 1280 {
		t.Fatalf("doc %+v", doc)
	}

	e := wantError(t, f.do(t, http.MethodGet, "/api/v1/streams/live/nope", "", ""), http.StatusNotFound, CodeNotFound)
	if !strings.Contains(e.Message, "live/nope") {
		t.Errorf("message %q", e.Message)
	}
	for _, path := range []string{"/api/v1/streams/live/.hidden", "/api/v1/streams/li%20ve/cam",
		"/api/v1/streams/live/" + strings.Repeat("x", MaxNameLength+1), "/api/v1/streams/live/c%21m"} {
		wantError(t, f.do(t, http.MethodGet, path, "", ""), http.StatusBadRequest, CodeBadRequest)
	}
	// A path with too few segments is no route.
	wantError(t, f.do(t, http.MethodGet, "/api/v1/streams/live", "", ""), http.StatusNotFound, CodeNotFound)
}

func TestKickStream(t *testing.T) {
	f := newFixture(t, "")
	rec := f.do(t, http.MethodDelete, "/api/v1/streams/live/cam", "", "")
	if rec.Code != http.StatusNoContent || rec.Body.Len() != 0 {
		t.Fatalf("status %d body %q", rec.Code, rec.Body)
	}
	if !slices.Equal(f.streams.kicked, []string{"live/cam"}) {
		t.Fatalf("kicked %v", f.streams.kicked)
	}
	// Gone now.
	wantError(t, f.do(t, http.MethodDelete, "/api/v1/streams/live/cam", "", ""), http.StatusNotFound, CodeNotFound)
	wantError(t, f.do(t, http.MethodGet, "/api/v1/streams/live/cam", "", ""), http.StatusNotFound, CodeNotFound)
	wantError(t, f.do(t, http.MethodDelete, "/api/v1/streams/live/.x", "", ""), http.StatusBadRequest, CodeBadRequest)
	if len(f.streams.kicked) != 1 {
		t.Fatalf("kicked %v", f.streams.kicked)
	}
}

func TestListSessions(t *testing.T) {
	f := newFixture(t, "")
	ids := func(query string) []string {
		t.Helper()
		rec := f.do(t, http.MethodGet, "/api/v1/sessions"+query, "", "")
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d: %s", query, rec.Code, rec.Body)
		}
		var doc listDoc[sessionDoc]
		decode(t, rec, &doc)
		var out []string
		for _, s := range doc.Items {
			out = append(out, s.ID)
		}
		if doc.Total < len(out) {
			t.Fatalf("total %d < %d items", doc.Total, len(out))
		}
		return out
	}
	cases := []struct {
		query string
		want  []string
	}{
		{"", []string{"rtmp-1", "flv-1", "ws-1", "rtmp-2"}}, // oldest first
		{"?stream=live/cam", []string{"rtmp-1", "flv-1"}},
		{"?stream=live/none", nil},
		{"?role=viewer", []string{"flv-1", "ws-1"}},
		{"?role=publisher", []string{"rtmp-1"}},
		{"?protocol=rtmp", []string{"rtmp-1", "rtmp-2"}},
		{"?stream=live/cam&role=viewer", []string{"flv-1"}},
		{"?per_page=2&page=2", []string{"ws-1", "rtmp-2"}},
	}
	for _, tc := range cases {
		if got := ids(tc.query); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.query, got, tc.want)
		}
	}

	rec := f.do(t, http.MethodGet, "/api/v1/sessions?stream=live/cam&role=viewer", "", "")
	var doc listDoc[sessionDoc]
	decode(t, rec, &doc)
	s := doc.Items[0]
	if s.Role != RoleViewer || s.Protocol != "flv" || s.Stream != "live/cam" || s.RemoteAddr != "198.51.100.1:40000" ||
		s.BytesOut != 5_000_000 || s.DroppedFrames != 12 || s.DurationSeconds != 60 || !s.StartTime.Equal(testNow.Add(-time.Minute)) {
		t.Errorf("session %+v", s)
	}

	for _, q := range []string{"?stream=cam", "?stream=live/.x", "?stream=/cam", "?stream=", "?role=boss", "?protocol=a%2Fb"} {
		wantError(t, f.do(t, http.MethodGet, "/api/v1/sessions"+q, "", ""), http.StatusBadRequest, CodeBadRequest)
	}
}

func TestGetAndKickSession(t *testing.T) {
	f := newFixture(t, "")
	rec := f.do(t, http.MethodGet, "/api/v1/sessions/flv-1", "", "")
	var s sessionDoc
	decode(t, rec, &s)
	if rec.Code != http.StatusOK || s.ID != "flv-1" {
		t.Fatalf("status %d session %+v", rec.Code, s)
	}
	wantError(t, f.do(t, http.MethodGet, "/api/v1/sessions/flv-99", "", ""), http.StatusNotFound, CodeNotFound)

	rec = f.do(t, http.MethodDelete, "/api/v1/sessions/flv-1", "", "")
	if rec.Code != http.StatusNoContent {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if !slices.Equal(f.sessions.kicked, []string{"flv-1"}) {
		t.Fatalf("kicked %v", f.sessions.kicked)
	}
	wantError(t, f.do(t, http.MethodDelete, "/api/v1/sessions/flv-1", "", ""), http.StatusNotFound, CodeNotFound)
	for _, id := range []string{"a%21b", "x%20y", strings.Repeat("a", MaxSessionIDLength+1), "%C3%A9"} {
		wantError(t, f.do(t, http.MethodDelete, "/api/v1/sessions/"+id, "", ""), http.StatusBadRequest, CodeBadRequest)
		wantError(t, f.do(t, http.MethodGet, "/api/v1/sessions/"+id, "", ""), http.StatusBadRequest, CodeBadRequest)
	}
	if len(f.sessions.kicked) != 1 {
		t.Fatalf("kicked %v", f.sessions.kicked)
	}
}

func TestServer(t *testing.T) {
	f := newFixture(t, "s3cret-token")
	rec := f.do(t, http.MethodGet, "/api/v1/server", "203.0.113.9:1000", "Bearer s3cret-token")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	body := rec.Body.String()
	if strings.Contains(body, "s3cret-token") || strings.Contains(body, ":pw@") || strings.Contains(body, "s3&") {
		t.Fatalf("secret leaked: %s", body)
	}
	var doc serverDoc
	decode(t, rec, &doc)
	if doc.Version != "1.2.3" || doc.UptimeSeconds != 3600 || doc.Counters["rtmp_handshake_failures"] != 4 {
		t.Errorf("doc %+v", doc)
	}
	want := totalsDoc{
		Streams: 2, Sessions: 4, Publishers: 1,
		Viewers: viewersDoc{RTMP: 1, FLV: 2, WS: 1, HLS: 3, Total: 7},
		BytesIn: 12_345_678, BytesOut: 7_003_000, DroppedFrames: 17,
	}
	if doc.Totals != want {
		t.Errorf("totals %+v, want %+v", doc.Totals, want)
	}
	cfg := doc.Config.(map[string]any)
	if tok := cfg["api"].(map[string]any)["token"]; tok != Masked {
		t.Errorf("token echoed as %v", tok)
	}
	hook := cfg["access"].(map[string]any)["on_publish"]
	if hook != "http://hook:"+Masked+"@auth.local/publish?secret="+Masked+"&x=1" {
		t.Errorf("hook echoed as %v", hook)
	}
}

func TestServerWithoutDeps(t *testing.T) {
	h := newHandler(t, Config{}, Deps{})
	for _, path := range []string{"/api/v1/streams", "/api/v1/sessions", "/api/v1/server"} {
		req := httptestRequest(http.MethodGet, path)
		rec := serve(h, req)
		if rec.Code != http.StatusOK {
			t.Errorf("%s: status %d: %s", path, rec.Code, rec.Body)
		}
	}
	wantError(t, serve(h, httptestRequest(http.MethodDelete, "/api/v1/sessions/x")), http.StatusNotFound, CodeNotFound)
	wantError(t, serve(h, httptestRequest(http.MethodDelete, "/api/v1/streams/a/b")), http.StatusNotFound, CodeNotFound)
}

func TestAuth(t *testing.T) {
	const remote, local = "203.0.113.9:1000", "127.0.0.1:1000"
	withToken := newFixture(t, "tok-123")
	noToken := newFixture(t, "")
	cases := []struct {
		name   string
		f      *fixture
		remote string
		auth   string
		status int
		code   string
	}{
		{"token ok from remote", withToken, remote, "Bearer tok-123", 200, ""},
		{"token ok from loopback", withToken, local, "Bearer tok-123", 200, ""},
		{"scheme is case-insensitive", withToken, remote, "bearer tok-123", 200, ""},
		{"missing token", withToken, remote, "", 401, CodeUnauthorized},
		{"missing token from loopback", withToken, local, "", 401, CodeUnauthorized},
		{"wrong token", withToken, remote, "Bearer tok-124", 401, CodeUnauthorized},
		{"prefix of token", withToken, remote, "Bearer tok-12", 401, CodeUnauthorized},
		{"empty bearer", withToken, remote, "Bearer ", 401, CodeUnauthorized},
		{"basic scheme", withToken, remote, "Basic dG9rLTEyMw==", 401, CodeUnauthorized},
		{"no token, loopback v4", noToken, "127.0.0.1:5", "", 200, ""},
		{"no token, loopback 127/8", noToken, "127.3.2.1:5", "", 200, ""},
		{"no token, loopback v6", noToken, "[::1]:5", "", 200, ""},
		{"no token, v4-mapped loopback", noToken, "[::ffff:127.0.0.1]:5", "", 200, ""},
		{"no token, remote", noToken, remote, "", 403, CodeForbidden},
		{"no token, remote with a token anyway", noToken, remote, "Bearer x", 403, CodeForbidden},
		{"no token, private network", noToken, "10.0.0.2:5", "", 403, CodeForbidden},
		{"no token, unparsable remote", noToken, "pipe", "", 403, CodeForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/api/v1/streams", "/api/v1/openapi.json", "/api/v1/nope"} {
				rec := tc.f.do(t, http.MethodGet, path, tc.remote, tc.auth)
				if tc.status == 200 {
					if rec.Code != 200 && !(path == "/api/v1/nope" && rec.Code == 404) {
						t.Fatalf("%s: status %d: %s", path, rec.Code, rec.Body)
					}
					continue
				}
				e := wantError(t, rec, tc.status, tc.code)
				switch tc.status {
				case 401:
					if !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
						t.Errorf("%s: WWW-Authenticate %q", path, rec.Header().Get("WWW-Authenticate"))
					}
				case 403:
					if !strings.Contains(e.Message, "api.token") || !strings.Contains(e.Message, "MEDIASERVER_API_TOKEN") {
						t.Errorf("%s: 403 message does not say how to configure a token: %q", path, e.Message)
					}
				}
			}
		})
	}
}

func TestRoutingErrors(t *testing.T) {
	f := newFixture(t, "")
	wantError(t, f.do(t, http.MethodGet, "/api/v1/nope", "", ""), http.StatusNotFound, CodeNotFound)
	wantError(t, f.do(t, http.MethodGet, "/api/v2/streams", "", ""), http.StatusNotFound, CodeNotFound)
	cases := []struct {
		method, path, allow string
	}{
		{http.MethodPost, "/api/v1/streams", "GET"},
		{http.MethodPut, "/api/v1/streams/live/cam", "GET, DELETE"},
		{http.MethodPatch, "/api/v1/sessions/x", "GET, DELETE"},
		{http.MethodDelete, "/api/v1/server", "GET"},
	}
	for _, tc := range cases {
		rec := f.do(t, tc.method, tc.path, "", "")
		wantError(t, rec, http.StatusMethodNotAllowed, CodeMethodNotAllowed)
		if got := rec.Header().Get("Allow"); got != tc.allow {
			t.Errorf("%s %s: Allow %q, want %q", tc.method, tc.path, got, tc.allow)
		}
	}
	if len(f.streams.kicked)+len(f.sessions.kicked) != 0 {
		t.Fatal("a refused request kicked something")
	}
}

func TestOpenAPIServed(t *testing.T) {
	f := newFixture(t, "")
	rec := f.do(t, http.MethodGet, "/api/v1/openapi.json", "", "")
	if rec.Code != http.StatusOK || rec.Body.String() != string(OpenAPI()) {
		t.Fatalf("status %d, body differs from the embedded document", rec.Code)
	}
	var doc map[string]any
	decode(t, rec, &doc)
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.") {
		t.Fatalf("openapi version %v", doc["openapi"])
	}
}

// TestServerTotalsAndWaitingStream: with Deps.Totals the server's traffic
// totals are the counters since start, not sums over what is live; a
// waiting stream is written with its state, a null publisher and the
// rates its source gives.
func TestServerTotalsAndWaitingStream(t *testing.T) {
	waiting := StreamInfo{App: "live", Name: "gone", State: StateWaiting, Publisher: PublisherInfo{SessionID: "rtmp-9"}, BytesIn: 10}
	h, err := New(Config{}, Deps{
		Streams: &fakeStreams{list: []StreamInfo{waiting}},
		Totals:  func() Totals { return Totals{BytesIn: 5_000, BytesOut: 9_000, Dropped: 3} },
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := serve(h, httptestRequest(http.MethodGet, "/api/v1/server"))
	var doc serverDoc
	decode(t, rec, &doc)
	if doc.Totals.BytesIn != 5_000 || doc.Totals.BytesOut != 9_000 || doc.Totals.DroppedFrames != 3 || doc.Totals.Streams != 1 {
		t.Errorf("totals %+v, want the counters since start and one stream", doc.Totals)
	}

	rec = serve(h, httptestRequest(http.MethodGet, "/api/v1/streams/live/gone"))
	var raw map[string]any
	decode(t, rec, &raw)
	if raw["state"] != StateWaiting || raw["publisher"] != nil {
		t.Errorf("waiting stream written as state %v, publisher %v", raw["state"], raw["publisher"])
	}
	f := newFixture(t, "")
	rec = f.do(t, http.MethodGet, "/api/v1/streams/live/cam", "", "")
	raw = nil
	decode(t, rec, &raw)
	if raw["state"] != StateLive || raw["publisher"] == nil {
		t.Errorf("live stream written as state %v, publisher %v", raw["state"], raw["publisher"])
	}
}
