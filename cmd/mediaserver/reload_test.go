package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/testenv"
)

// TestSIGHUPReloadsPublishKeys pins the bug where the publish keys of the
// configuration file took effect only on a restart (and SIGHUP killed the
// process): after the file is edited and SIGHUP sent, the new key
// publishes, the removed key no longer does, and the stream published with
// the removed key goes on.
func TestSIGHUPReloadsPublishKeys(t *testing.T) {
	dir := t.TempDir()
	bin := testenv.BuildServer(t, ".")
	config := filepath.Join(dir, "mediaserver.yaml")
	writeKeys := func(keys string) {
		t.Helper()
		yaml := "access:\n  data_dir: " + filepath.Join(dir, "data") + "\n  apps:\n    live:\n      publish_keys: [" + keys + "]\n"
		if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeKeys("old")
	srv := testenv.StartServer(t, bin, nil, "-config", config, "-rtmp-addr", "127.0.0.1:0", "-http-addr", "127.0.0.1:0")
	rtmpAddr, httpAddr, logs := srv.RTMPAddr, srv.HTTPAddr, srv.Logs
	streams := func() string {
		resp, err := http.Get("http://" + httpAddr + "/api/v1/streams")
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	live := func(name string) bool { return strings.Contains(streams(), `"name":"`+name+`"`) }
	src := testenv.Source{FPS: 25, Width: 320, Height: 180}
	publish := func(name string) *testenv.Process {
		return testenv.Publish(t, "rtmp://"+rtmpAddr+"/live/"+name, src)
	}
	refused := func(name string) {
		t.Helper()
		if done, err := publish(name).Wait(20 * time.Second); !done || err == nil {
			t.Fatalf("publishing %q was not refused (exited %v, %v)", name, done, err)
		}
	}

	old := publish("old")
	testenv.WaitFor(t, 20*time.Second, "live/old to go live", func() bool { return live("old") })
	refused("new")

	writeKeys("new, spare")
	if err := srv.Cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 10*time.Second, "the keys to be reloaded", func() bool {
		return strings.Contains(logs.String(), "publish keys reloaded")
	})
	select {
	case <-srv.Exited():
		t.Fatalf("SIGHUP ended the server: %v", srv.ExitErr())
	default:
	}
	resp, err := http.Get("http://" + httpAddr + "/api/v1/server")
	if err != nil {
		t.Fatal(err)
	}
	server, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(server), `"publish_keys":["REDACTED","REDACTED"]`) { // the two keys, masked
		t.Errorf("the effective configuration does not show the reloaded keys:\n%s", server)
	}
	publish("new")
	testenv.WaitFor(t, 20*time.Second, "live/new to go live after the reload", func() bool { return live("new") })
	if !live("old") {
		t.Fatal("the reload dropped the stream published with the removed key")
	}
	select {
	case <-old.Done():
		t.Fatalf("the publisher of live/old was disconnected by the reload:\n%s", old.Output())
	default:
	}
	old.Kill()
	testenv.WaitFor(t, 10*time.Second, "live/old to end", func() bool { return !live("old") })
	refused("old")

	// A file that does not validate changes nothing.
	if err := os.WriteFile(config, []byte("access:\n  apps:\n    live:\n      publish_keys: [\"\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := srv.Cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 10*time.Second, "the bad file to be reported", func() bool {
		return strings.Contains(logs.String(), "configuration not reloaded")
	})
	if !live("new") {
		t.Fatal("a rejected reload dropped a stream")
	}
	refused("old")
}
