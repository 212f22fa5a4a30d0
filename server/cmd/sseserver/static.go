package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/andybalholm/brotli"
)

// The static handler serves a directory as a production server should serve
// dist/: every compressible file (the .wasm above all: 2.9 MB raw, about
// 590 KB with brotli) precompressed once, in memory, and sent as brotli or
// gzip by the request's Accept-Encoding; the right Content-Type
// (application/wasm, so that WebAssembly.instantiateStreaming compiles while
// downloading); an ETag per encoding so that a revalidation costs a 304; and
// long-lived caching where it is safe.
//
// Compression happens when a file is first asked for (or at start-up, for
// the .wasm files: see warm) and again when the file changes on disk (a new
// make build while the server runs). Brotli at quality 11 takes seconds for
// the .wasm, so a file larger than fastLimit is first compressed at quality
// 5 (a tenth of a second) and served so, and its quality-11 bytes replace
// those when ready.

// brotliBest is the brotli quality (and window) of the bytes eventually served.
const (
	brotliBest   = 11
	brotliFast   = 5
	brotliWindow = 24
	// fastLimit is the size above which a file is served from a fast
	// compression until the best one is ready.
	fastLimit = 256 << 10
	// maxCompress bounds the files kept in memory; larger ones are served
	// as they are.
	maxCompress = 64 << 20
)

// immutableCache is the Cache-Control of a versioned .wasm URL
// (?v=<the file's content hash>): it can be cached for a year, since another
// build has another hash. Everything else is revalidated on every use
// (no-cache with an ETag: a 304 without a body while nothing changed), since
// a .wasm must always match the wasm_exec.js and eventsource.mjs next to it.
const (
	immutableCache  = "public, max-age=31536000, immutable"
	revalidateCache = "no-cache"
)

// compressible reports whether files with extension ext are worth
// compressing.
func compressible(ext string) bool {
	switch ext {
	case ".wasm", ".js", ".mjs", ".html", ".css", ".svg", ".json", ".map", ".txt", ".md", ".ts", ".mts", ".xml":
		return true
	}
	return false
}

// contentType is the Content-Type of a file with extension ext.
func contentType(ext string) string {
	switch ext {
	case ".wasm":
		return "application/wasm"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".ts", ".mts", ".md", ".txt":
		return "text/plain; charset=utf-8"
	case ".map", ".json":
		return "application/json"
	case ".html":
		return "text/html; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

// static serves the files of dir under the URL prefix (which ends in "/").
type static struct {
	prefix string
	dir    string
	files  http.Handler // directories and files not worth compressing
	logf   func(format string, args ...any)

	mu    sync.Mutex
	cache map[string]*entry // by cleaned URL path below prefix
}

// entry is one file's bytes as last read, and their compressed forms.
type entry struct {
	modTime time.Time
	size    int64
	hash    string // hex of the first 8 bytes of the SHA-256 of raw
	raw     []byte
	gz      []byte
	br      atomic.Pointer[[]byte] // fast, then best quality
}

// newStatic returns the handler of dir at prefix. logf (may be nil) gets a
// line when a large file has its best compression ready.
func newStatic(prefix, dir string, logf func(format string, args ...any)) *static {
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return &static{
		prefix: prefix,
		dir:    dir,
		files:  http.StripPrefix(strings.TrimSuffix(prefix, "/"), http.FileServer(http.Dir(dir))),
		logf:   logf,
		cache:  make(map[string]*entry),
	}
}

// warm compresses the .wasm files of dir (not its subdirectories) in the
// background, so that the first page load finds them ready.
func (s *static) warm() {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if !e.IsDir() && path.Ext(e.Name()) == ".wasm" {
			go s.entry(e.Name()) // a failure shows again on request
		}
	}
}

func (s *static) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rel, ok := strings.CutPrefix(r.URL.Path, s.prefix)
	if !ok {
		s.files.ServeHTTP(w, r)
		return
	}
	rel = strings.TrimPrefix(path.Clean("/"+rel), "/")
	ext := path.Ext(rel)
	if rel == "" || !compressible(ext) || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		s.plain(w, r, ext)
		return
	}
	e, err := s.entry(rel)
	if err != nil {
		// Missing, a directory, too large, unreadable: the file server
		// answers (404, a redirect, the file as it is).
		s.plain(w, r, ext)
		return
	}

	h := w.Header()
	h.Set("Content-Type", contentType(ext))
	h.Add("Vary", "Accept-Encoding")
	if ext == ".wasm" && r.URL.Query().Get("v") == e.hash {
		h.Set("Cache-Control", immutableCache)
	} else {
		h.Set("Cache-Control", revalidateCache)
	}
	body, etag := e.raw, `"`+e.hash+`"`
	switch negotiate(r.Header.Get("Accept-Encoding")) {
	case "br":
		body, etag = *e.br.Load(), `W/"`+e.hash+`-br"`
		h.Set("Content-Encoding", "br")
	case "gzip":
		body, etag = e.gz, `W/"`+e.hash+`-gz"`
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, rel, e.modTime, bytes.NewReader(body))
}

