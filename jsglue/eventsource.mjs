// wasm-eventsource: a spec-exact EventSource on fetch streams, with its
// processing model in Go compiled to WebAssembly.
//
//   import { load } from "wasm-eventsource";
//   const EventSource = await load();
//   const es = new EventSource("/chat", { method: "POST", headers: {...}, body });
//
// The engine is split in two. The Go core (eventsource.wasm) is the
// processing model and every policy as a state machine with no I/O: it
// takes inputs ("response arrived", "bytes", "end of body", "timer fired",
// "close()") and answers with actions ("fetch this", "dispatch these
// events", "set a timer", "fail with this reason"). This module is the host
// that does the I/O: fetch and the body reader, timers, and dispatch on a
// real EventTarget. They meet at one seam (the `core` object below and
// wasm/main_js.go), where only numbers cross and text goes through the
// module's linear memory.
//
// Nothing here touches `window` or `document` while loading, so the module
// also works in workers (dedicated, shared and service workers).

import "./wasm_exec.js";
import { share, canShare, RELAY } from "./shared.mjs";
export { stats as sharedStats } from "./shared.mjs";

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;

let loading = null;
// load({ shared }) sets the class's default; wasmURL goes to the shared worker.
const sharing = { on: false, wasmURL: undefined };

/**
 * Loads the WebAssembly engine once and resolves to the EventSource class.
 * Later calls return the same promise (and so the same class); `shared`,
 * when given, sets the class's default for new objects (see shared.mjs).
 * @param {{wasmURL?: string|URL, shared?: boolean}} [options]
 */
export function load(options = {}) {
  if (options.shared !== undefined) sharing.on = Boolean(options.shared);
  if (!loading) {
    if (options.wasmURL !== undefined) sharing.wasmURL = new URL(`${options.wasmURL}`, baseURL()).href;
    // shared, in a page that can share: no engine here until a stream that
    // cannot be shared needs one (defineClass's startLater).
    loading = sharing.on && canShare() ? Promise.resolve(defineClass(null, options)) : boot(options);
    loading.catch(() => { loading = null; }); // a failed load may be retried
  }
  return loading;
}

/**
 * Loads the engine and puts the class on globalThis.EventSource.
 * @param {{wasmURL?: string|URL}} [options]
 */
export async function install(options = {}) {
  const EventSource = await load(options);
  globalThis.EventSource = EventSource;
  return EventSource;
}

async function boot(options) {
  return defineClass(await engine(options));
}

async function engine(options) {
  // A literal new URL("./…", import.meta.url) is what bundlers recognise as
  // an asset to emit; wasmURL overrides it.
  const wasmURL = options.wasmURL ?? new URL("./eventsource.wasm", import.meta.url);
  const go = new globalThis.Go();
  const { instance } = await instantiate(wasmURL, go.importObject);
  go.run(instance); // runs main until it blocks; the exports are live from then on
  return new Core(instance.exports);
}

async function instantiate(url, imports) {
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(`wasm-eventsource: cannot load ${url}: HTTP ${response.status}`);
  }
  if (typeof WebAssembly.instantiateStreaming === "function") {
    try {
      return await WebAssembly.instantiateStreaming(response.clone(), imports);
    } catch (err) {
      // A server that does not send application/wasm: compile from bytes.
      if (!(err instanceof TypeError)) throw err;
    }
  }
  return WebAssembly.instantiate(await response.arrayBuffer(), imports);
}

// ---------------------------------------------------------------------------
// The seam: the Go core's inputs and the decoding of its actions.

// Action opcodes and fetch flags (wasm/core/out.go).
const OP_FETCH = 1, OP_ABORT = 2, OP_OPEN = 3, OP_EVENTS = 4, OP_ERROR = 5,
  OP_CLOSE = 6, OP_TIMER = 7, OP_PROBE = 8, OP_STATE = 9, OP_FREE = 10;
const FETCH_RESUME = 1, FETCH_STRIP_AUTH = 2;
// Error kinds, indexed as core.Kind.
const KINDS = ["", "http", "content-type", "network", "cors", "dropped", "too-large",
  "idle", "retries-exhausted", "ended", "headers", "url", "internal"];
const VERDICT = { network: 0, cors: 1, redirect: 2, unknown: 3 };

// ignoreBOM keeps a U+FEFF at the start of a text: it belongs to the event.
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });
const encoder = new TextEncoder();
const now = () => performance.now();

