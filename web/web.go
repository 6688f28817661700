// Package web serves the operator UI: a dashboard of live streams with a
// player, play URLs, kick buttons and OBS settings. The UI is plain HTML,
// CSS and ES modules under static/, embedded in the binary with go:embed,
// and talks to the server only through the REST API under /api/v1.
//
// The page is served at "/" and its files under AssetPrefix ("/ui/"). The
// players (hls.js and mpegts.js) are committed copies of the npm packages
// under static/vendor/; make web refreshes them from node_modules and a
// test checks that the two agree. Nothing is loaded from another origin, so
// the UI works without internet access.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strings"
	"sync"
)

// AssetPrefix is the URL path prefix under which the UI's files are
// served: static/app.css is /ui/app.css.
const AssetPrefix = "/ui/"

// indexFile is the page served at "/".
const indexFile = "index.html"

// minGzipSize is the smallest text file worth compressing.
const minGzipSize = 1024

// versionLength is the number of hex digits of a file's SHA-256 used in
// its versioned URL (?v=…).
const versionLength = 12

// Cache policies. A file requested with the ?v= of its current content
// never changes and may be kept for a year; anything else is revalidated
// (cheaply, with its ETag) on every use.
const (
	cacheImmutable   = "public, max-age=31536000, immutable"
	cacheRevalidate  = "no-cache"
	versionParameter = "v"
)

//go:embed static
var files embed.FS

// contentTypes maps the file extensions the UI uses to their media types.
// A file with any other extension makes New fail, so that nothing is
// served with a guessed type.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".txt":  "text/plain; charset=utf-8",
	".png":  "image/png",
}

// assetReference is how index.html names a file so that it is written
// with its versioned URL: {{asset "app.css"}} → /ui/app.css?v=0123456789ab.
var assetReference = regexp.MustCompile(`\{\{\s*asset\s+"([^"]+)"\s*\}\}`)

// file is one servable file, prepared once.
type file struct {
	body        []byte
	contentType string
	version     string // first versionLength hex digits of the SHA-256
	etag        string // quoted strong ETag of body
	// compressible files get a gzip form, built on first request so that
	// starting the server costs no compression.
	compressible bool
	gzipETag     string // quoted strong ETag of the gzip form
	gzipOnce     sync.Once
	gzipped      []byte // nil when compression failed
}

// compressed returns the gzip form of the file, building it on first use
// (nil when it cannot be built).
func (f *file) compressed() []byte {
	f.gzipOnce.Do(func() {
		var buf bytes.Buffer
		zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		if err != nil {
			return
		}
		if _, err := zw.Write(f.body); err != nil {
			return
		}
		if err := zw.Close(); err != nil {
			return
		}
		f.gzipped = buf.Bytes()
	})
	return f.gzipped
}

// Handler serves the UI: the page at "/", its files under AssetPrefix, 404
// for everything else. It never lists directories.
type Handler struct {
	index  *file
	assets map[string]*file // by path below static/, e.g. "js/main.js"
}

// New prepares the embedded files: it resolves the asset references of
// index.html and hashes every file (text files are compressed on first
// request). It fails
// only when the embedded tree is inconsistent (a reference to a missing
// file, an unknown file type), which the package tests rule out.
func New() (*Handler, error) {
	root, err := fs.Sub(files, "static")
	if err != nil {
		return nil, fmt.Errorf("embedded files: %w", err)
	}
	h := &Handler{assets: make(map[string]*file)}
	err = fs.WalkDir(root, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		body, err := fs.ReadFile(root, name)
		if err != nil {
			return err
		}
		f, err := newFile(name, body)
		if err != nil {
			return err
		}
		h.assets[name] = f
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("embedded files: %w", err)
	}
	page, ok := h.assets[indexFile]
	if !ok {
		return nil, fmt.Errorf("embedded files: no %s", indexFile)
	}
	body, err := h.resolveReferences(page.body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", indexFile, err)
	}
	if h.index, err = newFile(indexFile, body); err != nil {
		return nil, err
	}
	// The page is served at "/" only, never as its unresolved template.
	delete(h.assets, indexFile)
	return h, nil
}

