package web_test

import (
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/mediaserver/mediaserver/internal/browsertest"
	"github.com/mediaserver/mediaserver/web"
)

// moduleCase is one call into a UI module and the JSON it must return.
type moduleCase struct {
	name string
	call browsertest.Call
	// want is the expected result as JSON; for streamWarnings it is the
	// list of warning kinds.
	want string
}

// streamDoc returns a stream document as GET /api/v1/streams writes it, with
// a healthy default state changed by edit.
func streamDoc(edit func(s map[string]any)) map[string]any {
	s := map[string]any{
		"app": "live", "name": "test",
		"tracks": map[string]any{
			"video": map[string]any{"codec": "H.264", "width": 1280, "height": 720, "fps": 30},
			"audio": map[string]any{"codec": "AAC", "sample_rate": 48000, "channels": 2},
		},
		"bitrate_bps": 2_500_000, "keyframe_interval_seconds": 2.0, "dropped_frames": 0,
		"uptime_seconds": 60.0, "viewers": map[string]any{"total": 0},
	}
	if edit != nil {
		edit(s)
	}
	return s
}

// samples returns a bitrate/dropped history from t=from to t=to every 2 s.
func samples(from, to int, bps, dropped float64) []map[string]any {
	var out []map[string]any
	for t := from; t <= to; t += 2 {
		out = append(out, map[string]any{"t": t, "bps": bps, "dropped": dropped})
	}
	return out
}

// warnings calls health.js streamWarnings.
func warnings(name string, s map[string]any, target float64, history []map[string]any, now float64, want string) moduleCase {
	ctx := map[string]any{"segmentTarget": target, "history": history, "now": now}
	if history == nil {
		ctx["history"] = []any{}
	}
	return moduleCase{name: name, call: browsertest.Call{Module: "health.js", Func: "streamWarnings", Args: []any{s, ctx}}, want: want}
}

func call(name, module, fn string, want string, args ...any) moduleCase {
	return moduleCase{name: name, call: browsertest.Call{Module: module, Func: fn, Args: args}, want: want}
}

