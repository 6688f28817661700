package layering

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/mediaserver/mediaserver/"

// moduleImports returns, for every package of the module, the packages of
// the module it imports (test files excluded), with the module prefix cut.
func moduleImports(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := map[string][]string{}
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		pkg := strings.TrimPrefix(fields[0], module)
		deps[pkg] = nil
		for _, imp := range fields[1:] {
			if rest, ok := strings.CutPrefix(imp, module); ok {
				deps[pkg] = append(deps[pkg], rest)
			}
		}
	}
	return deps
}

// TestLayering checks the facts the design relies on: the parsers and the
// hub import only what sits below them, api only what it declares, and
// nothing but the binary and the test harness imports the composition root.
func TestLayering(t *testing.T) {
	deps := moduleImports(t)
	for _, pkg := range []string{"amf", "flv", "stream", "api", "rtmp", "httpflv", "hls", "internal/server"} {
		if _, ok := deps[pkg]; !ok {
			t.Fatalf("package %s not listed by go list", pkg)
		}
	}
	only := map[string][]string{
		"amf":                {},
		"fmp4":               {},
		"rtmp/chunk":         {},
		"rtmp/handshake":     {},
		"flv":                {"amf"},
		"stream":             {"flv", "amf"},
		"internal/conns":     {"stream", "flv", "amf"},
		"api":                {},
		"internal/flvmp4":    {"stream", "flv", "fmp4", "amf"},
		"internal/workqueue": {},
		"record":             {"stream", "flv", "fmp4", "internal/flvmp4", "internal/workqueue", "amf"},
		"cluster":            {"stream", "flv", "amf", "relay", "rtmp", "rtmp/chunk", "rtmp/handshake", "fmp4"},
		"relay":              {"rtmp", "rtmp/chunk", "rtmp/handshake", "stream", "flv", "fmp4", "amf"},
	}
	for pkg, allowed := range only {
		for _, imp := range deps[pkg] {
			if !slices.Contains(allowed, imp) {
				t.Errorf("%s imports %s; it may import only %v of this module", pkg, imp, allowed)
			}
		}
	}
	// Outputs sit side by side: none imports another, nor the API.
	outputs := []string{"rtmp", "httpflv", "hls"}
	for _, pkg := range outputs {
		for _, imp := range deps[pkg] {
			if imp != pkg && (slices.Contains(outputs, imp) || imp == "api" || strings.HasPrefix(imp, "internal/apisource")) {
				t.Errorf("%s imports %s: outputs and the API are independent of each other", pkg, imp)
			}
		}
	}
	composers := []string{"cmd/mediaserver", "internal/servertest"}
	for pkg, imps := range deps {
		if slices.Contains(imps, "internal/server") && !slices.Contains(composers, pkg) {
			t.Errorf("%s imports internal/server; only %v may", pkg, composers)
		}
	}
}