class Core {
  constructor(exports) {
    this.x = exports;
    this.seamAt = exports.es_seam() >>> 2;
    this.refresh();
  }

  // Views of linear memory; memory growth replaces the buffer.
  refresh() {
    const buf = this.x.mem.buffer;
    if (this.buf === buf) return;
    this.buf = buf;
    this.u8 = new Uint8Array(buf);
    this.i32 = new Int32Array(buf);
  }

  // Input buffer: room for n bytes, returns its address.
  input(n) {
    this.refresh();
    if (this.i32[this.seamAt + 5] < n) {
      this.x.es_input(n);
      this.refresh();
    }
    return this.i32[this.seamAt + 4];
  }

  // Writes strings into the input buffer back to back; returns their
  // lengths in bytes.
  write(...strings) {
    let at = this.input(strings.reduce((n, s) => n + 3 * s.length, 0));
    return strings.map((s) => {
      const n = encoder.encodeInto(s, this.u8.subarray(at)).written;
      at += n;
      return n;
    });
  }

  // The init record: name length, name, value length, value (core/config.go).
  open(fields) {
    const parts = [];
    for (const [name, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      const n = encoder.encode(name), v = encoder.encode(`${value}`);
      const head = new Uint8Array(5 + n.length);
      head[0] = n.length;
      head.set(n, 1);
      new DataView(head.buffer).setUint32(1 + n.length, v.length, true);
      parts.push(head, v);
    }
    const size = parts.reduce((s, p) => s + p.length, 0);
    let at = this.input(size);
    for (const p of parts) { this.u8.set(p, at); at += p.length; }
    const id = this.x.es_open(size);
    if (id < 0) throw new TypeError(`Failed to construct 'EventSource': ${this.text(0, this.seam(3))}`);
    return id;
  }

  seam(i) { return this.i32[this.seamAt + i]; }
  text(off, len) { return utf8.decode(this.u8.subarray(this.seam(2) + off, this.seam(2) + off + len)); }

  // Decodes the actions the last input produced (there were n words) into
  // plain objects, before anything can call the core again.
  actions(n) {
    this.refresh();
    const w = this.i32, at = this.seam(0) >>> 2, list = [];
    for (let i = at, end = at + n; i < end;) {
      const op = w[i];
      switch (op) {
        case OP_FETCH:
          list.push({ op, attempt: w[i + 1], status: w[i + 2], flags: w[i + 3],
            url: this.text(w[i + 4], w[i + 5]), lid: this.binary(w[i + 6], w[i + 7]) });
          i += 8; break;
        case OP_EVENTS: {
          const count = w[i + 1];
          list.push({ op, n: count, text: this.text(w[i + 2], w[i + 3]), table: w.slice(i + 4, i + 4 + 3 * count) });
          i += 4 + 3 * count; break;
        }
        case OP_ERROR:
          list.push({ op, rs: w[i + 1], kind: KINDS[w[i + 2]], status: w[i + 3], attempt: w[i + 4],
            retryIn: w[i + 5], message: this.text(w[i + 6], w[i + 7]) });
          i += 8; break;
        case OP_TIMER: case OP_STATE:
          list.push({ op, value: w[i + 1] }); i += 2; break;
        case OP_PROBE:
          list.push({ op, url: this.text(w[i + 1], w[i + 2]) }); i += 3; break;
        default:
          list.push({ op }); i += 1;
      }
    }
    return list;
  }

  // A header value as fetch sends it: one code point per UTF-8 byte, so that
  // a non-ASCII Last-Event-ID reaches the server as its raw UTF-8, as native
  // EventSource sends it.
  binary(off, len) {
    const b = this.u8.subarray(this.seam(2) + off, this.seam(2) + off + len);
    let s = "";
    for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode(...b.subarray(i, i + 4096));
    return s;
  }
}

// ---------------------------------------------------------------------------
// The host: one Stream per EventSource object carries out the core's actions.

// Starts are deferred to a task, as native EventSource fetches in a task: one
// MessageChannel serves every source constructed in the same task.
const starts = [];
let startChannel = null;
function queueStart(stream) {
  starts.push(stream);
  if (starts.length > 1) return;
  if (!startChannel) {
    startChannel = new MessageChannel();
    startChannel.port1.onmessage = () => {
      // Node.js keeps a process alive while a port is referenced; browsers
      // have no such notion (ref and unref are absent there).
      startChannel.port1.unref?.();
      for (const st of starts.splice(0)) st.input("es_start", now());
    };
  }
  startChannel.port1.ref?.();
  startChannel.port2.postMessage(null);
}

// Streams whose request may be in flight, for window.stop().
const live = new Set();
let stopHooked = false;

// window.stop() aborts every fetch of the document, and native EventSource
// fails its connection for good within the call. A fetch aborted that way
// only rejects later, with the same TypeError as a network error, so the
// host watches the call itself: the first EventSource made in a document
// wraps window.stop (same name, length and behaviour) to fail the streams
// whose request was in flight, synchronously, as native does.
function hookWindowStop() {
  stopHooked = true;
  const g = globalThis;
  if (typeof g.stop !== "function" || !g.document || typeof g.Window !== "function" || !(g instanceof g.Window)) return;
  const original = g.stop;
  const stop = {
    stop() {
      const result = Reflect.apply(original, this, arguments);
      for (const st of [...live]) if (st.ac) st.inputText("es_dropped", "window.stop()", 1, now());
      return result;
    },
  }.stop;
  const desc = Object.getOwnPropertyDescriptor(g, "stop") ?? { writable: true, enumerable: true, configurable: true };
  Object.defineProperty(g, "stop", { ...desc, value: stop });
}

class Stream {
  constructor(core, es, init, id) {
    this.core = core;
    this.es = es;            // the EventSource object (kept reachable while the core runs it)
    this.init = init;        // what stays in JS: headers, body, credentials, resume function
    this.id = id;            // the core's source id; -1 once the core is done with it
    this.rs = CONNECTING;    // readyState: set as each action is announced, in dispatch order
    this.gen = 0;            // current request; a stale request's callbacks are dropped
    this.ac = null;          // its AbortController
    this.timer = 0;
    this.queue = null;       // actions waiting behind an event batch that is being dispatched
    this.drained = null;     // resolves when that queue is empty
    this.origin = "null";    // of the response being streamed, for MessageEvent.origin
    this.response = null;    // the last response, for the open and error events
    this.failBody = "";
    this.iterators = null;   // for await consumers
    this.listening = () => true; // whether a MessageEvent of a type would reach anyone
    this.cleanup = [];
  }