// newFile prepares the body of the file called name.
func newFile(name string, body []byte) (*file, error) {
	ctype, ok := contentTypes[path.Ext(name)]
	if !ok {
		return nil, fmt.Errorf("%s: no content type for extension %q", name, path.Ext(name))
	}
	sum := sha256.Sum256(body)
	digest := hex.EncodeToString(sum[:])
	f := &file{
		body:        body,
		contentType: ctype,
		version:     digest[:versionLength],
		etag:        `"` + digest[:2*versionLength] + `"`,
	}
	if len(body) >= minGzipSize && (strings.HasPrefix(ctype, "text/") || ctype == "image/svg+xml") {
		f.compressible = true
		f.gzipETag = `"` + digest[:2*versionLength] + `-gz"`
	}
	return f, nil
}

// resolveReferences replaces each {{asset "name"}} in page by the
// versioned URL of that file.
func (h *Handler) resolveReferences(page []byte) ([]byte, error) {
	var missing []string
	out := assetReference.ReplaceAllFunc(page, func(ref []byte) []byte {
		name := string(assetReference.FindSubmatch(ref)[1])
		f, ok := h.assets[name]
		if !ok {
			missing = append(missing, name)
			return ref
		}
		return []byte(AssetPrefix + name + "?" + versionParameter + "=" + f.version)
	})
	if len(missing) > 0 {
		return nil, fmt.Errorf("references missing files %q", missing)
	}
	return out, nil
}

// URL returns the versioned URL of the file at name below static/ ("" when
// there is none), as index.html refers to it.
func (h *Handler) URL(name string) string {
	f, ok := h.assets[name]
	if !ok {
		return ""
	}
	return AssetPrefix + name + "?" + versionParameter + "=" + f.version
}

// ServeHTTP serves the page, a file, or 404.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	var f *file
	immutable := false
	switch {
	case p == "/":
		f = h.index
	case strings.HasPrefix(p, AssetPrefix) && path.Clean(p) == p:
		// Only exact file names match: a directory is never a key, so
		// there is nothing to list.
		if f = h.assets[strings.TrimPrefix(p, AssetPrefix)]; f != nil {
			immutable = r.URL.Query().Get(versionParameter) == f.version
		}
	}
	if f == nil {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", f.contentType)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	if f == h.index {
		hdr.Set("Content-Security-Policy", contentSecurityPolicy(r.Host))
		hdr.Set("X-Frame-Options", "DENY")
	}
	if immutable {
		hdr.Set("Cache-Control", cacheImmutable)
	} else {
		hdr.Set("Cache-Control", cacheRevalidate)
	}
	body, etag := f.body, f.etag
	if f.compressible {
		hdr.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			if zipped := f.compressed(); zipped != nil {
				body, etag = zipped, f.gzipETag
				hdr.Set("Content-Encoding", "gzip")
			}
		}
	}
	hdr.Set("ETag", etag)
	if etagMatches(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hdr.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(body)
	}
}

// contentSecurityPolicy is the policy of the page: scripts, styles, media
// and connections only from this server (the players feed the video
// element from blob: URLs and run their workers from blob: URLs). The
// WebSocket origin is named explicitly for browsers whose 'self' does not
// cover ws: and wss:.
func contentSecurityPolicy(host string) string {
	connect := "'self'"
	if validHost(host) {
		connect += " ws://" + host + " wss://" + host
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"media-src 'self' blob:; worker-src 'self' blob:; connect-src " + connect + "; " +
		"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

// validHost reports whether a Host header value is a plain host[:port]
// that can be written into a policy as it is.
func validHost(host string) bool {
	if host == "" || len(host) > 255 {
		return false
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.', c == '-', c == ':', c == '[', c == ']':
		default:
			return false
		}
	}
	return true
}

// acceptsGzip reports whether an Accept-Encoding value allows gzip (listed
// without q=0).
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

// etagMatches reports whether an If-None-Match value names etag (or "*").
func etagMatches(header, etag string) bool {
	for _, candidate := range strings.Split(header, ",") {
		candidate = strings.TrimPrefix(strings.TrimSpace(candidate), "W/")
		if candidate == etag || candidate == "*" {
			return true
		}
	}
	return false
}
