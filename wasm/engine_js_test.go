package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall/js"
	"testing"
	"time"

	"github.com/hack-pad/safejs"
)

// These tests run the real class shell (jsglue/eventsource.mjs) against this
// package's engine under Node.js, with a scripted fetch. Run them with
//
//	GOOS=js GOARCH=wasm go test -exec="$(go env GOROOT)/lib/wasm/go_js_wasm_exec" ./wasm/

// harnessJS makes a scripted fetch and a trace recorder.
const harnessJS = `
const h = { requests: [], plan: [] };
h.fetch = (url, init) => {
  const headers = {};
  for (const [k, v] of new Headers(init.headers)) headers[k] = v;
  h.requests.push({ url, method: init.method, headers, body: init.body ?? null,
                    cache: init.cache, credentials: init.credentials });
  const p = h.plan.shift() ?? { status: 204, chunks: [] };
  if (p.reject) return Promise.reject(new TypeError("Failed to fetch"));
  let i = 0, ctl;
  const stream = new ReadableStream({
    start(c) { ctl = c; },
    pull(c) {
      if (i < p.chunks.length) { c.enqueue(p.chunks[i++]); return; }
      if (p.drop) { c.error(new TypeError("network error")); return; }
      if (!p.hold) c.close();
      return new Promise(() => {});
    },
  });
  init.signal?.addEventListener("abort", () => { try { ctl.error(new DOMException("aborted", "AbortError")); } catch {} });
  const hdrs = p.contentType === null ? {} : { "content-type": p.contentType ?? "text/event-stream" };
  const status = p.status ?? 200;
  const nullBody = [101, 103, 204, 205, 304].includes(status);
  return Promise.resolve(new Response(nullBody ? null : stream, { status, headers: hdrs }));
};
h.record = (es, types, onEvent) => {
  const trace = [];
  for (const t of types) es.addEventListener(t, (e) => {
    trace.push({ type: e.type, data: e.data ?? null, id: e.lastEventId ?? null, rs: es.readyState,
                 status: e.status ?? null, message: e.message ?? null, kind: e.constructor.name });
    if (onEvent) onEvent(es, e, trace.length);
  });
  return trace;
};
return h;
`

type env struct {
	t     *testing.T
	class js.Value
	h     js.Value
}

var shared struct {
	class  js.Value
	engine *engine
	err    error
}

func setup(t *testing.T) *env {
	t.Helper()
	if shared.class.IsUndefined() && shared.err == nil {
		shared.class, shared.err = loadClass()
	}
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	h := js.Global().Get("Function").New(harnessJS).Invoke()
	js.Global().Set("fetch", h.Get("fetch"))
	return &env{t: t, class: shared.class, h: h}
}

// loadClass imports the shell and defines the class on this test's engine.
func loadClass() (js.Value, error) {
	path, err := filepath.Abs("../jsglue/eventsource.mjs")
	if err != nil {
		return js.Undefined(), err
	}
	if _, err := os.Stat(path); err != nil {
		return js.Undefined(), err
	}
	mod, err := awaitJS(js.Global().Call("eval", "import('file://"+path+"')"))
	if err != nil {
		return js.Undefined(), err
	}
	internals := mod.Get("_internals")
	e, err := newEngine(safejs.Safe(internals.Get("runtime")))
	if err != nil {
		return js.Undefined(), err
	}
	shared.engine = e
	exports, err := e.exports()
	if err != nil {
		return js.Undefined(), err
	}
	return internals.Call("defineClass", safejs.Unsafe(exports)), nil
}

func awaitJS(p js.Value) (js.Value, error) {
	ch := make(chan js.Value, 1)
	errc := make(chan error, 1)
	ok := js.FuncOf(func(_ js.Value, args []js.Value) any { ch <- args[0]; return nil })
	bad := js.FuncOf(func(_ js.Value, args []js.Value) any { errc <- newJSError(safejs.Safe(args[0])); return nil })
	defer ok.Release()
	defer bad.Release()
	p.Call("then", ok, bad)
	select {
	case v := <-ch:
		return v, nil
	case err := <-errc:
		return js.Undefined(), err
	}
}

// respond adds one scripted response.
type response struct {
	status      int
	contentType any // nil: text/event-stream; js.Null(): none; string
	chunks      []string
	hold, drop  bool
	reject      bool
}

func (e *env) plan(rs ...response) {
	for _, r := range rs {
		chunks := js.Global().Get("Array").New()
		for _, c := range r.chunks {
			u := js.Global().Get("Uint8Array").New(len(c))
			js.CopyBytesToJS(u, []byte(c))
			chunks.Call("push", u)
		}
		p := map[string]any{"chunks": chunks, "hold": r.hold, "drop": r.drop, "reject": r.reject}
		if r.status != 0 {
			p["status"] = r.status
		}
		if r.contentType != nil {
			p["contentType"] = r.contentType
		}
		e.h.Get("plan").Call("push", p)
	}
}

