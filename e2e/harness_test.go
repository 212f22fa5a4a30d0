//go:build !js

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/wasm-eventsource/wasm-eventsource/e2e/chromium"

	"github.com/wasm-eventsource/wasm-eventsource/server"
)

// The harness: one server, one headless Chromium, a fresh tab (in its own
// browser context, so with its own cookies and connection pool) per test.

const (
	defaultChromium = "/usr/bin/chromium"

	// maxParallel bounds how many tests drive the browser at once. A
	// conformance scenario uses two tabs (native and ours) at a time; 4
	// scenarios is what 2 cores sustain without distorting timings.
	maxParallel = 4

	// tabStartTimeout bounds opening a tab, loading the runner and (for
	// ours) instantiating eventsource.wasm.
	tabStartTimeout = 60 * time.Second
)

// fatalConsole are console texts that mean the Go program died.
var fatalConsole = []string{"panic:", "fatal error:", "Go program has already exited", "exit code:"}

// env is what TestMain sets up for every test.
var env struct {
	srv      *server.Server
	browser  context.Context // the browser's chromedp context; tabs are its children
	version  string          // Chromium's product string
	deadURL  string          // an origin where nothing listens (connection refused)
	slots    chan struct{}   // one per test that drives the browser
	repoRoot string
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
	env.repoRoot = root
	dist := filepath.Join(root, "dist")
	web := filepath.Join(root, "web")
	for _, f := range []string{"eventsource.wasm", "eventsource.mjs", "wasm_exec.js"} {
		if _, err := os.Stat(filepath.Join(dist, f)); err != nil {
			return 0, fmt.Errorf("%s is missing: run `make build` first (the browser tests load dist/)", filepath.Join(dist, f))
		}
	}
	if _, err := os.Stat(filepath.Join(web, "test", "runner.html")); err != nil {
		return 0, fmt.Errorf("web/test/runner.html is missing: %w", err)
	}
	exe := os.Getenv("E2E_CHROMIUM")
	if exe == "" {
		exe = defaultChromium
	}
	if _, err := os.Stat(exe); err != nil {
		return 0, fmt.Errorf("no Chromium at %s (set E2E_CHROMIUM, or run `make deps` to install Debian's chromium): %w", exe, err)
	}

	srv, err := server.Start(server.Options{Static: map[string]string{"/dist/": dist, "/": web}})
	if err != nil {
		return 0, fmt.Errorf("starting the server: %w", err)
	}
	defer srv.Close()
	env.srv = srv
	if env.deadURL, err = deadOrigin(); err != nil {
		return 0, err
	}

	udd, err := os.MkdirTemp("", "cdp-udd-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(udd)
	opts := chromium.Options(exe, udd)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	bctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	// Start the browser (and its first, unused tab) now, so that a browser
	// that cannot start fails here, once, with a clear message. The first
	// Run binds the browser's life to its context: give it bctx itself,
	// and bound the wait from outside.
	if err := withTimeout(60*time.Second, "starting Chromium ("+exe+")", func() error { return chromedp.Do(bctx) }); err != nil {
		return 0, err
	}
	vctx, cancelV := context.WithTimeout(bctx, 10*time.Second)
	defer cancelV()
	v, err := chromedp.CallBrowser(vctx, browser.GetVersion, cdp.Empty{})
	if err != nil {
		return 0, fmt.Errorf("asking Chromium (%s) its version: %w", exe, err)
	}
	env.version = v.Product
	env.browser = bctx
	env.slots = make(chan struct{}, maxParallel)

	code := m.Run()
	if err := chromedp.Cancel(bctx); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(os.Stderr, "e2e: closing Chromium: %v\n", err)
	}
	return code, nil
}

// withTimeout runs fn and gives up waiting for it after d.
func withTimeout(d time.Duration, what string, fn func() error) error {
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	case <-time.After(d):
		return fmt.Errorf("%s: no answer after %v", what, d)
	}
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

// tab is one page of the runner (web/test/runner.html) for one class.
type tab struct {
	impl   string // "native" or "ours"
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	console []string // everything the page logged, in order
	fatal   []string // uncaught exceptions and Go runtime deaths
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
		if tt == nil {
			return
		}
		tt.cancel()
		if tb.Failed() {
			tb.Logf("%s tab console:\n%s", impl, tt.consoleText())
		}
	})
	return tt, err
}

// newTab opens a runner tab for impl in a new browser context (its own
// cookie jar and connection pool) and waits until the class is loaded.
func newTab(impl string) (*tab, error) {
	tt := &tab{impl: impl}
	ctx, cancel := chromedp.NewContext(env.browser, chromedp.WithNewBrowserContext(), chromedp.WithListener(tt.listen))
	tt.ctx, tt.cancel = ctx, cancel
	// The first Run binds the tab's life to its context: no timeout there.
	if err := withTimeout(tabStartTimeout, impl+" tab: opening", func() error { return chromedp.Do(ctx) }); err != nil {
		return tt, err
	}
	sctx, scancel := context.WithTimeout(ctx, tabStartTimeout)
	defer scancel()
	if err := chromedp.Do(sctx, chromedp.Navigate(env.srv.URL()+"/test/runner.html#"+impl)); err != nil {
		return tt, fmt.Errorf("%s tab: navigating to the runner: %w", impl, err)
	}
	state, err := chromedp.Run(sctx, chromedp.Poll[string](`globalThis.runnerState !== "loading" && globalThis.runnerState`,
		chromedp.WithPollingInterval(10*time.Millisecond), chromedp.WithPollingTimeout(tabStartTimeout)))
	if err != nil {
		return tt, fmt.Errorf("%s tab: waiting for the runner to load: %w", impl, err)
	}
	if state != "ready" {
		return tt, fmt.Errorf("%s tab: the runner did not load: %s", impl, state)
	}
	return tt, nil
}

