//go:build !js

package e2e

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/wasm-eventsource/wasm-eventsource/e2e/chromium"
	"github.com/wasm-eventsource/wasm-eventsource/internal/testserver"
)

// TestShared checks shared streams (new EventSource(url, { shared: true }),
// jsglue/shared.mjs and shared-worker.mjs): tabs of one browser context
// share one upstream request run by a SharedWorker, and each tab's object
// behaves as an unshared one. It also runs the class itself in each kind of
// worker. The multi-tab tests drive runner.html#shared tabs through
// e2e/pages/tabs.mjs.
func TestShared(t *testing.T) {
	t.Parallel()

	t.Run("ten-tabs-one-request", func(t *testing.T) {
		// Events start joinWait after the request, so that every tab has
		// joined before the first; then one every 50 ms for 100 s.
		c := testserver.Conn{End: testserver.EndHold}
		for i := 1; i <= 2000; i++ {
			d := 50 * time.Millisecond
			if i == 1 {
				d = joinWait
			}
			c.Chunks = append(c.Chunks, testserver.Chunk{Delay: d, Data: fmt.Sprintf("id: %d\ndata: e%d\n\n", i, i)})
		}
		id, url := sharedScenario(t, c)
		tabs := sharedTabs(t, 10)
		openAll(t, tabs, url)
		for _, tt := range tabs {
			waitLog(t, tt, 21, 20*time.Second) // open and 20 events
		}
		if n := len(realRequests(env.srv.Observations(id))); n != 1 {
			t.Fatalf("the server saw %d requests from 10 tabs, want 1:\n%s", n, strings.Join(obsText(id), "\n"))
		}
		for i, tt := range tabs {
			wantSequence(t, i, tabLog(t, tt))
		}
		// Detach 9: four with close(), five by closing the tab (no close()).
		for i := 1; i <= 4; i++ {
			if _, err := evalIn[int](tabs[i], `import("/test/tabs.mjs").then((m) => m.close())`, scaled(5*time.Second)); err != nil {
				t.Fatal(err)
			}
		}
		for i := 5; i <= 9; i++ {
			tabs[i].cancel()
		}
		last := tabs[0]
		waitClients(t, last, 1)
		n := len(tabLog(t, last))
		waitLog(t, last, n+10, 10*time.Second)
		wantSequence(t, 0, tabLog(t, last))
		if obs := realRequests(env.srv.Observations(id)); len(obs) != 1 || !obs[0].Ended.IsZero() {
			t.Fatalf("with one tab left the request should go on alone:\n%s", strings.Join(obsText(id), "\n"))
		}
		// Closing the last tab (no close()) ends the request.
		last.cancel()
		waitEnded(t, id, 0)
	})

	t.Run("a-tab-joining-a-live-stream-gets-its-own-open", func(t *testing.T) {
		id, url := sharedScenario(t, ticks(300))
		tabs := sharedTabs(t, 2)
		openAll(t, tabs[:1], url)
		waitLog(t, tabs[0], 4, 10*time.Second)
		openAll(t, tabs[1:], url)
		waitLog(t, tabs[1], 4, 10*time.Second)
		l := tabLog(t, tabs[1])
		if l[0] != open1 || !strings.HasPrefix(l[1], "message(") || strings.HasPrefix(l[1], `message("e1"`) {
			t.Errorf("the joining tab saw %q, want its own open, then the live events", l)
		}
		var first int
		if _, err := fmt.Sscanf(l[1], "message(\"e%d", &first); err == nil {
			for k, e := range l[1:] {
				if want := msgID(fmt.Sprintf("e%d", first+k), strconv.Itoa(first+k)); e != want {
					t.Errorf("the joining tab's entry %d is %s, want %s", k+1, e, want)
					break
				}
			}
		}
		if n := len(realRequests(env.srv.Observations(id))); n != 1 {
			t.Errorf("the server saw %d requests, want 1", n)
		}
	})

	t.Run("a-frame-shares-too-and-leaves-when-removed", func(t *testing.T) {
		id, url := sharedScenario(t, ticks(300))
		tabs := sharedTabs(t, 1)
		openAll(t, tabs, url)
		waitLog(t, tabs[0], 2, 10*time.Second)
		// A same-origin frame of the tab opens the same stream.
		frameLog := `document.querySelector("iframe").contentWindow.eval('import("/test/tabs.mjs").then((m) => m.log)')`
		if _, err := evalIn[int](tabs[0], `new Promise((resolve, reject) => {
			const f = document.createElement("iframe");
			f.src = "/test/runner.html#shared";
			document.body.append(f);
			const poll = () => f.contentWindow?.runnerState === "ready" ? resolve(1) : setTimeout(poll, 20);
			poll();
		}).then(() => document.querySelector("iframe").contentWindow.eval('import("/test/tabs.mjs").then((m) => m.open(`+strconv.Quote(url)+`))'))`, scaled(15*time.Second)); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(scaled(5 * time.Second))
		for {
			l, err := evalIn[[]string](tabs[0], frameLog, scaled(5*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			if len(l) >= 3 {
				if l[0] != open1 || !strings.HasPrefix(l[1], "message(") {
					t.Errorf("the frame saw %q", l)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the frame saw %q", l)
			}
			time.Sleep(50 * time.Millisecond)
		}
		waitClients(t, tabs[0], 2)
		if n := len(realRequests(env.srv.Observations(id))); n != 1 {
			t.Errorf("the server saw %d requests from a tab and its frame, want 1", n)
		}
		// The frame removed (no close()): it is detached, the tab streams on.
		if _, err := evalIn[int](tabs[0], `document.querySelector("iframe").remove(), 1`, scaled(5*time.Second)); err != nil {
			t.Fatal(err)
		}
		waitClients(t, tabs[0], 1)
		n := len(tabLog(t, tabs[0]))
		waitLog(t, tabs[0], n+3, 10*time.Second)
	})

	t.Run("eight-tabs-and-a-fetch", func(t *testing.T) {
		// Over HTTP/1.1 a browser context has 6 connections per origin:
		// eight unshared streams would leave two tabs, and any fetch, waiting.
		id, url := sharedScenario(t, holds("data: hi\n\n"))
		tabs := sharedTabs(t, 8)
		openAll(t, tabs, url)
		for i, tt := range tabs {
			waitLog(t, tt, 1, 15*time.Second)
			if l := tabLog(t, tt); l[0] != open1 {
				t.Errorf("tab %d: %q, want open first", i, l)
			}
		}
		got, err := evalIn[int](tabs[7], `fetch("/test/runner.html", { cache: "no-store" }).then((r) => r.text()).then((s) => s.length)`, scaled(10*time.Second))
		if err != nil || got == 0 {
			t.Errorf("a page fetch with 8 streams open: %d, %v", got, err)
		}
		if n := len(realRequests(env.srv.Observations(id))); n != 1 {
			t.Errorf("the server saw %d stream requests, want 1", n)
		}
	})

	t.Run("reconnection-shares-last-event-id", func(t *testing.T) {
		first := testserver.Conn{Chunks: []testserver.Chunk{{Delay: joinWait, Data: "retry: 300\nid: 7\ndata: a\n\n"}}}
		id, url := sharedScenario(t, first, holds("id: 8\ndata: b\n\n"))
		tabs := sharedTabs(t, 3)
		openAll(t, tabs, url)
		var logs [][]string
		for _, tt := range tabs {
			waitLog(t, tt, 5, 20*time.Second)
			logs = append(logs, tabLog(t, tt))
		}
		want := []string{open1, msgID("a", "7"), "error RS0", open1, msgID("b", "8")}
		for i, l := range logs {
			if len(l) < 5 || !slices.Equal(briefOnly(l[:5]), want) {
				t.Errorf("tab %d: %q, want %q", i, l, want)
			}
			if !slices.Equal(l, logs[0]) {
				t.Errorf("tab %d saw %q, tab 0 %q", i, l, logs[0])
			}
		}
		obs := realRequests(env.srv.Observations(id))
		if len(obs) != 2 || obs[0].HasLastEventID || obs[1].LastEventID != "7" {
			t.Errorf("want two requests, the second with Last-Event-ID 7:\n%s", strings.Join(obsText(id), "\n"))
		}
	})

	t.Run("a-tab-closed-during-the-wait-is-detached", func(t *testing.T) {
		// A wait long enough to close tabs in, even on a loaded machine.
		first := testserver.Conn{Chunks: []testserver.Chunk{{Delay: joinWait, Data: fmt.Sprintf("retry: %d\ndata: a\n\n", closingWait.Milliseconds())}}}
		id, url := sharedScenario(t, first, holds("data: b\n\n"))
		tabs := sharedTabs(t, 3)
		openAll(t, tabs, url)
		for _, tt := range tabs {
			waitLog(t, tt, 3, 20*time.Second) // open, a, error
		}
		// During the wait: tab 2 goes away, tab 1 calls close().
		tabs[2].cancel()
		if _, err := evalIn[int](tabs[1], `import("/test/tabs.mjs").then((m) => m.close())`, scaled(5*time.Second)); err != nil {
			t.Fatal(err)
		}
		waitLog(t, tabs[0], 5, 15*time.Second)
		if l := briefOnly(tabLog(t, tabs[0])); !slices.Equal(l, []string{open1, msg("a"), "error RS0", open1, msg("b")}) {
			t.Errorf("tab 0: %q", l)
		}
		if l := briefOnly(tabLog(t, tabs[1])); !slices.Equal(l, []string{open1, msg("a"), "error RS0", closed}) {
			t.Errorf("tab 1 (closed during the wait) saw %q", l)
		}
		waitClients(t, tabs[0], 1)
		// The last tab goes: had tab 1 or 2 stayed attached, the request would go on.
		tabs[0].cancel()
		waitEnded(t, id, 1)
	})

	t.Run("the-last-tab-closed-during-the-wait-ends-it", func(t *testing.T) {
		first := testserver.Conn{Chunks: []testserver.Chunk{{Delay: joinWait, Data: fmt.Sprintf("retry: %d\ndata: a\n\n", closingWait.Milliseconds())}}}
		id, url := sharedScenario(t, first, holds("data: b\n\n"))
		tabs := sharedTabs(t, 2)
		openAll(t, tabs, url)
		for _, tt := range tabs {
			waitLog(t, tt, 3, 20*time.Second)
		}
		tabs[1].cancel()
		if _, err := evalIn[int](tabs[0], `import("/test/tabs.mjs").then((m) => m.close())`, scaled(5*time.Second)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(closingWait + time.Second) // the reconnection time, and more
		if n := len(realRequests(env.srv.Observations(id))); n != 1 {
			t.Errorf("the server saw %d requests, want 1 (no reconnection once every tab left):\n%s", n, strings.Join(obsText(id), "\n"))
		}
	})

	t.Run("traces-equal-unshared", func(t *testing.T) {
		// Conformance scenarios that a shared GET stream runs: the trace of a
		// shared tab must equal an unshared tab's, and native's expectation.
		names := []string{
			"request/headers-same-origin", "event/shapes", "dispatch/id-persists-across-events",
			"dispatch/named-not-onmessage", "order/one-event-per-task", "last-event-id/sent-on-reconnect",
			"last-event-id/persists-across-reconnects", "reconnect/three-times", "status/500-on-reconnect",
			"close/inside-onmessage-same-chunk", "close/inside-error-typed-message", "close/pending-reconnect",
		}
		byName := map[string]*scenario{}
		for _, sc := range allScenarios() {
			byName[sc.name] = sc
		}
		t.Parallel()
		takeSlot(t)
		ours, err := openTab(t, "ours")
		if err != nil {
			t.Fatal(err)
		}
		shared, err := openTab(t, "shared")
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			sc := byName[name]
			if sc == nil {
				t.Errorf("no scenario %s", name)
				continue
			}
			lists := append([][]testserver.Conn{sc.conns}, sc.more...)
			for attempt := 1; ; attempt++ {
				var u, s *run
				var wg sync.WaitGroup
				wg.Add(2)
				go func() { defer wg.Done(); u = runSpecIn(ours, "shared."+name, "ours", sc.spec, lists, false) }()
				go func() { defer wg.Done(); s = runSpecIn(shared, "shared."+name, "shared", sc.spec, lists, false) }()
				wg.Wait()
				if u.err != nil || s.err != nil {
					t.Fatalf("%s: unshared: %v; shared: %v", name, u.err, s.err)
				}
				diffs, timing := compareRuns(sc, u, s)
				if len(diffs) == 0 && len(timing) > 0 && attempt < timingAttempts {
					continue
				}
				diffs = append(diffs, timing...)
				if got := s.briefs(0); !slices.Equal(got, sc.want) {
					diffs = append(diffs, fmt.Sprintf("shared: %s, want %s", strings.Join(got, " | "), strings.Join(sc.want, " | ")))
				}
				if len(diffs) > 0 {
					t.Errorf("%s: unshared (left) and shared (right) differ:\n%s\n%s", name, strings.Join(diffs, "\n"), describeRuns(u, s))
				}
				break
			}
		}
		// Every one of them ran in the worker, not in the page.
		got, err := evalIn[int](shared, `import("/dist/shared.mjs").then((m) => m.stats()).then((s) => s.tab.opened)`, scaled(5*time.Second))
		if err != nil || got != len(names) {
			t.Errorf("shared streams opened by the tab: %d (%v), want %d", got, err, len(names))
		}
		// The page loaded no engine: it had nothing to run itself.
		const wasmLoaded = `performance.getEntriesByType("resource").some((e) => e.name.endsWith("/eventsource.wasm"))`
		if got, err := evalIn[bool](shared, wasmLoaded, scaled(5*time.Second)); err != nil || got {
			t.Errorf("the shared tab loaded eventsource.wasm itself: %v %v", got, err)
		}
		// What cannot be shared runs in the page (which then loads the
		// engine): a POST with a body.
		r := runSpecIn(shared, "shared.post-in-page", "shared", spec{Sources: []source{{
			URL: "@S0@", InitExpr: `({ method: "POST", body: "x" })`, Listen: []string{"close"},
		}}, SettleMs: 300, TimeoutMs: 8000}, [][]testserver.Conn{{ends("data: a\n\n")}}, false)
		if r.err != nil {
			t.Fatal(r.err)
		}
		wantBriefs(t, r, open1, msg("a"), "close RS2")
		if got, err := evalIn[bool](shared, wasmLoaded, scaled(5*time.Second)); err != nil || !got {
			t.Errorf("the POST ran without the engine in the page? %v %v", got, err)
		}
		if got, err := evalIn[int](shared, `import("/dist/shared.mjs").then((m) => m.stats()).then((s) => s.tab.opened)`, scaled(5*time.Second)); err != nil || got != len(names) {
			t.Errorf("a POST went to the worker: shared streams opened %d (%v), want %d", got, err, len(names))
		}
		ours.checkFatal(t)
		shared.checkFatal(t)
	})

	t.Run("engine-left-out-of-the-page", func(t *testing.T) {
		// load({ shared: true }) loads no engine in the page: a stream that
		// cannot be shared waits for it (close() meanwhile sends nothing),
		// and an option only the engine refuses is an error, from the worker.
		idPost, pathPost := sharedScenario(t, ends("data: a\n\n"))
		t.Parallel()
		takeSlot(t)
		shared, err := openTab(t, "shared")
		if err != nil {
			t.Fatal(err)
		}
		got, err := evalIn[[]any](shared, `(async () => {
			const { load } = await import("/dist/eventsource.mjs");
			const ES = await load();
			const a = new ES(`+strconv.Quote(pathPost)+`, { method: "POST", body: "x" });
			const rs = a.readyState;
			a.close();
			const b = new ES(`+strconv.Quote(pathPost)+`, { shared: true, lastEventId: "a\nb" });
			const e = await new Promise((resolve) => { b.onerror = resolve; });
			return [rs, a.readyState, e.kind, b.readyState, e.message];
		})()`, scaled(10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 5 || got[0] != 0.0 || got[1] != 2.0 || got[2] != "internal" || got[3] != 2.0 || !strings.Contains(fmt.Sprint(got[4]), "lastEventId") {
			t.Errorf("got %v, want [0 2 internal 2 <a message about lastEventId>]", got)
		}
		time.Sleep(time.Second)
		if obs := env.srv.Observations(idPost); len(obs) != 0 {
			t.Errorf("close() before the engine loaded, yet the server saw:\n%s", strings.Join(obsText(idPost), "\n"))
		}
		shared.checkFatal(t)
	})

	t.Run("a-stopped-worker-fails-the-streams", func(t *testing.T) {
		// A MessagePort says nothing when the worker dies: each page waits
		// on a Web Lock the worker holds for its life.
		id, url := sharedScenario(t, ticks(300))
		tabs := sharedTabs(t, 2)
		openAll(t, tabs, url)
		for _, tt := range tabs {
			waitLog(t, tt, 2, 10*time.Second)
		}
		res, err := chromedp.CallBrowser(tabs[0].ctx, target.GetTargets, target.GetTargetsParams{})
		if err != nil {
			t.Fatal(err)
		}
		bc := chromedp.FromContext(tabs[0].ctx).BrowserContextID
		stopped := 0
		for _, ti := range res.TargetInfos {
			if ti.Type == "shared_worker" && ti.BrowserContextID == bc && strings.HasSuffix(ti.URL, "/dist/shared-worker.mjs") {
				if _, err := chromedp.CallBrowser(tabs[0].ctx, target.CloseTarget, target.CloseTargetParams{TargetID: ti.TargetID}); err != nil {
					t.Fatal(err)
				}
				stopped++
			}
		}
		if stopped != 1 {
			t.Fatalf("found %d shared workers of this context to stop, want 1", stopped)
		}
		want := "error RS2 kind=internal status=0"
		for i, tt := range tabs {
			deadline := time.Now().Add(scaled(5 * time.Second))
			for l := tabLog(t, tt); !slices.Contains(l, want); l = tabLog(t, tt) {
				if time.Now().After(deadline) {
					t.Fatalf("tab %d: %q, want an internal error that closes", i, l)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
		time.Sleep(300 * time.Millisecond) // nothing after it
		for i, tt := range tabs {
			if l := tabLog(t, tt); l[len(l)-1] != want {
				t.Errorf("tab %d saw events after the error: %q", i, l)
			}
		}
		waitEnded(t, id, 0)
	})

	t.Run("for-await-and-error-details", func(t *testing.T) {
		_, okPath := sharedScenario(t, holds("data: a\n\n", "event: x\ndata: b\n\n", "data: c\n\n"))
		id500 := "shared~" + idUnsafe.ReplaceAllString(t.Name(), ".") + "~500"
		path500 := env.srv.Handle(id500, testserver.Scenario{Conns: []testserver.Conn{{
			Status: 500, Headers: map[string]string{"Content-Type": "application/json", "X-Request-Id": "r1"},
			Chunks: chunks([]string{`{"error":"boom"}`}),
		}}})
		t.Parallel()
		takeSlot(t)
		shared, err := openTab(t, "shared")
		if err != nil {
			t.Fatal(err)
		}
		got, err := evalIn[[]any](shared, `(async () => {
			const { load, sharedStats } = await import("/dist/eventsource.mjs");
			const ES = await load();
			const es = new ES(`+strconv.Quote(okPath)+`);
			const seen = [];
			for await (const m of es) {
				seen.push(m.type + ":" + m.data);
				if (seen.length === 3) break;
			}
			const failing = new ES(`+strconv.Quote(path500)+`);
			let caught = null;
			try {
				for await (const m of failing) seen.push(m.data);
			} catch (err) {
				caught = [err.name, err.kind, err.status, err.body, err.headers?.get("x-request-id") ?? null];
			}
			const opened = (await sharedStats()).tab.opened;
			return [seen.join(","), es.readyState, failing.readyState, caught, opened];
		})()`, scaled(15*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		want := `["message:a,x:b,message:c",2,2,["EventSourceError","http",500,"{\"error\":\"boom\"}","r1"],2]`
		if b, _ := json.Marshal(got); string(b) != want {
			t.Errorf("got  %s\nwant %s", b, want)
		}
		shared.checkFatal(t)
	})

	// The class itself in every kind of worker (dedicated: TestExtensions).
	for _, kind := range []string{"shared-worker", "service-worker"} {
		t.Run("in-a-"+kind, func(t *testing.T) {
			tt := oursTab(t)
			if _, err := evalIn[string](tt, `import("/test/workers.mjs").then((m) => m.use("`+kind+`"))`, scaled(10*time.Second)); err != nil {
				t.Fatal(err)
			}
			sp := spec{Sources: []source{{URL: "@S0@", StopAfter: &stop{Events: 2}}}, TimeoutMs: 10000}
			r := runSpecIn(tt, t.Name(), "ours", sp, [][]testserver.Conn{{holds("data: from the worker\n\n")}}, false)
			if r.err != nil {
				t.Fatal(r.err)
			}
			if !r.trace.InWorker {
				t.Errorf("the trace did not run in a %s", kind)
			}
			wantBriefs(t, r, open1, msg("from the worker"), closed)
			tt.checkFatal(t)
		})
	}

	t.Run("shared-in-a-dedicated-worker-runs-there", func(t *testing.T) {
		// No SharedWorker in a worker: shared: true falls back to the engine there.
		sp := spec{Sources: []source{{URL: "@S0@", InitExpr: `({ shared: true })`, StopAfter: &stop{Events: 2}}}, TimeoutMs: 10000, InWorker: true}
		r := runOursSpec(t, [][]testserver.Conn{{holds("data: x\n\n")}}, sp)
		wantBriefs(t, r, open1, msg("x"), closed)
	})
}

// ticks is a held response of n events "id: i, data: ei", one every 100 ms.
func ticks(n int) testserver.Conn {
	c := testserver.Conn{End: testserver.EndHold}
	for i := 1; i <= n; i++ {
		c.Chunks = append(c.Chunks, testserver.Chunk{Delay: 100 * time.Millisecond, Data: fmt.Sprintf("id: %d\ndata: e%d\n\n", i, i)})
	}
	return c
}

// joinWait is how long a scenario waits before its first event, so that
// every tab has joined the stream by then, even on a loaded machine.
var joinWait = scaled(2 * time.Second)

// closingWait is the reconnection time of the tests that close tabs during
// it: long enough to do so on a loaded machine.
var closingWait = scaled(1200 * time.Millisecond)

// sharedScenario registers conns under an id of this test and returns the
// id and its URL path.
func sharedScenario(t *testing.T, conns ...testserver.Conn) (id, path string) {
	id = "shared~" + idUnsafe.ReplaceAllString(t.Name(), ".")
	return id, env.srv.Handle(id, testserver.Scenario{Conns: conns})
}

// sharedTabs takes a slot and opens n runner tabs of ours with shared: true
// by default, all in one new browser context (so one SharedWorker and one
// connection pool). Tab 0 owns the context: close it last.
func sharedTabs(t *testing.T, n int) []*tab {
	t.Helper()
	t.Parallel()
	takeSlot(t)
	tabs := make([]*tab, n)
	first := &tab{impl: "shared", console: chromium.NewConsole(chromium.ConsoleOptions{})}
	var err error
	first.ctx, first.cancel, err = env.browser.NewTab(true, first.console.Listen)
	tabs[0] = first
	t.Cleanup(func() {
		for i := len(tabs) - 1; i >= 0; i-- {
			if tt := tabs[i]; tt != nil {
				tt.cancel()
				if t.Failed() {
					t.Logf("tab %d console:\n%s", i, tt.consoleText())
				}
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < n; i++ {
		tt := &tab{impl: "shared", console: chromium.NewConsole(chromium.ConsoleOptions{})}
		tt.ctx, tt.cancel = chromedp.NewContext(first.ctx, chromedp.WithListener(tt.console.Listen))
		tabs[i] = tt
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, tt := range tabs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i > 0 {
				// The first Run binds the tab's life to its context: no timeout there.
				if errs[i] = chromedp.Do(tt.ctx); errs[i] != nil {
					return
				}
			}
			errs[i] = chromium.Open(tt.ctx, env.srv.URL()+"/test/runner.html#shared",
				`globalThis.runnerState !== "loading" && globalThis.runnerState`, scaled(tabStartTimeout))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("tab %d: %v", i, err)
		}
	}
	return tabs
}

// openAll makes the EventSource of every tab on path, all at once.
func openAll(t *testing.T, tabs []*tab, path string) {
	t.Helper()
	errs := make([]error, len(tabs))
	var wg sync.WaitGroup
	for i, tt := range tabs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = evalIn[int](tt, `import("/test/tabs.mjs").then((m) => m.open(`+strconv.Quote(path)+`, { shared: true }))`, scaled(5*time.Second))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("tab %d: %v", i, err)
		}
	}
}

func tabLog(t *testing.T, tt *tab) []string {
	t.Helper()
	l, err := evalIn[[]string](tt, `import("/test/tabs.mjs").then((m) => m.log)`, scaled(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// waitLog waits until the tab has logged n entries.
func waitLog(t *testing.T, tt *tab, n int, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(scaled(d))
	for {
		l := tabLog(t, tt)
		if len(l) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the tab logged %d entries after %v, want %d: %q", len(l), scaled(d), n, l)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitClients waits until the worker has one upstream with n clients.
func waitClients(t *testing.T, tt *tab, n int) {
	t.Helper()
	deadline := time.Now().Add(scaled(5 * time.Second))
	for {
		got, err := evalIn[[]int](tt, `import("/dist/shared.mjs").then((m) => m.stats()).then((s) => s.worker.upstreams.map((u) => u.clients))`, scaled(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if slices.Equal(got, []int{n}) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the worker's upstreams have %v clients, want [%d]", got, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitEnded waits until the server is done with request k of scenario id.
func waitEnded(t *testing.T, id string, k int) {
	t.Helper()
	deadline := time.Now().Add(scaled(5 * time.Second))
	for {
		obs := realRequests(env.srv.Observations(id))
		if k < len(obs) && !obs[k].Ended.IsZero() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("request %d still runs after the last tab went:\n%s", k, strings.Join(obsText(id), "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func realRequests(obs []testserver.Observation) []testserver.Observation {
	var out []testserver.Observation
	for _, o := range obs {
		if !o.IsPreflight() && !o.IsProbe() {
			out = append(out, o)
		}
	}
	return out
}

func obsText(id string) []string {
	var out []string
	for _, o := range env.srv.Observations(id) {
		s := obsLine(o)
		if !o.Ended.IsZero() {
			s += " (ended)"
		}
		out = append(out, s)
	}
	return out
}

// wantSequence checks a log of open then e1, e2, ... with ids, in order
// and without a gap.
func wantSequence(t *testing.T, i int, l []string) {
	t.Helper()
	if len(l) == 0 || l[0] != open1 {
		t.Errorf("tab %d: %q, want open first", i, l)
		return
	}
	for k, e := range l[1:] {
		if want := msgID(fmt.Sprintf("e%d", k+1), strconv.Itoa(k+1)); e != want {
			t.Errorf("tab %d: entry %d is %s, want %s", i, k+1, e, want)
			return
		}
	}
}

// briefOnly drops the details tabs.mjs adds to error entries.
func briefOnly(l []string) []string {
	out := make([]string, len(l))
	for i, e := range l {
		out[i], _, _ = strings.Cut(e, " kind=")
	}
	return out
}
