// The page side of `make bench` (driver: e2e/bench).
//
// One tab per run: /bench/index.html?client=NAME loads only that client,
// sets globalThis.bench.ready, and waits for the driver. Clients:
//
//   native        the browser's EventSource
//   ours          wasm-eventsource (/dist/eventsource.mjs, load()), drop-in:
//                 onmessage with real MessageEvents
//   oursiter      the same engine through `for await (const m of es)` with
//                 no message listener (the host builds no MessageEvent)
//   before        ours as built from the commit before the engine inversion
//                 (/before/, built by the driver; crossings and start-up only)
//   eventsource5  the `eventsource` 5.x npm package (bundled into /peers/peers.mjs)
//   fes           @microsoft/fetch-event-source 2.0.1 (same bundle)
//   esclient      eventsource-client 1.2.0 (same bundle; its onMessage callback)
//   polyfill      event-source-polyfill 1.0.31 (same bundle; GET only: the LLM
//                 run sends the token as a header and the prompt in the URL)
//   raw           fetch + body.getReader(), counting bytes, parsing nothing
//
// Every client gets the same request and the same listener work, so the
// difference between them is the client. The driver verifies what each run
// received (count, total data length, first/last data, last id or raw bytes).
//
// Query parameters: client (required); wasm (ours: another eventsource.wasm
// URL, used for the unstripped profiling build); count=1 (ours, oursiter,
// before: count every crossing between JS and the wasm module, see
// countCrossings; never on a timed run).

const q = new URLSearchParams(location.search);
const client = q.get("client");

const bench = {
  client,
  ready: false,
  error: null, // set when setup or a background (memory) run fails
  progress: 0, // memory runs: events received (raw: bytes)
  importMs: 0, // ours: import("/dist/eventsource.mjs")
  loadMs: 0, // ours: await load()
  loadedAt: 0, // ours: performance.now() when load() resolved (ms since navigation start)
  instantiateMs: 0, // ours: WebAssembly.instantiateStreaming (fetch + compile + instantiate)
  instantiatedAt: 0, // ours: performance.now() when it resolved; loadedAt - instantiatedAt = Go start-up
  wasmMemoryBytes: () => (wasmMemory ? wasmMemory.buffer.byteLength : 0),
  crossings: null, // count=1: {exports: {name: calls}, imports: {name: calls}, chunks}
  resetCrossings: () => {},
  run,
  start,
  stop,
};
globalThis.bench = bench;

const status = (text) => {
  const el = document.getElementById("status");
  if (el) el.textContent = text;
};

let ES = null; // EventSource class (native, ours, oursiter, before, eventsource5, polyfill)
let fetchEventSource = null; // fes
let createEventSource = null; // esclient
let wasmMemory = null; // ours: the Go module's exported memory

// Wraps WebAssembly.instantiate* so that the module's memory (Go exports it
// as "mem") can be read after load(): its byteLength is the WASM heap size.
// With count=1 it also counts the crossings (countCrossings).
function captureWasmMemory(count) {
  const wrap = (orig) =>
    async function (...args) {
      if (count) args[1] = countImports(args[1]);
      const t0 = performance.now();
      let result = await orig.apply(WebAssembly, args);
      bench.instantiateMs = performance.now() - t0;
      bench.instantiatedAt = performance.now();
      const instance = result instanceof WebAssembly.Instance ? result : result.instance;
      if (instance && instance.exports.mem instanceof WebAssembly.Memory) {
        wasmMemory = instance.exports.mem;
      }
      if (count && instance && !(result instanceof WebAssembly.Instance)) {
        // Go.run checks instanceof WebAssembly.Instance: an object with that
        // prototype and its own exports passes.
        const counted = Object.create(WebAssembly.Instance.prototype, { exports: { value: countExports(instance.exports) } });
        result = { module: result.module, instance: counted };
      }
      return result;
    };
  if (WebAssembly.instantiateStreaming) {
    WebAssembly.instantiateStreaming = wrap(WebAssembly.instantiateStreaming);
  }
  WebAssembly.instantiate = wrap(WebAssembly.instantiate);
}

