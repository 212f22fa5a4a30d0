//go:build !js

package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/heapprofiler"
	"github.com/chromedp/chromedp"

	"github.com/wasm-eventsource/wasm-eventsource/e2e/chromium"
	"github.com/wasm-eventsource/wasm-eventsource/internal/testserver"
)

// The reliability and security suite (issue 8): what a bad network, a
// careless page and an attacker's redirect do to the engine. The default
// mode is short enough for CI; E2E_RELIABILITY_LONG=1 (make reliability)
// multiplies the rounds.
//
// Each test opens a tab of its own (the runner page with the native class,
// so that ours is not loaded yet) and loads ours there through relSetup,
// which keeps the module's instance to read its linear memory size and the
// core's source count (the es_sources debug export of wasm/main_js.go).

// relLong is the long mode (make reliability).
var relLong = os.Getenv("E2E_RELIABILITY_LONG") != ""

// relN is short in CI, long in the long mode.
func relN(short, long int) int {
	if relLong {
		return long
	}
	return short
}

// relSetup loads ours into the page, capturing the WebAssembly instance on
// the way, and defines globalThis.__rel: the class, the memory size, the
// source count, and run(), which records one source's events.
const relSetup = `(async () => {
  if (globalThis.__rel) return "ready";
  let inst = null;
  const ws = WebAssembly.instantiateStreaming, wi = WebAssembly.instantiate;
  WebAssembly.instantiateStreaming = async function (...a) { const r = await ws.apply(this, a); inst = r.instance; return r; };
  WebAssembly.instantiate = async function (...a) { const r = await wi.apply(this, a); if (r && r.instance) inst = r.instance; return r; };
  let ES;
  try {
    const { load } = await import("/dist/eventsource.mjs");
    ES = await load();
  } finally {
    WebAssembly.instantiateStreaming = ws;
    WebAssembly.instantiate = wi;
  }
  if (!inst) throw new Error("the instance was not captured");
  const x = inst.exports;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  globalThis.__rel = {
    ES, x, sleep,
    native: globalThis.EventSource,
    mem: () => x.mem.buffer.byteLength,
    sources: () => typeof x.es_sources === "function" ? x.es_sources() : -1,
    // run makes one source and records its events until it is CLOSED (and
    // settleMs more), stopAt events, or ms.
    run(C, url, init, { ms = 8000, settleMs = 300, stopAt = 0 } = {}) {
      return new Promise((resolve) => {
        const t0 = performance.now(), events = [];
        let es;
        try {
          es = init === undefined ? new C(url) : new C(url, init);
        } catch (e) {
          resolve({ why: "threw", threw: String(e), events });
          return;
        }
        let done = false, settle = 0;
        const finish = (why) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          clearTimeout(settle);
          es.close();
          resolve({ why, events, elapsed: Math.round(performance.now() - t0) });
        };
        const rec = (e) => {
          events.push({ type: e.type, rs: es.readyState, data: e.data ?? null, kind: e.kind ?? null,
            status: e.status ?? null, message: e.message ?? null, t: Math.round(performance.now() - t0) });
          if (stopAt && events.length >= stopAt) finish("events");
          else if (es.readyState === 2 && !settle) settle = setTimeout(() => finish("closed"), settleMs);
        };
        for (const type of ["open", "message", "error", "close"]) es.addEventListener(type, rec);
        const timer = setTimeout(() => finish("ms"), ms);
      });
    },
  };
  return "ready";
})()`

// relEvent is one event run() recorded.
type relEvent struct {
	Type    string  `json:"type"`
	RS      int     `json:"rs"`
	Data    *string `json:"data"`
	Kind    *string `json:"kind"`
	Status  *int    `json:"status"`
	Message *string `json:"message"`
	T       int     `json:"t"`
}

type relRun struct {
	Why     string     `json:"why"`
	Threw   string     `json:"threw"`
	Events  []relEvent `json:"events"`
	Elapsed int        `json:"elapsed"`
}

func (r relRun) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ended by %s after %d ms%s:", r.Why, r.Elapsed, r.Threw)
	for _, e := range r.Events {
		fmt.Fprintf(&b, "\n\t%5d ms %s rs=%d", e.T, e.Type, e.RS)
		if e.Data != nil {
			fmt.Fprintf(&b, " data=%q", *e.Data)
		}
		if e.Kind != nil {
			fmt.Fprintf(&b, " kind=%s", *e.Kind)
		}
		if e.Message != nil {
			fmt.Fprintf(&b, " message=%q", *e.Message)
		}
	}
	return b.String()
}

