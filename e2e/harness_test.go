//go:build !js

package e2e

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wasm-eventsource/wasm-eventsource/e2e/chromium"
	"github.com/wasm-eventsource/wasm-eventsource/internal/testserver"
)

// The harness: one server, one headless Chromium, and runner tabs, each in
// its own browser context (so with its own cookies and connection pool): the
// conformance scenarios share a pool of them (see tabPool), the other tests
// open a tab of their own.

const (
	// maxParallel bounds how many tests drive the browser at once. A
	// conformance scenario uses two tabs (native and ours) at a time; 4
	// scenarios is what 2 cores sustain without distorting timings.
	maxParallel = 4

	// tabStartTimeout bounds loading the runner and (for ours)
	// instantiating eventsource.wasm in a tab.
	tabStartTimeout = 60 * time.Second
)

// env is what TestMain sets up for every test.
var env struct {
	srv     *testserver.Server
	browser *chromium.Browser
	deadURL string        // an origin where nothing listens (connection refused)
	slots   chan struct{} // one per test that drives the browser
}

func TestMain(m *testing.M) {
	flag.Parse()
	// The default -parallel is GOMAXPROCS (2 here), but scenarios mostly
	// wait on timers and the network: let more run and bound them by tabs.
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		_ = flag.Set("test.parallel", strconv.Itoa(maxParallel))
	}
	code, err := setUp(m)
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setUp(m *testing.M) (int, error) {
	root, err := filepath.Abs("..")
	if err != nil {
		return 0, err
	}
	dist := filepath.Join(root, "dist")
	pages := filepath.Join(root, "e2e", "pages")
	for _, f := range []string{"eventsource.wasm", "eventsource.mjs", "wasm_exec.js"} {
		if _, err := os.Stat(filepath.Join(dist, f)); err != nil {
			return 0, fmt.Errorf("%s is missing: run `make build` first (the browser tests load dist/)", filepath.Join(dist, f))
		}
	}
	if _, err := os.Stat(filepath.Join(pages, "runner.html")); err != nil {
		return 0, fmt.Errorf("e2e/pages/runner.html is missing: %w", err)
	}
	override := os.Getenv("E2E_CHROMIUM")
	exe, err := chromium.Find(override)
	if err != nil && override == "" {
		return 0, fmt.Errorf("%w (or set E2E_CHROMIUM)", err)
	}
	if err != nil {
		return 0, fmt.Errorf("E2E_CHROMIUM: %w", err)
	}

	srv, err := testserver.Start(testserver.Options{Static: map[string]string{"/dist/": dist, "/test/": pages}})
	if err != nil {
		return 0, fmt.Errorf("starting the server: %w", err)
	}
	defer srv.Close()
	env.srv = srv
	if env.deadURL, err = deadOrigin(); err != nil {
		return 0, err
	}

	// Start the browser now, so that a browser that cannot start fails
	// here, once, with a clear message.
	b, err := chromium.Start(context.Background(), exe)
	if err != nil {
		return 0, err
	}
	env.browser = b
	env.slots = make(chan struct{}, maxParallel)

	startLoadSampler()
	code := m.Run()
	fmt.Fprint(os.Stderr, summary())
	if err := b.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: closing Chromium: %v\n", err)
	}
	return code, nil
}

// deadOrigin returns an http origin on a loopback port where nothing
// listens, so that connecting to it is refused.
func deadOrigin() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr, nil
}

// tab is one page of the runner (e2e/pages/runner.html) for one class.
type tab struct {
	impl    string // "native" or "ours"
	ctx     context.Context
	cancel  context.CancelFunc
	console *chromium.Console // what the page logged and threw
}

// takeSlot waits for one of the maxParallel slots and holds it until the
// test ends. Every test that opens tabs takes one first.
func takeSlot(tb testing.TB) {
	tb.Helper()
	select {
	case env.slots <- struct{}{}:
	case <-time.After(5 * time.Minute):
		tb.Fatal("no free browser slot after 5 minutes: a test hangs")
	}
	tb.Cleanup(func() { <-env.slots })
}

// openTab opens a runner tab for impl, for this test alone; it is closed
// when the test ends, and when the test failed its console is printed.
func openTab(tb testing.TB, impl string) (*tab, error) {
	tt, err := newTab(impl)
	tb.Cleanup(func() {
		tt.cancel()
		if tb.Failed() {
			tb.Logf("%s tab console:\n%s", impl, tt.consoleText())
		}
	})
	return tt, err
}