// TestUIModules runs the UI's own logic (health rules, URL building,
// parsing and formatting) in headless Chromium, from a case table.
func TestUIModules(t *testing.T) {
	h, err := web.New()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	noAudio := func(s map[string]any) { s["tracks"].(map[string]any)["audio"] = nil }
	loc := map[string]any{"protocol": "http:", "host": "media.example.com:8080", "hostname": "media.example.com"}
	tlsLoc := map[string]any{"protocol": "https:", "host": "media.example.com", "hostname": "media.example.com"}

	cases := []moduleCase{
		warnings("healthy", streamDoc(nil), 2, samples(0, 58, 2.5e6, 0), 60, `[]`),
		warnings("keyframes longer than the segment target", streamDoc(func(s map[string]any) { s["keyframe_interval_seconds"] = 4.0 }), 2, nil, 60, `["keyframe-interval"]`),
		warnings("keyframes within tolerance", streamDoc(func(s map[string]any) { s["keyframe_interval_seconds"] = 2.04 }), 2, nil, 60, `[]`),
		warnings("target 0 means the 2 s default", streamDoc(nil), 0, nil, 60, `[]`),
		warnings("no keyframe measured for long", streamDoc(func(s map[string]any) { s["keyframe_interval_seconds"] = 0.0 }), 2, nil, 60, `["no-keyframes"]`),
		warnings("no audio", streamDoc(noAudio), 2, nil, 60, `["no-audio"]`),
		warnings("no audio yet while starting", streamDoc(func(s map[string]any) { noAudio(s); s["uptime_seconds"] = 2.0 }), 2, nil, 2, `[]`),
		warnings("no video", streamDoc(func(s map[string]any) { s["tracks"].(map[string]any)["video"] = nil }), 2, nil, 60, `["no-video"]`),
		warnings("no data", streamDoc(func(s map[string]any) { s["bitrate_bps"] = 0 }), 2, nil, 60, `["no-data"]`),
		warnings("bitrate collapse", streamDoc(func(s map[string]any) { s["bitrate_bps"] = 300_000 }), 2, samples(0, 58, 2.5e6, 0), 60, `["bitrate-collapse"]`),
		warnings("collapse needs history", streamDoc(func(s map[string]any) { s["bitrate_bps"] = 300_000 }), 2, samples(52, 58, 2.5e6, 0), 60, `[]`),
		warnings("low bitrate streams are not judged", streamDoc(func(s map[string]any) { s["bitrate_bps"] = 10_000 }), 2, samples(0, 58, 80e3, 0), 60, `[]`),
		warnings("dropped frames recently", streamDoc(func(s map[string]any) { s["dropped_frames"] = 12 }), 2, samples(40, 58, 2.5e6, 0), 60, `["dropped-frames"]`),
		warnings("dropped frames long ago", streamDoc(func(s map[string]any) { s["dropped_frames"] = 12 }), 2, samples(0, 58, 2.5e6, 12), 60, `[]`),
		warnings("default video left out of HLS", streamDoc(func(s map[string]any) {
			s["tracks"].(map[string]any)["list"] = []any{
				map[string]any{"id": 0, "kind": "video", "codec": "AV1", "hls": "left_out", "hls_reason": "AV1 needs fMP4"},
				map[string]any{"id": 0, "kind": "audio", "codec": "AAC", "hls": "included"},
				map[string]any{"id": 1, "kind": "video", "codec": "H.264", "hls": "left_out", "hls_reason": "not the default track"},
			}
		}), 2, nil, 60, `["not-in-hls"]`),
		warnings("a stream waiting for its publisher is not warned about", streamDoc(func(s map[string]any) {
			s["state"], s["publisher"], s["bitrate_bps"] = "waiting", nil, 0
		}), 2, samples(0, 58, 2.5e6, 0), 60, `[]`),
		call("waiting stream", "health.js", "isWaiting", `true`, map[string]any{"state": "waiting", "publisher": nil}),
		call("live stream", "health.js", "isWaiting", `false`, map[string]any{"state": "live", "publisher": map[string]any{"id": "rtmp-1"}}),
		warnings("several at once", streamDoc(func(s map[string]any) { noAudio(s); s["keyframe_interval_seconds"] = 5.0 }), 1, nil, 60, `["keyframe-interval","no-audio"]`),

		call("keyframe interval for 2 s", "health.js", "recommendedKeyframeInterval", `2`, 2),
		call("keyframe interval for 1 s", "health.js", "recommendedKeyframeInterval", `1`, 1),
		call("keyframe interval for 2.5 s", "health.js", "recommendedKeyframeInterval", `2`, 2.5),
		call("keyframe interval for 0.5 s", "health.js", "recommendedKeyframeInterval", `1`, 0.5),
		call("keyframe interval for default", "health.js", "recommendedKeyframeInterval", `2`, 0),

		call("duration 2s", "format.js", "parseGoDuration", `2`, "2s"),
		call("duration 1m30s", "format.js", "parseGoDuration", `90`, "1m30s"),
		call("duration 500ms", "format.js", "parseGoDuration", `0.5`, "500ms"),
		call("duration 1h0m0s", "format.js", "parseGoDuration", `3600`, "1h0m0s"),
		call("duration 0s", "format.js", "parseGoDuration", `0`, "0s"),
		call("duration garbage", "format.js", "parseGoDuration", `null`, "soon"),
		call("port :1935", "format.js", "listenPort", `1935`, ":1935"),
		call("port 0.0.0.0:8080", "format.js", "listenPort", `8080`, "0.0.0.0:8080"),
		call("port [::]:1936", "format.js", "listenPort", `1936`, "[::]:1936"),
		call("port 0", "format.js", "listenPort", `null`, "127.0.0.1:0"),
		call("port missing", "format.js", "listenPort", `null`, "localhost"),
		call("bitrate", "format.js", "formatBitrate", `"2.10 Mb/s"`, 2_095_896),
		call("uptime", "format.js", "formatUptime", `"4 m 05 s"`, 245),
		call("uptime days", "format.js", "formatUptime", `"2 d 03 h"`, 2*86400+3*3600+59),

		call("play URLs", "urls.js", "playURLs", `{"hls":"http://media.example.com:8080/live/test.m3u8",`+
			`"flv":"http://media.example.com:8080/live/test.flv","ws":"ws://media.example.com:8080/live/test.flv",`+
			`"rtmp":"rtmp://media.example.com/live/test"}`, loc, 1935, "live", "test"),
		call("play URLs over https, RTMP on another port", "urls.js", "playURLs", `{"hls":"https://media.example.com/live/test.m3u8",`+
			`"flv":"https://media.example.com/live/test.flv","ws":"wss://media.example.com/live/test.flv",`+
			`"rtmp":"rtmp://media.example.com:11935/live/test"}`, tlsLoc, 11935, "live", "test"),
		call("OBS settings", "urls.js", "obsSettings", `{"server":"rtmp://media.example.com/live","key":"mystream"}`, loc, 1935, "live", "mystream"),
		call("shell quoting", "urls.js", "shellQuote", `"'rtmp://h/live/a?token=x'"`, "rtmp://h/live/a?token=x"),
		call("shell plain word", "urls.js", "shellQuote", `"rtmp://h/live/a"`, "rtmp://h/live/a"),
		call("valid name", "urls.js", "validName", `true`, "my-stream_1.0~x"),
		call("name with a dot first", "urls.js", "validName", `false`, ".hidden"),
		call("name with a slash", "urls.js", "validName", `false`, "a/b"),

		call("publish app by default", "obs.js", "publishApp", `{"app":"live","rule":null,"others":[]}`, map[string]any{"apps": map[string]any{}}),
		call("publish app restricted", "obs.js", "publishApp", `{"app":"studio","rule":{"publish_keys":["REDACTED"]},"others":["zeta"]}`,
			map[string]any{"apps": map[string]any{"studio": map[string]any{"publish_keys": []string{"REDACTED"}}, "zeta": map[string]any{}}}),
	}

	// Forward target URLs the detail panel's form accepts.
	for url, want := range map[string]string{
		"rtmp://a.rtmp.youtube.com/live2/KEY": `true`, "rtmps://live.twitch.tv:443/app/KEY": `true`,
		"rtmp://10.0.0.5/live/cam?token=x": `true`, "rtmp://a.example/live2": `false`, "rtmp:///live/x": `false`,
		"http://a.example/live/x": `false`, "not a url": `false`,
	} {
		cases = append(cases, call("forward target "+url, "forwards.js", "validTargetURL", want, url))
	}
	calls := make([]browsertest.Call, len(cases))
	for i, c := range cases {
		calls[i] = c.call
	}
	results := browsertest.CallModules(t, srv.URL+"/", calls)
	for i, tc := range cases {
		r := results[i]
		if r.Error != "" {
			t.Errorf("%s: %s", tc.name, r.Error)
			continue
		}
		got := []byte(r.Value)
		if tc.call.Func == "streamWarnings" {
			var list []struct {
				Kind   string `json:"kind"`
				Title  string `json:"title"`
				Detail string `json:"detail"`
			}
			if err := json.Unmarshal(r.Value, &list); err != nil {
				t.Errorf("%s: %v", tc.name, err)
				continue
			}
			kinds := []string{}
			for _, w := range list {
				kinds = append(kinds, w.Kind)
				if w.Title == "" || w.Detail == "" {
					t.Errorf("%s: warning %q without title or advice", tc.name, w.Kind)
				}
			}
			got, _ = json.Marshal(kinds)
		}
		var gotV, wantV any
		if err := json.Unmarshal(got, &gotV); err != nil {
			t.Errorf("%s: result %s: %v", tc.name, got, err)
			continue
		}
		if err := json.Unmarshal([]byte(tc.want), &wantV); err != nil {
			t.Fatalf("%s: want %s: %v", tc.name, tc.want, err)
		}
		if !reflect.DeepEqual(gotV, wantV) {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
}
