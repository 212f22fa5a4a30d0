// wasm-eventsource: a spec-exact EventSource on fetch streams, with its engine
// in Go compiled to WebAssembly.
//
//   import { load } from "./eventsource.mjs";
//   const EventSource = await load();
//   const es = new EventSource("/chat", { method: "POST", headers: {...}, body });
//
// This module holds what must be JavaScript: the class shell (so that the
// constructor can throw, `new.target` is checked and the accessors are real
// prototype accessors like the native ones) and the helpers that dispatch
// events. The engine (fetch, parsing, reconnection) runs in eventsource.wasm.
// Nothing here touches `window` or `document` on the load path, so the module
// also works in a module worker.

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;

let loading = null;

/**
 * Loads the WebAssembly engine once and resolves to the EventSource class.
 * Later calls return the same promise (and so the same class).
 * @param {{wasmURL?: string|URL, wasmExecURL?: string|URL}} [options]
 */
export function load(options = {}) {
  if (!loading) {
    loading = boot(options);
    loading.catch(() => { loading = null; }); // a failed load may be retried
  }
  return loading;
}

/**
 * Loads the engine and puts the class on globalThis.EventSource.
 * @param {{wasmURL?: string|URL, wasmExecURL?: string|URL}} [options]
 */
export async function install(options = {}) {
  const EventSource = await load(options);
  globalThis.EventSource = EventSource;
  return EventSource;
}

async function boot(options) {
  const wasmURL = new URL(options.wasmURL ?? "./eventsource.wasm", import.meta.url);
  if (typeof globalThis.Go !== "function") {
    // wasm_exec.js is a classic script that defines globalThis.Go; it runs
    // fine as a module (it is strict-mode code).
    await import(new URL(options.wasmExecURL ?? "./wasm_exec.js", import.meta.url).href);
  }
  const go = new globalThis.Go();
  const { instance } = await instantiate(wasmURL, go.importObject);

  const engine = await new Promise((resolve, reject) => {
    globalThis.__wasmEventSourceBoot = { runtime, ready: resolve };
    go.run(instance).then(
      () => reject(new Error("wasm-eventsource: the Go engine exited")),
      reject,
    );
  });
  delete globalThis.__wasmEventSourceBoot;
  return defineClass(engine);
}

async function instantiate(url, imports) {
  if (typeof WebAssembly.instantiateStreaming === "function") {
    const response = await fetch(url);
    if (!response.ok) {
      throw new Error(`wasm-eventsource: cannot load ${url}: HTTP ${response.status}`);
    }
    try {
      return await WebAssembly.instantiateStreaming(response.clone(), imports);
    } catch (err) {
      // A server that does not send application/wasm: compile from bytes.
      if (!(err instanceof TypeError)) throw err;
      return WebAssembly.instantiate(await response.arrayBuffer(), imports);
    }
  }
  const response = await fetch(url);
  return WebAssembly.instantiate(await response.arrayBuffer(), imports);
}

const chunkOrNull = (r) => (r.done ? null : r.value);

// Decodes batches. ignoreBOM keeps a U+FEFF at the start of a batch: it
// belongs to the first event's type or data.
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