// count returns how many events of type typ were recorded.
func (r relRun) count(typ string) int {
	n := 0
	for _, e := range r.Events {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// relTab opens a tab of its own at url (the runner page with the native
// class when url is empty) and loads ours there with relSetup. ready is the
// state expression chromium.Open waits for.
func relTab(t *testing.T, url, ready string) *tab {
	t.Helper()
	takeSlot(t)
	if url == "" {
		url = env.srv.URL() + "/test/runner.html#native"
		ready = `globalThis.runnerState !== "loading" && globalThis.runnerState`
	}
	tt := &tab{impl: "reliability", console: chromium.NewConsole(chromium.ConsoleOptions{})}
	var err error
	tt.ctx, tt.cancel, err = env.browser.NewTab(true, tt.console.Listen)
	t.Cleanup(func() {
		tt.cancel()
		if t.Failed() {
			t.Logf("tab console:\n%s", tt.consoleText())
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := chromium.Open(tt.ctx, url, ready, scaled(tabStartTimeout)); err != nil {
		t.Fatal(err)
	}
	if _, err := evalIn[string](tt, relSetup, scaled(tabStartTimeout)); err != nil {
		t.Fatal(err)
	}
	return tt
}

// relEval evaluates expr in tt, failing the test on an error.
func relEval[T any](t *testing.T, tt *tab, expr string, timeout time.Duration) T {
	t.Helper()
	v, err := evalIn[T](tt, expr, scaled(timeout))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// relRunIn runs __rel.run in tt: class is "__rel.ES" or "__rel.native",
// init a JS expression ("undefined" for none).
func relRunIn(t *testing.T, tt *tab, class, url, init string, ms int) relRun {
	t.Helper()
	ms = scaledTimeoutMs(ms)
	expr := fmt.Sprintf(`__rel.run(%s, %s, %s, { ms: %d })`, class, js(url), init, ms)
	return relEval[relRun](t, tt, expr, time.Duration(ms)*time.Millisecond+20*time.Second)
}

// relID is a scenario id unique to this test.
func relID(t *testing.T, name string) string {
	return "rel/" + t.Name() + "/" + name
}

// relWaitQuiet returns the observations of scenario id once no new one has
// arrived for quiet (or after 30 s, when requests never stop: the caller's
// checks then fail on their number).
func relWaitQuiet(id string, quiet time.Duration) []testserver.Observation {
	n := -1
	deadline := time.Now().Add(30 * time.Second)
	for {
		obs := env.srv.Observations(id)
		if len(obs) == n || time.Now().After(deadline) {
			return obs
		}
		n = len(obs)
		time.Sleep(quiet)
	}
}

// ---------------------------------------------------------------------------
// Header leaks across cross-origin redirects.

// TestSecurityNoAuthorizationLeak: the stream URL answers 302/307 to another
// origin. fetch strips Authorization on that redirect; every later request
// to the other origin (GET reconnections, a headers function, resume after
// a dropped POST, retryOn reconnections, the HEAD probe) must carry none
// either, and no preflight there may ask for it.
func TestSecurityNoAuthorizationLeak(t *testing.T) {
	t.Parallel()
	const secret = "Bearer SECRET"
	// The other origin allows everything a leak needs, so that a leak shows
	// on the request itself and not only in a preflight.
	open := func(c testserver.Conn) testserver.Conn {
		c.CORS = &testserver.CORS{AllowOrigin: "echo", AllowHeaders: "Authorization, Last-Event-ID, Content-Type, X-Attempt", AllowMethods: "GET, POST"}
		return c
	}
	unavailable := func() testserver.Conn {
		return open(testserver.Conn{Status: 503, Headers: map[string]string{
			"Retry-After": "0", "Access-Control-Expose-Headers": "Retry-After"}})
	}
	cases := []struct {
		name     string
		code     int
		init     string // {A} is the Authorization value
		other    []testserver.Conn
		resume   bool // the init names {RESUME}: a URL of the page's origin that redirects to the other origin
		minOther int  // requests the other origin must see (not counting preflights and probes)
	}{
		{
			name: "get-reconnects", code: 307,
			init: `({ headers: { Authorization: {A} } })`,
			other: []testserver.Conn{
				open(ends("retry: 20\nid: 1\ndata: a\n\n")),
				open(testserver.Conn{NoResponse: true}), // a network error: probe, then reconnect
				open(ends("id: 2\ndata: b\n\n")),
				open(resets("id: 3\ndata: c\n\n")),
				open(ends("id: 4\ndata: d\n\n")),
			},
			minOther: 5,
		},
		{
			name: "get-reconnects-after-302", code: 302,
			init:     `({ headers: new Headers({ authorization: {A} }) })`,
			other:    []testserver.Conn{open(ends("retry: 20\nid: 1\ndata: a\n\n")), open(ends("data: b\n\n")), open(ends("data: c\n\n"))},
			minOther: 3,
		},
		{
			name: "headers-function", code: 307,
			init: `({ headers: async ({ attempt }) => ({ Authorization: {A}, "X-Attempt": String(attempt) }) })`,
			other: []testserver.Conn{
				open(ends("retry: 20\nid: 1\ndata: a\n\n")),
				open(ends("id: 2\ndata: b\n\n")),
				open(testserver.Conn{NoResponse: true}),
				open(ends("id: 3\ndata: c\n\n")),
			},
			minOther: 4,
		},
		{
			// The token refresh of the README: a 401 from the other origin is
			// retried with a new token, which must not go there either.
			name: "headers-function-retryOn-401", code: 307,
			init: `({ headers: ({ status }) => ({ Authorization: status === 401 ? "Bearer REFRESHED" : {A} }), retryOn: [401] })`,
			other: []testserver.Conn{
				open(testserver.Conn{Status: 401, Headers: map[string]string{"Retry-After": "0", "Access-Control-Expose-Headers": "Retry-After"}}),
				open(testserver.Conn{Status: 401, Headers: map[string]string{"Retry-After": "0", "Access-Control-Expose-Headers": "Retry-After"}}),
				open(ends("data: ok\n\n")),
			},
			minOther: 3,
		},
		{
			name: "retryOn-get", code: 307,
			init:     `({ headers: { Authorization: {A} }, retryOn: [503] })`,
			other:    []testserver.Conn{unavailable(), unavailable(), unavailable(), open(ends("data: ok\n\n"))},
			minOther: 4,
		},
		{
			name: "retryOn-post", code: 307,
			init:     `({ method: "POST", body: "prompt", headers: { Authorization: {A} }, retryOn: [503] })`,
			other:    []testserver.Conn{unavailable(), unavailable(), open(ends("data: ok\n\n"))},
			minOther: 3,
		},
		{
			name: "post-reconnect-true", code: 307,
			init:     `({ method: "POST", body: "prompt", headers: { Authorization: {A} }, reconnect: true })`,
			other:    []testserver.Conn{open(ends("retry: 20\ndata: a\n\n")), open(ends("data: b\n\n")), open(ends("data: c\n\n"))},
			minOther: 3,
		},
		{
			name: "resume-after-post-drops", code: 307, resume: true,
			init: `({ method: "POST", body: "prompt", headers: { Authorization: {A} }, resume: {RESUME} })`,
			other: []testserver.Conn{
				open(resets("id: p.1\ndata: a\n\n")),
			},
			minOther: 1,
		},
		{
			name: "resume-function-after-post-drops", code: 307, resume: true,
			init: `({ method: "POST", body: "prompt", headers: () => ({ Authorization: {A} }), resume: () => {RESUME} })`,
			other: []testserver.Conn{
				open(resets("id: p.1\ndata: a\n\n")),
			},
			minOther: 1,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tt := relTab(t, "", "")
			otherID, firstID := relID(t, "other"), relID(t, "first")
			otherPath := env.srv.Handle(otherID, testserver.Scenario{Conns: c.other})
			first := env.srv.Handle(firstID, testserver.Scenario{Conns: []testserver.Conn{redirect(c.code, env.srv.OtherURL()+otherPath)}})
			init := strings.ReplaceAll(c.init, "{A}", js(secret))
			var resumeID, resumeOtherID string
			if c.resume {
				// The resume URL redirects to the other origin too, where the
				// stream drops again, then ends.
				resumeID, resumeOtherID = relID(t, "resume"), relID(t, "resume-other")
				ro := env.srv.Handle(resumeOtherID, testserver.Scenario{Conns: []testserver.Conn{
					open(resets("id: p.2\ndata: b\n\n")), open(ends("id: p.3\ndata: c\n\n"))}})
				rd := redirect(302, env.srv.OtherURL()+ro)
				rp := env.srv.Handle(resumeID, testserver.Scenario{Conns: []testserver.Conn{rd, rd, rd}})
				init = strings.ReplaceAll(init, "{RESUME}", js(env.srv.URL()+rp))
			}
			r := relRunIn(t, tt, "__rel.ES", env.srv.URL()+first, init, 10000)
			if r.Why == "threw" {
				t.Fatalf("the constructor threw: %s", r.Threw)
			}
			if r.count("open") == 0 {
				t.Errorf("no open event: %s", r)
			}
			// The page's own origin got the header (the test would prove
			// nothing otherwise).
			if obs := env.srv.Observations(firstID); len(obs) == 0 || obs[0].Authorization != secret {
				t.Errorf("the first request did not carry the caller's Authorization: %+v", obs)
			}
			var other []testserver.Observation
			for _, id := range []string{otherID, resumeOtherID} {
				if id != "" {
					other = append(other, relWaitQuiet(id, 300*time.Millisecond)...)
				}
			}
			real := 0
			for _, o := range other {
				if !o.IsPreflight() && !o.IsProbe() {
					real++
				}
				if o.Authorization != "" {
					t.Errorf("LEAK: %s %s to the other origin carried Authorization %q", o.Method, o.Path, o.Authorization)
				}
				if strings.Contains(strings.ToLower(o.AccessControlRequestHeaders), "authorization") {
					t.Errorf("LEAK: a preflight to the other origin asked for %q", o.AccessControlRequestHeaders)
				}
			}
			if real < c.minOther {
				t.Errorf("the other origin saw %d requests, want at least %d (the reconnection paths were not all taken): %s", real, c.minOther, r)
			}
			if c.resume {
				if obs := env.srv.Observations(resumeID); len(obs) == 0 || obs[0].Authorization != secret || obs[0].Method != "GET" {
					t.Errorf("the resume URL (the page's origin) did not get the caller's Authorization on a GET: %+v", obs)
				}
			}
			t.Logf("%d requests to the other origin (%d in all with preflights and probes), none with Authorization", real, len(other))
		})
	}
}

// ---------------------------------------------------------------------------
// The probe.

// TestSecurityProbe: a rejected fetch is probed with a HEAD only when the
// answer changes what happens next: never after a failed POST that will
// not be re-sent; once for a GET, which reconnects or fails by it.
func TestSecurityProbe(t *testing.T) {
	t.Parallel()
	tt := relTab(t, "", "")
	refused := testserver.Conn{Chunks: chunks([]string{"data: x\n\n"}), End: testserver.EndHold} // no CORS
	cases := []struct {
		name, init string
		conns      []testserver.Conn
		other      bool
		probes     int
	}{
		{"post-cors-refused", `({ method: "POST", body: "x" })`, []testserver.Conn{refused}, true, 0},
		{"post-network-error", `({ method: "POST", body: "x" })`, []testserver.Conn{{NoResponse: true}}, false, 0},
		{"post-with-resume-network-error", `({ method: "POST", body: "x", resume: "/api/echo" })`, []testserver.Conn{{NoResponse: true}}, false, 0},
		{"get-reconnect-false-cors-refused", `({ reconnect: false })`, []testserver.Conn{refused}, true, 0},
		{"get-cors-refused", `undefined`, []testserver.Conn{refused}, true, 1},
	}
	for _, c := range cases {
		id := relID(t, c.name)
		path := env.srv.Handle(id, testserver.Scenario{Conns: c.conns})
		base := env.srv.URL()
		if c.other {
			base = env.srv.OtherURL()
		}
		r := relRunIn(t, tt, "__rel.ES", base+path, c.init, 5000)
		if r.count("error") != 1 || len(r.Events) != 1 || r.Events[0].RS != 2 {
			t.Errorf("%s: want one error with readyState CLOSED: %s", c.name, r)
		}
		obs := relWaitQuiet(id, 300*time.Millisecond)
		probes := 0
		for _, o := range obs {
			if o.IsProbe() {
				probes++
			}
		}
		if probes != c.probes {
			t.Errorf("%s: the server saw %d HEAD probes, want %d:\n%v", c.name, probes, c.probes, obs)
		}
	}
}

// ---------------------------------------------------------------------------
// A cross-origin-isolated page.

// TestSecurityCOEP: on a page served with COOP same-origin and COEP
// require-corp, a stream whose cross-origin server refuses CORS fails once
// (one error, readyState CLOSED) and is never retried, and sends nothing
// but its one GET, as native does.
func TestSecurityCOEP(t *testing.T) {
	t.Parallel()
	page := testserver.Conn{
		Headers: map[string]string{
			"Content-Type":                 "text/html; charset=utf-8",
			"Cross-Origin-Opener-Policy":   "same-origin",
			"Cross-Origin-Embedder-Policy": "require-corp",
		},
		Chunks: chunks([]string{"<!doctype html><meta charset=utf-8><title>COEP</title><p>A cross-origin-isolated page."}),
	}
	pagePath := env.srv.Handle(relID(t, "page"), testserver.Scenario{Conns: []testserver.Conn{page}})
	tt := relTab(t, env.srv.URL()+pagePath,
		`document.readyState === "complete" && (globalThis.crossOriginIsolated ? "ready" : "not cross-origin isolated")`)
	for _, class := range []string{"native", "ES"} {
		id := relID(t, class)
		refused := testserver.Conn{Chunks: chunks([]string{"retry: 50\ndata: x\n\n"}), End: testserver.EndHold}
		path := env.srv.Handle(id, testserver.Scenario{Conns: []testserver.Conn{refused, refused, refused, refused}})
		// Long enough for a retry after the default 3 s: none may come.
		start := time.Now()
		r := relRunIn(t, tt, "__rel."+class, env.srv.OtherURL()+path, "undefined", 8000)
		if class == "ES" {
			if d := time.Since(start); d < 3500*time.Millisecond {
				time.Sleep(3500*time.Millisecond - d)
			}
		}
		obs := relWaitQuiet(id, 300*time.Millisecond)
		gets, heads := 0, 0
		for _, o := range obs {
			switch {
			case o.IsProbe():
				heads++
			case !o.IsPreflight():
				gets++
			}
		}
		t.Logf("%s on a COEP page: %d events (%s), %d GET, %d HEAD", class, len(r.Events), r.Why, gets, heads)
		if r.count("error") != 1 || len(r.Events) != 1 || r.Events[0].RS != 2 || r.Why != "closed" {
			t.Errorf("%s: want exactly one error with readyState CLOSED: %s", class, r)
		}
		if gets != 1 {
			t.Errorf("%s: the server saw %d GETs, want 1 (no retry)", class, gets)
		}
		// COEP blocks the no-cors HEAD probe whether or not the server
		// answered: its answer is known, so it is not sent.
		if heads != 0 {
			t.Errorf("%s: the server saw %d HEAD probes, want none", class, heads)
		}
		if class == "ES" && len(r.Events) > 0 {
			if e := r.Events[0]; e.Kind == nil || *e.Kind != "cors" {
				t.Errorf("ours: error %s, want kind cors", r)
			}
		}
	}
	// The same page, a stream that opens and then goes through a server
	// restart (down for 2 s): a rejected reconnection there looks like a
	// refusal (COEP blocks the probe), yet native goes on, and so must ours.
	for _, class := range []string{"native", "ES"} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		serve := func(ln net.Listener, data string) *http.Server {
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Access-Control-Allow-Origin", "*")
				w.Header().Set("Access-Control-Allow-Headers", "Last-Event-ID")
				w.Header().Set("Connection", "close")
				if r.Method == http.MethodOptions {
					w.WriteHeader(http.StatusNoContent)
					return
				}
				w.Header().Set("Content-Type", "text/event-stream")
				w.Write([]byte("retry: 200\ndata: " + data + "\n\n"))
			})}
			go srv.Serve(ln) //nolint:errcheck // ends with ErrServerClosed
			t.Cleanup(func() { srv.Close() })
			return srv
		}
		first := serve(ln, "up")
		go func() {
			time.Sleep(1500 * time.Millisecond)
			first.Close()
			time.Sleep(2 * time.Second)
			ln2, err := net.Listen("tcp", addr)
			if err != nil {
				t.Errorf("restarting the server: %v", err)
				return
			}
			serve(ln2, "back")
		}()
		r := relEval[relRun](t, tt, fmt.Sprintf(`__rel.run(__rel.%s, %s, undefined, { ms: 6000 })`, class, js("http://"+addr+"/s")), 30*time.Second)
		back := 0
		for _, e := range r.Events {
			if e.Type == "message" && e.Data != nil && *e.Data == "back" {
				back++
			}
		}
		t.Logf("%s on a COEP page through a server restart: %d opens, %d errors, %d messages after the restart (%s)",
			class, r.count("open"), r.count("error"), back, r.Why)
		if r.Why != "ms" || back == 0 {
			t.Errorf("%s: want the stream to go on after the restart: %s", class, r)
		}
	}
}

// ---------------------------------------------------------------------------
// Abrupt connection kills with Last-Event-ID replay.

// killServer is a stream of events 1..n (id and data k) that replays after
// Last-Event-ID, on a loopback origin of its own (so cross-origin from the
// page, with CORS), and kills each of the first `kills` connections of a run
// abruptly: a TCP reset after whole events, a reset or an abrupt close in
// the middle of an event, a reset a moment after the data, a reset before
// the response; or ends it cleanly.
type killServer struct {
	srv *http.Server
	url string

	mu   sync.Mutex
	runs map[string]*killRun
}

type killRun struct {
	conns, kills, probes int
	lastIDs              []string
}

func startKillServer(t *testing.T) *killServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ks := &killServer{url: "http://" + ln.Addr().String(), runs: map[string]*killRun{}}
	ks.srv = &http.Server{Handler: ks, ReadHeaderTimeout: 10 * time.Second}
	go ks.srv.Serve(ln) //nolint:errcheck // ends with ErrServerClosed
	t.Cleanup(func() { ks.srv.Close() })
	return ks
}