func (e *env) open(url string, init map[string]any) js.Value {
	if init == nil {
		init = map[string]any{}
	}
	es := e.class.New(url, init)
	e.t.Cleanup(func() { es.Call("close") })
	return es
}

// waitTrace waits until the trace has n entries (or the timeout), letting the
// JS event loop run.
func (e *env) waitTrace(trace js.Value, n int) []map[string]any {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for trace.Length() < n && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	// A little longer, to catch events that must not come.
	time.Sleep(30 * time.Millisecond)
	var out []map[string]any
	for i := 0; i < trace.Length(); i++ {
		v := trace.Index(i)
		m := map[string]any{}
		for _, k := range []string{"type", "data", "id", "rs", "status", "message", "kind"} {
			f := v.Get(k)
			switch f.Type() {
			case js.TypeString:
				m[k] = f.String()
			case js.TypeNumber:
				m[k] = f.Int()
			}
		}
		out = append(out, m)
	}
	if len(out) < n {
		e.t.Fatalf("trace has %d entries, want %d: %v", len(out), n, out)
	}
	return out
}

func (e *env) requests() []js.Value {
	r := e.h.Get("requests")
	out := make([]js.Value, r.Length())
	for i := range out {
		out[i] = r.Index(i)
	}
	return out
}

var all = []any{"open", "message", "error", "close"}

func record(e *env, es js.Value, extra ...any) js.Value {
	types := append(append([]any{}, all...), extra...)
	return e.h.Call("record", es, types)
}

func summarize(trace []map[string]any) string {
	var b strings.Builder
	for _, ev := range trace {
		b.WriteString(ev["type"].(string))
		if d, ok := ev["data"].(string); ok {
			b.WriteString("(" + d)
			if id, ok := ev["id"].(string); ok && id != "" {
				b.WriteString("#" + id)
			}
			b.WriteString(")")
		}
		b.WriteString("@")
		b.WriteByte(byte('0' + ev["rs"].(int)))
		b.WriteString(" ")
	}
	return strings.TrimSpace(b.String())
}

func TestStreamReconnectWithLastEventID(t *testing.T) {
	e := setup(t)
	e.plan(
		response{chunks: []string{"retry: 10\nid: 1\ndata: a\n\n", "data: b\r", "\n\r\n"}},
		response{chunks: []string{"data: c\n\n"}},
	)
	es := e.open("http://127.0.0.1:1/s", nil)
	trace := record(e, es)
	got := summarize(e.waitTrace(trace, 8))
	want := "open@1 message(a#1)@1 message(b#1)@1 error@0 open@1 message(c#1)@1 error@0 error@2"
	if got != want {
		t.Fatalf("trace\n got %s\nwant %s", got, want)
	}
	reqs := e.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	if h := reqs[0].Get("headers"); !h.Get("last-event-id").IsUndefined() || h.Get("accept").String() != "text/event-stream" {
		t.Errorf("first request headers wrong: last-event-id=%v accept=%v", h.Get("last-event-id"), h.Get("accept"))
	}
	if got := reqs[1].Get("headers").Get("last-event-id").String(); got != "1" {
		t.Errorf("reconnection Last-Event-ID = %q, want 1", got)
	}
	if got := reqs[0].Get("cache").String(); got != "no-store" {
		t.Errorf("cache = %q", got)
	}
}

func TestCloseInListenerStopsTheBatch(t *testing.T) {
	e := setup(t)
	e.plan(response{chunks: []string{"data: 1\n\ndata: 2\n\ndata: 3\n\n"}, hold: true})
	es := e.open("http://127.0.0.1:1/s", nil)
	trace := record(e, es)
	es.Set("onmessage", js.FuncOf(func(this js.Value, args []js.Value) any {
		this.Call("close")
		return nil
	}))
	got := summarize(e.waitTrace(trace, 2))
	if got != "open@1 message(1)@1" { // recorded before onmessage closed it; 2 and 3 never come
		t.Fatalf("trace %s", got)
	}
}

func TestFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		r      response
		status int
		msg    string
		trace  string
	}{
		{"500", response{status: 500}, 500, "HTTP 500", ""},
		{"204", response{status: 204}, 204, "HTTP 204", ""},
		{"text/plain", response{contentType: "text/plain", chunks: []string{"data: x\n\n"}}, 200, "Content-Type is text/plain", ""},
		{"no content type", response{contentType: js.Null()}, 200, "Content-Type is missing", ""},
		{"too large", response{chunks: []string{"data: " + strings.Repeat("x", 200) + "\n"}}, 0, "exceeds", "open@1 error@2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t)
			e.plan(tc.r)
			es := e.open("http://127.0.0.1:1/s", map[string]any{"maxEventSize": 100})
			trace := record(e, es)
			if tc.trace == "" {
				tc.trace = "error@2"
			}
			tr := e.waitTrace(trace, strings.Count(tc.trace, "@"))
			if got := summarize(tr); got != tc.trace {
				t.Fatalf("trace %s, want %s", got, tc.trace)
			}
			last := tr[len(tr)-1]
			if last["status"] != tc.status || !strings.Contains(last["message"].(string), tc.msg) {
				t.Errorf("status %v message %q; want %d, %q", last["status"], last["message"], tc.status, tc.msg)
			}
			if n := len(e.requests()); n != 1 {
				t.Errorf("%d requests after a failure, want 1 (never retried)", n)
			}
		})
	}
}

func TestPostIsNotResent(t *testing.T) {
	e := setup(t)
	e.plan(response{chunks: []string{"data: {\"delta\":\"hi\"}\n\n"}})
	es := e.open("http://127.0.0.1:1/chat", map[string]any{
		"method":  "POST",
		"headers": map[string]any{"Authorization": "Bearer t", "Content-Type": "application/json"},
		"body":    `{"prompt":"x"}`,
	})
	trace := record(e, es)
	got := summarize(e.waitTrace(trace, 3))
	if got != `open@1 message({"delta":"hi"})@1 close@2` {
		t.Fatalf("trace %s", got)
	}
	reqs := e.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Get("method").String() != "POST" || r.Get("body").String() != `{"prompt":"x"}` ||
		r.Get("headers").Get("authorization").String() != "Bearer t" {
		t.Errorf("request: method %v body %v auth %v", r.Get("method"), r.Get("body"), r.Get("headers").Get("authorization"))
	}
}

