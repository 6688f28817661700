package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/relay"
)

// TestLoadConfigReadsRelaySettings: the relay settings in the form the
// README documents are read from the file, and the environment sets the
// scalar ones.
func TestLoadConfigReadsRelaySettings(t *testing.T) {
	file := filepath.Join(t.TempDir(), "mediaserver.yaml")
	yaml := `relay:
  sources: {"live/cam1": {url: "rtmp://10.0.0.5/live/cam1", on_demand: true}, "live/lobby": {url: "http://gw:8080/lobby.flv"}}
  apps: {edge: "http://origin:8080/live/{name}.flv"}
  idle_timeout: 10s
`
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig([]string{"-config", file}, []string{"MEDIASERVER_RELAY_IDLE_TIMEOUT=30s"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.Relay
	if got.Sources["live/cam1"] != (relay.PullSource{URL: "rtmp://10.0.0.5/live/cam1", OnDemand: true}) ||
		got.Sources["live/lobby"] != (relay.PullSource{URL: "http://gw:8080/lobby.flv"}) ||
		got.Apps["edge"] != "http://origin:8080/live/{name}.flv" || got.IdleTimeout != 30*time.Second {
		t.Fatalf("relay settings %+v", got)
	}
	if err := cfg.WithDefaults().Validate(); err != nil {
		t.Fatalf("the documented relay settings do not validate: %v", err)
	}
}