// The runtime is what the Go engine calls. Each helper runs one step of the
// spec's "queue a task ... unless readyState is CLOSED" logic in JS, so that
// a close() called by a listener takes effect before the next event.
const runtime = {
  // announce the connection
  open(es, s) {
    if (s.rs === CLOSED) return;
    s.rs = OPEN;
    es.dispatchEvent(new Event("open"));
  },

  // error: rs is CONNECTING when the engine will reconnect ("reestablish
  // the connection"), CLOSED when it gives up ("fail the connection").
  // status is the HTTP status when that was the failure, else 0.
  error(es, s, rs, status, message) {
    if (s.rs === CLOSED) return;
    s.rs = rs;
    const e = new Event("error");
    e.status = status;
    e.message = message;
    es.dispatchEvent(e);
  },

  // A stream that ended and is not reopened (reconnect: false).
  end(es, s) {
    if (s.rs === CLOSED) return;
    s.rs = CLOSED;
    es.dispatchEvent(new Event("close"));
  },

  // Dispatches a batch of parsed events. buf holds the UTF-8 of their texts
  // (textLen bytes) and then, 4-byte aligned, a table of three int32 per
  // event: type, data and id lengths in UTF-16 units, -1 for a type of
  // "message" or an unchanged id (layout: wasm/batch.go). buf is reused by
  // the engine only after the dispatch has finished.
  //
  // Native EventSource fires each event in a task of its own, so microtasks
  // queued by a listener run before the next event; here the loop awaits
  // between events, which queues its continuation after the microtasks the
  // listeners queued and so keeps that order, at a fraction of a task's
  // cost (an await costs less than queueMicrotask). The first event goes
  // out at once; when it was the only one (the usual case of a stream
  // flushed event by event) there is nothing to wait for and the result is
  // null, which spares the engine one crossing back into Go per chunk.
  // Otherwise the result is a Promise that resolves after the last event.
  // A listener that throws does not stop the loop: dispatchEvent reports
  // the exception and returns.
  dispatch(es, s, origin, buf, textLen, n) {
    const text = utf8.decode(buf.subarray(0, textLen));
    const d = new Int32Array(buf.buffer, buf.byteOffset + ((textLen + 3) & ~3), n * 3);
    const init = { data: "", origin, lastEventId: s.lid };
    let off = 0;
    let j = 0;
    const next = () => {
      let type = "message";
      if (d[j] >= 0) {
        type = text.slice(off, off += d[j]);
      }
      init.data = text.slice(off, off += d[j + 1]);
      if (d[j + 2] >= 0) {
        init.lastEventId = s.lid = text.slice(off, off += d[j + 2]);
      }
      j += 3;
      es.dispatchEvent(new MessageEvent(type, init));
    };
    if (s.rs !== CLOSED) next();
    if (j === 3 * n || s.rs === CLOSED) return null;
    return (async () => {
      while (j < 3 * n) {
        await null;
        if (s.rs === CLOSED) return;
        next();
      }
    })();
  },

  // resolves in a later task (setTimeout 0 without the nesting clamp)
  task() {
    return new Promise((resolve) => {
      const { port1, port2 } = new MessageChannel();
      port1.onmessage = () => { port1.close(); resolve(); };
      port2.postMessage(null);
    });
  },

  // One request of the stream: fetch as EventSource fetches (cache
  // no-store, CORS mode, Accept text/event-stream unless the caller set
  // one, Last-Event-ID when non-empty). lastEventId arrives as a binary
  // string of UTF-8 bytes so that the server gets the id's raw UTF-8.
  // Returns { abort, response }: response resolves to what the engine
  // checks, and read() for the body (null when none): it resolves to the
  // next chunk, a Uint8Array, or to null at the end, so that the engine
  // reads a chunk in one crossing rather than three.
  connect(url, method, headers, body, credentials, lastEventId) {
    const ac = new AbortController();
    const h = new Headers(headers ?? undefined);
    if (!h.has("accept")) h.set("Accept", "text/event-stream");
    if (lastEventId !== "") h.set("Last-Event-ID", lastEventId);
    const init = { method, headers: h, credentials, cache: "no-store", mode: "cors", redirect: "follow", signal: ac.signal };
    if (body !== null && body !== undefined) init.body = body;
    const response = globalThis.fetch(url, init).then((r) => {
      const reader = r.body ? r.body.getReader() : null;
      return {
        status: r.status,
        statusText: r.statusText,
        contentType: r.headers.get("content-type") ?? "",
        url: r.url,
        read: reader ? () => reader.read().then(chunkOrNull) : null,
      };
    });
    return { abort: () => ac.abort(), response };
  },

  // After a rejected fetch, tells apart what fetch reports as the same
  // TypeError, and answers what native EventSource would do:
  // "network" (the server cannot be reached: reconnect), "cors" (a
  // cross-origin server answered, so it refused CORS: fail), "redirect" (a
  // same-origin URL redirects to something fetch refused, a CORS refusal
  // or a bad scheme: fail). The probe is one HEAD request that carries no
  // caller headers or body.
  async probe(url, credentials) {
    const ac = new AbortController();
    const cross = globalThis.location !== undefined && new URL(url).origin !== globalThis.location.origin;
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
  },

  consoleError(text) {
    console.error(text);
  },
};

function baseURL() {
  // document.baseURI honours <base>; workers use their own location.
  const doc = globalThis.document;
  if (doc && typeof doc.baseURI === "string") return doc.baseURI;
  return globalThis.location?.href;
}

function defineClass(engine) {
  const handlerTypes = ["open", "message", "error", "close"];

  class EventSource extends EventTarget {
    #s; // state shared with the engine: rs (readyState), lid (last event ID)
    #handlers = Object.create(null);

    constructor(url, eventSourceInitDict = undefined) {
      if (arguments.length === 0) {
        throw new TypeError("Failed to construct 'EventSource': 1 argument required, but only 0 present.");
      }
      // WebIDL USVString: template literals throw on symbols like String() should.
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
      if (body !== null && /^(GET|HEAD)$/i.test(method)) {
        throw new TypeError(`Failed to construct 'EventSource': a ${method.toUpperCase()} request cannot have a body.`);
      }
      // Let fetch's own checks reject a bad method, header or credentials
      // mode now, as an exception, rather than later as an endless retry.
      new Request(parsed.href, { method, headers: init.headers, credentials, cache: "no-store" });
      super();
      this.#s = {
        rs: CONNECTING,
        lid: "",
        url: parsed.href,
        wc: withCredentials || credentials === "include",
      };
      this.#s.id = engine.open(
        this, this.#s, parsed.href, method, init.headers, body, `${credentials}`,
        init.reconnect === undefined || init.reconnect === null ? null : Boolean(init.reconnect),
        Number(init.maxEventSize ?? 0) || 0,
        init.lastEventId === undefined ? null : `${init.lastEventId}`,
      );
    }

    get url() { return this.#s.url; }
    get withCredentials() { return this.#s.wc; }
    get readyState() { return this.#s.rs; }

    close() {
      if (this.#s.rs === CLOSED) return;
      this.#s.rs = CLOSED;
      engine.close(this.#s.id);
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

// WebIDL dictionary conversion: undefined and null are an empty dictionary;
// other non-objects are a TypeError.
function dictionary(v) {
  if (v === undefined || v === null) return {};
  if (typeof v !== "object" && typeof v !== "function") {
    throw new TypeError("Failed to construct 'EventSource': The provided value is not of type 'EventSourceInit'.");
  }
  return v;
}

// For the engine's own tests (wasm/*_test.go run the shell against the Go
// engine under Node.js). Not an API: it may change at any time.
export const _internals = { runtime, defineClass };
