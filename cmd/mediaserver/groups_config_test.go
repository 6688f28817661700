package main

import (
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestLoadConfigReadsHLSGroups: hls.groups is read from the YAML file as
// the README shows it and validates; a group that cannot be used is
// refused.
func TestLoadConfigReadsHLSGroups(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		yaml  string
		want  map[string][]string
		valid bool
	}{
		{"hls:\n  groups: {\"live/show\": [live/show_1080, live/show_720, live/show_480]}\n",
			map[string][]string{"live/show": {"live/show_1080", "live/show_720", "live/show_480"}}, true},
		{"hls:\n  groups: {\"show\": [live/a]}\n", map[string][]string{"show": {"live/a"}}, false},
	} {
		file := filepath.Join(dir, "mediaserver.yaml")
		if err := os.WriteFile(file, []byte(c.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := loadConfig([]string{"-config", file}, nil, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(cfg.HLS.Groups, c.want) {
			t.Errorf("%q: hls.groups %v, want %v", c.yaml, cfg.HLS.Groups, c.want)
		}
		err = cfg.WithDefaults().Validate()
		if c.valid && err != nil || !c.valid && (err == nil || !strings.Contains(err.Error(), "groups")) {
			t.Errorf("%q: validation %v, want valid %v", c.yaml, err, c.valid)
		}
	}
}
