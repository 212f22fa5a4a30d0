// The host (eventsource.mjs) and the Go core (eventsource.wasm) together,
// under Node.js with a scripted fetch (harness.mjs). Run after `make build`:
//
//	node --test jsglue/test/
import { test } from "node:test";
import assert from "node:assert/strict";
import { h, reset, record, until, sleep } from "./harness.mjs";

const { load } = await import("../../dist/eventsource.mjs");
const ES = await load();
const U = "http://127.0.0.1:9/s";

const brief = (trace) => trace.map((e) => e.type === "message" || e.data !== null
  ? `${e.type}(${e.data}) id=${e.id} rs=${e.rs}` : `${e.type} rs=${e.rs}${e.kind ? " " + e.kind : ""}`);

test("streams, reconnects with Last-Event-ID after the server's retry", async () => {
  reset([{ chunks: ["retry: 10\nid: 1\ndata: a\n\n", "data: b\n\nevent: x\ndata: c\n\n"] }, { chunks: ["data: d\n\n"], hold: true }]);
  const es = new ES(U);
  const trace = record(es, ["open", "message", "error", "x"]);
  await until(() => trace.length >= 7, 3000, "7 events");
  es.close();
  assert.deepEqual(brief(trace), [
    "open rs=1", "message(a) id=1 rs=1", "message(b) id=1 rs=1", "x(c) id=1 rs=1", "error rs=0 ended",
    "open rs=1", "message(d) id=1 rs=1",
  ]);
  assert.equal(h.requests.length, 2);
  assert.equal(h.requests[1].headers["last-event-id"], "1");
  assert.equal(h.requests[0].headers.accept, "text/event-stream");
  assert.equal(h.requests[0].cache, "no-store");
});

test("new then close in the same task sends nothing (5,000 times)", async () => {
  reset([]);
  for (let i = 0; i < 5000; i++) new ES(U).close();
  await sleep(50);
  assert.equal(h.requests.length, 0);
});

test("close() in a listener stops the rest of the batch", async () => {
  reset([{ chunks: ["data: 1\n\ndata: 2\n\ndata: 3\n\n"], hold: true }]);
  const es = new ES(U);
  const trace = record(es, ["message", "error"], (es, e) => { if (e.data === "2") es.close(); });
  await until(() => trace.length >= 2, 3000);
  await sleep(30);
  assert.deepEqual(trace.map((e) => e.data), ["1", "2"]);
  assert.equal(es.readyState, ES.CLOSED);
});

test("failures: status and content type fail once with details", async () => {
  for (const [plan, kind, status, body] of [
    [{ status: 401, contentType: "application/json", chunks: ['{"error":"expired"}'], headers: { "x-request-id": "r1" } }, "http", 401, '{"error":"expired"}'],
    [{ status: 200, contentType: "text/plain", chunks: ["nope"] }, "content-type", 200, "nope"],
  ]) {
    reset([plan]);
    const es = new ES(U);
    let ev;
    es.onerror = (e) => { ev = e; };
    await until(() => ev, 3000, "error");
    await sleep(20);
    assert.equal(es.readyState, ES.CLOSED);
    assert.equal(ev.kind, kind);
    assert.equal(ev.status, status);
    assert.equal(ev.body, body);
    assert.equal(ev.retryIn, -1);
    assert.equal(h.requests.length, 1);
    if (status === 401) assert.equal(ev.headers.get("x-request-id"), "r1");
  }
});

test("a POST is not re-sent: its end is a close event, its drop an error", async () => {
  reset([{ chunks: ["data: a\n\n"] }]);
  const es = new ES(U, { method: "POST", body: "{}" });
  const trace = record(es, ["message", "error", "close"]);
  await until(() => trace.length >= 2, 3000);
  await sleep(30);
  assert.deepEqual(brief(trace), ["message(a) id= rs=1", "close rs=2"]);
  assert.equal(h.requests.length, 1);

  reset([{ chunks: ["data: a\n\n"], drop: true }]);
  const es2 = new ES(U, { method: "POST", body: "{}" });
  const t2 = record(es2, ["message", "error", "close"]);
  await until(() => t2.length >= 2, 3000);
  assert.deepEqual(brief(t2), ["message(a) id= rs=1", "error rs=2 dropped"]);
  assert.match(t2[1].message, /not reconnecting a POST/);
  assert.equal(h.probes, 0, "no probe for a request that is not retried");
});