func (ks *killServer) run(id string) killRun {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if r := ks.runs[id]; r != nil {
		return *r
	}
	return killRun{}
}

func (ks *killServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
	// No connection is reused for a stream: Chromium silently re-sends a
	// request whose reused keep-alive connection breaks before the response,
	// and the page would never see the reset before the response.
	h.Set("Connection", "close")
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Headers", "Last-Event-ID")
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	q := r.URL.Query()
	id := q.Get("run")
	if r.Method == http.MethodHead {
		// Ours probes after a fetch rejected before its response (a reset
		// that came first): the server is up.
		ks.mu.Lock()
		if st := ks.runs[id]; st != nil {
			st.probes++
		}
		ks.mu.Unlock()
		h.Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		return
	}
	n, _ := strconv.Atoi(q.Get("n"))
	kills, _ := strconv.Atoi(q.Get("kills"))
	last, _ := strconv.Atoi(r.Header.Get("Last-Event-ID"))
	ks.mu.Lock()
	st := ks.runs[id]
	if st == nil {
		st = &killRun{}
		ks.runs[id] = st
	}
	conn := st.conns
	st.conns++
	st.lastIDs = append(st.lastIDs, r.Header.Get("Last-Event-ID"))
	kill := st.kills < kills
	if kill {
		st.kills++
	}
	ks.mu.Unlock()
	if last >= n {
		w.WriteHeader(http.StatusNoContent) // the stream is over: no reconnection
		return
	}
	rng := rand.New(rand.NewPCG(uint64(conn), 8))
	mode := conn % 6
	if kill && mode == 4 {
		// A reset before the response: fetch rejects the request as it
		// would a CORS refusal, while the server is up (ours' HEAD probe
		// finds it reachable). Native reconnects.
		c, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		c.Close()
		return
	}
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	event := func(k int) string { return "id: " + strconv.Itoa(k) + "\ndata: " + strconv.Itoa(k) + "\n\n" }
	// Each killed connection carries about n/(kills+1) events.
	per := n/(kills+1) + 1
	upto := n
	if kill {
		upto = min(n-1, last+1+rng.IntN(2*per)) // the last event only comes once every kill is done
	}
	if conn == 0 {
		// The reconnection time first, alone: Chromium's fetch drops what it
		// had not handed to the reader when a reset comes (see resets), and
		// without it each reconnection waits the default 3 s.
		w.Write([]byte("retry: 5\n\n"))
		rc.Flush()
		time.Sleep(100 * time.Millisecond)
	}
	var b strings.Builder
	b.WriteString("retry: 5\n\n")
	for k := last + 1; k <= upto; k++ {
		b.WriteString(event(k))
		if b.Len() > 4096 || k == upto {
			if _, err := w.Write([]byte(b.String())); err != nil {
				return
			}
			if rc.Flush() != nil {
				return
			}
			b.Reset()
		}
	}
	if !kill {
		<-r.Context().Done() // the client closes once it has every event
		return
	}
	if mode == 5 {
		return // a clean end: the client reconnects as after any end
	}
	var partial string
	switch mode {
	case 1, 2:
		if upto < n {
			partial = event(upto + 1)[:3+rng.IntN(8)] // part of the next event
		}
	case 3:
		time.Sleep(30 * time.Millisecond) // the data arrives first
	}
	c, buf, err := rc.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if partial != "" {
		// A chunk of the chunked encoding that holds half an event.
		fmt.Fprintf(buf, "%x\r\n%s\r\n", len(partial), partial)
		buf.Flush()
	}
	if tc, ok := c.(*net.TCPConn); ok && mode != 2 {
		tc.SetLinger(0) // close sends RST: a connection reset
	}
	c.Close()
}

