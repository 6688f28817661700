package main

import (
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/hls"
	"github.com/mediaserver/mediaserver/internal/server"
	"github.com/mediaserver/mediaserver/rtmp"
)

func TestLoadConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "mediaserver.yaml")
	yaml := "rtmp:\n  addr: \":2935\"\n  idle_timeout: 45s\nhttp:\n  addr: \":9090\"\nlog:\n  level: debug\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		args     []string
		env      []string
		wantRTMP string
		wantHTTP string
		wantIdle time.Duration
		wantLvl  string
	}{
		{"defaults", nil, nil, ":1935", ":8080", rtmp.DefaultIdleTimeout, "info"},
		{"file", []string{"-config", file}, nil, ":2935", ":9090", 45 * time.Second, "debug"},
		{"file from env", nil, []string{"MEDIASERVER_CONFIG=" + file}, ":2935", ":9090", 45 * time.Second, "debug"},
		{"env over file", []string{"-config", file},
			[]string{"MEDIASERVER_RTMP_ADDR=:3935", "MEDIASERVER_RTMP_IDLE_TIMEOUT=1m"}, ":3935", ":9090", time.Minute, "debug"},
		{"flags over env", []string{"-config", file, "-rtmp-addr", ":4935", "-http-addr", ":7070", "-log-level", "warn"},
			[]string{"MEDIASERVER_RTMP_ADDR=:3935", "MEDIASERVER_HTTP_ADDR=:6060"}, ":4935", ":7070", 45 * time.Second, "warn"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := loadConfig(tc.args, tc.env, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.RTMP.Addr != tc.wantRTMP || cfg.HTTP.Addr != tc.wantHTTP || cfg.RTMP.IdleTimeout != tc.wantIdle || cfg.Log.Level != tc.wantLvl {
				t.Errorf("got rtmp %q http %q idle %v level %q", cfg.RTMP.Addr, cfg.HTTP.Addr, cfg.RTMP.IdleTimeout, cfg.Log.Level)
			}
		})
	}
}

func TestLoadConfigErrors(t *testing.T) {
	dir := t.TempDir()
	unknown := filepath.Join(dir, "unknown.yaml")
	if err := os.WriteFile(unknown, []byte("rtmp:\n  adress: \":1\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		env  []string
	}{
		{"missing file", []string{"-config", filepath.Join(dir, "nope.yaml")}, nil},
		{"unknown key in file", []string{"-config", unknown}, nil},
		{"bad duration in env", nil, []string{"MEDIASERVER_RTMP_IDLE_TIMEOUT=soon"}},
		{"bad number in env", nil, []string{"MEDIASERVER_RTMP_CHUNK_SIZE=big"}},
		{"unknown flag", []string{"-nope"}, nil},
		{"stray argument", []string{"extra"}, nil},
	}
	for _, tc := range cases {
		if _, err := loadConfig(tc.args, tc.env, io.Discard); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestNewLogger(t *testing.T) {
	for _, cfg := range []server.LogConfig{{Level: "debug", Format: "text"}, {Level: "error", Format: "json"}} {
		if _, err := newLogger(cfg, io.Discard); err != nil {
			t.Errorf("%+v: %v", cfg, err)
		}
	}
	for _, cfg := range []server.LogConfig{{Level: "loud", Format: "text"}, {Level: "info", Format: "xml"}} {
		if _, err := newLogger(cfg, io.Discard); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
}

// TestREADMEDocumentsEveryKey keeps the configuration table honest: every
// key the server reads must be in README.md.
func TestREADMEDocumentsEveryKey(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	var walk func(reflect.Type, string)
	walk = func(typ reflect.Type, prefix string) {
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if key == "-" || !f.IsExported() {
				continue
			}
			if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(time.Duration(0)) {
				walk(f.Type, prefix+key+".")
				continue
			}
			keys = append(keys, prefix+key)
		}
	}
	walk(reflect.TypeOf(server.Config{}), "")
	if len(keys) < 40 {
		t.Fatalf("found only %d keys: %v", len(keys), keys)
	}
	for _, k := range keys {
		if !strings.Contains(string(readme), "`"+k+"`") {
			t.Errorf("README.md does not document %s", k)
		}
	}
}

// TestLoadConfigDerivesDefaultsFromWhatWasSet: a default that follows
// another setting is filled in after every source was read, so it follows
// the value set rather than the built-in one.
func TestLoadConfigDerivesDefaultsFromWhatWasSet(t *testing.T) {
	file := filepath.Join(t.TempDir(), "mediaserver.yaml")
	yaml := "hls:\n  playlist_length: 10\n  segment_duration: 20s\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig([]string{"-config", file}, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HLS.RetainAfterWindow != hls.DefaultRetainAfterWindow || cfg.HLS.MaxSegmentDuration != 40*time.Second {
		t.Fatalf("retain_after_window %d, max_segment_duration %v; want %d (whatever the playlist length) and 40s (from the segment duration set)",
			cfg.HLS.RetainAfterWindow, cfg.HLS.MaxSegmentDuration, hls.DefaultRetainAfterWindow)
	}
}
