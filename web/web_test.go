package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// newHandler builds the handler or fails the test.
func newHandler(t testing.TB) *Handler {
	t.Helper()
	h, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// get serves one request and returns the response.
func get(h http.Handler, method, target string, header map[string]string) *http.Response {
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

// body reads a response body.
func body(t testing.TB, resp *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestIndexReferencesVersionedFiles(t *testing.T) {
	h := newHandler(t)
	resp := get(h, http.MethodGet, "/", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /: %d", resp.StatusCode)
	}
	for k, want := range map[string]string{
		"Content-Type":           "text/html; charset=utf-8",
		"Cache-Control":          cacheRevalidate,
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options":        "DENY",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	page := string(body(t, resp))
	if strings.Contains(page, "{{") {
		t.Error("index.html has an unresolved {{asset}} reference")
	}
	refs := regexp.MustCompile(`(?:src|href|data-[a-z-]+)="(/ui/[^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(refs) < 5 {
		t.Fatalf("index.html refers to %d files, want the icon, style sheet, entry module and both players", len(refs))
	}
	for _, ref := range refs {
		u := ref[1]
		if !strings.Contains(u, "?v=") {
			t.Errorf("%s is not versioned", u)
		}
		resp := get(h, http.MethodGet, u, nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", u, resp.StatusCode)
			continue
		}
		if got := resp.Header.Get("Cache-Control"); got != cacheImmutable {
			t.Errorf("GET %s: Cache-Control %q, want %q", u, got, cacheImmutable)
		}
	}
	for _, want := range []string{h.URL("vendor/hls.js/hls.min.js"), h.URL("vendor/mpegts.js/mpegts.js"), h.URL("js/main.js")} {
		if want == "" || !strings.Contains(page, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
}

func TestContentTypes(t *testing.T) {
	h := newHandler(t)
	want := map[string]string{
		"app.css":                                "text/css; charset=utf-8",
		"favicon.svg":                            "image/svg+xml",
		"js/main.js":                             "text/javascript; charset=utf-8",
		"js/health.js":                           "text/javascript; charset=utf-8",
		"vendor/hls.js/hls.min.js":               "text/javascript; charset=utf-8",
		"vendor/hls.js/LICENSE.txt":              "text/plain; charset=utf-8",
		"vendor/mpegts.js/mpegts.js":             "text/javascript; charset=utf-8",
		"vendor/mpegts.js/LICENSE.txt":           "text/plain; charset=utf-8",
		"vendor/mpegts.js/mpegts.js.LICENSE.txt": "text/plain; charset=utf-8",
	}
	for name, ctype := range want {
		resp := get(h, http.MethodGet, AssetPrefix+name, nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: status %d", name, resp.StatusCode)
			continue
		}
		if got := resp.Header.Get("Content-Type"); got != ctype {
			t.Errorf("%s: Content-Type %q, want %q", name, got, ctype)
		}
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q", name, got)
		}
	}
	// Every embedded file is served, each with a type from the table.
	root, err := fs.Sub(files, "static")
	if err != nil {
		t.Fatal(err)
	}
	err = fs.WalkDir(root, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if _, ok := h.assets[name]; !ok && name != indexFile {
			t.Errorf("%s is embedded but not served", name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestNotFound(t *testing.T) {
	h := newHandler(t)
	for _, p := range []string{
		"/nope", "/index.html", "/ui", "/ui/", "/ui/js", "/ui/js/", "/ui/vendor/", "/ui/vendor/hls.js/",
		"/ui/missing.js", "/ui/js/../app.css", "/ui//app.css", "/ui/./app.css", "/static/app.css",
		"/app.css", "/ui/app.css/", "/ui/APP.CSS", "/favicon.ico", "/ui/index.html",
	} {
		resp := get(h, http.MethodGet, "http://example.com"+p, nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
		}
		if b := string(body(t, resp)); strings.Contains(b, "<a href") || strings.Contains(b, "app.css") {
			t.Errorf("GET %s: answer looks like a listing: %q", p, b)
		}
	}
}

func TestCachePolicy(t *testing.T) {
	h := newHandler(t)
	version := h.assets["app.css"].version
	cases := []struct {
		target, want string
	}{
		{"/ui/app.css", cacheRevalidate},
		{"/ui/app.css?v=" + version, cacheImmutable},
		{"/ui/app.css?v=000000000000", cacheRevalidate},
		{"/ui/js/api.js", cacheRevalidate},
		{"/", cacheRevalidate},
		{"/?v=" + version, cacheRevalidate},
	}
	for _, tc := range cases {
		resp := get(h, http.MethodGet, tc.target, nil)
		if got := resp.Header.Get("Cache-Control"); got != tc.want {
			t.Errorf("%s: Cache-Control %q, want %q", tc.target, got, tc.want)
		}
		if resp.Header.Get("ETag") == "" {
			t.Errorf("%s: no ETag", tc.target)
		}
	}
}

func TestConditionalAndCompressed(t *testing.T) {
	h := newHandler(t)
	const target = "/ui/vendor/hls.js/hls.min.js"
	original := get(h, http.MethodGet, target, nil)
	plain := body(t, original)
	plainTag := original.Header.Get("ETag")
	if original.Header.Get("Content-Encoding") != "" {
		t.Fatal("compressed without Accept-Encoding")
	}
	if !strings.Contains(original.Header.Get("Vary"), "Accept-Encoding") {
		t.Error("no Vary: Accept-Encoding on a file with a compressed form")
	}

	zipped := get(h, http.MethodGet, target, map[string]string{"Accept-Encoding": "br, gzip"})
	if zipped.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip", zipped.Header.Get("Content-Encoding"))
	}
	zipTag := zipped.Header.Get("ETag")
	if zipTag == plainTag {
		t.Error("gzip and identity forms share an ETag")
	}
	zr, err := gzip.NewReader(bytes.NewReader(body(t, zipped)))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(unzipped, plain) {
		t.Error("gzip form does not decompress to the file")
	}

	for _, tc := range []struct {
		name, inm, ae string
		want          int
	}{
		{"identity match", plainTag, "", http.StatusNotModified},
		{"gzip match", zipTag, "gzip", http.StatusNotModified},
		{"weak match", "W/" + plainTag, "", http.StatusNotModified},
		{"list match", `"other", ` + plainTag, "", http.StatusNotModified},
		{"star", "*", "", http.StatusNotModified},
		{"gzip tag for identity", zipTag, "", http.StatusOK},
		{"stale", `"0000"`, "gzip", http.StatusOK},
	} {
		resp := get(h, http.MethodGet, target, map[string]string{"If-None-Match": tc.inm, "Accept-Encoding": tc.ae})
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
		if resp.StatusCode == http.StatusNotModified && len(body(t, resp)) != 0 {
			t.Errorf("%s: 304 with a body", tc.name)
		}
	}
}

func TestMethods(t *testing.T) {
	h := newHandler(t)
	head := get(h, http.MethodHead, "/", nil)
	if head.StatusCode != http.StatusOK || len(body(t, head)) != 0 || head.Header.Get("Content-Length") == "" {
		t.Errorf("HEAD /: %d, Content-Length %q", head.StatusCode, head.Header.Get("Content-Length"))
	}
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		resp := get(h, m, "/ui/app.css", nil)
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: %d, Allow %q", m, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
}

func TestContentSecurityPolicy(t *testing.T) {
	cases := []struct {
		host     string
		wantWS   bool
		wantHost string
	}{
		{"127.0.0.1:8080", true, "ws://127.0.0.1:8080 wss://127.0.0.1:8080"},
		{"[::1]:8080", true, "ws://[::1]:8080"},
		{"stream.example.com", true, "wss://stream.example.com"},
		{"evil.com; script-src *", false, ""},
		{"a'b", false, ""},
		{"", false, ""},
	}
	for _, tc := range cases {
		csp := contentSecurityPolicy(tc.host)
		if got := strings.Contains(csp, "ws://"); got != tc.wantWS {
			t.Errorf("%q: ws origin listed %v, want %v (%s)", tc.host, got, tc.wantWS, csp)
		}
		if tc.wantHost != "" && !strings.Contains(csp, tc.wantHost) {
			t.Errorf("%q: policy lacks %q: %s", tc.host, tc.wantHost, csp)
		}
		if strings.Count(csp, "script-src") != 1 {
			t.Errorf("%q: policy was altered: %s", tc.host, csp)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	cases := []struct {
		header string
		want   bool
	}{
		{"gzip", true},
		{"gzip, deflate, br", true},
		{"br;q=1.0, GZIP;q=0.5", true},
		{"gzip;q=0", false},
		{"gzip; q=0.000", false},
		{"deflate", false},
		{"", false},
		{"x-gzip", false},
	}
	for _, tc := range cases {
		if got := acceptsGzip(tc.header); got != tc.want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", tc.header, got, tc.want)
		}
	}
}

func TestMissingReferenceFails(t *testing.T) {
	h := newHandler(t)
	if _, err := h.resolveReferences([]byte(`<script src="{{asset "js/nope.js"}}"></script>`)); err == nil {
		t.Error("a reference to a missing file was accepted")
	}
	out, err := h.resolveReferences([]byte(`<link href="{{ asset "app.css" }}">`))
	if err != nil || !strings.Contains(string(out), h.URL("app.css")) {
		t.Errorf("resolve: %q, %v", out, err)
	}
	if _, err := newFile("notes.md", []byte("x")); err == nil {
		t.Error("a file of unknown type was accepted")
	}
}

// TestModulesImportExistingFiles checks every relative import of the UI's
// modules names an embedded file, so no page load can fail on one.
func TestModulesImportExistingFiles(t *testing.T) {
	h := newHandler(t)
	importRE := regexp.MustCompile(`(?m)^import[^'"]*['"](\./[^'"]+)['"]`)
	for name, f := range h.assets {
		if !strings.HasPrefix(name, "js/") {
			continue
		}
		for _, m := range importRE.FindAllSubmatch(f.body, -1) {
			target := path.Join(path.Dir(name), string(m[1]))
			if _, ok := h.assets[target]; !ok {
				t.Errorf("%s imports %s, which is not embedded", name, m[1])
			}
		}
	}
}

// TestNoRemoteResources checks the page's own files load nothing from
// another origin: the UI must work without internet access.
func TestNoRemoteResources(t *testing.T) {
	h := newHandler(t)
	remote := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/|@import|url\(\s*['"]?https?:`)
	for name, f := range h.assets {
		if strings.HasPrefix(name, "vendor/") || path.Ext(name) == ".txt" {
			continue
		}
		// The SVG namespace is a name, not a resource.
		text := bytes.ReplaceAll(f.body, []byte("http://www.w3.org/2000/svg"), nil)
		if loc := remote.FindIndex(text); loc != nil {
			t.Errorf("%s refers to a remote resource: %q", name, text[loc[0]:loc[1]])
		}
	}
}

// vendorFiles lists the committed copies of the npm players and where
// make web copies them from (paths below node_modules).
var vendorFiles = []struct{ embedded, npm string }{
	{"vendor/hls.js/hls.min.js", "hls.js/dist/hls.min.js"},
	{"vendor/hls.js/LICENSE.txt", "hls.js/LICENSE"},
	{"vendor/mpegts.js/mpegts.js", "mpegts.js/dist/mpegts.js"},
	{"vendor/mpegts.js/mpegts.js.LICENSE.txt", "mpegts.js/dist/mpegts.js.LICENSE.txt"},
	{"vendor/mpegts.js/LICENSE.txt", "mpegts.js/LICENSE"},
}

// TestVendorCopiesMatchNodeModules keeps the committed players equal to the
// versions package-lock.json pins (make test runs npm ci first; make web
// refreshes the copies).
func TestVendorCopiesMatchNodeModules(t *testing.T) {
	modules := filepath.Join("..", "node_modules")
	if _, err := os.Stat(modules); err != nil {
		t.Fatalf("node_modules is missing: run make test (it runs npm ci): %v", err)
	}
	for _, v := range vendorFiles {
		want, err := os.ReadFile(filepath.Join(modules, filepath.FromSlash(v.npm)))
		if err != nil {
			t.Errorf("%s: %v", v.npm, err)
			continue
		}
		got, err := fs.ReadFile(files, "static/"+v.embedded)
		if err != nil {
			t.Errorf("%s is not embedded: %v", v.embedded, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("web/static/%s differs from node_modules/%s: run make web", v.embedded, v.npm)
		}
	}
}

// FuzzHandler serves arbitrary paths and headers: never a panic, never an
// unexpected status.
func FuzzHandler(f *testing.F) {
	h := newHandler(f)
	f.Add("/", "gzip", "")
	f.Add("/ui/app.css", "", `"x"`)
	f.Add("/ui/../ui/app.css", "gzip;q=0", "*")
	f.Add("/ui/js/main.js?v=123", "br, gzip;q=0.5", `W/"abc", "def"`)
	f.Fuzz(func(t *testing.T, p, acceptEncoding, ifNoneMatch string) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.Path = p
		req.Header.Set("Accept-Encoding", acceptEncoding)
		req.Header.Set("If-None-Match", ifNoneMatch)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK, http.StatusNotModified, http.StatusNotFound:
		default:
			t.Fatalf("path %q: status %d", p, rec.Code)
		}
		if rec.Code == http.StatusOK && p != "/" && !strings.HasPrefix(p, AssetPrefix) {
			t.Fatalf("path %q served outside the UI's paths", p)
		}
	})
}
