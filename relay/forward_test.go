package relay_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/server"
	"github.com/mediaserver/mediaserver/internal/servertest"
	"github.com/mediaserver/mediaserver/internal/testenv"
	"github.com/mediaserver/mediaserver/relay"
)

// forwardServer starts a server whose app "live" is forwarded to target,
// retrying fast.
func forwardServer(t *testing.T, target string, edit func(*relay.ForwardConfig)) *server.Server {
	t.Helper()
	return servertest.Start(t, func(c *server.Config) {
		c.Forward.Apps = map[string][]string{"live": {target}}
		c.Forward.MinBackoff, c.Forward.MaxBackoff = 200*time.Millisecond, time.Second
		if edit != nil {
			edit(&c.Forward)
		}
	})
}

// checkForwardedFile checks that ffmpeg's copy of the forward holds H.264
// and AAC that decode without an error.
func checkForwardedFile(t *testing.T, out string) {
	t.Helper()
	probe, err := testenv.FFprobe(t, out, 30*time.Second)
	if err != nil {
		t.Fatalf("ffprobe %s: %v", filepath.Base(out), err)
	}
	if v := probe.Video(); v == nil || v.CodecName != "h264" {
		t.Errorf("video: %+v, want h264", v)
	}
	if a := probe.Audio(); a == nil || a.CodecName != "aac" {
		t.Errorf("audio: %+v, want aac", a)
	}
	decodeClean(t, out)
}

// TestForwardToFFmpegTarget: a stream of app live is forwarded, as the
// configuration says, to ffmpeg listening as an RTMP server, which
// receives H.264 and AAC that decode clean; the API shows the target live
// with bytes sent.
func TestForwardToFFmpegTarget(t *testing.T) {
	port := testenv.FreePort(t)
	out := filepath.Join(t.TempDir(), "out.flv")
	target := listenTarget(t, port, out)
	srv := forwardServer(t, fmt.Sprintf("rtmp://127.0.0.1:%d/app/{name}", port), nil)
	pub := testenv.Publish(t, "rtmp://"+srv.RTMPAddr()+"/live/cam", testenv.Source{Duration: 8 * time.Second})

	live := waitState(t, srv, "live", "cam", relay.StateLive, 30*time.Second)
	if live.Origin != relay.OriginConfig || live.URL != fmt.Sprintf("rtmp://127.0.0.1:%d/app/cam", port) {
		t.Errorf("target %+v: want origin config and its URL", live)
	}
	testenv.WaitFor(t, 30*time.Second, "bytes and a bitrate for the target", func() bool {
		fs := forwards(t, srv, "live", "cam")
		return len(fs) == 1 && fs[0].Bytes > 100<<10 && fs[0].Bitrate > 0
	})
	if exited, err := pub.Wait(60 * time.Second); !exited || err != nil {
		t.Fatalf("publisher: exited %v, %v", exited, err)
	}
	// The stream ended: the forward ends its publish and ffmpeg its file.
	if exited, err := target.Wait(30 * time.Second); !exited || err != nil {
		t.Fatalf("target ffmpeg: exited %v, %v", exited, err)
	}
	checkForwardedFile(t, out)
}

// TestForwardToFFmpegRTMPSTarget: an rtmps:// target with a test
// certificate, trusted through forward.ca_file, receives the stream: TLS
// ends in front of ffmpeg's RTMP listener (ffmpeg 5.1 cannot listen on
// rtmps itself).
func TestForwardToFFmpegRTMPSTarget(t *testing.T) {
	dir := t.TempDir()
	c := testenv.NewCertificate(t, "127.0.0.1")
	cert, key := c.CertFile, c.KeyFile
	port := testenv.FreePort(t)
	out := filepath.Join(dir, "out.flv")
	target := listenTarget(t, port, out)
	front := tlsFront(t, cert, key, port)
	srv := forwardServer(t, fmt.Sprintf("rtmps://127.0.0.1:%d/app/key", front), func(c *relay.ForwardConfig) {
		c.CAFile = cert
	})
	pub := testenv.Publish(t, "rtmp://"+srv.RTMPAddr()+"/live/cam", testenv.Source{Duration: 6 * time.Second})
	waitState(t, srv, "live", "cam", relay.StateLive, 30*time.Second)
	if exited, err := pub.Wait(60 * time.Second); !exited || err != nil {
		t.Fatalf("publisher: exited %v, %v", exited, err)
	}
	if exited, err := target.Wait(30 * time.Second); !exited || err != nil {
		t.Fatalf("target ffmpeg: exited %v, %v", exited, err)
	}
	checkForwardedFile(t, out)
}

