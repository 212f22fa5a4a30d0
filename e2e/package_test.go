//go:build !js

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasm-eventsource/wasm-eventsource/e2e/chromium"
)

// TestPackage proves that dist/ is an npm package that real tools take as
// users use them: it packs dist/ with npm, installs the tarball into a fresh
// Vite app and a fresh webpack 5 app (made here, in a temporary directory
// outside the repository, from e2e/testdata/apps), builds both for
// production, serves each build from a Go server on 127.0.0.1 under a strict
// Content-Security-Policy and checks in headless Chromium that events
// arrive. It also type-checks e2e/testdata/apps/types with `tsc --strict`
// against the installed package, under moduleResolution bundler and
// nodenext.
//
// The npm cache is <repo>/.npm-cache (ignored by git), so that a second run
// installs without the network. The tools are pinned below. E2E_PACKAGE_DIST
// packs another directory than dist/ (to try a change to the package alone).
//
// It is not parallel: npm and the bundlers keep both cores busy, and the
// suite's timed scenarios wait until it is done.
func TestPackage(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	checkNode(t)
	work, err := os.MkdirTemp("", "wasm-eventsource-package-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(work) }) // after the parallel subtests
	npm := npmRunner{cache: filepath.Join(root, ".npm-cache")}

	t0 := time.Now()
	dist := filepath.Join(root, "dist")
	if d := os.Getenv("E2E_PACKAGE_DIST"); d != "" {
		dist = d
	}
	tgz := npm.pack(t, dist, work)
	t.Logf("npm pack: %s in %v", filepath.Base(tgz), time.Since(t0).Round(time.Millisecond))
	apps := filepath.Join(root, "e2e", "testdata", "apps")

	t.Run("vite", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(work, "vite-app")
		copyFiles(t, dir, map[string]string{
			"index.html":        filepath.Join(apps, "vite", "index.html"),
			"src/main.js":       filepath.Join(apps, "app.js"),
			"types/usage.ts":    filepath.Join(apps, "types", "usage.ts"),
			"types/global.ts":   filepath.Join(apps, "types", "global.ts"),
			"types/noglobal.ts": filepath.Join(apps, "types", "noglobal.ts"),
		})
		writeJSON(t, filepath.Join(dir, "package.json"), appPackageJSON("vite-app", tgz, map[string]string{
			"vite": viteVersion, "typescript": typescriptVersion,
		}))
		npm.install(t, dir)

		// The types, before the build: a wrong declaration fails here with
		// tsc's message rather than at run time.
		t.Run("tsc", func(t *testing.T) { checkTypes(t, npm, dir) })

		t1 := time.Now()
		npm.exec(t, dir, "vite", "build", "--logLevel", "warn")
		t.Logf("vite build in %v", time.Since(t1).Round(time.Millisecond))
		runApp(t, "vite", filepath.Join(dir, "dist"))
	})

	t.Run("webpack", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(work, "webpack-app")
		copyFiles(t, dir, map[string]string{
			"webpack.config.js": filepath.Join(apps, "webpack", "webpack.config.js"),
			"src/index.js":      filepath.Join(apps, "app.js"),
		})
		writeJSON(t, filepath.Join(dir, "package.json"), appPackageJSON("webpack-app", tgz, map[string]string{
			"webpack": webpackVersion, "webpack-cli": webpackCLIVersion,
		}))
		npm.install(t, dir)
		t1 := time.Now()
		npm.exec(t, dir, "webpack", "--no-color")
		t.Logf("webpack build in %v", time.Since(t1).Round(time.Millisecond))
		copyFiles(t, filepath.Join(dir, "dist"), map[string]string{"index.html": filepath.Join(apps, "webpack", "index.html")})
		runApp(t, "webpack", filepath.Join(dir, "dist"))
	})
}

// The tools, pinned. Vite 8 needs Node.js 20.19 or later.
const (
	viteVersion       = "8.4.0"
	webpackVersion    = "5.113.0"
	webpackCLIVersion = "7.3.1"
	typescriptVersion = "5.9.3"
)

// packageFiles are files the tarball must hold whatever else it holds.
var packageFiles = []string{
	"LICENSE", "README.md", "package.json",
	"eventsource.mjs", "eventsource.d.mts",
	"global.mjs", "global.d.mts",
	"eventsource.wasm", "wasm_exec.js", "wasm_exec.LICENSE",
}

// listedFiles reads the "files" of dir/package.json: with package.json
// itself, exactly what the tarball must hold (a file listed there that
// `make build` did not copy is missing from the tarball).
func listedFiles(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pj struct {
		Files []string `json:"files"`
	}
	if err := json.Unmarshal(b, &pj); err != nil {
		t.Fatalf("%s/package.json: %v", dir, err)
	}
	return append(pj.Files, "package.json")
}

