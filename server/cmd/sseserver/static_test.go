package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
)

func TestNegotiate(t *testing.T) {
	for accept, want := range map[string]string{
		"":                        "",
		"identity":                "",
		"gzip":                    "gzip",
		"x-gzip":                  "gzip",
		"gzip, deflate, br, zstd": "br",
		"gzip, deflate, br;q=0":   "gzip",
		"BR;Q=0.5, gzip;q=1":      "br",
		"*":                       "br",
		"*;q=0, gzip":             "gzip",
		"br;q=0, gzip;q=0, *;q=1": "",
		"deflate":                 "",
	} {
		if got := negotiate(accept); got != want {
			t.Errorf("negotiate(%q) = %q, want %q", accept, got, want)
		}
	}
}

// staticFixture is a dist-like directory: a .wasm larger than fastLimit
// (so it goes through the fast-then-best path), a module, a page in a
// subdirectory and a file not worth compressing.
func staticFixture(t *testing.T) (dir string, wasm []byte) {
	t.Helper()
	dir = t.TempDir()
	var b bytes.Buffer
	for i := 0; b.Len() < fastLimit+50_000; i++ {
		b.WriteString("(func $f")
		b.WriteString(strings.Repeat("x", i%17))
		b.WriteString(" i32.const 42 drop)\n")
	}
	wasm = b.Bytes()
	files := map[string][]byte{
		"eventsource.wasm": wasm,
		"eventsource.mjs":  []byte(`export const x = 1; // ` + strings.Repeat("module ", 200)),
		"sub/index.html":   []byte("<!doctype html><title>sub</title>"),
		"image.png":        {0x89, 'P', 'N', 'G'},
	}
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, wasm
}

