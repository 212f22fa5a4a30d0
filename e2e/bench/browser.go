//go:build !js

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

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
	p, err := chromium.Find(flagPath)
	if err != nil && flagPath == "" {
		return "", fmt.Errorf("%w (or give -chromium)", err)
	}
	return p, err
}

// browserSession is one headless Chromium for the whole bench.
type browserSession struct {
	br      *chromium.Browser
	cancel  func() // closes the browser
	version string
}

func startBrowser(parent context.Context, execPath string) (*browserSession, error) {
	b, err := chromium.Start(parent, execPath)
	if err != nil {
		return nil, err
	}
	return &browserSession{br: b, version: b.Version, cancel: func() { _ = b.Close() }}, nil
}

// tab is one page of the bench.
type tab struct {
	ctx     context.Context
	cancel  func()
	client  string
	console *chromium.Console // exceptions, console errors, Go panics
}

// newTab opens a tab. fresh: in a new browser context (new renderer process,
// empty HTTP cache) with the HTTP cache disabled, for cold start-up.
func (b *browserSession) newTab(client string, fresh bool) (*tab, error) {
	// The bench's pages log no error when all is well: console errors are
	// problems too.
	t := &tab{client: client, console: chromium.NewConsole(chromium.ConsoleOptions{ErrorsFatal: true, Limit: 20})}
	ctx, cancel, err := b.br.NewTab(fresh, t.console.Listen)
	if err != nil {
		cancel()
		return nil, err
	}
	t.ctx, t.cancel = ctx, cancel
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

// check returns the problems seen so far as an error.
func (t *tab) check() error {
	problems := t.console.Fatal()
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%s page: %s", t.client, strings.Join(problems, "; "))
}

func (t *tab) close() { t.cancel() }

// open navigates to the bench page for the tab's client and waits until the
// client is loaded.
func (t *tab) open(base, extraQuery string) error {
	u := base + "/bench/index.html?client=" + t.client
	if extraQuery != "" {
		u += "&" + extraQuery
	}
	err := chromium.Open(t.ctx, u, `globalThis.bench && (bench.error ? "error: " + bench.error : bench.ready && "ready")`, 90*time.Second)
	if err != nil {
		return errors.Join(fmt.Errorf("%s: %w", t.client, err), t.check())
	}
	return t.check()
}

// evaluate runs a JS expression (awaiting a promise) with a timeout.
func evaluate[T any](t *tab, expr string, timeout time.Duration) (T, error) {
	v, err := chromium.Eval[T](t.ctx, expr, timeout)
	if err != nil {
		return v, errors.Join(err, t.check())
	}
	return v, t.check()
}

// request is what a client opens (see connect in e2e/bench/page/bench.mjs).
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
	// count=1 pages: the crossings during the run
	Crossings *crossings `json:"crossings"`
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
