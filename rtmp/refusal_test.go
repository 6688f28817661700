package rtmp_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/rtmp"
)

// TestPublishRefusalsSaidInvalidStreamName pins the bug where a publish
// with a missing or unusable stream key or app was refused with `Invalid
// stream name ""` and no reason: the encoder must be told what to fix, and
// the log must say it too.
func TestPublishRefusalsSaidInvalidStreamName(t *testing.T) {
	s := startServer(t, rtmp.ServerConfig{RefusalDelay: 10 * time.Millisecond})
	// The server URL suggested is the client's tcUrl with the app: the
	// test client's tcUrl leaves the port out.
	server := "rtmp://127.0.0.1/live"

	cases := []struct {
		name string
		key  string
		want string // in the onStatus description and the log
	}{
		{"missing key", "", "missing stream key: set the server to " + server + " and the stream key to a name"},
		{"missing key with a query", "?token=1", "missing stream key: set the server to " + server},
		{"character", "my$stream", `stream key "my$stream" has '$', which is not allowed: use letters, digits, "-", "_", "." and "~"`},
		{"slash", "live/cam", `stream key "live/cam" has a "/": set the server to ` + server},
		{"dot", ".cam", `stream key ".cam" starts with a dot`},
		{"length", strings.Repeat("k", 200), "stream key is 200 characters long, the limit is 128"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := rtmp.Dial(context.Background(), s.url(""), rtmp.ClientConfig{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			err = c.Publish(tc.key)
			if !errors.Is(err, rtmp.ErrStatus) {
				t.Fatalf("publish %q: %v, want a refusal", tc.key, err)
			}
			if !strings.Contains(strings.ToLower(err.Error()), tc.want) {
				t.Errorf("refusal of %q:\n%v\nwant it to say:\n%s", tc.key, err, tc.want)
			}
		})
	}
	t.Run("missing app", func(t *testing.T) {
		_, err := rtmp.Dial(context.Background(), "rtmp://"+s.addr+"/", rtmp.ClientConfig{})
		want := "Missing app: set the server to " + server + " and the stream key to a name."
		if !errors.Is(err, rtmp.ErrStatus) || !strings.Contains(err.Error(), want) {
			t.Errorf("connect without an app: %v, want a refusal saying %q", err, want)
		}
	})

	// Each refusal is logged with what to fix once its connection closes.
	for _, want := range []string{"missing stream key: set the server to " + server, "has '$', which is not allowed", "missing app"} {
		testenv.WaitFor(t, 5*time.Second, "a log line saying "+want, func() bool {
			return strings.Contains(s.logs.String(), want)
		})
	}
}
