package access

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/mediaserver/mediaserver/internal/testenv"
)

// TestRefusalFloodLogsAFewLines: a flood of refused publishers and viewers
// is counted one by one but logged once per action and kind of refusal
// (the log used to take a line per refusal).
func TestRefusalFloodLogsAFewLines(t *testing.T) {
	var logs testenv.LogBuffer
	hook := newHookServer(t, 403, "")
	c, err := New(Config{Apps: map[string]AppRule{"live": {PublishKeys: []string{"k"}}}, OnPlay: hook.URL, PlayCacheTTL: -1},
		logs.Logger(slog.LevelDebug))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	const flood = 200
	for range flood {
		if c.Authorize(context.Background(), publishReq("live", "wrong")) == nil {
			t.Fatal("wrong key allowed")
		}
		if c.Authorize(context.Background(), playReq("flv", "live", "cam", "192.0.2.1:1000")) == nil {
			t.Fatal("play allowed against a refusing hook")
		}
	}
	if pub, play := c.AuthFailures(); pub != flood || play != flood {
		t.Fatalf("failures %d %d, want %d each", pub, play, flood)
	}
	text := logs.String()
	if n := strings.Count(text, "access refused"); n != 2 {
		t.Fatalf("%d refusals logged %d lines, want one per action:\n%s", 2*flood, n, text)
	}
}
