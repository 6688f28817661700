package server_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/server"
	"github.com/mediaserver/mediaserver/internal/servertest"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

// TestJSONLogLinesHaveNoDuplicateKeys: every component's logger is scoped
// once, so no JSON log line carries a key twice (the api, httpflv, access
// and hls lines used to carry "component" twice, which JSON decoders
// silently collapse to the last value).
func TestJSONLogLinesHaveNoDuplicateKeys(t *testing.T) {
	var logs testenv.LogBuffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	refusePlay := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Query string `json:"query"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		if req.Query != "token=good" {
			http.Error(w, "subscribers only", http.StatusForbidden)
		}
	}))
	defer refusePlay.Close()
	srv := servertest.StartWithLogger(t, func(c *server.Config) {
		c.API.Token = "s3cret"
		c.Access.OnPlay = refusePlay.URL
	}, log)

	testenv.Publish(t, "rtmp://"+srv.RTMPAddr()+"/live/cam", testenv.Source{Duration: 20 * time.Second})
	testenv.WaitFor(t, 20*time.Second, "stream to go live", func() bool {
		st, ok := srv.Hub().Lookup(stream.Key{App: "live", Name: "cam"})
		return ok && st.Stats().Keyframes > 0
	})
	base := "http://" + srv.HTTPAddr()
	get := func(url, token string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	get(base+"/api/v1/server", "wrong").Body.Close()     // api: wrong token
	get(base+"/live/cam.flv?token=bad", "").Body.Close() // access and httpflv: refused
	resp := get(base+"/live/cam.flv?token=good", "")     // httpflv: joined, then left
	if _, err := io.CopyN(io.Discard, resp.Body, 64<<10); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	get(base+"/live/cam.m3u8?token=good", "").Body.Close() // hls

	components := []string{"api", "access", "httpflv", "hls", "rtmp", "stream"}
	testenv.WaitFor(t, 20*time.Second, "a log line from every component and the viewer's leave", func() bool {
		text := logs.String()
		for _, c := range components {
			if !strings.Contains(text, `"component":"`+c+`"`) {
				return false
			}
		}
		return strings.Contains(text, `"msg":"viewer left"`)
	})

	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	sc.Buffer(nil, 1<<20)
	lines := 0
	for sc.Scan() {
		lines++
		if err := checkNoDuplicateKeys(sc.Bytes()); err != nil {
			t.Errorf("%v in log line %s", err, sc.Bytes())
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d JSON log lines checked", lines)
}

// errDuplicateKey reports a JSON object with a key given twice.
var errDuplicateKey = errors.New("duplicate key")

// checkNoDuplicateKeys walks one JSON document token by token (decoding
// into a map would silently keep the last of two equal keys) and fails on
// an object, at any depth, that has a key twice.
func checkNoDuplicateKeys(doc []byte) error {
	type level struct {
		object  bool
		keys    map[string]bool
		wantKey bool // inside an object, between members
	}
	var stack []*level
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].object {
			stack[n-1].wantKey = true
		}
	}
	dec := json.NewDecoder(strings.NewReader(string(doc)))
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("not JSON: %w", err)
		}
		if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].wantKey {
			top := stack[n-1]
			if tok == json.Delim('}') {
				stack = stack[:n-1]
				valueDone()
				continue
			}
			key, _ := tok.(string)
			if top.keys[key] {
				return fmt.Errorf("%w %q", errDuplicateKey, key)
			}
			top.keys[key], top.wantKey = true, false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &level{object: true, keys: map[string]bool{}, wantKey: true})
		case json.Delim('['):
			stack = append(stack, &level{})
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
			valueDone()
		default:
			valueDone()
		}
	}
}

func TestCheckNoDuplicateKeys(t *testing.T) {
	for doc, dup := range map[string]bool{
		`{"a":1,"b":{"a":2},"c":[{"a":1},{"a":2}]}`: false,
		`{"a":1,"a":2}`:           true,
		`{"a":{"b":[1,2],"b":3}}`: true,
		`{"a":[{"x":1,"x":1}]}`:   true,
	} {
		if err := checkNoDuplicateKeys([]byte(doc)); errors.Is(err, errDuplicateKey) != dup {
			t.Errorf("%s: %v", doc, err)
		}
	}
}