// Opening a tab costs 1-2 s here (a renderer process, a window, chromedp's
// attach), far more than most scenarios take, so the conformance scenarios
// share a pool of runner tabs per class. A scenario gets a tab to itself
// while it runs, and its own slice of the tab's console; a tab that saw an
// exception, a Go death, a time-out or any other failure is closed, never
// reused.
type tabPool struct {
	impl string
	idle chan *tab
}

var pools = map[string]*tabPool{
	"native": {impl: "native", idle: make(chan *tab, 2*maxParallel)},
	"ours":   {impl: "ours", idle: make(chan *tab, 2*maxParallel)},
}

// get returns an idle tab of the pool, or a new one.
func (p *tabPool) get() (*tab, error) {
	for {
		select {
		case tt := <-p.idle:
			// Still alive and ready? (A page can die while idle.)
			if s, err := evalIn[string](tt, "globalThis.runnerState", 5*time.Second); err != nil || s != "ready" {
				tt.cancel()
				continue
			}
			tt.mu.Lock()
			tt.console, tt.fatal = nil, nil
			tt.mu.Unlock()
			return tt, nil
		default:
			return newTab(p.impl)
		}
	}
}

// put gives tt back to the pool when it is healthy, else closes it.
func (p *tabPool) put(tt *tab, healthy bool) {
	if tt == nil {
		return
	}
	if healthy && len(tt.fatals()) == 0 {
		select {
		case p.idle <- tt:
			return
		default:
		}
	}
	tt.cancel()
}

// listen runs in chromedp's reader loop: it must not block.
func (tt *tab) listen(ev any) {
	switch e := ev.(type) {
	case *cdpruntime.EventConsoleAPICalled:
		parts := make([]string, 0, len(e.Args))
		for _, a := range e.Args {
			parts = append(parts, remoteText(a))
		}
		text := strings.Join(parts, " ")
		tt.mu.Lock()
		tt.console = append(tt.console, fmt.Sprintf("console.%s: %s", e.Type, text))
		for _, f := range fatalConsole {
			if strings.Contains(text, f) {
				tt.fatal = append(tt.fatal, fmt.Sprintf("console.%s: %s", e.Type, text))
				break
			}
		}
		tt.mu.Unlock()
	case *cdpruntime.EventExceptionThrown:
		d := e.ExceptionDetails
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text += " " + d.Exception.Description
		}
		line := fmt.Sprintf("uncaught exception: %s (%s:%d:%d)", text, d.URL, d.LineNumber+1, d.ColumnNumber+1)
		tt.mu.Lock()
		tt.console = append(tt.console, line)
		tt.fatal = append(tt.fatal, line)
		tt.mu.Unlock()
	}
}

// remoteText renders a console argument the way the DevTools console does,
// roughly: strings as they are, other values as JSON or their description.
func remoteText(a *cdpruntime.RemoteObject) string {
	if a == nil {
		return ""
	}
	if len(a.Value) > 0 {
		var s string
		if err := json.Unmarshal(a.Value, &s); err == nil {
			return s
		}
		return string(a.Value)
	}
	if a.Description != "" {
		return a.Description
	}
	return string(a.Type)
}

// fatals returns the uncaught exceptions and Go deaths seen so far.
func (tt *tab) fatals() []string {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return append([]string(nil), tt.fatal...)
}

// consoleText returns what the page logged, one line each.
func (tt *tab) consoleText() string {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	if len(tt.console) == 0 {
		return "\t(nothing)"
	}
	return "\t" + strings.Join(tt.console, "\n\t")
}

// checkFatal fails tb when the page threw or the Go program died.
func (tt *tab) checkFatal(tb testing.TB) {
	tb.Helper()
	for _, f := range tt.fatals() {
		tb.Errorf("%s tab: %s", tt.impl, f)
	}
}

// eval evaluates a JS expression in the tab, awaiting a promise result, and
// decodes its JSON value into T. It fails after timeout with a message that
// says what hung.
func evalIn[T any](tt *tab, expr string, timeout time.Duration) (T, error) {
	ctx, cancel := context.WithTimeout(tt.ctx, timeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	var v T
	if err != nil {
		if ctx.Err() != nil {
			return v, fmt.Errorf("%s tab: no answer after %v (the page hangs?): %w", tt.impl, timeout, err)
		}
		return v, fmt.Errorf("%s tab: %w", tt.impl, err)
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, fmt.Errorf("%s tab: decoding %.200s: %w", tt.impl, raw, err)
	}
	return v, nil
}

// TestHarness checks that the harness sees what must fail a test: an
// uncaught exception and the console text of a dead Go program.
func TestHarness(t *testing.T) {
	t.Parallel()
	takeSlot(t)
	tt, err := openTab(t, "ours")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := evalIn[int](tt, `setTimeout(() => { throw new Error("harness-boom"); }, 0), 1`, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := evalIn[int](tt, `console.log("panic: harness-test"), 1`, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && len(tt.fatals()) < 2 {
		time.Sleep(20 * time.Millisecond)
	}
	f := strings.Join(tt.fatals(), "\n")
	if !strings.Contains(f, "harness-boom") || !strings.Contains(f, "panic: harness-test") {
		t.Fatalf("the harness missed an exception or a Go panic; it saw:\n%s", f)
	}
}
