package api

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

// maskTestConfig mimics a composed server configuration.
type maskTestConfig struct {
	Log struct {
		Level string `yaml:"level"`
	} `yaml:"log"`
	API    Config `yaml:"api"`
	Access struct {
		Apps        map[string]maskTestApp `yaml:"apps"`
		OnPublish   string                 `yaml:"on_publish"`
		HookTimeout time.Duration          `yaml:"hook_timeout"`
	} `yaml:"access"`
	RTMP struct {
		Addr       string         `yaml:"addr"`
		Authorizer func() error   `yaml:"-"`
		Callback   func()         `yaml:"callback"`
		Bind       netip.Addr     `yaml:"bind"`
		Events     chan int       `yaml:"events"`
		Secret     *string        `yaml:"secret"`
		Password   string         `yaml:"password"`
		KeyFrames  int            `yaml:"keyframe_interval"`
		Extra      map[string]any `yaml:"extra"`
	} `yaml:"rtmp"`
	Embedded       `yaml:",inline"`
	JSONOnly       string `json:"apiKey"`
	Untagged       int
	unexported     string
	StreamKeyCount int `yaml:"stream_key"`
}

type maskTestApp struct {
	PublishKeys []string `yaml:"publish_keys"`
}

// Embedded is inlined into maskTestConfig.
type Embedded struct {
	Inline string `yaml:"inline_field"`
	Token  string `yaml:"token"`
}

func TestMaskSecrets(t *testing.T) {
	var cfg maskTestConfig
	cfg.Log.Level = "info"
	cfg.API.Token = "tok"
	cfg.Access.Apps = map[string]maskTestApp{"live": {PublishKeys: []string{"k1", "k2"}}, "open": {}}
	cfg.Access.OnPublish = "https://u:pw@hooks.example/pub?token=abc&app=x"
	cfg.Access.HookTimeout = 3 * time.Second
	cfg.RTMP.Addr = ":1935"
	cfg.RTMP.Authorizer = func() error { return nil }
	cfg.RTMP.Callback = func() {}
	cfg.RTMP.Bind = netip.MustParseAddr("127.0.0.1")
	s := "hidden"
	cfg.RTMP.Secret = &s
	cfg.RTMP.KeyFrames = 48
	cfg.RTMP.Extra = map[string]any{"nested": map[string]any{"client_secret": "cs", "plain": "p"}, "keys": []any{"a", 1}}
	cfg.Embedded = Embedded{Inline: "in", Token: "emb"}
	cfg.JSONOnly = "jk"
	cfg.Untagged = 7
	cfg.unexported = "u"
	cfg.StreamKeyCount = 5

	got := MaskSecrets(cfg)
	raw, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{`"tok"`, "k1", "k2", ":pw@", "abc", "hidden", `"cs"`, "emb", "jk"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("secret %s leaked: %s", secret, raw)
		}
	}
	want := map[string]any{
		"log": map[string]any{"level": "info"},
		"api": map[string]any{"token": Masked, "allowed_hosts": []any{}},
		"access": map[string]any{
			"apps": map[string]any{
				"live": map[string]any{"publish_keys": []any{Masked, Masked}},
				"open": map[string]any{"publish_keys": []any{}},
			},
			"on_publish":   "https://u:" + Masked + "@hooks.example/pub?app=x&token=" + Masked,
			"hook_timeout": "3s",
		},
		"rtmp": map[string]any{
			"addr": ":1935", "bind": "127.0.0.1", "secret": Masked, "password": "", "keyframe_interval": 48,
			"extra": map[string]any{
				"nested": map[string]any{"client_secret": Masked, "plain": "p"},
				"keys":   []any{Masked, Masked},
			},
		},
		"inline_field": "in",
		"token":        Masked,
		"apiKey":       Masked,
		"untagged":     7,
		"stream_key":   Masked,
	}
	if !reflect.DeepEqual(got, want) {
		gotJSON, _ := json.MarshalIndent(got, "", "  ")
		wantJSON, _ := json.MarshalIndent(want, "", "  ")
		t.Fatalf("got\n%s\nwant\n%s", gotJSON, wantJSON)
	}
}

func TestMaskSecretsEdgeCases(t *testing.T) {
	type node struct {
		Next *node `yaml:"next"`
	}
	loop := &node{}
	loop.Next = loop
	cases := []struct {
		name string
		in   any
		want any
	}{
		{"nil", nil, nil},
		{"string", "plain", "plain"},
		{"not a url", "a://", "a://"},
		{"url without secrets", "http://h/p?x=1", "http://h/p?x=1"},
		{"nil map", map[string]string(nil), map[string]any{}},
		{"int-keyed map", map[int]string{1: "a"}, map[string]any{"1": "a"}},
		{"secret number", map[string]int{"key": 3, "token": 0}, map[string]any{"key": Masked, "token": 0}},
		{"secret bytes", map[string][]byte{"secret": []byte("x")}, map[string]any{"secret": Masked}},
	}
	for _, tc := range cases {
		if got := MaskSecrets(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %#v, want %#v", tc.name, got, tc.want)
		}
	}
	// A pointer cycle ends at the depth cap instead of recursing forever.
	if _, err := json.Marshal(MaskSecrets(loop)); err != nil {
		t.Fatal(err)
	}
}

func TestIsSecretName(t *testing.T) {
	cases := map[string]bool{
		"token": true, "api_token": true, "Token": true, "secret": true, "client-secret": true,
		"password": true, "db.password": true, "key": true, "keys": true, "publish_keys": true,
		"stream_key": true, "apiKey": true, "APIKey": true, "api_key": true, "credentials": true,
		"keyframe_interval": false, "monkey": false, "tokenizer": false, "on_publish": false,
		"hook_timeout": false, "addr": false, "": false,
	}
	for name, want := range cases {
		if got := IsSecretName(name); got != want {
			t.Errorf("IsSecretName(%q) = %v, want %v", name, got, want)
		}
	}
}
