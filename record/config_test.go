package record

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConfigDefaultsAndValidation(t *testing.T) {
	d := Config{}.WithDefaults()
	if d.Dir != DefaultDir || d.Format != FormatFMP4 || d.Template != DefaultTemplate || d.FragmentDuration != time.Second ||
		d.MinFreeDisk != DefaultMinFreeDisk || d.HookTimeout != DefaultHookTimeout || d.HookWorkers != DefaultHookWorkers {
		t.Errorf("defaults: %+v", d)
	}
	if d.WithDefaults().Dir != d.Dir {
		t.Error("WithDefaults is not idempotent")
	}
	if err := d.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(*Config)
		want string // in the error; "" for valid
	}{
		{"issue example", func(c *Config) {
			c.Apps = map[string]Rule{"live": {Format: FormatFMP4, SegmentDuration: 10 * time.Minute}}
		}, ""},
		{"stream entry", func(c *Config) { c.Streams = map[string]Rule{"live/cam1": {Format: FormatFLV, MaxSize: 1 << 30}} }, ""},
		{"unknown format", func(c *Config) { c.Format = "mkv" }, `format: "mkv"`},
		{"unknown app format", func(c *Config) { c.Apps = map[string]Rule{"live": {Format: "ts"}} }, "apps.live.format"},
		{"bad app name", func(c *Config) { c.Apps = map[string]Rule{"../x": {}} }, `"../x" is not an app name`},
		{"stream key without name", func(c *Config) { c.Streams = map[string]Rule{"live": {}} }, "not app/name"},
		{"tiny segment", func(c *Config) { c.SegmentDuration = time.Millisecond }, "segment_duration"},
		{"tiny size", func(c *Config) { c.Apps = map[string]Rule{"live": {MaxSize: 10}} }, "apps.live.max_size"},
		{"template without start", func(c *Config) { c.Template = "{app}-{name}" }, "lacks {start}"},
		{"template with a path", func(c *Config) { c.Template = "{app}/{name}-{start}" }, `character '/'`},
		{"template starting with a dot", func(c *Config) { c.Template = ".{start}" }, "starts with a dot"},
		{"hook not http", func(c *Config) { c.OnRecordDone = "ftp://x/y" }, "on_record_done"},
	} {
		cfg := Config{}
		c.edit(&cfg)
		err := cfg.WithDefaults().Validate()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want one naming %q", c.name, err, c.want)
		}
	}
}

func TestRulesOverrideTheDefaults(t *testing.T) {
	cfg := Config{
		Format: FormatFLV, SegmentDuration: time.Hour, MaxSize: 1 << 30,
		Apps:    map[string]Rule{"live": {Format: FormatFMP4, SegmentDuration: 10 * time.Minute}},
		Streams: map[string]Rule{"live/cam1": {MaxSize: 1 << 20}, "other/x": {}},
	}.WithDefaults()
	for _, c := range []struct {
		app, name string
		want      settings
		ok        bool
	}{
		{"live", "cam2", settings{FormatFMP4, 10 * time.Minute, 1 << 30}, true},
		{"live", "cam1", settings{FormatFLV, time.Hour, 1 << 20}, true},
		{"other", "x", settings{FormatFLV, time.Hour, 1 << 30}, true},
		{"other", "y", settings{FormatFLV, time.Hour, 1 << 30}, false},
	} {
		got, ok := cfg.rule(c.app, c.name)
		if got != c.want || ok != c.ok {
			t.Errorf("%s/%s: %+v %v, want %+v %v", c.app, c.name, got, ok, c.want, c.ok)
		}
	}
}

// TestDeleteStaysInTheDirectory: ids that are not a plain file name of the
// recordings directory are refused, and nothing outside it is touched.
func TestDeleteStaysInTheDirectory(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "recordings")
	outside := filepath.Join(parent, "outside.mp4")
	if err := os.WriteFile(outside, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := NewManager(Config{Dir: dir}, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := os.Symlink(outside, filepath.Join(dir, "link.mp4")); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"../outside.mp4", "..", "", "/etc/passwd", "a/b.mp4", ".hidden.mp4", "notes.txt"} {
		if err := m.Delete(id); !errors.Is(err, ErrInvalidID) {
			t.Errorf("Delete(%q): %v, want ErrInvalidID", id, err)
		}
	}
	if err := m.Delete("missing.mp4"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Delete of a missing file: %v", err)
	}
	if err := m.Delete("link.mp4"); err != nil { // the link goes, not what it points to
		t.Errorf("Delete of a symbolic link: %v", err)
	}
	if b, err := os.ReadFile(outside); err != nil || string(b) != "keep" {
		t.Errorf("the file outside the directory: %q, %v", b, err)
	}
}
