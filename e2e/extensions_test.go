//go:build !js

package e2e

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wasm-eventsource/wasm-eventsource/internal/testserver"
)

// TestExtensions checks what only ours does (no native counterpart): other
// methods and bodies, headers, reconnect: false and the close event, error
// status codes, load(), install(), and running in a module worker. Each
// test has its own tab.
func TestExtensions(t *testing.T) {
	t.Parallel()
	t.Run("post-json-with-authorization", func(t *testing.T) {
		r := runOurs(t, []testserver.Conn{ends("data: a\n\ndata: b\n\n")}, source{
			URL: "@S0@",
			InitExpr: `({ method: "POST", headers: { Authorization: "Bearer t0k", "Content-Type": "application/json" },
				body: JSON.stringify({ prompt: "hi" }) })`,
			Listen:   []string{"close"},
			Handlers: []string{"close"},
		})
		wantBriefs(t, r, open1, msg("a"), msg("b"), "close RS2")
		if on := r.lines(0); !slices.Contains(on, "close RS2 via=on") {
			t.Errorf("onclose did not run: %q", on)
		}
		obs := r.requests(0)
		if len(obs) != 1 {
			t.Fatalf("the server saw %d requests, want 1 (a POST is not re-sent):\n%s", len(obs), strings.Join(r.obsLines(0), "\n"))
		}
		o := obs[0]
		if o.Method != "POST" || o.Authorization != "Bearer t0k" || o.ContentType != "application/json" ||
			o.Body != `{"prompt":"hi"}` || o.Accept != "text/event-stream" {
			t.Errorf("the server saw %s", obsLine(o))
		}
	})

	t.Run("headers-as-a-Headers-object", func(t *testing.T) {
		r := runOurs(t, nil, source{
			URL:      "/api/echo?x=1",
			InitExpr: `({ headers: new Headers({ "X-E2E": "yes", Authorization: "Bearer h" }), reconnect: false })`,
			Listen:   []string{"close"},
		})
		if got := briefTypes(r); !slices.Equal(got, []string{"open", "message", "close"}) {
			t.Fatalf("events %q, want open, message, close", got)
		}
		var echo struct {
			Method  string            `json:"method"`
			Headers map[string]string `json:"headers"`
		}
		if err := json.Unmarshal([]byte(*r.trace.Entries[1].Data), &echo); err != nil {
			t.Fatalf("echo: %v", err)
		}
		if echo.Method != "GET" || echo.Headers["x-e2e"] != "yes" || echo.Headers["authorization"] != "Bearer h" ||
			echo.Headers["accept"] != "text/event-stream" {
			t.Errorf("the server echoed %+v", echo)
		}
	})

	t.Run("reconnect-false-ends-with-close", func(t *testing.T) {
		r := runOurs(t, []testserver.Conn{ends("retry: 10\ndata: a\n\n")}, source{
			URL:      "@S0@",
			InitExpr: `({ reconnect: false })`,
			Listen:   []string{"close"},
		})
		wantBriefs(t, r, open1, msg("a"), "close RS2")
		if n := len(r.requests(0)); n != 1 {
			t.Errorf("the server saw %d requests, want 1", n)
		}
	})

	t.Run("post-dropped-mid-body-is-not-resent", func(t *testing.T) {
		// A second between the event and the drop, so that the event is read
		// before the error even on a loaded machine (see resets).
		dropped := resets("retry: 10\ndata: a\n\n")
		dropped.Chunks[len(dropped.Chunks)-1].Delay = time.Second
		r := runOurs(t, []testserver.Conn{dropped, ends("data: b\n\n")}, source{
			URL:      "@S0@",
			InitExpr: `({ method: "POST", body: "once" })`,
			Listen:   []string{"close"},
		})
		wantBriefs(t, r, open1, msg("a"), err2)
		if e := r.trace.Entries[len(r.trace.Entries)-1]; e.Status == nil || *e.Status != 0 {
			t.Errorf("error status %v, want 0 (not an HTTP failure)", e.Status)
		}
		if n := len(r.requests(0)); n != 1 {
			t.Errorf("the server saw %d requests, want 1: the POST was re-sent", n)
		}
	})

	t.Run("post-with-reconnect-true-is-resent", func(t *testing.T) {
		sp := spec{Sources: []source{{
			URL:       "@S0@",
			InitExpr:  `({ method: "POST", body: "again", reconnect: true })`,
			StopAfter: &stop{Events: 5},
		}}, TimeoutMs: 5000}
		r := runOursSpec(t, [][]testserver.Conn{{ends("retry: 50\ndata: a\n\n"), ends("data: b\n\n")}}, sp)
		wantBriefs(t, r, open1, msg("a"), err0, open1, msg("b"), closed)
		obs := r.requests(0)
		if len(obs) != 2 || obs[1].Method != "POST" || obs[1].Body != "again" {
			t.Errorf("want the POST sent twice with its body, the server saw:\n%s", strings.Join(r.obsLines(0), "\n"))
		}
	})

	t.Run("error-status-401-from-chat-without-token", func(t *testing.T) {
		r := runOurs(t, nil, source{
			URL:      "/api/chat",
			InitExpr: `({ method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ prompt: "x" }) })`,
		})
		wantBriefs(t, r, err2)
		wantStatus(t, r, 401)
	})

	t.Run("error-status-500", func(t *testing.T) {
		r := runOurs(t, []testserver.Conn{withStatus(500)}, source{URL: "@S0@"})
		wantBriefs(t, r, err2)
		wantStatus(t, r, 500)
	})

	t.Run("chat-streams-the-answer", func(t *testing.T) {
		r := runOurs(t, nil, source{
			URL: "/api/chat?delay=1",
			InitExpr: `({ method: "POST", headers: { Authorization: "Bearer ` + testserver.DemoToken + `", "Content-Type": "application/json" },
				body: JSON.stringify({ prompt: "tell me" }) })`,
			Listen: []string{"done", "close"},
		})
		var answer strings.Builder
		var types []string
		for _, e := range r.trace.Entries {
			if e.Via != "listener" {
				continue
			}
			types = append(types, e.Type)
			if e.Type == "message" {
				var d struct {
					Delta string `json:"delta"`
				}
				if err := json.Unmarshal([]byte(*e.Data), &d); err != nil {
					t.Fatalf("message %q: %v", *e.Data, err)
				}
				answer.WriteString(d.Delta)
			}
		}
		if want := strings.Join(testserver.ChatDeltas("tell me"), ""); answer.String() != want {
			t.Errorf("answer %q, want %q", answer.String(), want)
		}
		if n := len(types); n < 3 || types[0] != "open" || types[n-2] != "done" || types[n-1] != "close" {
			t.Errorf("events %q, want open, messages, done, close", types)
		}
	})

	t.Run("last-event-id-option-on-first-request", func(t *testing.T) {
		r := runOurs(t, []testserver.Conn{ends("data: a\n\n")}, source{
			URL:       "@S0@",
			InitExpr:  `({ lastEventId: "42" })`,
			StopAfter: &stop{Events: 2},
		})
		wantBriefs(t, r, open1, msgID("a", "42"), closed)
		if obs := r.requests(0); len(obs) == 0 || obs[0].LastEventID != "42" {
			t.Errorf("first request: %q, want Last-Event-ID: 42", r.obsLines(0))
		}
	})

	t.Run("max-event-size-fails-the-connection", func(t *testing.T) {
		r := runOurs(t, []testserver.Conn{ends("data: " + strings.Repeat("x", 4096) + "\n\n")}, source{
			URL:      "@S0@",
			InitExpr: `({ maxEventSize: 1024 })`,
		})
		wantBriefs(t, r, open1, err2)
		if n := len(r.requests(0)); n != 1 {
			t.Errorf("the server saw %d requests, want 1", n)
		}
	})

	t.Run("body-with-GET-throws", func(t *testing.T) {
		r := runOurs(t, nil, source{URL: "@S0@", InitExpr: `({ body: "x" })`})
		if c := r.trace.Sources[0].Ctor; !c.Threw || c.Name != "TypeError" {
			t.Errorf("constructor: %s, want a TypeError", ctorLine(c))
		}
	})

	t.Run("load-is-idempotent", func(t *testing.T) {
		tt := oursTab(t)
		got, err := evalIn[[]any](tt, `(async () => {
			const m = await import("/dist/eventsource.mjs");
			const [a, b] = await Promise.all([m.load(), m.load()]);
			const c = await m.load();
			return [a === b, b === c, typeof a, a.name, a !== globalThis.EventSource];
		})()`, 20*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if want := []any{true, true, "function", "EventSource", true}; !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
		tt.checkFatal(t)
	})

	t.Run("install-sets-globalThis", func(t *testing.T) {
		tt := oursTab(t)
		got, err := evalIn[[]any](tt, `(async () => {
			const native = globalThis.EventSource;
			const m = await import("/dist/eventsource.mjs");
			const c = await m.install();
			const r = [globalThis.EventSource === c, c !== native, c === await m.load()];
			globalThis.EventSource = native;
			return r;
		})()`, 20*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if want := []any{true, true, true}; !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
		tt.checkFatal(t)
	})

	t.Run("module-worker", func(t *testing.T) {
		sp := spec{
			Sources:   []source{{URL: "@S0@", StopAfter: &stop{Events: 2}}},
			TimeoutMs: 10000,
			InWorker:  true,
		}
		r := runOursSpec(t, [][]testserver.Conn{{holds("data: from the worker\n\n")}}, sp)
		if !r.trace.InWorker {
			t.Errorf("the trace did not run in a worker")
		}
		wantBriefs(t, r, open1, msg("from the worker"), closed)
	})
}

// runOurs runs one source with ours in a new tab of its own, until every
// source is CLOSED (then 500 ms more, to see nothing else happens).
func runOurs(t *testing.T, conns []testserver.Conn, src source) *run {
	t.Helper()
	sp := spec{Sources: []source{src}, SettleMs: 500, TimeoutMs: 8000}
	return runOursSpec(t, [][]testserver.Conn{conns}, sp)
}

func runOursSpec(t *testing.T, lists [][]testserver.Conn, sp spec) *run {
	t.Helper()
	tt := oursTab(t)
	r := runSpecIn(tt, t.Name(), "ours", sp, lists, false)
	if r.err != nil {
		t.Fatal(r.err)
	}
	tt.checkFatal(t)
	if r.trace.timedOut() {
		t.Fatalf("the trace timed out:\n%s", r.describe())
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the run:\n%s", r.describe())
		}
	})
	return r
}