func get(t *testing.T, h http.Handler, method, url string, hdr map[string]string) *http.Response {
	t.Helper()
	r := httptest.NewRequest(method, url, nil)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func decode(t *testing.T, res *http.Response) []byte {
	t.Helper()
	var r io.Reader = res.Body
	switch res.Header.Get("Content-Encoding") {
	case "br":
		r = brotli.NewReader(res.Body)
	case "gzip":
		zr, err := gzip.NewReader(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	case "":
	default:
		t.Fatalf("unexpected Content-Encoding %q", res.Header.Get("Content-Encoding"))
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestStaticEncodings(t *testing.T) {
	dir, wasm := staticFixture(t)
	s := newStatic("/dist/", dir, nil)
	for _, tc := range []struct{ accept, enc string }{
		{"gzip, deflate, br, zstd", "br"},
		{"gzip", "gzip"},
		{"", ""},
	} {
		res := get(t, s, "GET", "/dist/eventsource.wasm", map[string]string{"Accept-Encoding": tc.accept})
		if res.StatusCode != 200 {
			t.Fatalf("%q: status %d", tc.accept, res.StatusCode)
		}
		h := res.Header
		if h.Get("Content-Encoding") != tc.enc || h.Get("Content-Type") != "application/wasm" ||
			h.Get("Vary") != "Accept-Encoding" || h.Get("Cache-Control") != revalidateCache || h.Get("ETag") == "" {
			t.Errorf("%q: headers %v", tc.accept, h)
		}
		if got := decode(t, res); !bytes.Equal(got, wasm) {
			t.Errorf("%q: body decodes to %d bytes, want the %d of the file", tc.accept, len(got), len(wasm))
		}
	}

	// The best brotli replaces the fast one, and is smaller.
	fast := len(*s.cache["eventsource.wasm"].br.Load())
	deadline := time.Now().Add(30 * time.Second)
	for {
		if n := len(*s.cache["eventsource.wasm"].br.Load()); n < fast {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("best brotli not ready after 30s (fast: %d bytes)", fast)
		}
		time.Sleep(20 * time.Millisecond)
	}
	res := get(t, s, "GET", "/dist/eventsource.wasm", map[string]string{"Accept-Encoding": "br"})
	if got := decode(t, res); !bytes.Equal(got, wasm) {
		t.Errorf("best brotli decodes to %d bytes, want %d", len(got), len(wasm))
	}

	// A module gets its JavaScript type and is compressed too.
	res = get(t, s, "GET", "/dist/eventsource.mjs", map[string]string{"Accept-Encoding": "br"})
	if res.Header.Get("Content-Type") != "text/javascript; charset=utf-8" || res.Header.Get("Content-Encoding") != "br" {
		t.Errorf("module headers %v", res.Header)
	}
}

func TestStaticCaching(t *testing.T) {
	dir, _ := staticFixture(t)
	s := newStatic("/dist/", dir, nil)
	br := map[string]string{"Accept-Encoding": "br"}
	res := get(t, s, "GET", "/dist/eventsource.wasm", br)
	etag := res.Header.Get("ETag")
	if !strings.HasPrefix(etag, `W/"`) || !strings.HasSuffix(etag, `-br"`) {
		t.Fatalf("ETag %q: want a weak ETag per encoding", etag)
	}
	res = get(t, s, "GET", "/dist/eventsource.wasm", map[string]string{"Accept-Encoding": "br", "If-None-Match": etag})
	if res.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: status %d, want 304", res.StatusCode)
	}
	// The gzip ETag differs: a cache never mixes the two.
	res = get(t, s, "GET", "/dist/eventsource.wasm", map[string]string{"Accept-Encoding": "gzip", "If-None-Match": etag})
	if res.StatusCode != 200 {
		t.Errorf("gzip with the brotli ETag: status %d, want 200", res.StatusCode)
	}

	// The versioned URL is immutable; a wrong version is not.
	hash := s.Hash("eventsource.wasm")
	res = get(t, s, "GET", "/dist/eventsource.wasm?v="+hash, br)
	if cc := res.Header.Get("Cache-Control"); cc != immutableCache {
		t.Errorf("?v=<hash>: Cache-Control %q, want %q", cc, immutableCache)
	}
	res = get(t, s, "GET", "/dist/eventsource.wasm?v=0000", br)
	if cc := res.Header.Get("Cache-Control"); cc != revalidateCache {
		t.Errorf("?v=<other>: Cache-Control %q, want %q", cc, revalidateCache)
	}

	// HEAD: headers, no body.
	res = get(t, s, "HEAD", "/dist/eventsource.wasm", br)
	if b, _ := io.ReadAll(res.Body); res.StatusCode != 200 || len(b) != 0 || res.Header.Get("Content-Encoding") != "br" {
		t.Errorf("HEAD: status %d, %d body bytes, headers %v", res.StatusCode, len(b), res.Header)
	}

	// A new build while the server runs is served at once, with a new ETag.
	newer := []byte("(module) ;; rebuilt")
	p := filepath.Join(dir, "eventsource.wasm")
	if err := os.WriteFile(p, newer, 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(p, later, later); err != nil {
		t.Fatal(err)
	}
	res = get(t, s, "GET", "/dist/eventsource.wasm", map[string]string{"Accept-Encoding": "br", "If-None-Match": etag})
	if res.StatusCode != 200 || !bytes.Equal(decode(t, res), newer) || res.Header.Get("ETag") == etag {
		t.Errorf("after a rebuild: status %d, ETag %q (was %q)", res.StatusCode, res.Header.Get("ETag"), etag)
	}
}

func TestStaticPaths(t *testing.T) {
	dir, _ := staticFixture(t)
	s := newStatic("/dist/", dir, nil)
	for _, tc := range []struct {
		url  string
		code int
		ct   string
	}{
		{"/dist/image.png", 200, "image/png"},
		{"/dist/sub/", 200, "text/html; charset=utf-8"},
		{"/dist/sub", 301, ""},
		{"/dist/missing.wasm", 404, ""},
		{"/dist/../static.go", 404, ""},
		{"/dist/%2e%2e/static.go", 404, ""},
	} {
		res := get(t, s, "GET", tc.url, map[string]string{"Accept-Encoding": "br"})
		if res.StatusCode != tc.code || (tc.ct != "" && res.Header.Get("Content-Type") != tc.ct) {
			t.Errorf("%s: status %d, Content-Type %q; want %d %q", tc.url, res.StatusCode, res.Header.Get("Content-Type"), tc.code, tc.ct)
		}
	}
	res := get(t, s, "POST", "/dist/eventsource.mjs", nil)
	if res.StatusCode == 200 && res.Header.Get("Content-Encoding") != "" {
		t.Errorf("POST: served compressed")
	}
}

func TestDemoRoutes(t *testing.T) {
	dir, _ := staticFixture(t)
	stop := make(chan struct{})
	defer close(stop)
	d := newDemo(dir, dir, stop, nil)
	release := make(chan struct{})
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/chat" {
			http.NotFound(w, r)
			return
		}
		// A chat stream: writes until its write panics (the drop).
		w.Header().Set("Content-Type", "text/event-stream")
		for i := 0; ; i++ {
			io.WriteString(w, "data: token\n\n")
			http.NewResponseController(w).Flush()
			if i == 0 {
				close(release)
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
	srv := httptest.NewServer(d.wrap(next))
	defer srv.Close()

	res, err := http.Get(srv.URL + "/favicon.ico")
	if err != nil || res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/svg+xml" {
		t.Fatalf("favicon: %v %v", err, res)
	}
	res.Body.Close()

	// The dashboard streams named events.
	res, err = http.Get(srv.URL + "/api/dashboard?rate=1000")
	if err != nil || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("dashboard: %v %v", err, res)
	}
	seen := map[string]bool{}
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() && len(seen) < 3 {
		if name, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
			seen[name] = true
		}
	}
	res.Body.Close()
	for _, name := range []string{"price", "log", "metrics"} {
		if !seen[name] {
			t.Errorf("dashboard: no %q event in %v", name, seen)
		}
	}

	// A chat stream in flight is dropped: its body ends in an error, not EOF.
	res, err = http.Post(srv.URL+"/api/chat", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	<-release
	dr, err := http.Post(srv.URL+"/api/demo/drop", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(dr.Body)
	if !strings.Contains(string(b), `"dropped":1`) {
		t.Errorf("drop answered %s", b)
	}
	if _, err := io.ReadAll(res.Body); err == nil {
		t.Errorf("chat body ended cleanly after a drop; want an unexpected EOF")
	}
}