// plain serves a file as it is, with the Content-Type and caching of ext.
func (s *static) plain(w http.ResponseWriter, r *http.Request, ext string) {
	if ext != "" {
		w.Header().Set("Content-Type", contentType(ext))
	}
	w.Header().Set("Cache-Control", revalidateCache)
	s.files.ServeHTTP(w, r)
}

// Hash returns the content hash of the file at rel (as ?v= takes it), or ""
// when it cannot be read.
func (s *static) Hash(rel string) string {
	e, err := s.entry(rel)
	if err != nil {
		return ""
	}
	return e.hash
}

// entry returns the cached entry of rel, reading and compressing the file
// when it is new or changed. It holds s.mu while it does: compressing a
// file a second time in parallel would only waste a core.
func (s *static) entry(rel string) (*entry, error) {
	name := filepath.Join(s.dir, filepath.FromSlash(rel))
	fi, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fs.ErrNotExist
	}
	if fi.Size() > maxCompress {
		return nil, fs.ErrInvalid
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.cache[rel]; e != nil && e.modTime.Equal(fi.ModTime()) && e.size == fi.Size() {
		return e, nil
	}
	raw, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(raw)
	e := &entry{modTime: fi.ModTime(), size: int64(len(raw)), hash: hex.EncodeToString(sum[:8]), raw: raw}
	e.gz = gzipBytes(raw)
	if len(raw) <= fastLimit {
		b := brotliBytes(raw, brotliBest)
		e.br.Store(&b)
	} else {
		b := brotliBytes(raw, brotliFast)
		e.br.Store(&b)
		go func() {
			t0 := time.Now()
			best := brotliBytes(raw, brotliBest)
			e.br.Store(&best)
			if s.logf != nil {
				s.logf("%s%s: brotli %s bytes (was %s raw, %s gzip), compressed in %v", s.prefix, rel,
					strconv.Itoa(len(best)), strconv.Itoa(len(raw)), strconv.Itoa(len(e.gz)), time.Since(t0).Round(time.Millisecond))
			}
		}()
	}
	s.cache[rel] = e
	return e, nil
}

func gzipBytes(b []byte) []byte {
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

func brotliBytes(b []byte, quality int) []byte {
	var out bytes.Buffer
	bw := brotli.NewWriterOptions(&out, brotli.WriterOptions{Quality: quality, LGWin: brotliWindow})
	bw.Write(b)
	bw.Close()
	return out.Bytes()
}

// negotiate picks the encoding of a response from an Accept-Encoding value:
// "br" when accepted, else "gzip", else "" (identity). A coding with q=0 is
// refused; "*" accepts both.
func negotiate(accept string) string {
	q := map[string]float64{}
	for _, part := range strings.Split(accept, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" {
			continue
		}
		v := 1.0
		for _, p := range strings.Split(params, ";") {
			k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
					v = f
				}
			}
		}
		if name == "x-gzip" {
			name = "gzip"
		}
		q[name] = v
	}
	accepts := func(c string) bool {
		if v, ok := q[c]; ok {
			return v > 0
		}
		v, ok := q["*"]
		return ok && v > 0
	}
	switch {
	case accepts("br"):
		return "br"
	case accepts("gzip"):
		return "gzip"
	}
	return ""
}

// favicon is the demo's icon, served at /favicon.ico and /favicon.svg
// (browsers ask for the first by themselves).
const favicon = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">` +
	`<rect width="64" height="64" rx="14" fill="#1d4ed8"/>` +
	`<path d="M14 40c8-14 18-14 26 0s14 10 14 0" fill="none" stroke="#fff" stroke-width="6" stroke-linecap="round"/>` +
	`<circle cx="18" cy="20" r="5" fill="#fbbf24"/></svg>`

func serveFavicon(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "image/svg+xml")
	h.Set("Cache-Control", "public, max-age=86400")
	http.ServeContent(w, r, "favicon.svg", time.Time{}, strings.NewReader(favicon))
}