// TestReliabilityKills: the server cuts the connection many times in the
// middle of a stream (resets after whole events, in the middle of one,
// before the response; abrupt closes; clean ends); with Last-Event-ID
// replay, ours (and native, for comparison) gets every event once, in
// order, with its id. A reset before the response is rejected by fetch as
// a CORS refusal would be; ours' probe and re-check tell it apart (see
// Source.Probed).
func TestReliabilityKills(t *testing.T) {
	t.Parallel()
	ks := startKillServer(t)
	n, kills := relN(2000, 20000), relN(40, 400)
	tt := relTab(t, "", "")
	for _, class := range []string{"ES", "native"} {
		id := t.Name() + "/" + class
		url := fmt.Sprintf("%s/kill?run=%s&n=%d&kills=%d", ks.url, id, n, kills)
		type result struct {
			Got    []int  `json:"got"`
			BadIDs int    `json:"badIDs"`
			Errors int    `json:"errors"`
			Opens  int    `json:"opens"`
			Why    string `json:"why"`
			Ms     int    `json:"ms"`
			MaxGap int    `json:"maxGap"` // the longest wait from an error to the next open
		}
		limit := scaledTimeoutMs(relN(30000, 300000))
		res := relEval[result](t, tt, fmt.Sprintf(`new Promise((resolve) => {
			const n = %d, es = new __rel.%s(%s), got = [];
			let badIDs = 0, errors = 0, opens = 0, erredAt = 0, maxGap = 0;
			const t0 = performance.now();
			const end = (why) => { es.close(); clearTimeout(timer); resolve({ got, badIDs, errors, opens, why, maxGap: Math.round(maxGap), ms: Math.round(performance.now() - t0) }); };
			const timer = setTimeout(() => end("timeout"), %d);
			es.onopen = () => { opens++; if (erredAt) maxGap = Math.max(maxGap, performance.now() - erredAt); };
			es.onerror = (e) => { errors++; erredAt = performance.now(); if (es.readyState === 2) end("failed: " + (e.message ?? "")); };
			es.onmessage = (e) => {
				const k = Number(e.data);
				if (e.lastEventId !== e.data) badIDs++;
				got.push(k);
				if (k === n) end("done");
			};
		})`, n, class, js(url), limit), time.Duration(limit)*time.Millisecond+30*time.Second)
		st := ks.run(id)
		lost, dup, disorder := 0, 0, 0
		seen := make(map[int]bool, n)
		prev := 0
		for _, k := range res.Got {
			if seen[k] {
				dup++
			}
			seen[k] = true
			if k <= prev {
				disorder++
			}
			prev = k
		}
		for k := 1; k <= n; k++ {
			if !seen[k] {
				lost++
			}
		}
		t.Logf("%s: %d events, %d connection kills (of %d connections, %d HEAD probes), %d reconnections, %d errors: %d lost, %d duplicated, %d out of order, in %d ms (%s; the longest reconnection took %d ms)",
			class, len(res.Got), st.kills, st.conns, st.probes, res.Opens-1, res.Errors, lost, dup, disorder, res.Ms, res.Why, res.MaxGap)
		if res.Why != "done" || lost != 0 || dup != 0 || disorder != 0 || res.BadIDs != 0 {
			t.Errorf("%s: want every event once, in order, with its id; got %d events, %d lost, %d duplicated, %d out of order, %d with a wrong lastEventId (%s)",
				class, len(res.Got), lost, dup, disorder, res.BadIDs, res.Why)
		}
		if st.kills != kills {
			t.Errorf("%s: the server killed %d connections, want %d", class, st.kills, kills)
		}
	}
}