// checkNode fails unless node and npm are on PATH and node is recent enough
// for the pinned Vite (make deps installs them).
func checkNode(t *testing.T) {
	t.Helper()
	for _, name := range []string{"node", "npm"} {
		if _, err := exec.LookPath(name); err != nil {
			t.Fatalf("%s not found on PATH: the package test installs the tarball with npm and builds with Vite and webpack (run `make deps`)", name)
		}
	}
	out, err := exec.Command("node", "--version").Output()
	if err != nil {
		t.Fatalf("node --version: %v", err)
	}
	v := strings.TrimSpace(string(out))
	m := regexp.MustCompile(`^v(\d+)\.(\d+)`).FindStringSubmatch(v)
	if m == nil {
		t.Fatalf("node --version: unexpected %q", v)
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	if major < 20 || (major == 20 && minor < 19) || (major == 22 && minor < 12) {
		t.Fatalf("Node.js %s is too old for Vite %s (needs ^20.19 or >=22.12)", v, viteVersion)
	}
}

// npmRunner runs npm with the repository's cache, quietly, preferring the
// cache to the network.
type npmRunner struct{ cache string }

func (n npmRunner) env() []string {
	return append(os.Environ(),
		"npm_config_cache="+n.cache,
		"npm_config_prefer_offline=true",
		"npm_config_audit=false",
		"npm_config_fund=false",
		"npm_config_update_notifier=false",
		"npm_config_loglevel=error",
		"NO_COLOR=1",
	)
}

// run runs name args in dir, and fails the test with the output when the
// command fails or takes over 5 minutes.
func (n npmRunner) run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	out, err := n.try(dir, name, args...)
	if err != nil {
		t.Fatalf("%s %s (in %s): %v\n%s", name, strings.Join(args, " "), dir, err, out)
	}
	return out
}