// countCrossings (count=1): every call from JS into the module (its
// exports: es_chunk and the other inputs of the seam; for Go's own
// scheduling, resume and getsp) and every call from the module into JS (the
// imports wasm_exec.js provides: syscall/js.* and runtime.*) is counted by
// name, and so is every chunk a stream reader hands over (the number of
// body chunks, whoever reads them). bench.resetCrossings() zeroes the
// counts; a run reports them.
const counts = { exports: Object.create(null), imports: Object.create(null), chunks: 0 };
function countImports(importObject) {
  const out = {};
  for (const [ns, fns] of Object.entries(importObject)) {
    out[ns] = {};
    for (const [name, fn] of Object.entries(fns)) {
      if (typeof fn !== "function") {
        out[ns][name] = fn;
        continue;
      }
      const key = ns === "gojs" ? name : `${ns}.${name}`;
      out[ns][name] = function (...a) {
        counts.imports[key] = (counts.imports[key] || 0) + 1;
        return fn.apply(this, a);
      };
    }
  }
  return out;
}
function countExports(exports) {
  const out = {};
  for (const [name, v] of Object.entries(exports)) {
    if (typeof v !== "function") {
      out[name] = v;
      continue;
    }
    out[name] = (...a) => {
      counts.exports[name] = (counts.exports[name] || 0) + 1;
      return v(...a);
    };
  }
  return out;
}
function countCrossings() {
  const read = ReadableStreamDefaultReader.prototype.read;
  ReadableStreamDefaultReader.prototype.read = function (...a) {
    return read.apply(this, a).then((r) => {
      if (!r.done && r.value) counts.chunks++;
      return r;
    });
  };
  bench.resetCrossings = () => {
    counts.exports = Object.create(null);
    counts.imports = Object.create(null);
    counts.chunks = 0;
  };
  Object.defineProperty(bench, "crossings", { get: () => ({ exports: { ...counts.exports }, imports: { ...counts.imports }, chunks: counts.chunks }) });
}

async function setup() {
  const count = q.get("count") === "1";
  switch (client) {
    case "native":
      ES = globalThis.EventSource;
      break;
    case "ours":
    case "oursiter":
    case "before": {
      if (count) countCrossings();
      captureWasmMemory(count);
      const t0 = performance.now();
      const mod = await import(client === "before" ? "/before/eventsource.mjs" : "/dist/eventsource.mjs");
      const t1 = performance.now();
      const opts = {};
      if (q.get("wasm")) opts.wasmURL = new URL(q.get("wasm"), location.href);
      ES = await mod.load(opts);
      const t2 = performance.now();
      if (typeof ES !== "function" || ES.OPEN !== 1) throw new Error("load() did not resolve to an EventSource class");
      bench.importMs = t1 - t0;
      bench.loadMs = t2 - t1;
      bench.loadedAt = t2;
      break;
    }
    case "eventsource5": {
      const peers = await import("/peers/peers.mjs");
      ES = peers.EventSource;
      break;
    }
    case "fes": {
      const peers = await import("/peers/peers.mjs");
      fetchEventSource = peers.fetchEventSource;
      break;
    }
    case "esclient": {
      const peers = await import("/peers/peers.mjs");
      createEventSource = peers.createEventSource;
      break;
    }
    case "polyfill": {
      const peers = await import("/peers/peers.mjs");
      ES = peers.EventSourcePolyfill;
      break;
    }
    case "raw":
      break;
    default:
      throw new Error(`unknown client ${client}`);
  }
}