// ---------------------------------------------------------------------------
// Oversized events and the WASM memory.

// TestReliabilityOversized: several streams at once send an event larger
// than maxEventSize. Each fails with kind too-large and is not retried;
// the module's linear memory grows in proportion to the limit (what the
// streams buffered at once), and a second round of the same reuses it.
func TestReliabilityOversized(t *testing.T) {
	t.Parallel()
	tt := relTab(t, "", "")
	streams := 6 // as many as HTTP/1.1 opens at once to one origin
	const limit = 1 << 20
	const piece = 64 << 10
	// One line of data larger than the limit, in 64 KiB writes: most of it
	// at once, the rest after a pause (when the page samples the memory).
	line := strings.Repeat("x", piece)
	var first, rest []testserver.Chunk
	first = append(first, testserver.Chunk{Data: "data: "})
	for i := 0; i < limit/piece-1; i++ {
		first = append(first, testserver.Chunk{Data: line})
	}
	rest = append(rest, testserver.Chunk{Delay: 1500 * time.Millisecond, Data: line})
	for i := 0; i < 4; i++ {
		rest = append(rest, testserver.Chunk{Data: line})
	}
	conn := testserver.Conn{Chunks: append(first, rest...), End: testserver.EndHold}
	type round struct {
		Before, During, After, Peak int
		Sources, SourcesAfter       int
		Errors                      []relEvent
		Ms                          int
	}
	var rounds []round
	nRounds := relN(3, 8)
	for k := 0; k < nRounds; k++ {
		var urls []string
		for i := 0; i < streams; i++ {
			id := relID(t, fmt.Sprintf("r%d-s%d", k, i))
			urls = append(urls, env.srv.URL()+env.srv.Handle(id, testserver.Scenario{Conns: []testserver.Conn{conn}}))
		}
		list, _ := json.Marshal(urls)
		ms := scaledTimeoutMs(15000)
		r := relEval[round](t, tt, fmt.Sprintf(`(async () => {
			const urls = %s, t0 = performance.now();
			const before = __rel.mem();
			let peak = before, during = 0, sources = 0;
			const sampler = setInterval(() => { peak = Math.max(peak, __rel.mem()); }, 20);
			const errors = [];
			await new Promise((resolve) => {
				const timer = setTimeout(resolve, %d);
				for (const url of urls) {
					const es = new __rel.ES(url, { maxEventSize: %d });
					es.onerror = (e) => {
						if (errors.length === 0) { during = __rel.mem(); sources = __rel.sources(); }
						errors.push({ type: "error", rs: es.readyState, kind: e.kind, message: e.message, status: e.status, t: Math.round(performance.now() - t0) });
						es.close();
						if (errors.length === urls.length) { clearTimeout(timer); setTimeout(resolve, 300); }
					};
				}
			});
			clearInterval(sampler);
			const after = __rel.mem();
			return { Before: before, During: during, After: after, Peak: Math.max(peak, after), Sources: sources,
				SourcesAfter: __rel.sources(), Errors: errors, Ms: Math.round(performance.now() - t0) };
		})()`, list, ms, limit), time.Duration(ms)*time.Millisecond+20*time.Second)
		rounds = append(rounds, r)
		mib := func(b int) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
		t.Logf("round %d: %d streams, maxEventSize %s each: WASM memory %s before, %s when the first failed (%d sources open, each having buffered up to %s), %s after they all failed (peak %s), %d sources left, %d ms",
			k+1, streams, mib(limit), mib(r.Before), mib(r.During), r.Sources, mib(limit), mib(r.After), mib(r.Peak), r.SourcesAfter, r.Ms)
		if len(r.Errors) != streams {
			t.Fatalf("round %d: %d of %d streams failed", k+1, len(r.Errors), streams)
		}
		for _, e := range r.Errors {
			if e.RS != 2 || e.Kind == nil || *e.Kind != "too-large" {
				t.Errorf("round %d: want a too-large error with readyState CLOSED, got rs=%d kind=%v message=%v", k+1, e.RS, e.Kind, e.Message)
			}
		}
		if r.SourcesAfter != 0 {
			t.Errorf("round %d: the core still holds %d sources after they all failed", k+1, r.SourcesAfter)
		}
		// Growth per stream, in limits, since before the first round: the
		// parser's line buffer (grown by doubling, so up to the limit and
		// the copies it outgrew) and what the garbage collector has not
		// reclaimed yet. Later rounds reuse the memory of the first (the
		// heap finds its size over a few rounds, then stops growing): the
		// bound holds for every round. 4-7 times the limit would mean copies
		// kept per chunk, or memory not reused.
		if per := float64(r.Peak-rounds[0].Before) / float64(streams*limit); per > 4 {
			t.Errorf("round %d: the memory grew by %.1f times the limit per stream since the first round (want under 4)", k+1, per)
		}
	}
	if relLong {
		// By the last rounds the heap has found its size.
		if grow := rounds[nRounds-1].Peak - rounds[nRounds-2].Peak; grow > limit*streams/4 {
			t.Errorf("the last round grew the memory by %d bytes: the memory of the rounds before was not reused", grow)
		}
	}
	for i := 0; i < streams; i++ {
		for k := 0; k < nRounds; k++ {
			if obs := env.srv.Observations(relID(t, fmt.Sprintf("r%d-s%d", k, i))); len(obs) != 1 {
				t.Errorf("round %d stream %d: the server saw %d requests, want 1 (a too-large event fails the connection)", k+1, i, len(obs))
			}
		}
	}
}