test("unicode, a BOM and invalid UTF-8 cross intact, in chunks larger than the buffer", async () => {
  const big = "é😀".repeat(40000); // ~240 KB of UTF-8 in one chunk
  const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode("data: \ufeffx\n\n"), ...new TextEncoder().encode("data: "), 0xff, 0x41, 10, 10]);
  reset([{ chunks: [bytes, `event: ünï\nid: 日本\ndata: ${big}\n\n`], hold: true }]);
  const es = new ES(U);
  const trace = record(es, ["message", "ünï"]);
  await until(() => trace.length >= 3, 3000);
  es.close();
  assert.equal(trace[0].data, "\ufeffx");
  assert.equal(trace[1].data, "\ufffdA");
  assert.equal(trace[2].type, "ünï");
  assert.equal(trace[2].id, "日本");
  assert.equal(trace[2].data, big);
});

test("an unsupported scheme fails asynchronously", async () => {
  reset([]);
  const es = new ES("ftp://127.0.0.1/x");
  let ev = null;
  es.onerror = (e) => { ev = e; };
  assert.equal(es.readyState, ES.CONNECTING);
  await until(() => ev, 2000);
  assert.equal(ev.kind, "url");
  assert.equal(es.readyState, ES.CLOSED);
});

test("constructor errors throw", () => {
  assert.throws(() => new ES(), TypeError);
  assert.throws(() => new ES("http://[bad"), { name: "SyntaxError" });
  assert.throws(() => new ES(U, { method: "GET", body: "x" }), TypeError);
  assert.throws(() => new ES(U, { lastEventId: "a\nb" }), /lastEventId/);
  assert.throws(() => new ES(U, { retryOn: [99] }), /retryOn/);
  assert.throws(() => new ES(U, { method: "POST", body: new ReadableStream(), reconnect: true }), /ReadableStream/);
  assert.throws(() => new ES(U, { headers: { "bad header": "x" } }), TypeError);
  assert.throws(() => new ES(U, { signal: {} }), /AbortSignal/);
});

test("a headers function is called once per attempt; Authorization never follows a cross-origin redirect", async () => {
  reset([
    { chunks: ["retry: 5\nid: 1\ndata: a\n\n"], url: "http://127.0.0.2:9/t" },
    { status: 503, headers: { "retry-after": "0" } },
    { chunks: ["data: b\n\n"], hold: true },
  ]);
  const calls = [];
  const es = new ES(U, {
    retryOn: [503],
    headers: (ctx) => { calls.push({ ...ctx }); return { Authorization: `Bearer t${ctx.attempt}` }; },
  });
  const trace = record(es, ["open", "message", "error"]);
  await until(() => trace.some((e) => e.data === "b"), 3000);
  es.close();
  assert.deepEqual(calls, [
    { attempt: 0, lastEventId: "", status: 0 },
    { attempt: 1, lastEventId: "1", status: 0 },
    { attempt: 2, lastEventId: "1", status: 503 },
  ]);
  assert.equal(h.requests[0].headers.authorization, "Bearer t0");
  assert.equal(h.requests[1].url, "http://127.0.0.2:9/t");
  assert.equal(h.requests[1].headers.authorization, undefined);
  assert.equal(h.requests[2].headers.authorization, undefined);
  assert.deepEqual(brief(trace).filter((l) => l.startsWith("error")), ["error rs=0 ended", "error rs=0 http"]);
});

test("a rejected headers function fails the connection with its message", async () => {
  reset([]);
  const es = new ES(U, { headers: async () => { throw new Error("no token"); } });
  let ev = null;
  es.onerror = (e) => { ev = e; };
  await until(() => ev, 2000);
  assert.equal(ev.kind, "headers");
  assert.match(ev.message, /no token/);
  assert.equal(es.readyState, ES.CLOSED);
  assert.equal(h.requests.length, 0);
});