// connect opens the stream described by req with the page's client and
// calls on.message(data, lastEventId) per message event, on.fail(reason)
// on any error. It returns a function that closes the stream.
//
// req: {url, method, headers, body, nativeURL}: a request that native
// EventSource cannot make (POST, headers) has a GET nativeURL for it.
function connect(req, on) {
  const post = req.method && req.method !== "GET";
  switch (client) {
    case "native":
    case "ours":
    case "before":
    case "polyfill":
    case "eventsource5": {
      let es;
      if (client === "native") {
        es = new ES(post ? req.nativeURL : req.url);
      } else if (client === "ours" || client === "before") {
        es = post ? new ES(req.url, { method: req.method, headers: req.headers, body: req.body }) : new ES(req.url);
      } else if (client === "polyfill") {
        // event-source-polyfill sends GET only: the native URL, with the
        // token as a header as well. Its default 45 s heartbeat timeout and
        // its own reconnection never come into play in a run.
        es = post ? new ES(req.nativeURL, { headers: req.headers }) : new ES(req.url);
      } else {
        // eventsource 5.x takes custom requests through its fetch option.
        es = post
          ? new ES(req.url, {
              fetch: (url, init) =>
                fetch(url, { ...init, method: req.method, headers: { ...init.headers, ...req.headers }, body: req.body }),
            })
          : new ES(req.url);
      }
      es.onmessage = (e) => on.message(e.data, e.lastEventId);
      es.onerror = (e) =>
        on.fail(`error event, readyState ${es.readyState}${e.message ? ": " + e.message : ""}${e.status ? " (HTTP " + e.status + ")" : ""}`);
      return () => es.close();
    }
    case "oursiter": {
      // The iterator path: no message listener, so the host builds no
      // MessageEvent; an error listener only, as the drop-in run has.
      const es = post ? new ES(req.url, { method: req.method, headers: req.headers, body: req.body }) : new ES(req.url);
      let closed = false;
      es.addEventListener("error", (e) => {
        const why = `error event, readyState ${es.readyState}${e.message ? ": " + e.message : ""}${e.status ? " (HTTP " + e.status + ")" : ""}`;
        // The loop runs behind the events (each step of the iterator takes
        // a few microtasks): an error on the stream's end comes before the
        // loop has seen the last events, so it counts only if the run has
        // not finished once they are through (a task later).
        setTimeout(() => {
          if (!closed) on.fail(why);
        }, 0);
      });
      (async () => {
        for await (const m of es) {
          if (closed) break;
          if (m.type === "message") on.message(m.data, m.lastEventId);
        }
        if (!closed) on.fail("the for await loop ended early");
      })().catch((e) => {
        if (!closed) on.fail(`for await threw: ${e && e.message}`);
      });
      return () => {
        closed = true;
        es.close();
      };
    }
    case "esclient": {
      let closed = false;
      const es = createEventSource({
        url: req.url,
        method: req.method || "GET",
        headers: req.headers,
        body: req.body,
        onMessage(m) {
          // eventsource-client: {data, event, id}; event undefined for "message".
          if (m.event === undefined || m.event === "message") on.message(m.data, m.id);
        },
        onDisconnect() {
          if (!closed) on.fail("stream ended early");
        },
        onScheduleReconnect() {
          if (!closed) on.fail("reconnecting (a failed request or an early end)");
        },
      });
      return () => {
        closed = true;
        es.close();
      };
    }
    case "fes": {
      const ac = new AbortController();
      fetchEventSource(req.url, {
        method: req.method || "GET",
        headers: req.headers,
        body: req.body,
        signal: ac.signal,
        openWhenHidden: true,
        onmessage(ev) {
          // fetch-event-source 2.0.1 also calls onmessage for a block with
          // no data (a comment such as ":ok"); the spec dispatches nothing
          // then, so neither does the adapter.
          if (ev.data === "" && ev.event === "") return;
          if (ev.event === "" || ev.event === "message") on.message(ev.data, ev.id);
        },
        onclose() {
          on.fail("stream ended early");
          throw new Error("stream ended early"); // no retry
        },
        onerror(err) {
          on.fail(`error: ${err}`);
          throw err; // no retry
        },
      }).catch(() => {});
      return () => ac.abort();
    }
  }
  throw new Error(`connect: client ${client} has no event API`);
}

// rawRead fetches req and calls onChunk(Uint8Array) per chunk until the end.
async function rawRead(req, onChunk, signal) {
  const res = await fetch(req.url, {
    method: req.method || "GET",
    headers: { Accept: "text/event-stream", ...(req.headers || {}) },
    body: req.body,
    cache: "no-store",
    signal,
  });
  if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    onChunk(value);
  }
}

// rawCounter returns the raw reader's onChunk: it adds the chunk to r.bytes
// and r.chunks, then calls then(chunk) when given.
function rawCounter(r, then) {
  return (chunk) => {
    r.bytes += chunk.byteLength;
    r.chunks++;
    if (then) then(chunk);
  };
}

// rawEvents turns raw chunks into the data of each event for the latency
// run, the only one where the raw reader must look at what it reads.
function rawEvents(onData) {
  const dec = new TextDecoder();
  let buf = "";
  return (chunk) => {
    const now = performance.timeOrigin + performance.now();
    buf += dec.decode(chunk, { stream: true });
    let k;
    while ((k = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, k);
      buf = buf.slice(k + 2);
      const m = block.indexOf("data: ");
      if (m >= 0) onData(block.slice(m + 6), now);
    }
  };
}