func TestPostDroppedIsAnError(t *testing.T) {
	e := setup(t)
	e.plan(response{chunks: []string{"data: 1\n\n"}, drop: true})
	es := e.open("http://127.0.0.1:1/chat", map[string]any{"method": "POST", "body": "x"})
	trace := record(e, es)
	tr := e.waitTrace(trace, 3)
	if got := summarize(tr); got != "open@1 message(1)@1 error@2" {
		t.Fatalf("trace %s", got)
	}
	if m := tr[2]["message"].(string); !strings.Contains(m, "not reconnecting") {
		t.Errorf("message %q", m)
	}
	if n := len(e.requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestUnicodeCrossesIntact(t *testing.T) {
	e := setup(t)
	// A named event, a non-ASCII id, emoji (two UTF-16 units), invalid bytes
	// (E2 82 41 -> U+FFFD "A"), and a 4-byte character split across chunks.
	e.plan(response{chunks: []string{
		"data: \uFEFFbom kept\n\n" +
			"event: \u00e9v\u00e9nement\nid: \u65e5\u672c\ndata: \U0001F600 ok\n\n",
		"data: \xe2\x82A \xf0\x9f", "\x98\x80\n\n",
	}, hold: true})
	es := e.open("http://127.0.0.1:1/s", nil)
	trace := record(e, es, "\u00e9v\u00e9nement")
	got := summarize(e.waitTrace(trace, 4))
	want := "open@1 message(\uFEFFbom kept)@1 \u00e9v\u00e9nement(\U0001F600 ok#\u65e5\u672c)@1 message(\uFFFDA \U0001F600#\u65e5\u672c)@1"
	if got != want {
		t.Fatalf("trace\n got %s\nwant %s", got, want)
	}
	es.Call("close")
}

// Chunks larger than the engine's starting chunk buffer (minChunk) must
// arrive whole, also after smaller ones, and so must a batch larger than
// the first JS buffer it crosses in.
func TestChunksLargerThanTheBuffer(t *testing.T) {
	e := setup(t)
	big := strings.Repeat("x", 3*minChunk)
	e.plan(response{chunks: []string{
		"data: small\n\n",
		"data: " + big + "\n\n",
		"data: " + big[:minChunk-len("data: \n\n")] + "\n\n", // exactly minChunk bytes
		"data: " + big + "y\n\ndata: z\n\n",
	}, hold: true})
	es := e.open("http://127.0.0.1:1/s", nil)
	trace := record(e, es)
	got := e.waitTrace(trace, 6)
	want := []string{"", "small", big, big[:minChunk-len("data: \n\n")], big + "y", "z"}
	for i, w := range want {
		if i == 0 {
			continue // open
		}
		if d, _ := got[i]["data"].(string); d != w {
			t.Errorf("event %d: %d bytes of data, want %d", i, len(d), len(w))
		}
	}
	es.Call("close")
}

func TestUnsupportedSchemeFailsAsync(t *testing.T) {
	e := setup(t)
	es := e.open("ftp://127.0.0.1/x", nil)
	if rs := es.Get("readyState").Int(); rs != 0 {
		t.Fatalf("readyState right after new = %d", rs)
	}
	trace := record(e, es) // added after new: must still see the error
	if got := summarize(e.waitTrace(trace, 1)); got != "error@2" {
		t.Fatalf("trace %s", got)
	}
	if n := len(e.requests()); n != 0 {
		t.Errorf("%d requests for ftp:", n)
	}
}

func TestConstructorErrors(t *testing.T) {
	e := setup(t)
	try := js.Global().Get("Function").New("C", "args", `
		try { new C(...args); return "no error"; } catch (err) { return err.name; }`)
	for _, tc := range []struct {
		args []any
		want string
	}{
		{[]any{}, "TypeError"},
		{[]any{"http://[bad"}, "SyntaxError"},
		{[]any{"http://127.0.0.1:1/", map[string]any{"method": "GET", "body": "x"}}, "TypeError"},
		{[]any{"http://127.0.0.1:1/", map[string]any{"headers": map[string]any{"bad header": "x"}}}, "TypeError"},
		{[]any{"http://127.0.0.1:1/", 5}, "TypeError"},
	} {
		if got := try.Invoke(e.class, js.ValueOf(tc.args)).String(); got != tc.want {
			t.Errorf("new EventSource(%v) threw %s, want %s", tc.args, got, tc.want)
		}
	}
	if got := js.Global().Get("Function").New("C", `try { C("x"); return "no error"; } catch (e) { return e.name; }`).Invoke(e.class).String(); got != "TypeError" {
		t.Errorf("calling without new: %s", got)
	}
}

// BenchmarkStream100k measures the whole path for 100,000 small events in
// 64 KiB chunks: read, parse, batch, cross, slice and dispatch (Node's
// dispatch is much cheaper than a browser's, so Go's share shows).
func BenchmarkStream100k(b *testing.B) {
	t := &testing.T{}
	e := setup(t)
	e.t = t
	const n = 100000
	var body strings.Builder
	for i := 0; i < n; i++ {
		body.WriteString("data: 0123456789abcdef0123456789abcdef\n\n")
	}
	var chunks []string
	for s := body.String(); len(s) > 0; {
		k := min(len(s), 64<<10)
		chunks = append(chunks, s[:k])
		s = s[k:]
	}
	counter := js.Global().Get("Function").New("es", "n", `
		return new Promise((resolve) => {
			let c = 0, bytes = 0;
			es.onmessage = (e) => { bytes += e.data.length; if (++c === n) { es.close(); resolve(bytes); } };
			es.onerror = (e) => resolve(-1);
		});`)
	b.SetBytes(int64(body.Len()))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.plan(response{chunks: chunks, hold: true})
		es := e.class.New("http://127.0.0.1:1/s", map[string]any{})
		got, err := awaitJS(counter.Invoke(es, n))
		if err != nil || got.Int() != 32*n {
			b.Fatalf("got %v bytes, err %v", got, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
}

// TestPanicBecomesErrorEvent: a Go panic while serving a source must not
// kill the module; the source fails with an error event and others go on.
func TestPanicBecomesErrorEvent(t *testing.T) {
	e := setup(t)
	e.plan(response{chunks: []string{"data: 1\n\n"}, hold: true}, response{chunks: []string{"data: 2\n\n"}, hold: true})
	victim := e.open("http://127.0.0.1:1/a", nil)
	other := e.open("http://127.0.0.1:1/b", nil)
	vt, ot := record(e, victim), record(e, other)
	e.waitTrace(vt, 2)
	e.waitTrace(ot, 2)
	var s *source
	for _, src := range shared.engine.sources {
		if src.es.Equal(safejs.Safe(victim)) {
			s = src
		}
	}
	if s == nil {
		t.Fatal("source not found")
	}
	func() {
		defer shared.engine.recoverCallback("test", s)
		panic("boom")
	}()
	tr := e.waitTrace(vt, 3)
	if got := summarize(tr); got != "open@1 message(1)@1 error@2" {
		t.Fatalf("victim trace %s", got)
	}
	if m := tr[2]["message"].(string); !strings.Contains(m, "internal error: boom") {
		t.Errorf("message %q", m)
	}
	if got := summarize(e.waitTrace(ot, 2)); got != "open@1 message(2)@1" {
		t.Errorf("other source disturbed: %s", got)
	}
	if rs := other.Get("readyState").Int(); rs != 1 {
		t.Errorf("other readyState %d", rs)
	}
}
