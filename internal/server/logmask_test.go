package server_test

import (
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/servertest"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/stream"
)

// TestSecretQueriesMaskedInDebugLog: an encoder's ?key= is never in the
// log, at debug level either: not in the tcUrl logged on connect (OBS puts
// the query on the server URL when told to), not in a publish, and not in
// the error of a connect to an invalid app (both were logged in clear).
func TestSecretQueriesMaskedInDebugLog(t *testing.T) {
	var logs testenv.LogBuffer
	srv := servertest.StartWithLogger(t, nil, logs.Logger(slog.LevelDebug))
	base := "rtmp://" + srv.RTMPAddr()

	// The key on the server URL, as OBS sends it: the app carries it.
	testenv.Publish(t, base+"/live?key=SECRET1/cam", testenv.Source{Duration: 20 * time.Second})
	testenv.WaitFor(t, 20*time.Second, "stream to go live", func() bool {
		st, ok := srv.Hub().Lookup(stream.Key{App: "live", Name: "cam"})
		return ok && st.Stats().Keyframes > 0
	})
	// The key on the stream name, as OBS's "Stream Key" field carries it.
	testenv.Publish(t, base+"/live/other?key=SECRET2", testenv.Source{Duration: 20 * time.Second})
	testenv.WaitFor(t, 20*time.Second, "the second stream to go live", func() bool {
		st, ok := srv.Hub().Lookup(stream.Key{App: "live", Name: "other"})
		return ok && st.Stats().Keyframes > 0
	})
	// An invalid app with a key: refused.
	invalid := testenv.Publish(t, base+"/bad%21app?key=SECRET3/cam", testenv.Source{Duration: 20 * time.Second})
	if exited, _ := invalid.Wait(30 * time.Second); !exited {
		t.Fatalf("the publisher to an invalid app still runs: %s", invalid.Output())
	}
	_, port, _ := net.SplitHostPort(srv.RTMPAddr())
	testenv.WaitFor(t, 10*time.Second, "the connect of the invalid app to be logged", func() bool {
		return strings.Contains(logs.String(), "bad%21app")
	})

	text := logs.String()
	for _, secret := range []string{"SECRET1", "SECRET2", "SECRET3"} {
		if strings.Contains(text, secret) {
			for _, line := range strings.Split(text, "\n") {
				if strings.Contains(line, secret) {
					t.Errorf("%s logged: %s", secret, line)
				}
			}
		}
	}
	if !strings.Contains(text, `tcUrl="rtmp://127.0.0.1:`+port+`/live?key=REDACTED"`) {
		t.Errorf("the masked tcUrl is not in the debug log:\n%s", text)
	}
}