  // Calls one input of the core and carries out its actions.
  input(name, ...args) {
    if (this.id < 0) return;
    const n = this.core.x[name](this.id, ...args);
    if (n > 0) this.run(this.core.actions(n));
  }

  inputText(name, text, ...args) {
    if (this.id < 0) return;
    const [len] = this.core.write(text);
    this.input(name, len, ...args);
  }

  run(actions) {
    if (this.queue) { this.queue.push(...actions); return; }
    for (let i = 0; i < actions.length; i++) {
      const a = actions[i];
      if (a.op !== OP_EVENTS) { this.apply(a); continue; }
      const pending = this.dispatch(a);
      if (pending) {
        this.queue = actions.slice(i + 1);
        let done;
        this.drained = new Promise((r) => { done = r; });
        pending.then(() => {
          const rest = this.queue;
          this.queue = null;
          this.run(rest);
          done();
        });
        return;
      }
    }
  }

  apply(a) {
    switch (a.op) {
      case OP_FETCH:
        this.fetch(a).catch((err) => console.error("wasm-eventsource: request:", err));
        break;
      case OP_ABORT: this.abort(); break;
      case OP_OPEN: {
        if (this.rs === CLOSED) return;
        this.rs = OPEN;
        const e = new Event("open");
        const r = this.response;
        e.status = r.status; e.headers = r.headers; e.url = r.url;
        this.es.dispatchEvent(e);
        break;
      }
      case OP_ERROR: {
        if (this.rs === CLOSED) return;
        this.rs = a.rs;
        const e = new Event("error");
        // A failed response (kind http or content-type, or retries-exhausted
        // by one) shows its headers and body.
        const failed = a.status !== 0 && this.response !== null;
        Object.assign(e, {
          kind: a.kind, status: a.status, headers: failed ? this.response.headers : null,
          body: failed ? this.failBody : "", attempt: a.attempt, retryIn: a.retryIn, message: a.message,
        });
        this.failBody = "";
        this.es.dispatchEvent(e);
        if (a.rs === CLOSED) this.endIterators(e);
        break;
      }
      case OP_CLOSE:
        if (this.rs === CLOSED) return;
        this.rs = CLOSED;
        this.es.dispatchEvent(new Event("close"));
        this.endIterators(null);
        break;
      case OP_TIMER:
        clearTimeout(this.timer);
        this.timer = a.value < 0 ? 0 : setTimeout(() => { this.timer = 0; this.input("es_timer", now()); }, a.value);
        break;
      case OP_PROBE:
        probe(a.url, this.init.credentials).then((v) => this.input("es_probed", VERDICT[v], now()));
        break;
      case OP_STATE:
        if (this.rs !== CLOSED) this.rs = a.value;
        if (a.value === CLOSED) this.endIterators(null);
        break;
      case OP_FREE:
        this.id = -1;
        live.delete(this);
        clearTimeout(this.timer);
        for (const f of this.cleanup.splice(0)) f();
        break;
    }
  }

