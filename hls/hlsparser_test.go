package hls

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mediaserver/mediaserver/internal/testenv"
)

// hlsParserReport is what testdata/hlsparse.mjs says of one playlist.
type hlsParserReport struct {
	File           string  `json:"file"`
	Error          string  `json:"error"`
	Master         bool    `json:"master"`
	Variants       int     `json:"variants"`
	Version        int     `json:"version"`
	MediaSequence  uint64  `json:"mediaSequence"`
	Segments       int     `json:"segments"`
	Parts          int     `json:"parts"`
	Hints          int     `json:"hints"`
	Skipped        int     `json:"skipped"`
	PartTarget     float64 `json:"partTarget"`
	CanBlockReload bool    `json:"canBlockReload"`
	Endlist        bool    `json:"endlist"`
}

// runHLSParser parses each playlist file with the npm package hls-parser
// in strict mode.
func runHLSParser(t *testing.T, files []string) map[string]hlsParserReport {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Dir(file)
	if _, err := os.Stat(filepath.Join(dir, "..", "node_modules", "hls-parser", "package.json")); err != nil {
		t.Fatalf("the npm package hls-parser is required (make test runs npm ci): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, testenv.Tool(t, "node"),
		append([]string{filepath.Join(dir, "testdata", "hlsparse.mjs")}, files...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node hlsparse.mjs: %v\n%s", err, stderr.String())
	}
	reports := map[string]hlsParserReport{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r hlsParserReport
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("hlsparse.mjs output %q: %v", sc.Text(), err)
		}
		reports[r.File] = r
	}
	if len(reports) != len(files) {
		t.Fatalf("hlsparse.mjs reported %d of %d playlists:\n%s", len(reports), len(files), out)
	}
	return reports
}

// TestPlaylistsParseStrictly has an independent strict parser (npm
// hls-parser) read every kind of playlist of every variant: plain,
// blocking (_HLS_msn, _HLS_part), delta (_HLS_skip=YES) and ended.
func TestPlaylistsParseStrictly(t *testing.T) {
	dir := t.TempDir()
	type fetched struct {
		variant Variant
		kind    string
		path    string
	}
	var all []fetched
	save := func(tm *testManager, v Variant, kind, query string) {
		resp, body := tm.get(t, http.MethodGet, "/live/cam.m3u8"+query)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s playlist: %d %s", v, kind, resp.StatusCode, body)
		}
		path := filepath.Join(dir, string(v)+"-"+kind+".m3u8")
		if err := os.WriteFile(path, body, 0o600); err != nil {
			t.Fatal(err)
		}
		all = append(all, fetched{v, kind, path})
	}
	for _, v := range []Variant{VariantLowLatency, VariantFMP4, VariantMPEGTS} {
		cfg := llConfig()
		cfg.Variant = v
		cfg.EndListDelay = -1
		tm := startManager(t, cfg)
		p := startSynthetic(t, tm)
		if v != VariantMPEGTS {
			p.init()
		}
		for i := range 12 {
			if i == 8 && v != VariantMPEGTS {
				p.init() // new codec configuration: a discontinuity with a new EXT-X-MAP
			}
			if i%3 != 0 || v != VariantLowLatency {
				p.fullSegment(5)
				continue
			}
			for range 4 {
				p.part(200 * time.Millisecond)
			}
			p.part(100 * time.Millisecond) // cut short by a keyframe
			p.segment()
		}
		p.part(200 * time.Millisecond)
		p.part(200 * time.Millisecond)
		save(tm, v, "plain", "?sig=abc")
		save(tm, v, "blocking-part", "?_HLS_msn=13&_HLS_part=1&sig=abc")
		save(tm, v, "blocking-segment", "?_HLS_msn=12")
		save(tm, v, "delta", "?_HLS_msn=13&_HLS_part=0&_HLS_skip=YES")
		save(tm, v, "delta-v2", "?_HLS_skip=v2")
		p.segment()
		p.st.mu.Lock()
		p.st.live = false
		p.st.endList = true
		p.st.rebuild(time.Now())
		p.st.mu.Unlock()
		save(tm, v, "ended", "")
	}
	files := make([]string, len(all))
	for i, f := range all {
		files[i] = f.path
	}
	reports := runHLSParser(t, files)
	for _, f := range all {
		r := reports[f.path]
		body, _ := os.ReadFile(f.path)
		if r.Error != "" {
			t.Errorf("%s %s: hls-parser: %s\n%s", f.variant, f.kind, r.Error, body)
			continue
		}
		ll := f.variant == VariantLowLatency
		switch {
		case r.Master || r.MediaSequence == 0 || r.Segments == 0:
			t.Errorf("%s %s: %+v", f.variant, f.kind, r)
		case ll && f.kind != "ended" && (r.Parts == 0 || r.Hints != 1 || !r.CanBlockReload || r.PartTarget != 0.2):
			t.Errorf("%s %s: no LL-HLS: %+v\n%s", f.variant, f.kind, r, body)
		case !ll && (r.Parts != 0 || r.Hints != 0 || r.Skipped != 0):
			t.Errorf("%s %s: LL-HLS tags: %+v\n%s", f.variant, f.kind, r, body)
		case ll && strings.HasPrefix(f.kind, "delta") && r.Skipped == 0:
			t.Errorf("%s %s: nothing skipped: %+v\n%s", f.variant, f.kind, r, body)
		case f.kind == "ended" && !r.Endlist:
			t.Errorf("%s ended: no EXT-X-ENDLIST\n%s", f.variant, body)
		}
	}
}
