// wasm-eventsource, shared streams: the page side.
//
// new EventSource(url, { shared: true }) (or load({ shared: true })) hands a
// GET stream to one SharedWorker per origin (shared-worker.mjs), which runs
// the engine once and keeps one upstream request per distinct stream (URL,
// credentials mode, headers and options). Every object in every tab and frame
// gets the same events as the worker's own EventSource, and behaves as an
// unshared one from its own point of view: readyState, its own `open`,
// messages, errors with their details, the close event, for await.
//
// A tab that goes away without close() (closed, crashed, navigated) is
// detected by a Web Lock it holds for its whole life: the worker asks for the
// same lock and is granted it when the tab dies.
//
// Streams that cannot be shared (see share) return null and run in-page, as
// does everything where SharedWorker or Web Locks are missing.

/** In an init dictionary: relay every event, named or not, to dispatchEvent (the worker's upstreams). */
export const RELAY = Symbol.for("wasm-eventsource.relay");

const CONNECTING = 0, OPEN = 1, CLOSED = 2;
// The options a shared stream carries to the worker; they are part of its key.
const OPTIONS = ["reconnect", "maxEventSize", "lastEventId", "retryOn", "maxRetries", "idleTimeout",
  "reconnectOnOnline", "backoff"];

let tab; // this page's connection to the worker: undefined until tried, null when unavailable

/**
 * Returns a stand-in for st (the in-page Stream) that runs the stream in the
 * shared worker, or null when it cannot be shared: a method other than GET,
 * a body, a headers function, a signal, pauseWhenHidden or resume, or no
 * SharedWorker or Web Locks here. st has been validated by the engine; it is
 * closed (it never fetched) when the stream is shared. (Where load({ shared:
 * true }) left the engine out of the page, st is pending and nothing
 * validated the options: the worker's engine does, and a refusal is an
 * error event.)
 */
export function share(es, st, url, init, credentials, wasmURL) {
  const method = init.method === undefined ? "GET" : `${init.method}`;
  if (method.toUpperCase() !== "GET" || (init.body ?? null) !== null || typeof init.headers === "function" ||
    (init.signal ?? null) !== null || init.pauseWhenHidden || (init.resume ?? null) !== null) return null;
  const t = connect(wasmURL);
  if (!t) return null;
  const o = { credentials, headers: [...new Headers(init.headers ?? undefined)] };
  for (const k of OPTIONS) if (init[k] !== undefined && init[k] !== null) o[k] = init[k];
  let opts;
  try {
    opts = JSON.parse(JSON.stringify(o));
  } catch {
    return null;
  }
  st.close();
  return new SharedSource(t, es, { key: JSON.stringify([url, opts]), url, init: opts });
}

/** What this tab and the worker share: { tab: {sources, opened}, worker: {upstreams: [{url, clients, readyState}], tabs} }. */
export async function stats() {
  const t = tab;
  const out = { tab: { sources: t ? t.sources.size : 0, opened: t ? t.opened : 0 }, worker: null };
  if (!t) return out;
  try {
    await t.ready;
  } catch {
    return out; // no Web Lock: nothing was shared
  }
  out.worker = await new Promise((resolve) => {
    t.asks.push(resolve);
    t.port.postMessage({ op: "stats" });
  });
  return out;
}

/** Whether streams can be shared here: a SharedWorker and Web Locks (pages, not workers). */
export function canShare() {
  return typeof SharedWorker === "function" && typeof globalThis.navigator?.locks?.request === "function";
}