  abort() {
    this.gen++;
    this.ac?.abort();
    this.ac = null;
  }

  // Makes one request as EventSource does (cache no-store, CORS mode,
  // Accept: text/event-stream unless the caller set one, Last-Event-ID when
  // there is one), and streams its body into the core.
  async fetch(a) {
    const gen = ++this.gen;
    const ac = this.ac = new AbortController();
    const init = this.init;
    let headers = init.headers;
    if (typeof headers === "function") {
      try {
        headers = await headers({ attempt: a.attempt, lastEventId: decodeBinary(a.lid), status: a.status });
      } catch (err) {
        if (gen === this.gen) this.inputText("es_headers_failed", "headers function: " + errorText(err));
        return;
      }
      if (gen !== this.gen) return;
    }
    let h;
    try {
      h = new Headers(headers ?? undefined);
    } catch (err) {
      this.inputText("es_headers_failed", errorText(err));
      return;
    }
    if (!h.has("accept")) h.set("Accept", "text/event-stream");
    if (a.flags & FETCH_STRIP_AUTH) h.delete("authorization");
    if (a.lid !== "") h.set("Last-Event-ID", a.lid);
    let url = a.url, method = init.method, body = init.body;
    if (a.flags & FETCH_RESUME) {
      method = "GET";
      body = null;
      if (typeof init.resume === "function") {
        try {
          url = new URL(`${await init.resume(decodeBinary(a.lid))}`, baseURL() ?? this.es.url).href;
        } catch (err) {
          if (gen === this.gen) this.inputText("es_headers_failed", "resume: " + errorText(err));
          return;
        }
        if (gen !== this.gen) return;
      }
    }
    const req = { method, headers: h, credentials: init.credentials, cache: "no-store", mode: "cors", redirect: "follow", signal: ac.signal };
    if (body !== null && body !== undefined) req.body = body;
    let r;
    try {
      r = await globalThis.fetch(url, req);
    } catch (err) {
      if (gen !== this.gen) return;
      this.ac = null;
      if (isExternalAbort(err, ac)) this.inputText("es_dropped", errorText(err), 1, now());
      else this.inputText("es_fetch_failed", errorText(err), now());
      return;
    }
    if (gen !== this.gen) return;
    this.response = r;
    const ct = r.headers.get("content-type") ?? "";
    const [ctLen, urlLen] = this.core.write(ct, r.url);
    const n = this.core.x.es_response(this.id, r.status, ctLen, urlLen, retryAfter(r.headers.get("retry-after")), now());
    const actions = n > 0 ? this.core.actions(n) : [];
    if (!actions.some((x) => x.op === OP_OPEN)) {
      // A failed response: its body (the server's reason, often JSON) goes
      // with the error event, first 64 KiB, read for at most 2 s. (An
      // error with no status, such as a re-sent request's response that
      // only shows the server is reachable, carries no body: not read.)
      if (actions.some((x) => x.op === OP_ERROR && x.status !== 0)) {
        // The core has moved on (to a reconnection wait, or closed), and
        // these actions set or clear the timer: the idle timer must not
        // fire into that state while the body is read.
        clearTimeout(this.timer);
        this.timer = 0;
        this.failBody = await readText(r, 64 << 10, 2000);
      }
      if (gen === this.gen) this.run(actions);
      else this.run(actions.filter((x) => x.op !== OP_ABORT));
      return;
    }
    try {
      this.origin = new URL(r.url || url).origin;
    } catch {
      this.origin = "null";
    }
    this.run(actions);
    if (gen !== this.gen || !r.body) {
      if (gen === this.gen) this.input("es_end", now());
      return;
    }
    const reader = r.body.getReader();
    const core = this.core;
    for (;;) {
      let chunk;
      try {
        chunk = await reader.read();
      } catch (err) {
        if (gen === this.gen) {
          this.ac = null;
          this.inputText("es_dropped", errorText(err), isExternalAbort(err, ac) ? 1 : 0, now());
        }
        return;
      }
      if (gen !== this.gen) return;
      if (chunk.done) {
        this.ac = null;
        this.input("es_end", now());
        return;
      }
      const bytes = chunk.value;
      const at = core.input(bytes.length);
      core.u8.set(bytes, at);
      this.input("es_chunk", bytes.length, now());
      if (this.queue) await this.drained;
      if (gen !== this.gen) return;
    }
  }