// ---------------------------------------------------------------------------
// Create and close.

// TestReliabilityCreateClose: 1,000 sources created and closed in one task
// send no request at all; 1,000 more created and closed over many tasks
// (closed in the same task, one to three tasks later, or once open) leave
// no source in the core and no object alive, and the page's own fetch still
// completes at once.
func TestReliabilityCreateClose(t *testing.T) {
	t.Parallel()
	tt := relTab(t, "", "")
	n := relN(1000, 10000)
	sameID, laterID := relID(t, "same-task"), relID(t, "later")
	held := holds("data: x\n\n")
	same := env.srv.Handle(sameID, testserver.Scenario{Conns: []testserver.Conn{held}})
	conns := make([]testserver.Conn, n)
	for i := range conns {
		conns[i] = held
	}
	later := env.srv.Handle(laterID, testserver.Scenario{Conns: conns})
	type result struct {
		Sources0, Sources1, Sources2, Sources3 int
		SameMs, LaterMs, OpenMs, FetchMs       int
		Opened, Errors                         int
		Mem0, Mem1                             int
	}
	ms := scaledTimeoutMs(relN(60000, 600000))
	r := relEval[result](t, tt, fmt.Sprintf(`(async () => {
		const n = %d, ES = __rel.ES, sameURL = %s, laterURL = %s;
		globalThis.__refs = [];
		const task = () => new Promise((r) => { const c = new MessageChannel(); c.port1.onmessage = r; c.port2.postMessage(0); });
		const sources0 = __rel.sources(), mem0 = __rel.mem();
		let errors = 0, opened = 0, openMs = 0;
		let t0 = performance.now();
		for (let i = 0; i < n; i++) {
			const es = new ES(sameURL);
			es.onerror = () => errors++;
			es.close();
			if (i %% 10 === 0) __refs.push(new WeakRef(es));
		}
		const sameMs = Math.round(performance.now() - t0);
		const sources1 = __rel.sources();
		await __rel.sleep(300); // the queued starts run: they must do nothing
		const sources2 = __rel.sources();
		t0 = performance.now();
		for (let i = 0; i < n; i++) {
			const es = new ES(laterURL);
			es.onerror = () => errors++;
			if (i %% 250 === 249) {
				const w0 = performance.now();
				await new Promise((r) => { es.onopen = () => { opened++; r(); }; setTimeout(r, %d); });
				openMs += performance.now() - w0;
			} else {
				for (let k = i %% 4; k > 0; k--) await task();
			}
			es.close();
			if (i %% 10 === 0) __refs.push(new WeakRef(es));
			if (i %% 100 === 99) await task();
		}
		const laterMs = Math.round(performance.now() - t0);
		await __rel.sleep(300);
		const sources3 = __rel.sources();
		t0 = performance.now();
		const res = await fetch("/api/echo?after=create-close", { cache: "no-store" });
		await res.text();
		const fetchMs = Math.round(performance.now() - t0);
		return { Sources0: sources0, Sources1: sources1, Sources2: sources2, Sources3: sources3, SameMs: sameMs,
			LaterMs: laterMs, OpenMs: Math.round(openMs), FetchMs: fetchMs, Opened: opened, Errors: errors, Mem0: mem0, Mem1: __rel.mem() };
	})()`, n, js(env.srv.URL()+same), js(env.srv.URL()+later), scaledTimeoutMs(15000)), time.Duration(ms)*time.Millisecond+30*time.Second)
	sameObs := relWaitQuiet(sameID, 300*time.Millisecond)
	laterObs := relWaitQuiet(laterID, 300*time.Millisecond)
	t.Logf("%d create/close in one task: %d ms, %d requests; %d over many tasks: %d ms (%d ms waiting for open), %d requests (%d waited for open); "+
		"sources in the core %d -> %d -> %d -> %d; the page's fetch then took %d ms; WASM memory %d -> %d KiB",
		n, r.SameMs, len(sameObs), n, r.LaterMs, r.OpenMs, len(laterObs), r.Opened, r.Sources0, r.Sources1, r.Sources2, r.Sources3, r.FetchMs, r.Mem0>>10, r.Mem1>>10)
	if len(sameObs) != 0 {
		t.Errorf("close() in the task of the constructor: the server saw %d requests, want none", len(sameObs))
	}
	if r.Sources0 < 0 {
		t.Fatal("the engine has no es_sources export")
	}
	if r.Sources1 != r.Sources0 || r.Sources2 != r.Sources0 || r.Sources3 != r.Sources0 {
		t.Errorf("sources in the core: %d before, %d, %d and %d after: closed sources are kept", r.Sources0, r.Sources1, r.Sources2, r.Sources3)
	}
	if r.Errors != 0 {
		t.Errorf("%d error events after close()", r.Errors)
	}
	if want := n / 250; r.Opened != want {
		t.Errorf("%d of the %d sources that waited for open opened", r.Opened, want)
	}
	if len(laterObs) > n-n/4 {
		t.Errorf("over many tasks: the server saw %d requests, more than the %d sources not closed in their own task", len(laterObs), n-n/4)
	}
	if limit := scaled(3 * time.Second); time.Duration(r.FetchMs)*time.Millisecond > limit {
		t.Errorf("the page's own fetch took %d ms after the cycles (want under %v): aborted streams hold connections", r.FetchMs, limit)
	}
	// No EventSource stays reachable once closed.
	var alive int
	for try := 0; try < 10; try++ {
		if _, err := chromedp.Call(tt.ctx, heapprofiler.CollectGarbage, cdp.Empty{}); err != nil {
			t.Fatal(err)
		}
		alive = relEval[int](t, tt, `__refs.filter((w) => w.deref() !== undefined).length`, 10*time.Second)
		if alive == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if alive != 0 {
		t.Errorf("%d of %d closed EventSource objects sampled are still reachable after GC", alive, relEval[int](t, tt, `__refs.length`, 10*time.Second))
	}
}

// TestReliabilityLargeEvent: events far larger than any chunk, delivered
// (below maxEventSize) one after another on one page. It reports what the
// module needs for the first (the line buffer grown by doubling, the data
// buffer, the copy handed to JS, and garbage not yet collected) and checks
// that the memory is reused: linear memory never shrinks, and the events
// after the first fit, give or take the garbage collector's pacing, in what
// the first one left. A buffer kept per event would grow it by at least
// the event's size each time.
func TestReliabilityLargeEvent(t *testing.T) {
	t.Parallel()
	tt := relTab(t, "", "")
	size, events := relN(4, 24)<<20, 10
	const piece = 64 << 10
	line := strings.Repeat("y", piece)
	ch := []testserver.Chunk{{Data: "data: "}}
	for i := 0; i < size/piece; i++ {
		ch = append(ch, testserver.Chunk{Data: line})
	}
	ch = append(ch, testserver.Chunk{Data: "\n\n"})
	conn := testserver.Conn{Chunks: ch, End: testserver.EndHold}
	type result struct {
		Before, After, Len, Sources int
	}
	var rs []result
	mib := func(b int) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
	var after []string
	for k := 0; k < events; k++ {
		url := env.srv.URL() + env.srv.Handle(relID(t, strconv.Itoa(k)), testserver.Scenario{Conns: []testserver.Conn{conn}})
		r := relEval[result](t, tt, fmt.Sprintf(`(async () => {
			const before = __rel.mem();
			let len = -1;
			await new Promise((resolve) => {
				const es = new __rel.ES(%s);
				es.onmessage = (e) => { len = e.data.length; es.close(); resolve(); };
				es.onerror = () => { es.close(); resolve(); };
			});
			return { Before: before, After: __rel.mem(), Len: len, Sources: __rel.sources() };
		})()`, js(url)), 60*time.Second)
		rs = append(rs, r)
		after = append(after, mib(r.After))
		if r.Len != size {
			t.Fatalf("event %d: got %d bytes of data, want %d", k+1, r.Len, size)
		}
		if r.Sources != 0 {
			t.Errorf("event %d: the core holds %d sources after close()", k+1, r.Sources)
		}
	}
	first := float64(rs[0].After-rs[0].Before) / float64(size)
	later := float64(rs[events-1].After-rs[0].After) / float64(size)
	t.Logf("%d events of %s: WASM memory %s before the first, then after each: %s (the first took %.1f times its size; the %d after it %.1f times one event more)",
		events, mib(size), mib(rs[0].Before), strings.Join(after, ", "), first, events-1, later)
	// Bounds, not targets: the first event's peak is its line buffer
	// (doubling: up to twice the event), the copies that buffer outgrew,
	// the data buffer, the copy for JS, and garbage; the later ones add
	// only what the collector's pacing leaves (a kept buffer would add
	// at least one event each, nine in all).
	if first > 10 {
		t.Errorf("the first event of %s grew the memory by %.1f times its size (want at most 10)", mib(size), first)
	}
	if later > 7 {
		t.Errorf("the %d events after the first grew the memory by %.1f times one event: it is not reused", events-1, later)
	}
}
