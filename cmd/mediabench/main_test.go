package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	cfg, opts, err := parseFlags([]string{
		"-viewers", "500", "-proto", "ws", "-duration", "60s", "-ramp", "0", "-publishers", "3",
		"-server-cmd", "bin/mediaserver -rtmp-addr 127.0.0.1:19350", "-gen-size", "640x360", "-json", "-markdown",
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Viewers != 500 || cfg.Proto != protoWS || cfg.Duration != time.Minute || cfg.Ramp >= 0 || cfg.Publishers != 3 {
		t.Errorf("config %+v", cfg)
	}
	if len(cfg.ServerCmd) != 3 || cfg.ServerCmd[0] != "bin/mediaserver" {
		t.Errorf("server cmd %q", cfg.ServerCmd)
	}
	if cfg.Generate.Width != 640 || cfg.Generate.Height != 360 || !opts.json || !opts.markdown {
		t.Errorf("generate %+v opts %+v", cfg.Generate, opts)
	}
	if !strings.Contains(cfg.Command, "'bin/mediaserver -rtmp-addr 127.0.0.1:19350'") {
		t.Errorf("command %q", cfg.Command)
	}
	if cfg, _, err := parseFlags([]string{"-gop", "1s", "-gen-fps", "25"}, io.Discard); err != nil || cfg.Generate.KeyInt != 25 {
		t.Errorf("-gop 1s at 25 fps: keyframe interval %d frames, %v", cfg.Generate.KeyInt, err)
	}
	if cfg, _, err := parseFlags([]string{"-viewers", "0"}, io.Discard); err != nil || cfg.withDefaults().Viewers != 0 {
		t.Errorf("-viewers 0: %d %v", cfg.withDefaults().Viewers, err)
	}
}

func TestParseFlagsErrors(t *testing.T) {
	cases := map[string][]string{
		"proto":            {"-proto", "dash"},
		"publisher":        {"-publisher", "obs"},
		"go run":           {"-server-cmd", "go run ./cmd/mediaserver"},
		"pid and cmd":      {"-server-pid", "1", "-server-cmd", "bin/mediaserver"},
		"gen size":         {"-gen-size", "big"},
		"gop":              {"-gop", "0s"},
		"stray":            {"extra"},
		"rtmp url":         {"-rtmp", "http://x/live"},
		"rtmp without app": {"-rtmp", "rtmp://127.0.0.1:1935"},
		"http url":         {"-http", "ftp://x"},
		"stream name":      {"-stream", "a b"},
		"short run":        {"-duration", "100ms"},
		"publishers":       {"-publishers", "-1"},
		"unknown flag":     {"-nope"},
	}
	for name, args := range cases {
		if _, _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, _, err := parseFlags([]string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
}

func TestRunUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"-proto", "dash"}, &out, &errOut); code != 2 {
		t.Errorf("bad flag: exit %d", code)
	}
	if code := run([]string{"-log-level", "loud"}, &out, &errOut); code != 2 {
		t.Errorf("bad log level: exit %d", code)
	}
}

func TestViewerURL(t *testing.T) {
	cases := []struct {
		proto, base, want string
	}{
		{protoFLV, "http://h:8080", "http://h:8080/live/s.flv"},
		{protoWS, "http://h:8080", "ws://h:8080/live/s.flv"},
		{protoWS, "https://h", "wss://h/live/s.flv"},
		{protoHLS, "http://h:8080/", "http://h:8080/live/s.m3u8"},
		{protoRTMP, "http://h:8080", "rtmp://r:1935/live/s"},
	}
	for _, tc := range cases {
		cfg := Config{Proto: tc.proto, HTTPURL: tc.base, RTMPURL: "rtmp://r:1935/live/"}.withDefaults()
		if got := cfg.viewerURL("live", "s"); got != tc.want {
			t.Errorf("%s %s: %s, want %s", tc.proto, tc.base, got, tc.want)
		}
	}
}

func TestStreamNames(t *testing.T) {
	one := Config{Stream: "cam"}.withDefaults()
	many := Config{Stream: "cam", Publishers: 3}.withDefaults()
	if one.streamName(0) != "cam" || many.streamName(2) != "cam-2" {
		t.Errorf("%s %s", one.streamName(0), many.streamName(2))
	}
}

func TestHostPort(t *testing.T) {
	cases := map[string]string{
		"rtmp://127.0.0.1/live":       "127.0.0.1:1935",
		"rtmp://127.0.0.1:19350/live": "127.0.0.1:19350",
		"http://localhost":            "localhost:80",
		"https://[::1]/x":             "[::1]:443",
	}
	for in, want := range cases {
		if got, err := hostPort(in); err != nil || got != want {
			t.Errorf("%s: %s %v, want %s", in, got, err, want)
		}
	}
	if _, err := hostPort("ftp://x"); err == nil {
		t.Error("ftp has a port")
	}
}

func TestCommandLine(t *testing.T) {
	got := commandLine([]string{"-viewers", "5", "-server-cmd", "a b", "-stream", "it's", ""})
	want := `mediabench -viewers 5 -server-cmd 'a b' -stream 'it'\''s' ''`
	if got != want {
		t.Errorf("%s\nwant %s", got, want)
	}
}

func TestResultFailure(t *testing.T) {
	cases := []struct {
		name string
		res  Result
		fail bool
	}{
		{"fine", Result{Viewers: 2, Connected: 2}, false},
		{"slow is not a failure", Result{Viewers: 2, Connected: 1, Stalled: 1, GapViewers: 1}, false},
		{"publisher only", Result{}, false},
		{"nobody connected", Result{Viewers: 2}, true},
		{"publisher failed", Result{Viewers: 2, Connected: 2, PublisherRes: []publisherResult{{Err: "broken pipe"}}}, true},
		{"server died", Result{Viewers: 2, Connected: 2, ServerDied: true}, true},
	}
	for _, tc := range cases {
		if err := tc.res.failure(); (err != nil) != tc.fail {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