// TestForwardReconnectsAfterTargetRestart: the target is killed mid-stream
// and started again; the API shows the forward retrying, then live
// again, with the failure counted, and the new target's file decodes.
func TestForwardReconnectsAfterTargetRestart(t *testing.T) {
	testenv.CheckGoroutines(t)
	port := testenv.FreePort(t)
	dir := t.TempDir()
	first := listenTarget(t, port, filepath.Join(dir, "first.flv"))
	srv := forwardServer(t, fmt.Sprintf("rtmp://127.0.0.1:%d/app/key", port), func(c *relay.ForwardConfig) {
		// Long enough to see the state, short enough for the test.
		c.MinBackoff, c.MaxBackoff = 2*time.Second, 4*time.Second
	})
	pub := testenv.Publish(t, "rtmp://"+srv.RTMPAddr()+"/live/cam", testenv.Source{Duration: 60 * time.Second})
	waitState(t, srv, "live", "cam", relay.StateLive, 30*time.Second)

	first.Kill()
	failed := waitState(t, srv, "live", "cam", relay.StateRetrying, 30*time.Second)
	if failed.Retries == 0 || failed.LastError == "" {
		t.Errorf("retrying target %+v: want a retry counted and its error", failed)
	}
	out := filepath.Join(dir, "second.flv")
	second := listenTarget(t, port, out)
	waitState(t, srv, "live", "cam", relay.StateLive, 60*time.Second)
	testenv.WaitFor(t, 30*time.Second, "media at the second target", func() bool {
		fs := forwards(t, srv, "live", "cam")
		return len(fs) == 1 && fs[0].Bytes > failed.Bytes+200<<10
	})
	pub.Kill()
	if exited, _ := second.Wait(30 * time.Second); !exited {
		t.Fatal("the second target did not end with the stream")
	}
	checkForwardedFile(t, out)
}