// oursTab takes a slot and opens a tab of ours for this test alone.
func oursTab(t *testing.T) *tab {
	t.Helper()
	t.Parallel()
	takeSlot(t)
	tt, err := openTab(t, "ours")
	if err != nil {
		t.Fatal(err)
	}
	return tt
}

// requests returns what the server saw on list k, preflights and HEAD
// probes left out.
func (r *run) requests(k int) []testserver.Observation {
	var out []testserver.Observation
	if k >= len(r.obs) {
		return nil
	}
	for _, o := range r.obs[k] {
		if !o.IsPreflight() && !o.IsProbe() {
			out = append(out, o)
		}
	}
	return out
}

func wantBriefs(t *testing.T, r *run, want ...string) {
	t.Helper()
	if got := r.briefs(0); !slices.Equal(got, want) {
		t.Errorf("events:\n\tgot  %s\n\twant %s", strings.Join(got, " | "), strings.Join(want, " | "))
	}
}

func briefTypes(r *run) []string {
	var out []string
	for _, e := range r.trace.Entries {
		if e.Via == "listener" {
			out = append(out, e.Type)
		}
	}
	return out
}

func wantStatus(t *testing.T, r *run, status int) {
	t.Helper()
	for _, e := range r.trace.Entries {
		if e.Type == "error" && e.Via == "listener" {
			if e.Status == nil || *e.Status != status {
				t.Errorf("error event status %v, want %d", e.Status, status)
			}
			if e.Message == nil || !strings.Contains(*e.Message, strconv.Itoa(status)) {
				t.Errorf("error event message %v, want one that names %d", e.Message, status)
			}
			return
		}
	}
	t.Errorf("no error event")
}
