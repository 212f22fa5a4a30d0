//go:build !js

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/heapprofiler"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/profiler"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/wasm-eventsource/wasm-eventsource/e2e/chromium"
)

// findChromium returns the Chromium to drive: -chromium, else the first of
// the usual names on PATH.
func findChromium(flagPath string) (string, error) {
	if flagPath != "" {
		return flagPath, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no Chromium found on PATH (make deps installs Debian's chromium)")
}

// browserSession is one headless Chromium for the whole bench.
type browserSession struct {
	ctx     context.Context // browser context (its first tab stays open)
	cancel  func()
	udd     string
	version string
}

func startBrowser(parent context.Context, execPath string) (*browserSession, error) {
	udd, err := os.MkdirTemp("", "bench-chromium-")
	if err != nil {
		return nil, err
	}
	opts := chromium.Options(execPath, udd)
	actx, cancelA := chromedp.NewExecAllocator(parent, opts...)
	bctx, cancelB := chromedp.NewContext(actx)
	b := &browserSession{ctx: bctx, udd: udd, cancel: func() {
		cancelB()
		cancelA()
		os.RemoveAll(udd)
	}}
	if err := chromedp.Do(bctx); err != nil {
		b.cancel()
		return nil, fmt.Errorf("starting %s: %w", execPath, err)
	}
	v, err := chromedp.CallBrowser(bctx, browser.GetVersion, cdp.Empty{})
	if err != nil {
		b.cancel()
		return nil, fmt.Errorf("Browser.getVersion: %w", err)
	}
	b.version = v.Product
	return b, nil
}

// tab is one page of the bench.
type tab struct {
	ctx    context.Context
	cancel func()
	client string

	mu       sync.Mutex
	problems []string // exceptions, console errors, Go panics
}

// newTab opens a tab. fresh: in a new browser context (new renderer process,
// empty HTTP cache) with the HTTP cache disabled, for cold start-up.
func (b *browserSession) newTab(client string, fresh bool) (*tab, error) {
	var opts []chromedp.ContextOption
	if fresh {
		opts = append(opts, chromedp.WithNewBrowserContext())
	}
	ctx, cancel := chromedp.NewContext(b.ctx, opts...)
	t := &tab{ctx: ctx, cancel: cancel, client: client}
	err := chromedp.Listen(ctx, func(ev any) {
		switch e := ev.(type) {
		case *cdpruntime.EventConsoleAPICalled:
			var parts []string
			for _, a := range e.Args {
				if a.Value != nil {
					var s string
					if json.Unmarshal(a.Value, &s) == nil {
						parts = append(parts, s)
						continue
					}
					parts = append(parts, string(a.Value))
				} else {
					parts = append(parts, a.Description)
				}
			}
			text := strings.Join(parts, " ")
			bad := e.Type == cdpruntime.ConsoleAPICalledTypeError || e.Type == cdpruntime.ConsoleAPICalledTypeAssert
			for _, p := range []string{"panic:", "fatal error:", "exit code:", "Go program has already exited"} {
				if strings.Contains(text, p) {
					bad = true
				}
			}
			if bad {
				t.problem("console." + string(e.Type) + ": " + text)
			}
		case *cdpruntime.EventExceptionThrown:
			d := e.ExceptionDetails
			text := d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				text += " " + d.Exception.Description
			}
			t.problem(fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber+1, text))
		}
	})
	if err != nil {
		cancel()
		return nil, err
	}
	if err := chromedp.Do(ctx); err != nil { // opens the tab
		cancel()
		return nil, err
	}
	if fresh {
		if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
			cancel()
			return nil, err
		}
		if _, err := chromedp.Call(ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true}); err != nil {
			cancel()
			return nil, err
		}
	}
	return t, nil
}

func (t *tab) problem(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.problems) < 20 {
		t.problems = append(t.problems, s)
	}
}

// check returns the problems seen so far as an error.
func (t *tab) check() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.problems) == 0 {
		return nil
	}
	return fmt.Errorf("%s page: %s", t.client, strings.Join(t.problems, "; "))
}

func (t *tab) close() { t.cancel() }