  // Dispatches a batch of events (layout: OpEvents in wasm/core/out.go).
  //
  // Native EventSource fires each event in a task of its own, so microtasks
  // queued by a listener run before the next event; here the loop awaits
  // between events, which queues its continuation after the microtasks the
  // listeners queued and so keeps that order, at a fraction of a task's
  // cost. The first event goes out at once; when it was the only one (a
  // stream flushed event by event) the result is null and the actions after
  // it run at once. Otherwise it is a Promise that resolves after the last
  // event. close() in a listener stops the rest (readyState is checked
  // before each event). A listener that throws does not stop the loop:
  // dispatchEvent reports the exception and returns.
  dispatch(a) {
    const { text, table, n } = a;
    const es = this.es;
    let off = 0, j = 0, lastEventId = "";
    const init = { data: "", origin: this.origin, lastEventId };
    const next = () => {
      let type = "message";
      if (table[j] >= 0) type = text.slice(off, off += table[j]);
      const data = text.slice(off, off += table[j + 1]);
      if (table[j + 2] >= 0) lastEventId = text.slice(off, off += table[j + 2]);
      j += 3;
      if (this.iterators) for (const it of this.iterators) it.push({ type, data, lastEventId });
      if (this.listening(type)) {
        init.data = data;
        init.lastEventId = lastEventId;
        es.dispatchEvent(new MessageEvent(type, init));
      }
    };
    if (this.rs !== CLOSED) next();
    if (j === 3 * n || this.rs === CLOSED) return null;
    return (async () => {
      while (j < 3 * n) {
        await null;
        if (this.rs === CLOSED) return;
        next();
      }
    })();
  }

  // close() on the object, or its signal aborted.
  close() {
    if (this.rs === CLOSED) return;
    this.rs = CLOSED;
    this.input("es_close");
    this.endIterators(null);
  }

  endIterators(errorEvent) {
    if (!this.iterators) return;
    for (const it of this.iterators) it.end(errorEvent);
    this.iterators = null;
  }
}

function isExternalAbort(err, ac) {
  return err?.name === "AbortError" && !ac.signal.aborted;
}

function errorText(err) {
  if (err && typeof err === "object" && "message" in err) {
    return err.name && err.name !== "Error" ? `${err.name}: ${err.message}` : `${err.message}`;
  }
  return `${err}`;
}

function decodeBinary(s) {
  if (!/[^\x00-\x7f]/.test(s)) return s;
  return utf8.decode(Uint8Array.from(s, (c) => c.charCodeAt(0)));
}

// Retry-After: delay-seconds or an HTTP date; -1 when absent or unreadable.
function retryAfter(v) {
  if (v === null) return -1;
  v = v.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // An HTTP date names its month; Date.parse alone would read "2.5" or
  // "-1" as dates in 2001, that is "retry at once".
  if (!/\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)/i.test(v)) return -1;
  const t = Date.parse(v);
  return Number.isNaN(t) ? -1 : Math.max(0, t - Date.now());
}

async function readText(r, limit, ms) {
  if (!r.body) return "";
  const reader = r.body.getReader();
  const parts = [];
  let size = 0;
  const timer = setTimeout(() => reader.cancel().catch(() => {}), ms);
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      size += value.length;
    }
  } catch {
    // what arrived is enough
  } finally {
    clearTimeout(timer);
    reader.cancel().catch(() => {});
  }
  const all = new Uint8Array(Math.min(size, limit));
  let at = 0;
  for (const p of parts) {
    const take = p.subarray(0, all.length - at);
    all.set(take, at);
    at += take.length;
  }
  return new TextDecoder().decode(all);
}

