//go:build !js

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wasm-eventsource/wasm-eventsource/internal/testserver"
)

// TestOptions checks each option beyond native (README, "Options beyond
// native") in headless Chromium against the scenario server: backoff and
// jitter, retryOn and Retry-After, maxRetries, a failed response's body and
// headers, a headers function per attempt, resume after a dropped POST,
// idleTimeout, signal, for await, pauseWhenHidden, reconnectOnOnline, and
// that Authorization never follows a cross-origin redirect into a
// reconnection. The page side is e2e/pages/options.mjs. Timings are checked
// as ranges: never earlier than the wait the engine announced (retryIn),
// and no later than optSlack after it, for a loaded CI machine.
func TestOptions(t *testing.T) {
	t.Parallel()

	t.Run("backoff-exact-growth-without-jitter", func(t *testing.T) {
		c := newOptCase(t, optRepeat(optFail(503, `{"error":"busy"}`, "X-Request-Id", "r1"), 6))
		r := c.record(`new ES("@S0@", { retryOn: [503], maxRetries: 5,
			backoff: { initialDelay: 50, factor: 2, maxDelay: 400, jitter: false } })`, "")
		errs := r.errors()
		if len(errs) != 6 {
			t.Fatalf("%d error events, want 6 (5 retries, then the end)", len(errs))
		}
		want := []int{50, 100, 200, 400, 400}
		var got []int
		for _, e := range errs[:5] {
			got = append(got, e.RetryIn)
			if e.RS != 0 || e.Kind != "http" || e.Status != 503 {
				t.Errorf("retried error: %s, want readyState 0, kind http, status 503", e)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("retryIn %v, want %v", got, want)
		}
		for i, e := range errs {
			if e.Attempt != i {
				t.Errorf("error %d: attempt %d, want %d", i, e.Attempt, i)
			}
		}
		last := errs[5]
		if last.RS != 2 || last.Kind != "retries-exhausted" || last.Status != 503 || last.RetryIn != -1 ||
			last.Body != `{"error":"busy"}` || last.Headers["x-request-id"] != "r1" {
			t.Errorf("last error: %s, want readyState 2, kind retries-exhausted, status 503, retryIn -1 and the response's body and headers", last)
		}
		if r.ReadyState != 2 {
			t.Errorf("readyState %d at the end, want CLOSED", r.ReadyState)
		}
		c.checkWaits(r, 0, 6)
	})

	t.Run("backoff-full-jitter-within-bounds", func(t *testing.T) {
		c := newOptCase(t, optRepeat(optFail(503, "busy"), 8))
		r := c.record(`new ES("@S0@", { retryOn: [503], maxRetries: 7,
			backoff: { initialDelay: 50, maxDelay: 800 } })`, "")
		errs := r.errors()
		if len(errs) != 8 || errs[7].Kind != "retries-exhausted" {
			t.Fatalf("%d error events, want 7 retries then retries-exhausted", len(errs))
		}
		below := 0
		var waits []int
		for i, e := range errs[:7] {
			ceil := min(50<<i, 800)
			waits = append(waits, e.RetryIn)
			if e.RetryIn < 0 || e.RetryIn > ceil {
				t.Errorf("wait %d: retryIn %d outside [0, %d]", i, e.RetryIn, ceil)
			}
			if float64(e.RetryIn) < 0.9*float64(ceil) {
				below++
			}
		}
		if below == 0 {
			t.Errorf("waits %v: every one within 10%% of its ceiling: no jitter?", waits)
		}
		t.Logf("jittered waits (ms): %v, ceilings 50..800", waits)
		c.checkWaits(r, 0, 8)
	})

	t.Run("retry-after-seconds-with-retryOn", func(t *testing.T) {
		busy := optFail(503, `{"error":"overloaded"}`, "Retry-After", "1")
		c := newOptCase(t, []testserver.Conn{busy, holds("data: ok\n\n")})
		r := c.record(`new ES("@S0@", { retryOn: [503], backoff: { initialDelay: 50, jitter: false } })`,
			`(log) => log.some((e) => e.type === "message")`)
		errs := r.errors()
		if len(errs) != 1 || errs[0].RetryIn != 1000 || errs[0].RS != 0 || errs[0].Status != 503 ||
			errs[0].Headers["retry-after"] != "1" || errs[0].Body != `{"error":"overloaded"}` {
			t.Fatalf("errors %v, want one with retryIn 1000 (Retry-After: 1), readyState 0, status 503, its headers and body", errs)
		}
		c.checkWaits(r, 0, 2)
	})

	t.Run("retry-after-http-date", func(t *testing.T) {
		// Set when the test starts: the wait is what is left of 2 s (HTTP
		// dates have whole seconds, so up to 3 s).
		c := newOptCase(t, nil)
		date := time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat)
		c.set(0, []testserver.Conn{optFail(429, "slow down", "Retry-After", date), holds("data: ok\n\n")})
		r := c.record(`new ES("@S0@", { retryOn: [429] })`, `(log) => log.some((e) => e.type === "message")`)
		errs := r.errors()
		if len(errs) != 1 || errs[0].RetryIn <= 0 || errs[0].RetryIn > 3000 || errs[0].Status != 429 {
			t.Fatalf("errors %v, want one with 0 < retryIn <= 3000 from Retry-After: %s", errs, date)
		}
		c.checkWaits(r, 0, 2)
	})

	t.Run("retryOn-slow-error-body-with-idleTimeout", func(t *testing.T) {
		// The body of a failed response is read (at most 2 s) before the
		// error is announced; the idle timer (at most 1.5 s) must not fire
		// meanwhile and start a request of its own.
		slow := testserver.Conn{Status: 503, Headers: map[string]string{"Content-Type": "text/plain"},
			Chunks: []testserver.Chunk{{Data: "busy"}}, End: testserver.EndHold}
		c := newOptCase(t, []testserver.Conn{slow, holds("data: ok\n\n")})
		r := c.record(`new ES("@S0@", { retryOn: [503], idleTimeout: `+strconv.Itoa(min(optIdle(), 1500))+`, backoff: { initialDelay: 50, jitter: false } })`,
			`(log) => log.some((e) => e.type === "message")`)
		if ty := r.types(); !slices.Equal(ty, []string{"error", "open", "message"}) {
			t.Errorf("events %q, want error (503), open, message", ty)
		}
		if errs := r.errors(); len(errs) > 0 && (errs[0].Status != 503 || errs[0].Body != "busy" || errs[0].RetryIn != 50) {
			t.Errorf("error %s, want status 503, body busy, retryIn 50", errs[0])
		}
		if n := len(c.requests(0)); n != 2 {
			t.Errorf("the server saw %d requests, want 2", n)
		}
		c.checkWaits(r, 0, 2)
	})

	t.Run("retry-after-invalid-is-ignored", func(t *testing.T) {
		// Neither delay-seconds nor an HTTP date: the backoff's wait
		// applies (a lenient date parser reads "2.5" and "-1" as dates in
		// 2001, which would mean "retry at once").
		c := newOptCase(t, []testserver.Conn{optFail(503, "a", "Retry-After", "2.5"), optFail(503, "b", "Retry-After", "-1"),
			optFail(503, "c", "Retry-After", "soon"), holds("data: ok\n\n")})
		r := c.record(`new ES("@S0@", { retryOn: [503], backoff: { initialDelay: 100, factor: 1, jitter: false } })`,
			`(log) => log.some((e) => e.type === "message")`)
		var waits []int
		for _, e := range r.errors() {
			waits = append(waits, e.RetryIn)
		}
		if want := []int{100, 100, 100}; !slices.Equal(waits, want) {
			t.Errorf("retryIn %v, want %v: an invalid Retry-After is ignored", waits, want)
		}
	})

	t.Run("max-retries-on-network-errors", func(t *testing.T) {
		down := testserver.Conn{NoResponse: true}
		c := newOptCase(t, []testserver.Conn{down, down, down, down})
		r := c.record(`new ES("@S0@", { maxRetries: 2, backoff: { initialDelay: 50, jitter: false } })`, "")
		var kinds []string
		for _, e := range r.errors() {
			kinds = append(kinds, fmt.Sprintf("%s/%d/%d", e.Kind, e.RS, e.RetryIn))
		}
		if want := []string{"network/0/50", "network/0/100", "retries-exhausted/2/-1"}; !slices.Equal(kinds, want) {
			t.Errorf("errors (kind/readyState/retryIn) %q, want %q", kinds, want)
		}
		if n := len(c.requests(0)); n != 3 {
			t.Errorf("the server saw %d requests, want 3", n)
		}
		if r.ReadyState != 2 {
			t.Errorf("readyState %d, want CLOSED", r.ReadyState)
		}
	})

	t.Run("401-without-retryOn-fails-once-with-body-and-headers", func(t *testing.T) {
		denied := optFail(401, `{"error":"token expired","code":"expired"}`,
			"Content-Type", "application/json", "X-Request-Id", "req-42", "WWW-Authenticate", `Bearer error="invalid_token"`)
		c := newOptCase(t, []testserver.Conn{denied, ends("data: never\n\n")})
		r := c.record(`new ES("@S0@", { headers: { Authorization: "Bearer old" }, maxRetries: 3,
			backoff: { initialDelay: 50 } })`, "")
		if types := r.types(); !slices.Equal(types, []string{"error"}) {
			t.Fatalf("events %q, want one error", types)
		}
		e := r.Log[0]
		if e.RS != 2 || e.Kind != "http" || e.Status != 401 || e.RetryIn != -1 || e.Attempt != 0 {
			t.Errorf("error %s, want readyState 2, kind http, status 401, retryIn -1, attempt 0", e)
		}
		var reason struct{ Error, Code string }
		if err := json.Unmarshal([]byte(e.Body), &reason); err != nil || reason.Error != "token expired" || reason.Code != "expired" {
			t.Errorf("body %q (%v), want the server's JSON reason", e.Body, err)
		}
		if e.Headers["x-request-id"] != "req-42" || e.Headers["content-type"] != "application/json" ||
			!strings.Contains(e.Headers["www-authenticate"], "invalid_token") {
			t.Errorf("headers %v, want the response's", e.Headers)
		}
		if !strings.Contains(e.Message, "401") {
			t.Errorf("message %q, want one naming 401", e.Message)
		}
		if obs := c.requests(0); len(obs) != 1 || obs[0].Authorization != "Bearer old" {
			t.Errorf("the server saw %q, want one request", c.obsLines(0))
		}
	})

	t.Run("headers-function-once-per-attempt", func(t *testing.T) {
		c := newOptCase(t, []testserver.Conn{
			optFail(401, "expired"),
			optFail(503, "busy", "Retry-After", "0"),
			ends("id: e1\nretry: 50\ndata: a\n\n"),
		})
		var out struct {
			R     optRecord
			Calls []map[string]any
		}
		c.eval(`const calls = [];
			const es = new ES("@S0@", { retryOn: [401, 503], backoff: { initialDelay: 50, jitter: false },
				headers: async (ctx) => {
					calls.push({ ...ctx, keys: Object.keys(ctx).sort().join(",") });
					await sleep(5);
					return { Authorization: "Bearer t" + ctx.attempt };
				} });
			const r = await record(es, { timeoutMs: @TIMEOUT@ });
			return { r, calls };`, &out)
		want := []string{"0 '' 0", "1 '' 401", "2 '' 503", "3 'e1' 0"}
		var got []string
		for _, call := range out.Calls {
			got = append(got, fmt.Sprintf("%v '%v' %v", call["attempt"], call["lastEventId"], call["status"]))
			if call["keys"] != "attempt,lastEventId,status" {
				t.Errorf("ctx keys %v, want attempt, lastEventId, status", call["keys"])
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("calls (attempt lastEventId status) %q, want %q", got, want)
		}
		obs := c.requests(0)
		var auth []string
		for _, o := range obs {
			auth = append(auth, o.Authorization)
		}
		if want := []string{"Bearer t0", "Bearer t1", "Bearer t2", "Bearer t3"}; !slices.Equal(auth, want) {
			t.Errorf("the server saw Authorization %q, want %q", auth, want)
		}
		if len(obs) == 4 && obs[3].LastEventID != "e1" {
			t.Errorf("the reconnection sent Last-Event-ID %q, want e1", obs[3].LastEventID)
		}
	})

	t.Run("headers-function-rejects", func(t *testing.T) {
		c := newOptCase(t, []testserver.Conn{ends("data: never\n\n")})
		r := c.record(`new ES("@S0@", { headers: () => Promise.reject(new Error("no token for you")) })`, "")
		if errs := r.errors(); len(errs) != 1 || errs[0].Kind != "headers" || errs[0].RS != 2 ||
			!strings.Contains(errs[0].Message, "no token for you") {
			t.Errorf("errors %v, want one of kind headers, readyState 2, with the rejection's message", errs)
		}
		if n := len(c.env(0)); n != 0 {
			t.Errorf("the server saw %d requests, want none", n)
		}
	})

	t.Run("post-dropped-resumes-by-get", func(t *testing.T) {
		first := resets("id: s.1\ndata: t1\n\n", "id: s.2\ndata: t2\n\n")
		second := resets("id: s.3\ndata: t3\n\n")
		third := ends("id: s.4\ndata: t4\n\n", "id: s.5\nevent: done\ndata: [DONE]\n\n")
		c := newOptCase(t, []testserver.Conn{first, second, third})
		r := c.record(`new ES("@S0@", { method: "POST", body: JSON.stringify({ prompt: "p" }),
			headers: { Authorization: "Bearer k", "Content-Type": "application/json" },
			resume: "@S0@?resume", backoff: { initialDelay: 50, jitter: false } })`, "", "done")
		var data []string
		for _, e := range r.Log {
			if e.Type == "message" || e.Type == "done" {
				data = append(data, e.Data)
			}
		}
		if want := []string{"t1", "t2", "t3", "t4", "[DONE]"}; !slices.Equal(data, want) {
			t.Errorf("messages %q, want %q (each once)", data, want)
		}
		if ty := r.types(); ty[len(ty)-1] != "close" || r.ReadyState != 2 {
			t.Errorf("events %q, readyState %d: want it to end with close", ty, r.ReadyState)
		}
		for _, e := range r.errors() {
			if e.RS != 0 || e.Kind != "dropped" || e.RetryIn != 50 {
				t.Errorf("error %s, want readyState 0, kind dropped, retryIn 50", e)
			}
		}
		obs := c.requests(0)
		var seen []string
		for _, o := range obs {
			seen = append(seen, fmt.Sprintf("%s %s lei=%q body=%q", o.Method, o.Path, o.LastEventID, o.Body))
		}
		want := []string{
			fmt.Sprintf(`POST %s lei="" body="{\"prompt\":\"p\"}"`, c.path(0)),
			fmt.Sprintf(`GET %s?resume lei="s.2" body=""`, c.path(0)),
			fmt.Sprintf(`GET %s?resume lei="s.3" body=""`, c.path(0)),
		}
		if !slices.Equal(seen, want) {
			t.Errorf("the server saw:\n\t%s\nwant:\n\t%s", strings.Join(seen, "\n\t"), strings.Join(want, "\n\t"))
		}
	})

	t.Run("chat-dropped-resumes-every-token-once", func(t *testing.T) {
		c := newOptCase(t)
		prompt := "resume me"
		// Tokens 50 ms apart, so that the first arrive before the cut:
		// Chromium drops what arrives together with a reset (see resets),
		// and with no event ID there is nothing to resume from. (Repeated
		// drops are post-dropped-resumes-by-get's business.)
		r := c.record(`new ES("/api/chat?delay=50&drop=4", { method: "POST",
			headers: { Authorization: "Bearer `+testserver.DemoToken+`", "Content-Type": "application/json" },
			body: JSON.stringify({ prompt: `+js(prompt)+` }),
			resume: (id) => "/api/chat/resume?after=" + encodeURIComponent(id),
			backoff: { initialDelay: 50, jitter: false } })`, "", "done")
		var answer strings.Builder
		var ids []string
		drops := 0
		for _, e := range r.Log {
			switch e.Type {
			case "message":
				var d struct{ Delta string }
				if err := json.Unmarshal([]byte(e.Data), &d); err != nil {
					t.Fatalf("message %q: %v", e.Data, err)
				}
				answer.WriteString(d.Delta)
				ids = append(ids, e.ID)
			case "error":
				if e.Kind != "dropped" || e.RS != 0 {
					t.Errorf("error %s, want kind dropped, readyState 0", e)
				}
				drops++
			}
		}
		deltas := testserver.ChatDeltas(prompt)
		if want := strings.Join(deltas, ""); answer.String() != want {
			t.Errorf("answer %q, want %q", answer.String(), want)
		}
		if len(ids) != len(deltas) {
			t.Errorf("%d messages, want %d", len(ids), len(deltas))
		}
		for i := 1; i < len(ids); i++ {
			if optSeq(ids[i]) != optSeq(ids[i-1])+1 {
				t.Errorf("ids %q then %q: want consecutive sequence numbers", ids[i-1], ids[i])
			}
		}
		if drops != 1 {
			t.Errorf("%d drops, want 1 (drop=4)", drops)
		}
		if ty := r.types(); ty[len(ty)-2] != "done" || ty[len(ty)-1] != "close" {
			t.Errorf("events end with %q, want done, close", ty[max(0, len(ty)-2):])
		}
		t.Logf("%d tokens over %d drops and resumes", len(ids), drops)
	})

	t.Run("idle-server-triggers-idle", func(t *testing.T) {
		c := newOptCase(t, []testserver.Conn{holds(), holds("data: after\n\n")})
		idleMs := optIdle()
		r := c.record(`new ES("@S0@", { idleTimeout: `+strconv.Itoa(idleMs)+`, backoff: { initialDelay: 50, jitter: false } })`,
			`(log) => log.some((e) => e.type === "message")`)
		if ty := r.types(); !slices.Equal(ty, []string{"open", "error", "open", "message"}) {
			t.Fatalf("events %q, want open, error, open, message", ty)
		}
		e := r.Log[1]
		if e.Kind != "idle" || e.RS != 0 || e.RetryIn != 50 || e.Status != 0 {
			t.Errorf("error %s, want kind idle, readyState 0, retryIn 50", e)
		}
		idle := e.T - r.Log[0].T
		if idle < float64(idleMs)-optEarly || idle > float64(idleMs)+optSlack() {
			t.Errorf("idle after %.0f ms from open, want %d ms (+%v)", idle, idleMs, optSlack())
		}
		t.Logf("idle error %.0f ms after open (idleTimeout %d)", idle, idleMs)
		if obs := c.requests(0); len(obs) != 2 {
			t.Errorf("the server saw %d requests, want 2", len(obs))
		}
	})

	t.Run("comments-only-server-is-not-idle", func(t *testing.T) {
		beat := testserver.Conn{Chunks: chunks([]string{"data: hi\n\n"}), End: testserver.EndHold, Heartbeat: 100 * time.Millisecond}
		c := newOptCase(t, []testserver.Conn{beat})
		// Watched for well over two idle timeouts: without the comments the
		// connection would count as idle 1.5 s after the message.
		r := c.record(`new ES("@S0@", { idleTimeout: 1500 })`, "", "@WATCH4000@")
		if ty := r.types(); !slices.Equal(ty, []string{"open", "message"}) || r.Reason != "timeout" {
			t.Errorf("events %q (%s), want open and message only for 4 s", ty, r.Reason)
		}
	})

	t.Run("signal-pre-aborted-sends-nothing", func(t *testing.T) {
		c := newOptCase(t, []testserver.Conn{ends("data: never\n\n")})
		var out struct {
			RS   int
			R    optRecord
			Late int
		}
		c.eval(`const ac = new AbortController();
			ac.abort();
			const es = new ES("@S0@", { signal: ac.signal });
			const rs = es.readyState;
			const r = await record(es, { timeoutMs: 500 });
			return { rs, r, late: es.readyState };`, &out)
		if out.RS != 2 || len(out.R.Log) != 0 {
			t.Errorf("readyState %d at once, events %v: want CLOSED and no event", out.RS, out.R.Log)
		}
		if obs := c.env(0); len(obs) != 0 {
			t.Errorf("the server saw %d requests, want none: %q", len(obs), c.obsLines(0))
		}
	})

	t.Run("signal-abort-while-the-headers-function-runs", func(t *testing.T) {
		c := newOptCase(t, []testserver.Conn{ends("data: never\n\n")})
		var out struct {
			R     optRecord
			Calls int
		}
		c.eval(`let calls = 0;
			const ac = new AbortController();
			const es = new ES("@S0@", { signal: ac.signal,
				headers: () => { calls++; return new Promise((r) => setTimeout(() => r({ Authorization: "Bearer late" }), 300)); } });
			setTimeout(() => ac.abort(), 50);
			const r = await record(es, { timeoutMs: 800 });
			return { r, calls };`, &out)
		if out.Calls != 1 || len(out.R.Log) != 0 || out.R.ReadyState != 2 {
			t.Errorf("%d calls, events %v, readyState %d: want one call, no event, CLOSED", out.Calls, out.R.types(), out.R.ReadyState)
		}
		if obs := c.env(0); len(obs) != 0 {
			t.Errorf("the server saw %q, want nothing: the token came after the abort", c.obsLines(0))
		}
	})

	t.Run("signal-abort-closes", func(t *testing.T) {
		c := newOptCase(t, []testserver.Conn{holds("data: a\n\n", "data: b\n\n"), ends("retry: 300\ndata: c\n\n")},
			[]testserver.Conn{ends("retry: 300\ndata: x\n\n"), ends("data: never\n\n")})
		var out struct {
			Open, Waiting optRecord
			RS1, RS2      int
		}
		c.eval(`const ac1 = new AbortController();
			const es1 = new ES("@S0@", { signal: ac1.signal });
			es1.addEventListener("message", () => { ac1.abort(); }, { once: true });
			const open = await record(es1, { timeoutMs: 1500 });
			const rs1 = es1.readyState;
			const ac2 = new AbortController();
			const es2 = new ES("@S1@", { signal: ac2.signal });
			es2.addEventListener("error", () => ac2.abort(), { once: true });
			const waiting = await record(es2, { timeoutMs: 1500 });
			await sleep(600); // the server's retry: 300 is long past
			return { open, waiting, rs1, rs2: es2.readyState };`, &out)
		if ty := out.Open.types(); !slices.Equal(ty, []string{"open", "message"}) || out.RS1 != 2 || out.Open.Reason != "closed" {
			t.Errorf("aborted while open: events %q, readyState %d (%s), want open, message, then CLOSED without an event", ty, out.RS1, out.Open.Reason)
		}
		if ty := out.Waiting.types(); !slices.Equal(ty, []string{"open", "message", "error"}) || out.RS2 != 2 {
			t.Errorf("aborted while waiting to reconnect: events %q, readyState %d, want open, message, error, then CLOSED", ty, out.RS2)
		}
		if n := len(c.requests(0)); n != 1 {
			t.Errorf("list 0: the server saw %d requests, want 1", n)
		}
		if n := len(c.requests(1)); n != 1 {
			t.Errorf("list 1: the server saw %d requests, want 1 (no reconnection after the abort)", n)
		}
	})

	t.Run("for-await-sees-what-listeners-see", func(t *testing.T) {
		body := []string{"data: a\n\nevent: named\nid: 1\ndata: b\n\n", ": comment\ndata: c\ndata: d\n\n", "event: other\ndata: e\n\n"}
		c := newOptCase(t, []testserver.Conn{ends(body...)})
		var out struct {
			It       optIter
			Listened []optMsg
		}
		c.eval(`const es = new ES("@S0@", { reconnect: false });
			const listened = [];
			for (const type of ["message", "named", "other"]) {
				es.addEventListener(type, (e) => listened.push({ type: e.type, data: e.data, id: e.lastEventId }));
			}
			const it = await iterate(es, { EventSourceError });
			return { it, listened };`, &out)
		var fromLoop []optMsg
		for _, m := range out.It.Messages {
			fromLoop = append(fromLoop, optMsg{m.Type, m.Data, m.ID})
			if m.Keys != "data,lastEventId,type" {
				t.Errorf("a message has keys %s, want data, lastEventId, type", m.Keys)
			}
		}
		want := []optMsg{{"message", "a", ""}, {"named", "b", "1"}, {"message", "c\nd", "1"}, {"other", "e", "1"}}
		if !slices.Equal(fromLoop, want) || !slices.Equal(out.Listened, want) {
			t.Errorf("for await saw %v, listeners %v, want %v", fromLoop, out.Listened, want)
		}
		if out.It.Ended != "done" || out.It.ReadyState != 2 {
			t.Errorf("the loop ended %q with readyState %d, want done and CLOSED (the stream ended)", out.It.Ended, out.It.ReadyState)
		}
	})

	t.Run("for-await-break-closes", func(t *testing.T) {
		c := newOptCase(t, []testserver.Conn{holds("data: 1\n\n", "data: 2\n\n", "data: 3\n\n")})
		var out struct {
			It    optIter
			Later int
		}
		c.eval(`const es = new ES("@S0@");
			const it = await iterate(es, { stop: (m) => m.length === 2 });
			await sleep(300);
			return { it, later: es.readyState };`, &out)
		if len(out.It.Messages) != 2 || out.It.Ended != "break" || out.It.ReadyState != 2 || out.Later != 2 {
			t.Errorf("loop: %+v, then readyState %d: want two messages, break, CLOSED", out.It, out.Later)
		}
		if n := len(c.requests(0)); n != 1 {
			t.Errorf("the server saw %d requests, want 1", n)
		}
	})

	t.Run("for-await-failure-throws-with-kind", func(t *testing.T) {
		c := newOptCase(t, []testserver.Conn{ends("data: one\n\n"), optFail(500, `{"error":"down"}`, "Content-Type", "application/json")})
		var out struct{ It optIter }
		c.eval(`const es = new ES("@S0@", { backoff: { initialDelay: 50 } });
			return { it: await iterate(es, { EventSourceError }) };`, &out)
		e := out.It.Error
		if out.It.Ended != "threw" || e == nil {
			t.Fatalf("the loop ended %q, want it to throw", out.It.Ended)
		}
		if len(out.It.Messages) != 1 || out.It.Messages[0].Data != "one" {
			t.Errorf("messages %+v, want the one before the failure", out.It.Messages)
		}
		if !e.IsError || e.IsEventSourceError == nil || !*e.IsEventSourceError || e.Name != "EventSourceError" ||
			e.Kind != "http" || e.Status != 500 || e.Body != `{"error":"down"}` || !strings.Contains(e.Message, "500") {
			t.Errorf("thrown %+v, want an EventSourceError of kind http, status 500, with the body", *e)
		}
	})

	for _, fn := range []bool{false, true} {
		name := "redirect-cross-origin-no-authorization-on-reconnect"
		headers := `{ Authorization: "Bearer secret" }`
		if fn {
			name += "-headers-function"
			headers = `(ctx) => ({ Authorization: "Bearer secret" + ctx.attempt })`
		}
		t.Run(name, func(t *testing.T) {
			allow := func(conn testserver.Conn) testserver.Conn {
				conn.CORS = &testserver.CORS{AllowOrigin: "echo", AllowHeaders: "authorization, last-event-id"}
				return conn
			}
			c := newOptCase(t,
				[]testserver.Conn{redirect(307, "@OTHER@@S1@")},
				[]testserver.Conn{allow(ends("id: 1\nretry: 50\ndata: a\n\n")), allow(ends("id: 2\ndata: b\n\n")), allow(ends("data: c\n\n"))})
			r := c.record(`new ES("@S0@", { headers: `+headers+` })`,
				`(log) => log.filter((e) => e.type === "message").length === 3`)
			if ty := r.types(); !slices.Equal(ty, []string{"open", "message", "error", "open", "message", "error", "open", "message"}) {
				t.Errorf("events %q, want three opens and messages with reconnections between", ty)
			}
			for _, e := range r.Log {
				if e.Type == "open" && (e.Status != 200 || !strings.HasPrefix(e.URL, env.srv.OtherURL()+"/s/") || e.Headers["content-type"] != "text/event-stream") {
					t.Errorf("open: status %d, url %q, headers %v: want 200, the final URL on the other origin, and the response's headers", e.Status, e.URL, e.Headers)
				}
			}
			if obs := c.requests(0); len(obs) != 1 || !strings.HasPrefix(obs[0].Authorization, "Bearer secret") {
				t.Errorf("first origin: %q, want one request with the caller's Authorization", c.obsLines(0))
			}
			other := c.env(1)
			n := 0
			for _, o := range other {
				if o.IsPreflight() && strings.Contains(strings.ToLower(o.AccessControlRequestHeaders), "authorization") {
					t.Errorf("a preflight to the other origin asks for Authorization: %s", obsLine(o))
				}
				if o.IsPreflight() || o.IsProbe() {
					continue
				}
				n++
				if o.Authorization != "" {
					t.Errorf("the other origin got Authorization %q on request %d: %s", o.Authorization, o.Index, obsLine(o))
				}
			}
			if n != 3 {
				t.Errorf("the other origin saw %d requests, want 3:\n\t%s", n, strings.Join(c.obsLines(1), "\n\t"))
			}
		})
	}

	t.Run("open-event-status-headers-url", func(t *testing.T) {
		c := newOptCase(t, []testserver.Conn{{Headers: map[string]string{"X-Stream": "s1"}, Chunks: chunks([]string{"data: a\n\n"}), End: testserver.EndHold}})
		r := c.record(`new ES("@S0@?q=1")`, `(log) => log.length === 2`)
		if len(r.Log) != 2 {
			t.Fatalf("events %q", r.types())
		}
		o := r.Log[0]
		if o.Type != "open" || o.Status != 200 || o.URL != env.srv.URL()+c.path(0)+"?q=1" || o.Headers["x-stream"] != "s1" {
			t.Errorf("open: %s, url %q, headers %v", o, o.URL, o.Headers)
		}
	})

	t.Run("pause-when-hidden", func(t *testing.T) {
		c := newOptCase(t,
			[]testserver.Conn{holds("id: 7\ndata: a\n\n"), holds("data: b\n\n")},
			[]testserver.Conn{holds("data: post\n\n"), holds("data: never\n\n")},
			[]testserver.Conn{holds("data: late\n\n")})
		var out struct {
			Get, Late        optRecord
			Post             []string
			HiddenRS, PostRS int
			PostEnd          int
			BeforeShow       int
		}
		c.eval(`let hidden = false;
			Object.defineProperty(document, "hidden", { configurable: true, get: () => hidden });
			const flip = (h) => { hidden = h; document.dispatchEvent(new Event("visibilitychange")); };
			try {
				const es = new ES("@S0@", { pauseWhenHidden: true });
				const post = new ES("@S1@", { method: "POST", body: "once", pauseWhenHidden: true });
				const postLog = [];
				for (const ty of ["open", "message", "error", "close"]) post.addEventListener(ty, (e) => postLog.push(e.type));
				const first = (src) => new Promise((r) => src.addEventListener("message", r, { once: true }));
				const both = Promise.all([first(es), first(post)]);
				const getRec = record(es, { until: (log) => log.filter((e) => e.type === "message").length === 2, timeoutMs: @TIMEOUT@ });
				await both;
				flip(true);
				const hiddenRS = es.readyState, postRS = post.readyState;
				await sleep(300);
				flip(false);
				const get = await getRec;
				await sleep(200);
				const postEnd = post.readyState;
				post.close();
				// Hidden at construction: nothing is sent until shown.
				flip(true);
				const late = new ES("@S2@", { pauseWhenHidden: true });
				const lateRec = record(late, { until: (log) => log.some((e) => e.type === "message"), timeoutMs: @TIMEOUT@ });
				await sleep(400);
				const beforeShow = late.readyState;
				flip(false);
				return { get, post: postLog, late: await lateRec, hiddenRS, postRS, postEnd, beforeShow };
			} finally {
				delete document.hidden;
			}`, &out)
		if ty := out.Get.types(); !slices.Equal(ty, []string{"open", "message", "open", "message"}) {
			t.Errorf("GET events %q, want open, message, then (hidden, shown) open, message", ty)
		}
		if out.HiddenRS != 0 {
			t.Errorf("readyState %d while hidden, want CONNECTING", out.HiddenRS)
		}
		obs := c.requests(0)
		if len(obs) != 2 || obs[1].LastEventID != "7" {
			t.Errorf("GET: the server saw %q, want two requests, the second with Last-Event-ID 7", c.obsLines(0))
		}
		if len(obs) == 2 {
			if gap := obs[1].At.Sub(obs[0].At); gap < 300*time.Millisecond {
				t.Errorf("reconnected %v after the first request, want after the page was shown (300 ms hidden)", gap)
			}
		}
		if n := len(c.requests(1)); n != 1 || out.PostRS != 1 || out.PostEnd != 1 || !slices.Equal(out.Post, []string{"open", "message"}) {
			t.Errorf("POST with pauseWhenHidden: %d requests, readyState %d while hidden and %d after, events %q: want 1 request (never paused, never re-sent), OPEN throughout, open and message",
				n, out.PostRS, out.PostEnd, out.Post)
		}
		if ty := out.Late.types(); out.BeforeShow != 0 || !slices.Equal(ty, []string{"open", "message"}) {
			t.Errorf("hidden at construction: readyState %d before shown, events %q", out.BeforeShow, ty)
		} else if wait := out.Late.Log[0].T - out.Late.Start; wait < 400 {
			t.Errorf("hidden at construction: open %.0f ms after construction, want after it was shown (400 ms)", wait)
		}
		if n := len(c.requests(2)); n != 1 {
			t.Errorf("hidden at construction: %d requests, want 1", n)
		}
	})

	t.Run("reconnect-on-online", func(t *testing.T) {
		c := newOptCase(t, []testserver.Conn{ends("retry: 20000\ndata: a\n\n"), holds("data: b\n\n")})
		var out struct{ R optRecord }
		c.eval(`const es = new ES("@S0@", { reconnectOnOnline: true });
			es.addEventListener("error", () => setTimeout(() => dispatchEvent(new Event("online")), 100), { once: true });
			const r = await record(es, { until: (log) => log.filter((e) => e.type === "message").length === 2, timeoutMs: @TIMEOUT@ });
			return { r };`, &out)
		if ty := out.R.types(); !slices.Equal(ty, []string{"open", "message", "error", "open", "message"}) {
			t.Fatalf("events %q, want a reconnection on the online event", ty)
		}
		e := out.R.Log[2]
		if e.RetryIn != 20000 {
			t.Errorf("retryIn %d, want the server's 20000", e.RetryIn)
		}
		gap := -1.0
		for _, f := range out.R.Fetches {
			if f.T >= e.T {
				gap = f.T - e.T
				break
			}
		}
		if gap < 100-optEarly || gap > 100+optSlack() {
			t.Errorf("the next request started %.0f ms after the error, want at the online event (100 ms)", gap)
		}
		t.Logf("reconnected %.0f ms after the error, on the online event dispatched 100 ms after it (retryIn 20000)", gap)
	})
}

// optEarly is how much earlier than announced a wait may seem to end on
// the page, in ms: timers are never early, but the page stamps an event
// when its listener runs, and on an overloaded machine the tab can be
// preempted for tens of ms between the engine reading the clock and the
// listener running (seen: 34 ms at a load average of 40 on 2 cores). The
// server's clock has no such lag: checkWaits also checks that no request
// came before its announced wait, strictly.
const optEarly = 50

// optIdle is the idleTimeout of the idle tests, in ms: 300 times the
// suite's time scale, so that a response that is merely slow on a loaded
// machine does not count as idle.
func optIdle() int { return int(300 * timeScale) }

// optSlack is how late, past the announced wait, a reconnection may come
// on a loaded 2-core machine (scaled like every time-out of the suite).
func optSlack() float64 { return float64(scaled(700*time.Millisecond) / time.Millisecond) }

// optCase is one subtest: its own tab and connection lists.
type optCase struct {
	t    *testing.T
	tt   *tab
	ids  []string
	repl *strings.Replacer
}

// newOptCase opens a tab of ours for t and registers the connection lists
// under ids unique to t; @S0@, @S1@… in expressions and Location headers are
// their paths, @OTHER@ the second origin.
func newOptCase(t *testing.T, lists ...[]testserver.Conn) *optCase {
	t.Helper()
	tt := oursTab(t)
	c := &optCase{t: t, tt: tt}
	base := idUnsafe.ReplaceAllString(t.Name(), ".")
	for i := range lists {
		c.ids = append(c.ids, fmt.Sprintf("%s~opt~%d", base, i))
	}
	c.repl = placeholders(c.ids)
	for i, conns := range lists {
		env.srv.Handle(c.ids[i], testserver.Scenario{Conns: withConns(conns, c.repl)})
	}
	return c
}

// set replaces connection list i (before the page uses it).
func (c *optCase) set(i int, conns []testserver.Conn) {
	env.srv.Handle(c.ids[i], testserver.Scenario{Conns: withConns(conns, c.repl)})
}

// path is the path of connection list i.
func (c *optCase) path(i int) string { return "/s/" + url.PathEscape(c.ids[i]) }

// eval runs body as an async function in the tab, with ES, EventSourceError,
// record, iterate and sleep in scope (e2e/pages/options.mjs), and decodes
// what it returns into out. @TIMEOUT@ is the page's time-out in ms.
func (c *optCase) eval(body string, out any) {
	c.t.Helper()
	pageTimeout := scaledTimeoutMs(10000)
	body = strings.ReplaceAll(c.repl.Replace(body), "@TIMEOUT@", strconv.Itoa(pageTimeout))
	expr := `(async () => {
		const { ES, EventSourceError, record, iterate, sleep } = await (await import("/test/options.mjs")).setup();
		` + body + `
	})()`
	raw, err := evalIn[json.RawMessage](c.tt, expr, time.Duration(pageTimeout)*time.Millisecond+scaled(20*time.Second))
	if err != nil {
		c.t.Fatal(err)
	}
	c.tt.checkFatal(c.t)
	if err := json.Unmarshal(raw, out); err != nil {
		c.t.Fatalf("decoding %.300s: %v", raw, err)
	}
	c.t.Cleanup(func() {
		if c.t.Failed() {
			c.t.Logf("the page returned %.2000s", raw)
			for i := range c.ids {
				c.t.Logf("list %d, the server saw:\n\t%s", i, strings.Join(c.obsLines(i), "\n\t"))
			}
		}
	})
}

// record constructs the source newExpr makes and records it until it is
// CLOSED (then a settle time), or until the JS predicate until (over the
// log) holds. types are more event types to listen to; "@WATCHms@" among
// them instead records for that long.
func (c *optCase) record(newExpr, until string, types ...string) optRecord {
	c.t.Helper()
	opts := []string{"timeoutMs: @TIMEOUT@"}
	var listen []string
	for _, ty := range types {
		if ms, ok := strings.CutPrefix(ty, "@WATCH"); ok {
			opts[0] = "timeoutMs: " + strings.TrimSuffix(ms, "@")
			continue
		}
		listen = append(listen, js(ty))
	}
	if until != "" {
		opts = append(opts, "until: "+until)
	}
	opts = append(opts, "types: ["+strings.Join(listen, ", ")+"]")
	var r optRecord
	c.eval(`return record(`+newExpr+`, { `+strings.Join(opts, ", ")+` });`, &r)
	if r.Reason == "timeout" && !strings.Contains(strings.Join(types, ""), "@WATCH") {
		c.t.Fatalf("the page timed out; events:\n\t%s", strings.Join(r.lines(), "\n\t"))
	}
	c.t.Cleanup(func() {
		if c.t.Failed() {
			c.t.Logf("events:\n\t%s", strings.Join(r.lines(), "\n\t"))
		}
	})
	return r
}

// env returns everything the server saw on list i, preflights and probes
// included; requests leaves them out.
func (c *optCase) env(i int) []testserver.Observation { return env.srv.Observations(c.ids[i]) }

func (c *optCase) requests(i int) []testserver.Observation {
	var out []testserver.Observation
	for _, o := range c.env(i) {
		if !o.IsPreflight() && !o.IsProbe() {
			out = append(out, o)
		}
	}
	return out
}

func (c *optCase) obsLines(i int) []string {
	var out []string
	for _, o := range c.env(i) {
		out = append(out, fmt.Sprintf("+%s %s", o.At.Format("15:04:05.000"), obsLine(o)))
	}
	return out
}

// checkWaits checks every reconnection of list i, whose first n requests
// each failed with an error event: the page started the next request
// (called fetch) no earlier than the announced retryIn after the event and
// no later than optSlack after that, and the server saw it no earlier than
// retryIn after the previous request.
func (c *optCase) checkWaits(r optRecord, i, n int) {
	c.t.Helper()
	errs := r.errors()
	obs := c.requests(i)
	if len(obs) < n {
		c.t.Errorf("the server saw %d requests, want %d", len(obs), n)
		return
	}
	var page, server []string
	for k, e := range errs {
		if e.RetryIn < 0 {
			continue
		}
		next := -1.0
		for _, f := range r.Fetches {
			if f.Method != "HEAD" && f.T >= e.T {
				next = f.T
				break
			}
		}
		if next < 0 {
			c.t.Errorf("error %d (retryIn %d): no request followed", k, e.RetryIn)
			continue
		}
		gap := next - e.T
		page = append(page, fmt.Sprintf("%d→%.0f", e.RetryIn, gap))
		if gap < float64(e.RetryIn)-optEarly || gap > float64(e.RetryIn)+optSlack() {
			c.t.Errorf("error %d: the next request started %.0f ms later, want %d ms (+%.0f)", k, gap, e.RetryIn, optSlack())
		}
		if k+1 < len(obs) {
			sgap := obs[k+1].At.Sub(obs[k].At)
			server = append(server, fmt.Sprintf("%d→%d", e.RetryIn, sgap.Milliseconds()))
			if sgap < time.Duration(e.RetryIn)*time.Millisecond {
				c.t.Errorf("request %d came %v after request %d, before the announced %d ms", k+1, sgap, k, e.RetryIn)
			}
		}
	}
	c.t.Logf("waits (retryIn→ms until the next request): page %s; server (request to request) %s", strings.Join(page, " "), strings.Join(server, " "))
}

// optRecord is what record (e2e/pages/options.mjs) resolves to.
type optRecord struct {
	Log        []optEntry
	Reason     string
	ReadyState int
	Start      float64 // when record was called, on the log's clock
	Fetches    []struct {
		URL, Method string
		T           float64 // when the page called fetch, on the log's clock
	}
}

type optEntry struct {
	Type    string
	T       float64
	RS      int
	Data    string
	ID      string
	Kind    string
	Status  int
	Headers map[string]string
	Body    string
	Attempt int
	RetryIn int
	Message string
	URL     string
}

func (e optEntry) String() string {
	switch e.Type {
	case "error":
		return fmt.Sprintf("error t=%.0f rs=%d kind=%s status=%d attempt=%d retryIn=%d body=%q headers=%v message=%q",
			e.T, e.RS, e.Kind, e.Status, e.Attempt, e.RetryIn, e.Body, e.Headers, e.Message)
	case "open":
		return fmt.Sprintf("open t=%.0f rs=%d status=%d url=%s", e.T, e.RS, e.Status, e.URL)
	}
	return fmt.Sprintf("%s t=%.0f rs=%d data=%q id=%q", e.Type, e.T, e.RS, e.Data, e.ID)
}

func (r optRecord) lines() []string {
	var out []string
	for _, e := range r.Log {
		out = append(out, e.String())
	}
	return append(out, "ended: "+r.Reason)
}

func (r optRecord) types() []string {
	var out []string
	for _, e := range r.Log {
		out = append(out, e.Type)
	}
	return out
}

func (r optRecord) errors() []optEntry {
	var out []optEntry
	for _, e := range r.Log {
		if e.Type == "error" {
			out = append(out, e)
		}
	}
	return out
}

// optIter is what iterate resolves to.
type optIter struct {
	Messages []struct {
		Type, Data, ID, Keys string
	}
	Ended      string
	ReadyState int
	Error      *struct {
		Name, Kind, Message, Body string
		Status, Attempt, RetryIn  int
		IsError                   bool
		IsEventSourceError        *bool
	}
}

type optMsg struct{ Type, Data, ID string }

// optFail is a response with status and body (text/plain unless the
// headers, given as name/value pairs, say otherwise), that then ends.
func optFail(status int, body string, headers ...string) testserver.Conn {
	h := map[string]string{"Content-Type": "text/plain"}
	for i := 0; i+1 < len(headers); i += 2 {
		h[headers[i]] = headers[i+1]
	}
	return testserver.Conn{Status: status, Headers: h, Chunks: []testserver.Chunk{{Data: body}}}
}

func optRepeat(c testserver.Conn, n int) []testserver.Conn {
	out := make([]testserver.Conn, n)
	for i := range out {
		out[i] = c
	}
	return out
}

// optSeq is the sequence number of a chat event ID, <stream>.<seq>.
func optSeq(id string) int {
	_, seq, _ := strings.Cut(id, ".")
	n, err := strconv.Atoi(seq)
	if err != nil {
		return -1
	}
	return n
}
