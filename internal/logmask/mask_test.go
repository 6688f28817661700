package logmask

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	for in, want := range map[string]string{
		"":                                   "",
		"no secrets here":                    "no secrets here",
		"live/cam?key=SECRET":                "live/cam?key=REDACTED",
		"rtmp://h:1935/live?key=S&x=1":       "rtmp://h:1935/live?key=REDACTED&x=1",
		"?x=1&token=T1&sig=S2#frag":          "?x=1&token=REDACTED&sig=REDACTED#frag",
		"a?Secret=s;password=p q":            "a?Secret=REDACTED;password=REDACTED q",
		`connect app "live?key=S3": invalid`: `connect app "live?key=REDACTED": invalid`,
		"?stream_key=a&accessToken=b&apiKey=c&signature=d&passwd=e": "?stream_key=REDACTED&accessToken=REDACTED&apiKey=REDACTED&signature=REDACTED&passwd=REDACTED",
		"?monkey=1&keyframes=2&tokenize=3&sign=4":                   "?monkey=1&keyframes=2&tokenize=3&sign=4",
		"key=top level":               "key=REDACTED level",
		"?key=":                       "?key=",
		"live%3Fkey%3DSECRET%26x%3D1": "live%3Fkey%3DREDACTED%26x%3D1",
		"http://hook:pw@auth.local/publish?secret=s3&x=1": "http://hook:REDACTED@auth.local/publish?secret=REDACTED&x=1",
		"rtmp://user@host/app":                            "rtmp://user@host/app",
		"mail me@example.com":                             "mail me@example.com",
		"a=b c=d":                                         "a=b c=d",
		"(token=T)":                                       "(token=REDACTED)",
		"100%":                                            "100%",
	} {
		if got := String(in); got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestHandlerMasksEveryPart: message, attributes of every kind, groups
// and attributes added with With are masked, at every level.
func TestHandlerMasksEveryPart(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(Wrap(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	u, _ := url.Parse("rtmp://h/live?key=K5")
	log = log.With("tcUrl", "rtmp://h/live?key=K1").WithGroup("g").With("query", "token=K2")
	log.Debug("connect live?key=K3", "err", fmt.Errorf("wrap: %w", errors.New("bad app \"x?sig=K4\"")),
		"url", u, slog.Group("hook", "target", "http://u:K6@hook/x"), "n", 3, "list", []string{"?password=K7"})
	log.Error("e", "query", "key=K8")
	out := buf.String()
	for _, secret := range []string{"K1", "K2", "K3", "K4", "K5", "K6", "K7", "K8"} {
		if strings.Contains(out, secret) {
			t.Errorf("%s logged:\n%s", secret, out)
		}
	}
	for _, kept := range []string{`g.n=3`, `g.list="[?password=REDACTED]"`, `g.hook.target=http://u:REDACTED@hook/x`} {
		if !strings.Contains(out, kept) {
			t.Errorf("want %s in:\n%s", kept, out)
		}
	}
	if Wrap(Wrap(slog.DiscardHandler)) != Wrap(slog.DiscardHandler) {
		t.Error("Wrap wraps twice")
	}
}