// newTab opens a runner tab for impl in a new browser context (its own
// cookie jar and connection pool) and waits until the class is loaded. The
// tab it returns is never nil: close it also when newTab fails.
func newTab(impl string) (*tab, error) {
	// The "throw" action's exceptions are counted, not fatal: the scenario
	// says how many it expects (see runScenario).
	tt := &tab{impl: impl, console: chromium.NewConsole(chromium.ConsoleOptions{Expected: thrownMarker})}
	var err error
	tt.ctx, tt.cancel, err = env.browser.NewTab(true, tt.console.Listen)
	if err != nil {
		return tt, fmt.Errorf("%s tab: %w", impl, err)
	}
	err = chromium.Open(tt.ctx, env.srv.URL()+"/test/runner.html#"+impl,
		`globalThis.runnerState !== "loading" && globalThis.runnerState`, scaled(tabStartTimeout))
	if err != nil {
		return tt, fmt.Errorf("%s tab: %w", impl, err)
	}
	return tt, nil
}

// Opening a tab costs 1-2 s here (a renderer process, a window, chromedp's
// attach), far more than most scenarios take, so the conformance scenarios
// share a pool of runner tabs per class. A scenario gets a tab to itself
// while it runs, and its own slice of the tab's console; a tab that saw an
// exception (other than those the "throw" action throws on purpose), a Go
// death, a time-out or any other failure is closed, never reused.
type tabPool struct {
	impl string
	idle chan *tab
}

var pools = map[string]*tabPool{
	"native": {impl: "native", idle: make(chan *tab, 2*maxParallel)},
	"ours":   {impl: "ours", idle: make(chan *tab, 2*maxParallel)},
}

// get returns an idle tab of the pool, or a new one (never nil).
func (p *tabPool) get() (*tab, error) {
	for {
		select {
		case tt := <-p.idle:
			// Still alive and ready? (A page can die while idle.)
			if s, err := evalIn[string](tt, "globalThis.runnerState", scaled(5*time.Second)); err != nil || s != "ready" {
				tt.cancel()
				continue
			}
			tt.console.Reset()
			return tt, nil
		default:
			return newTab(p.impl)
		}
	}
}

// put gives tt back to the pool when it is healthy, else closes it.
func (p *tabPool) put(tt *tab, healthy bool) {
	if healthy && len(tt.fatals()) == 0 {
		select {
		case p.idle <- tt:
			return
		default:
		}
	}
	tt.cancel()
}

// fatals returns the uncaught exceptions and Go deaths seen so far, those
// the "throw" action throws on purpose left out.
func (tt *tab) fatals() []string { return tt.console.Fatal() }

// consoleText returns what the page logged, one line each.
func (tt *tab) consoleText() string {
	lines := tt.console.Lines()
	if len(lines) == 0 {
		return "\t(nothing)"
	}
	return "\t" + strings.Join(lines, "\n\t")
}

// checkFatal fails tb when the page threw or the Go program died.
func (tt *tab) checkFatal(tb testing.TB) {
	tb.Helper()
	for _, f := range tt.fatals() {
		tb.Errorf("%s tab: %s", tt.impl, f)
	}
}

// evalIn evaluates a JS expression in the tab, awaiting a promise result,
// and decodes its JSON value into T. It fails after timeout with a message
// that says what hung.
func evalIn[T any](tt *tab, expr string, timeout time.Duration) (T, error) {
	v, err := chromium.Eval[T](tt.ctx, expr, timeout)
	if err != nil {
		return v, fmt.Errorf("%s tab: %w", tt.impl, err)
	}
	return v, nil
}

// TestHarness checks that the harness sees what must fail a test: an
// uncaught exception and the console text of a dead Go program; and that it
// counts an exception thrown on purpose (see thrownMarker) without failing.
func TestHarness(t *testing.T) {
	t.Parallel()
	takeSlot(t)
	tt, err := openTab(t, "ours")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := evalIn[int](tt, `setTimeout(() => { throw new Error("harness-boom"); }, 0), 1`, scaled(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := evalIn[int](tt, `console.log("panic: harness-test"), 1`, scaled(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	// An exception the "throw" action throws on purpose is counted, not fatal.
	if _, err := evalIn[int](tt, `setTimeout(() => { throw new Error(`+strconv.Quote(thrownMarker)+`); }, 0), 1`, scaled(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(scaled(5 * time.Second))
	for time.Now().Before(deadline) && (len(tt.fatals()) < 2 || tt.console.Expected() < 1) {
		time.Sleep(20 * time.Millisecond)
	}
	f := strings.Join(tt.fatals(), "\n")
	if !strings.Contains(f, "harness-boom") || !strings.Contains(f, "panic: harness-test") {
		t.Fatalf("the harness missed an exception or a Go panic; it saw:\n%s", f)
	}
	if n := tt.console.Expected(); n != 1 {
		t.Errorf("the harness counted %d exceptions thrown on purpose, want 1", n)
	}
	if strings.Contains(f, thrownMarker) {
		t.Errorf("the harness took an exception thrown on purpose for fatal; it saw:\n%s", f)
	}
}