test("resume: a dropped POST continues by GET with Last-Event-ID, never re-posting", async () => {
  reset([
    { chunks: ["id: s.1\ndata: t1\n\n", "id: s.2\ndata: t2\n\n"], drop: true },
    { chunks: ["id: s.3\ndata: t3\n\n"] },
  ]);
  const es = new ES(U, { method: "POST", body: "{}", resume: (id) => `/r?after=${id}`, backoff: { initialDelay: 1, jitter: false } });
  const trace = record(es, ["message", "error", "close"]);
  await until(() => trace.some((e) => e.type === "close"), 3000);
  assert.deepEqual(brief(trace), ["message(t1) id=s.1 rs=1", "message(t2) id=s.2 rs=1", "error rs=0 dropped",
    "message(t3) id=s.3 rs=1", "close rs=2"]);
  assert.equal(h.requests[1].method, "GET");
  assert.equal(h.requests[1].body, null);
  assert.equal(h.requests[1].headers["last-event-id"], "s.2");
  assert.match(h.requests[1].url, /\/r\?after=s\.2$/);
});

test("maxRetries ends in CLOSED with retries-exhausted; backoff grows", async () => {
  reset([{ status: 503 }, { status: 503 }, { status: 503 }]);
  const es = new ES(U, { retryOn: [503], maxRetries: 2, backoff: { initialDelay: 10, factor: 3, jitter: false } });
  const trace = record(es, ["error"]);
  await until(() => es.readyState === ES.CLOSED, 3000);
  assert.deepEqual(trace.map((e) => [e.kind, e.retryIn, e.rs]), [["http", 10, 0], ["http", 30, 0], ["retries-exhausted", -1, 2]]);
  assert.equal(h.requests.length, 3);
});

test("idleTimeout: silence counts as a drop, bytes (even comments) do not", async () => {
  // 15 comments 40 ms apart span 600 ms, twice the timeout: were comments
  // not counted, idle would fire before "a". Each gap leaves the timeout
  // 7 times its length, for a loaded machine that stalls the timers.
  const comments = Array.from({ length: 15 }, () => ":\n");
  reset([{ chunks: [...comments, "data: a\n\n"], gap: 40, hold: true }, { chunks: ["data: b\n\n"], hold: true }]);
  const es = new ES(U, { idleTimeout: 300 });
  const trace = record(es, ["message", "error"]);
  await until(() => trace.length >= 2, 5000);
  es.close();
  assert.deepEqual(brief(trace), ["message(a) id= rs=1", "error rs=0 idle"]);
});

test("a pre-aborted signal sends nothing; aborting later closes", async () => {
  reset([{ chunks: ["data: a\n\n"], hold: true }]);
  const es = new ES(U, { signal: AbortSignal.abort() });
  assert.equal(es.readyState, ES.CLOSED);
  await sleep(20);
  assert.equal(h.requests.length, 0);
  const ac = new AbortController();
  const es2 = new ES(U, { signal: ac.signal });
  await until(() => es2.readyState === ES.OPEN, 2000);
  ac.abort();
  assert.equal(es2.readyState, ES.CLOSED);
});

test("for await sees what listeners see; leaving the loop closes; a failure throws", async () => {
  reset([{ chunks: ["data: a\n\nevent: x\nid: 2\ndata: b\n\ndata: c\n\n"], hold: true }]);
  const es = new ES(U);
  const seen = record(es, ["message", "x"]);
  const got = [];
  for await (const m of es) {
    got.push(m);
    if (got.length === 3) break;
  }
  assert.deepEqual(got, [{ type: "message", data: "a", lastEventId: "" }, { type: "x", data: "b", lastEventId: "2" },
    { type: "message", data: "c", lastEventId: "2" }]);
  assert.deepEqual(seen.map((e) => e.data), ["a", "b", "c"]);
  assert.equal(es.readyState, ES.CLOSED);

  reset([{ status: 500 }]);
  await assert.rejects(async () => { for await (const _ of new ES(U)) { /* nothing */ } }, { name: "EventSourceError", kind: "http", status: 500 });
});

test("the open event carries status, headers and url", async () => {
  reset([{ chunks: [], hold: true, headers: { "x-a": "1" } }]);
  const es = new ES(U);
  let ev = null;
  es.onopen = (e) => { ev = e; };
  await until(() => ev, 2000);
  es.close();
  assert.equal(ev.status, 200);
  assert.equal(ev.headers.get("x-a"), "1");
  assert.equal(ev.url, U);
});
