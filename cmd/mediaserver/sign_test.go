package main

import (
	"bytes"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/access"
	"github.com/mediaserver/mediaserver/stream"
)

func TestSignPlayURL(t *testing.T) {
	const secret = "0123456789abcdef-secret"
	file := filepath.Join(t.TempDir(), "mediaserver.yaml")
	yaml := "access:\n  apps:\n    live:\n      play_secret: \"" + secret + "\"\n    open: {}\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cam := stream.Key{App: "live", Name: "cam"}
	for _, tc := range []struct {
		args   []string
		url    string // printed without its query
		query  string // the query besides the token
		ip     string
		within time.Duration
	}{
		{[]string{"http://h:8080/live/cam.m3u8"}, "http://h:8080/live/cam.m3u8", "", "", time.Hour},
		{[]string{"-expires", "5m", "http://h:8080/live/cam.flv?user=7"}, "http://h:8080/live/cam.flv", "user=7", "", 5 * time.Minute},
		{[]string{"-client-ip", "::ffff:192.0.2.7", "rtmp://h/live/cam"}, "rtmp://h/live/cam", "", "192.0.2.7", time.Hour},
		{[]string{"ws://h:8080/live/cam.flv"}, "ws://h:8080/live/cam.flv", "", "", time.Hour},
	} {
		var out bytes.Buffer
		before := time.Now()
		if err := signPlayURL(append([]string{"-config", file}, tc.args...), nil, &out, io.Discard); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		u, err := url.Parse(strings.TrimSpace(out.String()))
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		token := q.Get(access.PlayTokenParam)
		q.Del(access.PlayTokenParam)
		exp, _, _ := strings.Cut(token, ".")
		unix, _ := strconv.ParseInt(exp, 10, 64)
		expires := time.Unix(unix, 0)
		if printed := strings.TrimSuffix(u.String(), "?"+u.RawQuery); printed != tc.url || q.Encode() != tc.query {
			t.Errorf("%v: printed %s", tc.args, out.String())
		}
		if expires.Before(before.Add(tc.within).Truncate(time.Second)) || expires.After(time.Now().Add(tc.within)) {
			t.Errorf("%v: expires %v, want in %v", tc.args, expires, tc.within)
		}
		if want := access.SignPlayToken(secret, cam, expires, tc.ip); token != want {
			t.Errorf("%v: token %q, want %q", tc.args, token, want)
		}
	}
	for _, bad := range [][]string{
		{"http://h/open/cam.m3u8"},               // no secret for the app
		{"http://h/live.m3u8"},                   // no stream
		{"-client-ip", "h", "rtmp://h/live/cam"}, // not an address
		{},
	} {
		if err := signPlayURL(append([]string{"-config", file}, bad...), nil, io.Discard, io.Discard); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}