func (n npmRunner) try(dir, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = n.env()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// pack packs dir into work and returns the tarball's path, after checking
// its file list.
func (n npmRunner) pack(t *testing.T, dir, work string) string {
	t.Helper()
	out := n.run(t, work, "npm", "pack", dir, "--json", "--pack-destination", work)
	// npm may print notices before the JSON.
	if i := strings.Index(out, "["); i > 0 {
		out = out[i:]
	}
	var packs []struct {
		Filename     string `json:"filename"`
		Size         int    `json:"size"`
		UnpackedSize int    `json:"unpackedSize"`
		Files        []struct {
			Path string `json:"path"`
		} `json:"files"`
	}
	if err := json.Unmarshal([]byte(out), &packs); err != nil || len(packs) != 1 {
		t.Fatalf("npm pack --json: %v\n%s", err, out)
	}
	p := packs[0]
	var files []string
	for _, f := range p.Files {
		files = append(files, f.Path)
	}
	slices.Sort(files)
	want := listedFiles(t, dir)
	slices.Sort(want)
	if !slices.Equal(files, want) {
		t.Errorf("the tarball holds %v, want what package.json lists: %v", files, want)
	}
	for _, f := range packageFiles {
		if !slices.Contains(files, f) {
			t.Errorf("the tarball lacks %s", f)
		}
	}
	t.Logf("tarball %s: %d bytes (%d unpacked)", p.Filename, p.Size, p.UnpackedSize)
	return filepath.Join(work, p.Filename)
}

// install runs npm install in dir.
func (n npmRunner) install(t *testing.T, dir string) {
	t.Helper()
	t0 := time.Now()
	n.run(t, dir, "npm", "install", "--no-audit", "--no-fund")
	t.Logf("npm install in %v", time.Since(t0).Round(time.Millisecond))
}

// exec runs a binary the app installed (node_modules/.bin).
func (n npmRunner) exec(t *testing.T, dir, bin string, args ...string) string {
	t.Helper()
	return n.run(t, dir, filepath.Join(dir, "node_modules", ".bin", bin), args...)
}

// appPackageJSON is the package.json of a test app: private, ESM, the
// packed wasm-eventsource and the pinned tools.
func appPackageJSON(name, tgz string, devDeps map[string]string) map[string]any {
	return map[string]any{
		"name":            name,
		"private":         true,
		"type":            "module",
		"dependencies":    map[string]string{"wasm-eventsource": "file:" + tgz},
		"devDependencies": devDeps,
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// copyFiles copies each source to dir/<name>, making directories.
func copyFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, src := range files {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// checkTypes runs tsc --strict on the usage files under moduleResolution
// bundler and nodenext (node16 behaves as nodenext for this), and checks
// that the file using the global without the augmentation fails.
func checkTypes(t *testing.T, npm npmRunner, dir string) {
	base := map[string]any{
		"strict":                           true,
		"noEmit":                           true,
		"target":                           "es2022",
		"lib":                              []string{"es2022", "dom"},
		"skipLibCheck":                     false,
		"noUnusedLocals":                   true,
		"types":                            []string{},
		"forceConsistentCasingInFileNames": true,
	}
	for _, mode := range []struct{ module, resolution string }{
		{"esnext", "bundler"},
		{"nodenext", "nodenext"},
		{"node16", "node16"},
	} {
		opts := map[string]any{}
		for k, v := range base {
			opts[k] = v
		}
		opts["module"] = mode.module
		opts["moduleResolution"] = mode.resolution
		name := "tsconfig." + mode.resolution + ".json"
		writeJSON(t, filepath.Join(dir, name), map[string]any{
			"compilerOptions": opts,
			"files":           []string{"types/usage.ts", "types/global.ts"},
		})
		t0 := time.Now()
		npm.exec(t, dir, "tsc", "-p", name)
		t.Logf("tsc --strict, moduleResolution %s: no error (%v)", mode.resolution, time.Since(t0).Round(time.Millisecond))
	}
	out, err := npm.try(dir, filepath.Join(dir, "node_modules", ".bin", "tsc"),
		"--strict", "--noEmit", "--target", "es2022", "--module", "esnext", "--moduleResolution", "bundler",
		"--lib", "es2022,dom", "types/noglobal.ts")
	if err == nil || !strings.Contains(out, "TS2353") {
		t.Errorf("types/noglobal.ts: want error TS2353 (no `method` on lib.dom's EventSourceInit without the augmentation), got %v:\n%s", err, out)
	}
}

// appCSP is the Content-Security-Policy the built apps are served with: the
// strictest that lets the package run (the README asks for exactly this).
const appCSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'"

// runApp serves the build in dir with an /sse endpoint and checks in
// Chromium that the app receives every event, in the page and through the
// shared worker: the bundler emitted the .wasm and the worker as assets,
// bundled wasm_exec.js, and load() works from the bundle.
func runApp(t *testing.T, name, dir string) {
	t.Helper()
	var mu sync.Mutex
	var paths []string
	files := http.FileServer(http.Dir(dir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		if r.URL.Path == "/sse" {
			serveTicks(w, r)
			return
		}
		w.Header().Set("Content-Security-Policy", appCSP)
		w.Header().Set("Cache-Control", "no-store")
		files.ServeHTTP(w, r)
	}))
	defer srv.Close()

	takeSlot(t)
	console := chromium.NewConsole(chromium.ConsoleOptions{})
	ctx, cancel, err := env.browser.NewTab(true, console.Listen)
	defer cancel()
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	state := `(() => { const r = window.result; if (!r) return "";
		if (r.state === "done") return "ready";
		if (r.state === "error") return "error: " + r.error;
		return ""; })()`
	if err := chromium.Open(ctx, srv.URL+"/", state, 60*time.Second); err != nil {
		t.Fatalf("%s app: %v\nconsole: %s", name, err, strings.Join(console.Lines(), "\n"))
	}
	var events, shared []string
	for _, v := range []struct {
		name string
		into *[]string
	}{{"events", &events}, {"shared", &shared}} {
		got, err := chromium.Eval[[]string](ctx, "window.result."+v.name, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"1", "2", "3", "4", "5"}; !slices.Equal(got, want) {
			t.Errorf("%s app: %s %v, want %v", name, v.name, got, want)
		}
		*v.into = got
	}
	if f := console.Fatal(); len(f) > 0 {
		t.Errorf("%s app: %v", name, f)
	}
	mu.Lock()
	defer mu.Unlock()
	wasm := slices.IndexFunc(paths, func(p string) bool { return strings.HasSuffix(p, ".wasm") })
	if wasm < 0 {
		t.Errorf("%s app: no .wasm requested (%v)", name, paths)
	}
	if slices.ContainsFunc(paths, func(p string) bool { return strings.Contains(p, "wasm_exec") }) {
		t.Errorf("%s app: wasm_exec.js fetched at run time (%v): the bundler should have bundled it", name, paths)
	}
	var size int64
	if wasm >= 0 {
		if fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(paths[wasm]))); err == nil {
			size = fi.Size()
		}
	}
	t.Logf("%s app: %d events in the page and %d through the SharedWorker in Chromium, %v from navigation (requests %v; the .wasm asset %d bytes)",
		name, len(events), len(shared), time.Since(t0).Round(time.Millisecond), paths, size)
}

// serveTicks is the apps' stream: five "tick" events, then "done".
func serveTicks(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	rc := http.NewResponseController(w)
	for i := 1; i <= 5; i++ {
		fmt.Fprintf(w, "id: %d\nevent: tick\ndata: %d\n\n", i, i)
		_ = rc.Flush()
		select {
		case <-time.After(20 * time.Millisecond):
		case <-r.Context().Done():
			return
		}
	}
	fmt.Fprint(w, "event: done\ndata: end\n\n")
	_ = rc.Flush()
	<-r.Context().Done() // held open: the page closes it
}