// run does one measured run and resolves to what was received.
//
// spec: {kind: "count"|"latency", n, req, json}
//   count:   stop at the n-th message; json: data is {"delta": "..."}
//            and the delta is what is counted (LLM tokens).
//   latency: data is "<i> <send time in ms since the epoch>"; records
//            performance.timeOrigin + performance.now() - send time.
// The raw client reads to the end of the stream and counts bytes (and, for
// latency, splits events to read their send times).
function run(spec) {
  return new Promise((resolve, reject) => {
    const n = spec.n;
    const r = { count: 0, dataLen: 0, first: null, last: null, lastId: null, bytes: 0, chunks: 0, ms: 0, delays: null, outOfOrder: 0 };
    if (spec.kind === "latency") r.delays = [];
    let close = null;
    let finished = false;
    let t0 = 0;
    const finish = () => {
      if (finished) return;
      finished = true;
      r.ms = performance.now() - t0;
      if (bench.crossings) r.crossings = bench.crossings;
      if (close) close();
      status(`${client}: done`);
      resolve(r);
    };
    const fail = (why) => {
      if (finished) return;
      finished = true;
      if (close) close();
      reject(new Error(`${client}: ${why} (after ${r.count} events, ${r.bytes} bytes)`));
    };
    const latency = (data, now) => {
      const sp = data.indexOf(" ");
      r.delays.push(now - Number(data.slice(sp + 1)));
      r.count++;
      if (Number(data.slice(0, sp)) !== r.count) r.outOfOrder++;
      r.dataLen += data.length;
      if (r.count === 1) r.first = data.slice(0, sp);
      if (r.count === n) {
        r.last = data.slice(0, sp);
        if (client !== "raw") finish();
      }
    };
    status(`${client}: running ${spec.kind}`);
    bench.resetCrossings();
    t0 = performance.now();
    if (client === "raw") {
      const ac = new AbortController();
      close = () => ac.abort();
      const onChunk = rawCounter(r, spec.kind === "latency" ? rawEvents(latency) : null);
      rawRead(spec.req, onChunk, ac.signal).then(finish, (e) => fail(String(e)));
      return;
    }
    let onMessage;
    if (spec.kind === "latency") {
      onMessage = (data) => latency(data, performance.timeOrigin + performance.now());
    } else {
      // What is counted: the data, or its delta for JSON (LLM tokens).
      const value = spec.json ? (data) => JSON.parse(data).delta : (data) => data;
      onMessage = (data, id) => {
        const d = value(data);
        r.count++;
        r.dataLen += d.length;
        if (r.count === 1) r.first = d;
        if (r.count === n) {
          r.last = d;
          r.lastId = id;
          finish();
        }
      };
    }
    try {
      close = connect(spec.req, { message: onMessage, fail });
    } catch (e) {
      fail(String(e));
    }
  });
}

// A background run for the memory measurement: the driver polls
// bench.progress (events, raw: bytes) while the server pauses at each
// checkpoint, samples the heap, then lets the server go on. stop() closes
// the stream and returns what was received.
let bg = null;

function start(spec) {
  const r = { count: 0, dataLen: 0, first: null, last: null, lastId: null, bytes: 0, chunks: 0 };
  bench.progress = 0;
  bench.error = null;
  const fail = (why) => {
    if (!bench.error) bench.error = `${client}: ${why} (after ${r.count} events, ${r.bytes} bytes)`;
  };
  let close;
  if (client === "raw") {
    const ac = new AbortController();
    close = () => ac.abort();
    rawRead(
      spec.req,
      rawCounter(r, () => {
        bench.progress = r.bytes;
      }),
      ac.signal,
    ).catch((e) => {
      if (!ac.signal.aborted) fail(String(e));
    });
  } else {
    let stopped = false;
    const c = connect(spec.req, {
      message(data, id) {
        r.count++;
        r.dataLen += data.length;
        if (r.count === 1) r.first = data;
        r.last = data;
        r.lastId = id;
        bench.progress = r.count;
      },
      fail(why) {
        if (!stopped) fail(why);
      },
    });
    close = () => {
      stopped = true;
      c();
    };
  }
  bg = { r, close };
  status(`${client}: memory run`);
}

function stop() {
  if (!bg) throw new Error("stop: no background run");
  bg.close();
  const r = bg.r;
  bg = null;
  // Drop what the run kept so that the last sample is not inflated by it.
  return { ...r, first: r.first === null ? null : r.first.slice(0, 64), last: r.last === null ? null : r.last.slice(0, 64) };
}

setup().then(
  () => {
    bench.ready = true;
    status(`${client}: ready`);
  },
  (e) => {
    bench.error = `setup: ${e && e.stack ? e.stack : e}`;
    status(bench.error);
  },
);