function connect(wasmURL) {
  if (tab !== undefined) return tab;
  tab = null;
  const locks = globalThis.navigator?.locks;
  if (!canShare()) return null;
  let worker;
  try {
    // Literal, so that bundlers emit the worker with its own copy of the engine.
    worker = new SharedWorker(new URL("./shared-worker.mjs", import.meta.url), { type: "module", name: "wasm-eventsource" });
  } catch {
    return null; // a sandboxed frame, a CSP without worker-src
  }
  const id = `${Date.now().toString(36)}.${Math.random().toString(36).slice(2)}`;
  const lock = `wasm-eventsource:tab:${id}`;
  const port = worker.port;
  const t = { port, sources: new Map(), seq: 0, opened: 0, asks: [], chain: Promise.resolve(), ready: null };
  // Hold the lock until this page dies; say hello only once it is held.
  t.ready = new Promise((resolve, reject) => {
    locks.request(lock, () => { resolve(); return new Promise(() => {}); }).catch(reject);
  }).then(() => port.postMessage({ op: "hello", tab: id, lock, wasmURL: wasmURL === undefined ? undefined : `${wasmURL}` }));
  t.ready.catch(() => fail(t, "cannot hold a Web Lock"));
  port.onmessage = (e) => {
    const m = e.data;
    if (m.stats) t.asks.shift()?.(m.stats);
    if (m.alive) locks.request(m.alive, () => fail(t, "the shared worker stopped")).catch(() => {});
    if (m.list) t.chain = t.chain.then(() => deliver(t, m.list));
  };
  worker.onerror = () => fail(t, "the shared worker failed to start");
  return (tab = t);
}

// A worker that cannot run, or that stopped, fails the streams it had; later
// ones run in-page.
function fail(t, why) {
  if (tab === t) tab = null;
  for (const ask of t.asks.splice(0)) ask(null);
  for (const s of [...t.sources.values()]) {
    s.handle({ t: "error", rs: CLOSED, kind: "internal", status: 0, headers: null, body: "", attempt: 0, retryIn: -1, message: `shared: ${why}` });
  }
}

// One event in a task of its own, as native EventSource fires them: the
// microtasks a listener queues run before the next event.
async function deliver(t, list) {
  for (let i = 0; i < list.length; i++) {
    if (i > 0) await null;
    t.sources.get(list[i][0])?.handle(list[i][1]);
  }
}

class SharedSource {
  constructor(t, es, open) {
    this.t = t;
    this.es = es;
    this.rs = CONNECTING;
    this.iterators = null;
    this.listening = () => true;
    this.id = ++t.seq;
    this.posted = false;
    t.sources.set(this.id, this);
    t.opened++;
    // In a later microtask, as native fetches in a task: new + close() in
    // one task asks the worker for nothing.
    t.ready.then(() => {
      if (this.rs === CLOSED) return;
      this.posted = true;
      t.port.postMessage({ op: "open", id: this.id, ...open });
    }, () => {});
  }

  handle(r) {
    if (this.rs === CLOSED) return;
    const es = this.es;
    switch (r.t) {
      case "open": {
        this.rs = OPEN;
        const e = new Event("open");
        Object.assign(e, { status: r.status, headers: new Headers(r.headers), url: r.url });
        es.dispatchEvent(e);
        break;
      }
      case "m": {
        const { type, data, lastEventId } = r;
        if (this.iterators) for (const it of this.iterators) it.push({ type, data, lastEventId });
        if (this.listening(type)) es.dispatchEvent(new MessageEvent(type, { data, origin: r.origin, lastEventId }));
        break;
      }
      case "error": {
        this.rs = r.rs;
        const e = new Event("error");
        Object.assign(e, {
          kind: r.kind, status: r.status, headers: r.headers ? new Headers(r.headers) : null, body: r.body,
          attempt: r.attempt, retryIn: r.retryIn, message: r.message,
        });
        es.dispatchEvent(e);
        if (r.rs === CLOSED) this.end(e);
        break;
      }
      case "close":
        this.rs = CLOSED;
        es.dispatchEvent(new Event("close"));
        this.end(null);
        break;
    }
  }

  // close() on the object: detaches this object alone.
  close() {
    if (this.rs === CLOSED) return;
    this.rs = CLOSED;
    if (this.posted) this.t.port.postMessage({ op: "close", id: this.id });
    this.end(null);
  }

  end(errorEvent) {
    this.t.sources.delete(this.id);
    this.endIterators(errorEvent);
  }

  endIterators(errorEvent) {
    if (!this.iterators) return;
    for (const it of this.iterators) it.end(errorEvent);
    this.iterators = null;
  }
}