// TestForwardAPI: targets are added, listed and removed through the API,
// which checks what it is given.
func TestForwardAPI(t *testing.T) {
	testenv.CheckGoroutines(t)
	srv := servertest.Start(t, func(c *server.Config) {
		c.Forward.MaxTargets = 2
		c.Forward.MinBackoff, c.Forward.MaxBackoff = time.Second, 2*time.Second
	})
	if status, _ := apiCall(t, srv, http.MethodPost, "/streams/live/cam/forwards", `{"url":"rtmp://127.0.0.1:1/app/key"}`); status != http.StatusNotFound {
		t.Errorf("POST to a stream not live: %d, want 404", status)
	}
	testenv.Publish(t, "rtmp://"+srv.RTMPAddr()+"/live/cam", testenv.Source{Duration: 60 * time.Second})
	testenv.WaitFor(t, 30*time.Second, "the stream to go live", func() bool {
		status, _ := apiCall(t, srv, http.MethodGet, "/streams/live/cam/forwards", "")
		return status == http.StatusOK
	})
	if fs := forwards(t, srv, "live", "cam"); len(fs) != 0 {
		t.Errorf("targets before any was added: %+v", fs)
	}
	for _, bad := range []string{`{"url":"http://127.0.0.1/app/key"}`, `{"url":"rtmp://127.0.0.1/app"}`, `{"url":"rtmp:///app/key"}`,
		`{"url":""}`, `{"target":"rtmp://127.0.0.1/app/key"}`, `not json`} {
		if status, body := apiCall(t, srv, http.MethodPost, "/streams/live/cam/forwards", bad); status != http.StatusBadRequest {
			t.Errorf("POST %s: %d %s, want 400", bad, status, body)
		}
	}
	// Port 1 refuses: the target retries, and says why.
	status, body := apiCall(t, srv, http.MethodPost, "/streams/live/cam/forwards", `{"url":"rtmp://127.0.0.1:1/app/SECRETKEY"}`)
	if status != http.StatusCreated {
		t.Fatalf("POST: %d %s, want 201", status, body)
	}
	failed := waitState(t, srv, "live", "cam", relay.StateRetrying, 30*time.Second)
	if failed.Origin != relay.OriginAPI || failed.LastError == "" || failed.URL != "rtmp://127.0.0.1:1/app/SECR…" {
		t.Errorf("target %+v: want origin api, an error and the key shortened", failed)
	}
	if status, body := apiCall(t, srv, http.MethodPost, "/streams/live/cam/forwards", `{"url":"rtmps://127.0.0.1:1/app/k2"}`); status != http.StatusCreated {
		t.Fatalf("second POST: %d %s, want 201", status, body)
	}
	if status, _ := apiCall(t, srv, http.MethodPost, "/streams/live/cam/forwards", `{"url":"rtmp://127.0.0.1:1/app/k3"}`); status != http.StatusConflict {
		t.Errorf("POST past forward.max_targets: %d, want 409", status)
	}
	if status, _ := apiCall(t, srv, http.MethodDelete, "/streams/live/cam/forwards/fwd-999", ""); status != http.StatusNotFound {
		t.Errorf("DELETE of an unknown id: %d, want 404", status)
	}
	if status, _ := apiCall(t, srv, http.MethodDelete, "/streams/live/cam/forwards/bad%20id", ""); status != http.StatusBadRequest {
		t.Errorf("DELETE of a malformed id: %d, want 400", status)
	}
	if status, _ := apiCall(t, srv, http.MethodDelete, "/streams/live/cam/forwards/"+failed.ID, ""); status != http.StatusNoContent {
		t.Errorf("DELETE %s: %d, want 204", failed.ID, status)
	}
	if fs := forwards(t, srv, "live", "cam"); len(fs) != 1 || fs[0].ID == failed.ID {
		t.Errorf("targets after DELETE: %+v", fs)
	}
}

// TestForwardRefusalHidesTheStreamKey: a target that refuses the publish
// quotes the stream name, a platform's stream key; the API and the log
// show it shortened.
func TestForwardRefusalHidesTheStreamKey(t *testing.T) {
	const streamKey = "secretkey123"
	target := servertest.Start(t, nil)
	testenv.Publish(t, "rtmp://"+target.RTMPAddr()+"/app/"+streamKey, testenv.Source{Duration: 60 * time.Second})
	testenv.WaitFor(t, 30*time.Second, "the target's stream to be taken", func() bool {
		return len(target.Hub().Streams()) == 1
	})
	logs := &testenv.LogBuffer{}
	srv := servertest.StartWithLogger(t, func(c *server.Config) {
		c.Forward.Apps = map[string][]string{"live": {"rtmp://" + target.RTMPAddr() + "/app/" + streamKey}}
	}, logs.Logger(slog.LevelInfo))
	testenv.Publish(t, "rtmp://"+srv.RTMPAddr()+"/live/cam", testenv.Source{Duration: 60 * time.Second})
	refused := waitState(t, srv, "live", "cam", relay.StateRetrying, 30*time.Second)
	if !strings.Contains(refused.LastError, "NetStream.Publish.BadName") || strings.Contains(refused.LastError, streamKey) ||
		!strings.Contains(refused.LastError, "secr…") {
		t.Errorf("last error %q: want the refusal with the key shortened", refused.LastError)
	}
	if strings.Contains(logs.String(), streamKey) {
		t.Errorf("the log shows the stream key:\n%s", logs.String())
	}
}