// After a rejected fetch, tells apart what fetch reports as the same
// TypeError, and answers what native EventSource would do: "network" (the
// server cannot be reached: reconnect), "cors" (a cross-origin server
// answered, so it refused CORS: fail), "redirect" (a same-origin URL
// redirects to something fetch refused: fail). The probe is one HEAD
// request with no caller headers and no body. The core asks for it only when
// the answer changes what happens next.
//
// On a cross-origin-isolated page (COEP) the no-cors probe is blocked too,
// whether or not the server answered: it cannot tell, so it is not sent, and
// the answer is "unknown" (the core fails a stream that never opened, as
// native fails on a refusal, and lets one that has opened reconnect for a
// while, as through a server restart).
async function probe(url, credentials) {
  const ac = new AbortController();
  let cross = false;
  try {
    cross = globalThis.location !== undefined && new URL(url).origin !== globalThis.location.origin;
  } catch {
    return "network";
  }
  if (cross && globalThis.crossOriginIsolated === true) return "unknown";
  const init = cross
    ? { method: "HEAD", mode: "no-cors", cache: "no-store", credentials, signal: ac.signal }
    : { method: "HEAD", mode: "same-origin", redirect: "manual", cache: "no-store", credentials, signal: ac.signal };
  try {
    const r = await globalThis.fetch(url, init);
    if (cross) return "cors";
    return r.type === "opaqueredirect" ? "redirect" : "network";
  } catch {
    return "network";
  } finally {
    ac.abort();
  }
}

function baseURL() {
  // document.baseURI honours <base>; workers use their own location.
  const doc = globalThis.document;
  if (doc && typeof doc.baseURI === "string") return doc.baseURI;
  return globalThis.location?.href;
}

// ---------------------------------------------------------------------------
// The class.