// open navigates to the bench page for the tab's client and waits until the
// client is loaded.
func (t *tab) open(base, extraQuery string) error {
	u := base + "/bench/index.html?client=" + t.client
	if extraQuery != "" {
		u += "&" + extraQuery
	}
	ctx, cancel := context.WithTimeout(t.ctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(u)); err != nil {
		return fmt.Errorf("%s: navigate: %w", t.client, err)
	}
	_, err := chromedp.Run(ctx, chromedp.Poll[bool]("!!(globalThis.bench && (bench.ready || bench.error))",
		chromedp.WithPollingInterval(5*time.Millisecond), chromedp.WithPollingTimeout(60*time.Second)))
	if err != nil {
		return errors.Join(fmt.Errorf("%s: waiting for the page: %w", t.client, err), t.check())
	}
	msg, err := chromedp.Run(ctx, chromedp.Evaluate[string]("bench.error || ''"))
	if err != nil {
		return err
	}
	if msg != "" {
		return errors.Join(fmt.Errorf("%s: %s", t.client, msg), t.check())
	}
	return t.check()
}

// evaluate runs a JS expression (awaiting a promise) with a timeout.
func evaluate[T any](t *tab, expr string, timeout time.Duration) (T, error) {
	ctx, cancel := context.WithTimeout(t.ctx, timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		return v, errors.Join(err, t.check())
	}
	return v, t.check()
}

// request is what a client opens (see connect in web/bench/bench.mjs).
type request struct {
	URL       string            `json:"url"`
	Method    string            `json:"method,omitempty"`
	Headers   map[string]string `json:"headers,omitempty"`
	Body      string            `json:"body,omitempty"`
	NativeURL string            `json:"nativeURL,omitempty"`
}

type runSpec struct {
	Kind string  `json:"kind"` // count | latency
	N    int     `json:"n"`
	Req  request `json:"req"`
	JSON bool    `json:"json,omitempty"`
}

// runResult is what bench.run and bench.stop return.
type runResult struct {
	Count   int       `json:"count"`
	DataLen int       `json:"dataLen"`
	First   string    `json:"first"`
	Last    string    `json:"last"`
	LastID  string    `json:"lastId"`
	Bytes   int64     `json:"bytes"`
	Chunks  int       `json:"chunks"`
	Ms      float64   `json:"ms"`
	Delays  []float64 `json:"delays"`
	// latency: events whose number was not their position
	OutOfOrder int `json:"outOfOrder"`
}

func (t *tab) run(spec runSpec, timeout time.Duration) (runResult, error) {
	b, err := json.Marshal(spec)
	if err != nil {
		return runResult{}, err
	}
	return evaluate[runResult](t, "bench.run("+string(b)+")", timeout)
}

// heapSample is the page's memory after a forced GC.
type heapSample struct {
	At           int     `json:"at_events"`
	JSHeapUsed   float64 `json:"js_heap_used"`
	JSHeapTotal  float64 `json:"js_heap_total"`
	EmbedderUsed float64 `json:"embedder_heap_used"`
	BackingStore float64 `json:"backing_storage"`
	WasmMemory   float64 `json:"wasm_memory"`
}

func (t *tab) heap(at int) (heapSample, error) {
	s := heapSample{At: at}
	for i := 0; i < 2; i++ {
		if _, err := chromedp.Call(t.ctx, heapprofiler.CollectGarbage, cdp.Empty{}); err != nil {
			return s, fmt.Errorf("HeapProfiler.collectGarbage: %w", err)
		}
	}
	u, err := chromedp.Call(t.ctx, cdpruntime.GetHeapUsage, cdp.Empty{})
	if err != nil {
		return s, fmt.Errorf("Runtime.getHeapUsage: %w", err)
	}
	s.JSHeapUsed, s.JSHeapTotal, s.EmbedderUsed, s.BackingStore = u.UsedSize, u.TotalSize, u.EmbedderHeapUsedSize, u.BackingStorageSize
	w, err := evaluate[float64](t, "bench.wasmMemoryBytes()", 10*time.Second)
	if err != nil {
		return s, err
	}
	s.WasmMemory = w
	return s, nil
}

// profileRun runs spec under the CPU profiler (sampling every intervalUS).
func (t *tab) profileRun(spec runSpec, intervalUS int64, timeout time.Duration) (runResult, *profiler.Profile, error) {
	if _, err := chromedp.Call(t.ctx, profiler.Enable, cdp.Empty{}); err != nil {
		return runResult{}, nil, err
	}
	if _, err := chromedp.Call(t.ctx, profiler.SetSamplingInterval, profiler.SetSamplingIntervalParams{Interval: intervalUS}); err != nil {
		return runResult{}, nil, err
	}
	if _, err := chromedp.Call(t.ctx, profiler.Start, cdp.Empty{}); err != nil {
		return runResult{}, nil, err
	}
	res, runErr := t.run(spec, timeout)
	stop, err := chromedp.Call(t.ctx, profiler.Stop, cdp.Empty{})
	if runErr != nil {
		return res, nil, runErr
	}
	if err != nil {
		return res, nil, err
	}
	return res, stop.Profile, nil
}
