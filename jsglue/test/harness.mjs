// A scripted fetch and a trace recorder for the Node.js tests of the host
// and the Go core together (dist/eventsource.mjs + dist/eventsource.wasm).
import { readFile } from "node:fs/promises";

const dist = new URL("../../dist/", import.meta.url);
const realFetch = globalThis.fetch;

export const h = { requests: [], plan: [] };

// Each planned connection: { status, contentType (null: none), chunks: [string|Uint8Array],
// then end (default), hold: true, drop: true, reject: true, headers: {} }.
globalThis.fetch = (url, init = {}) => {
  if (String(url).endsWith(".wasm")) {
    return readFile(new URL("eventsource.wasm", dist)).then((b) => new Response(b, { headers: { "content-type": "application/wasm" } }));
  }
  if (init.method === "HEAD") {
    h.probes = (h.probes ?? 0) + 1;
    return Promise.reject(new TypeError("Failed to fetch"));
  }
  const headers = {};
  for (const [k, v] of new Headers(init.headers)) headers[k] = v;
  h.requests.push({ url: String(url), method: init.method, headers, body: init.body ?? null,
    cache: init.cache, credentials: init.credentials, mode: init.mode });
  const p = h.plan.shift() ?? { status: 204, chunks: [] };
  if (p.reject) return Promise.reject(new TypeError("Failed to fetch"));
  const enc = new TextEncoder();
  let i = 0, ctl;
  const stream = new ReadableStream({
    start(c) { ctl = c; },
    async pull(c) {
      if (i < p.chunks.length) {
        const ch = p.chunks[i++];
        if (p.gap) await new Promise((r) => setTimeout(r, p.gap));
        c.enqueue(typeof ch === "string" ? enc.encode(ch) : ch);
        return;
      }
      if (p.drop) { c.error(new TypeError("network error")); return; }
      if (!p.hold) { c.close(); return; }
      return new Promise(() => {});
    },
  });
  init.signal?.addEventListener("abort", () => { try { ctl.error(new DOMException("aborted", "AbortError")); } catch {} });
  const hdrs = { ...(p.headers ?? {}) };
  if (p.contentType !== null) hdrs["content-type"] = p.contentType ?? "text/event-stream";
  const status = p.status ?? 200;
  const nullBody = [101, 103, 204, 205, 304].includes(status);
  const r = new Response(nullBody ? null : stream, { status, headers: hdrs });
  if (p.url) Object.defineProperty(r, "url", { value: p.url });
  else Object.defineProperty(r, "url", { value: String(url) });
  return Promise.resolve(r);
};

export function reset(plan) {
  h.requests = [];
  h.plan = plan;
  h.probes = 0;
}

// record collects the events of the given types as plain objects.
export function record(es, types, onEvent) {
  const trace = [];
  for (const t of types) {
    es.addEventListener(t, (e) => {
      trace.push({ type: e.type, data: e.data ?? null, id: e.lastEventId ?? null, rs: es.readyState,
        status: e.status ?? null, kind: e.kind ?? null, message: e.message ?? null, retryIn: e.retryIn ?? null,
        body: e.body ?? null, attempt: e.attempt ?? null });
      if (onEvent) onEvent(es, e, trace);
    });
  }
  return trace;
}

// until waits for cond() to be true (polling), failing after ms.
export async function until(cond, ms = 5000, what = "condition") {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export { realFetch };