// core is null when the engine is to be loaded with lazyOptions on first need.
function defineClass(core, lazyOptions = null) {
  const PENDING = -2; // a source id: the engine is loading, then startLater opens and starts it
  let booting = null;
  const startLater = (st, fields) => {
    if (!booting) {
      booting = engine(lazyOptions).then((c) => { core ??= c; });
      booting.catch(() => { booting = null; }); // a failed load may be retried
    }
    booting.then(() => {
      if (st.rs === CLOSED) return;
      st.core = core;
      st.id = core.open(fields);
      if (fields.pauseWhenHidden && globalThis.document?.hidden) st.input("es_hidden", 1, now());
      queueStart(st);
    }).catch((err) => {
      // An option the engine refuses, or no engine: an error instead of a throw.
      st.apply({ op: OP_ERROR, rs: CLOSED, kind: "internal", status: 0, attempt: 0, retryIn: -1, message: errorText(err) });
    }).finally(() => {
      if (st.id < 0) for (const f of st.cleanup.splice(0)) f();
    });
  };
  const handlerTypes = ["open", "message", "error", "close"];

  class EventSource extends EventTarget {
    #st; // the Stream: readyState, the request, the core's source id
    #url;
    #wc;
    #handlers = Object.create(null);
    #listeners = new Map(); // type -> Set of listener keys, so that events nobody listens to cost nothing

    constructor(url, eventSourceInitDict = undefined) {
      if (arguments.length === 0) {
        throw new TypeError("Failed to construct 'EventSource': 1 argument required, but only 0 present.");
      }
      // WebIDL USVString: template literals throw on symbols as String() should.
      const str = `${url}`.toWellFormed();
      const init = dictionary(eventSourceInitDict);
      let parsed;
      try {
        parsed = new URL(str, baseURL());
      } catch {
        throw new DOMException(`Failed to construct 'EventSource': The URL '${str}' is invalid.`, "SyntaxError");
      }
      const method = init.method === undefined ? "GET" : `${init.method}`;
      const withCredentials = Boolean(init.withCredentials);
      const credentials = init.credentials ?? (withCredentials ? "include" : "same-origin");
      const body = init.body ?? null;
      const fail = (what) => { throw new TypeError(`Failed to construct 'EventSource': ${what}`); };
      if (body !== null && /^(GET|HEAD)$/i.test(method)) fail(`a ${method.toUpperCase()} request cannot have a body.`);
      if (typeof ReadableStream === "function" && body instanceof ReadableStream) {
        // A stream can be read once: a reconnection could never send it again.
        fail("a ReadableStream body cannot be sent again on reconnection; pass the data instead.");
      }
      const headersFn = typeof init.headers === "function";
      // Let fetch's own checks reject a bad method, header or credentials
      // mode now, as an exception, rather than later as an endless retry.
      new Request(parsed.href, { method, headers: headersFn ? undefined : init.headers, credentials, cache: "no-store" });
      const signal = init.signal ?? null;
      if (signal !== null && !(signal instanceof AbortSignal)) fail("signal is not an AbortSignal.");
      const resume = init.resume;
      let resumeURL;
      if (resume !== undefined && resume !== null && typeof resume !== "function") {
        try {
          resumeURL = new URL(`${resume}`, baseURL() ?? parsed.href).href;
        } catch {
          fail(`the resume URL '${resume}' is invalid.`);
        }
      }
      const fields = {
        url: parsed.href,
        method,
        reconnect: init.reconnect === undefined || init.reconnect === null ? undefined : Boolean(init.reconnect),
        maxEventSize: init.maxEventSize === undefined ? undefined : Math.trunc(Number(init.maxEventSize)) || 0,
        lastEventId: init.lastEventId === undefined || init.lastEventId === null ? undefined : `${init.lastEventId}`,
        retryOn: init.retryOn === undefined ? undefined : statuses(init.retryOn, fail),
        maxRetries: init.maxRetries ?? undefined,
        resume: resume === undefined || resume === null ? undefined : (resumeURL ?? ""),
        idleTimeout: init.idleTimeout ?? undefined,
        pauseWhenHidden: init.pauseWhenHidden ? true : undefined,
        reconnectOnOnline: init.reconnectOnOnline ? true : undefined,
        seed: Math.floor(Math.random() * 2 ** 52),
      };
      if (fields.retryOn === "") fields.retryOn = undefined;
      if (init.backoff !== undefined && init.backoff !== null && init.backoff !== false) {
        const b = init.backoff === true ? {} : dictionary(init.backoff);
        Object.assign(fields, {
          backoff: true, initialDelay: b.initialDelay, maxDelay: b.maxDelay, factor: b.factor,
          jitter: b.jitter === undefined ? undefined : Boolean(b.jitter),
        });
      }
      const id = core ? core.open(fields) : PENDING;
      super();
      this.#url = parsed.href;
      this.#wc = withCredentials || credentials === "include";
      const st = this.#st = new Stream(core, this, {
        method, headers: init.headers, body, credentials: `${credentials}`, resume,
      }, id);
      st.listening = init[RELAY] ? () => true : (type) => this.#listeners.get(type)?.size > 0;
      // shared: a GET stream runs in the shared worker (shared.mjs), if it can.
      const proxy = (init.shared ?? sharing.on) ? share(this, st, parsed.href, init, `${credentials}`, sharing.wasmURL) : null;
      if (proxy) {
        proxy.listening = st.listening;
        this.#st = proxy;
        return;
      }
      if (signal?.aborted) {
        st.close();
        return;
      }
      if (signal) {
        const onAbort = () => st.close();
        signal.addEventListener("abort", onAbort);
        st.cleanup.push(() => signal.removeEventListener("abort", onAbort));
      }
      if (fields.pauseWhenHidden && globalThis.document) {
        const doc = globalThis.document;
        const onVisibility = () => st.input("es_hidden", doc.hidden ? 1 : 0, now());
        doc.addEventListener("visibilitychange", onVisibility);
        st.cleanup.push(() => doc.removeEventListener("visibilitychange", onVisibility));
        if (doc.hidden) onVisibility();
      }
      if (fields.reconnectOnOnline && typeof globalThis.addEventListener === "function") {
        const onOnline = () => st.input("es_online", now());
        globalThis.addEventListener("online", onOnline);
        st.cleanup.push(() => globalThis.removeEventListener("online", onOnline));
      }
      live.add(st);
      if (!stopHooked) hookWindowStop();
      if (id === PENDING) startLater(st, fields);
      else queueStart(st);
    }

    get url() { return this.#url; }
    get withCredentials() { return this.#wc; }
    get readyState() { return this.#st.rs; }

    close() {
      this.#st.close();
    }

    // Counting listeners lets the host skip building MessageEvents that no
    // one would see (a page that only uses for await).
    addEventListener(type, listener, options) {
      super.addEventListener(type, listener, options);
      if (listener === null || listener === undefined) return;
      const key = `${type}`;
      let set = this.#listeners.get(key);
      if (!set) this.#listeners.set(key, set = new Set());
      set.add(listener);
    }

    removeEventListener(type, listener, options) {
      super.removeEventListener(type, listener, options);
      // Kept in the set: a listener may still be registered with the other
      // capture flag, and counting one too many only costs an event object.
    }


    // for await (const m of es): every message, named or not, as
    // { type, data, lastEventId }, until the source is closed; leaving the
    // loop closes it; a failure ends the loop by throwing the error event's
    // details.
    [Symbol.asyncIterator]() {
      const st = this.#st;
      const buffered = [];
      let wake = null, finished = st.rs === CLOSED, failure = null;
      const it = {
        push(m) { buffered.push(m); if (wake) { wake(); wake = null; } },
        end(errorEvent) {
          finished = true;
          if (errorEvent) failure = new EventSourceError(errorEvent);
          if (wake) { wake(); wake = null; }
        },
      };
      if (!finished) (st.iterators ??= new Set()).add(it);
      const es = this;
      return {
        async next() {
          for (;;) {
            if (buffered.length) return { value: buffered.shift(), done: false };
            if (failure) { const f = failure; failure = null; throw f; }
            if (finished) return { value: undefined, done: true };
            await new Promise((r) => { wake = r; });
          }
        },
        async return() {
          st.iterators?.delete(it);
          es.close();
          finished = true;
          return { value: undefined, done: true };
        },
        [Symbol.asyncIterator]() { return this; },
      };
    }

    static {
      // WebIDL attributes and operations are enumerable; class members are not.
      for (const name of ["url", "withCredentials", "readyState", "close"]) {
        const desc = Object.getOwnPropertyDescriptor(this.prototype, name);
        Object.defineProperty(this.prototype, name, { ...desc, enumerable: true });
      }
      for (const type of handlerTypes) {
        Object.defineProperty(this.prototype, `on${type}`, {
          get() { return this.#handlers[type] ?? null; },
          set(fn) { this.#setHandler(type, fn); },
          enumerable: true,
          configurable: true,
        });
      }
    }

    // An event handler attribute registers one listener, at the time it is
    // first set, that calls whatever handler is current.
    #setHandler(type, fn) {
      const value = typeof fn === "function" || (typeof fn === "object" && fn !== null) ? fn : null;
      const first = !(type in this.#handlers);
      this.#handlers[type] = value;
      if (first) {
        this.addEventListener(type, (event) => {
          const h = this.#handlers[type];
          if (typeof h === "function") h.call(this, event);
        });
      }
    }
  }

  const constants = { CONNECTING, OPEN, CLOSED };
  for (const [name, value] of Object.entries(constants)) {
    const desc = { value, enumerable: true, writable: false, configurable: false };
    Object.defineProperty(EventSource, name, desc);
    Object.defineProperty(EventSource.prototype, name, desc);
  }
  Object.defineProperty(EventSource.prototype, Symbol.toStringTag, {
    value: "EventSource",
    configurable: true,
  });
  return EventSource;
}

/** What a failure throws out of a for await loop: the error event's details. */
export class EventSourceError extends Error {
  constructor(e) {
    super(e.message);
    this.name = "EventSourceError";
    for (const k of ["kind", "status", "headers", "body", "attempt", "retryIn"]) this[k] = e[k];
  }
}

function statuses(v, fail) {
  if (!Array.isArray(v)) fail("retryOn must be an array of HTTP statuses.");
  for (const s of v) if (!Number.isInteger(s) || s < 100 || s > 599) fail(`retryOn: ${s} is not an HTTP status.`);
  return v.join(",");
}

// WebIDL dictionary conversion: undefined and null are an empty dictionary;
// other non-objects are a TypeError.
function dictionary(v) {
  if (v === undefined || v === null) return {};
  if (typeof v !== "object" && typeof v !== "function") {
    throw new TypeError("Failed to construct 'EventSource': The provided value is not of type 'EventSourceInit'.");
  }
  return v;
}
