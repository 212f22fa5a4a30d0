// The trace engine of the browser test suite (e2e/). It runs one scenario
// against an EventSource class (the browser's own or ours) and records
// everything a page can observe: every event in order, with its type, data,
// lastEventId, origin, the readyState read inside the handler and its time,
// the constructor's outcome, and property checks. The Go side runs the same
// spec with both classes and compares the traces.
//
// It is shared by runner.mjs (a page) and worker.mjs (a module worker), so
// it touches neither window nor document.

/**
 * runTrace runs spec with the class ES and resolves to the trace.
 *
 * spec: {
 *   sources: [{            // one or more EventSource objects, built in order
 *     url, urlExpr,        // the url argument: a string, or a JS expression
 *     initExpr,            // the init argument, a JS expression (none when absent)
 *     ctor,                // "new" (default), "noargs" (new ES()), "call" (ES(url))
 *     listen: [types],     // addEventListener for "open", "message", "error" and these
 *     handlers: [types],   // also set es.on<type> (after the listeners)
 *     handlersFirst,       // set the handlers before adding the listeners
 *     actions: [{on, n, delayMs, do} | {afterMs, do} | {on: "construct", do}],
 *                          // on the n-th (default 1st) event of type on, at once or
 *                          // delayMs later; afterMs after construction
 *                          // do: "close", "closeTwice", "microtask" (queue a microtask
 *                          // that records "#microtask"), "throw" (the listener throws),
 *                          // "windowStop" (window.stop(), in a page; records "#stop")
 *     checks: {name: expr},    // evaluated right after construction (es, ES in scope)
 *     checksEnd: {name: expr}, // evaluated when the trace ends, before the cleanup close()
 *     stopAfter: {events},     // close this source after that many recorded events
 *     weak,                    // keep only a WeakRef to the object (GC test)
 *   }],
 *   stopAfter: {events, ms},   // end the whole trace
 *   settleMs,                  // once every source is CLOSED, wait this long for stray events
 *   timeoutMs,                 // give up (trace.reason = "timeout")
 * }
 *
 * The trace: {entries, sources, reason, elapsed}, reason being what ended
 * it: "closed" (every source CLOSED, then settled), "events", "ms" (the
 * spec's stopAfter) or "timeout".
 */
export async function runTrace(spec, ES) {
  const settleMs = spec.settleMs ?? 300;
  const timeoutMs = spec.timeoutMs ?? 8000;
  const stopAfter = spec.stopAfter ?? {};
  const trace = { entries: [], sources: [], reason: "" };
  const t0 = performance.now();
  const now = () => Math.round(performance.now() - t0);

  let finish;
  const finished = new Promise((resolve) => { finish = resolve; });
  let ended = false;
  let settleTimer = null;
  let listened = 0; // entries recorded via "listener", of every source
  const timers = [];
  const end = (reason) => {
    if (ended) return;
    ended = true;
    trace.reason = reason;
    finish();
  };

  const states = spec.sources.map((src, i) => ({
    i, src, es: null, weak: null, done: false, count: 0, perType: Object.create(null),
  }));
  const esOf = (st) => st.es ?? st.weak?.deref() ?? null;

  const checkDone = () => {
    if (ended) return;
    for (const st of states) {
      const es = esOf(st);
      if (!st.done && es && es.readyState === 2) st.done = true;
      if (!st.done) return;
    }
    if (settleTimer === null) {
      settleTimer = setTimeout(() => end("closed"), settleMs);
    }
  };

  const closeAll = () => {
    for (const st of states) {
      const es = esOf(st);
      if (es) es.close();
    }
  };

  const record = (st, via, e) => {
    const es = esOf(st);
    const entry = {
      src: st.i,
      via,
      type: e.type,
      kind: e.constructor?.name ?? typeof e,
      readyState: es ? es.readyState : -1,
      t: now(),
      hasData: "data" in e,
      bubbles: e.bubbles,
      cancelable: e.cancelable,
      isTrusted: e.isTrusted,
      targetOk: e.target === es && e.currentTarget === es,
    };
    if (e instanceof MessageEvent) {
      entry.data = e.data;
      entry.lastEventId = e.lastEventId;
      entry.origin = e.origin;
      entry.sourceNull = e.source === null;
      entry.ports = Array.isArray(e.ports) ? e.ports.length : -1;
      entry.portsFrozen = Object.isFrozen(e.ports);
    }
    if (e.type === "error" && !(e instanceof MessageEvent)) {
      // ours only: the HTTP status and a reason (not compared)
      if ("status" in e) entry.status = e.status;
      if ("message" in e) entry.message = String(e.message);
    }
    trace.entries.push(entry);
    return entry;
  };

  const act = (st, action) => {
    const es = esOf(st);
    switch (action.do) {
      case "close":
      case "closeTwice": {
        const entry = { src: st.i, via: "action", type: "#close", t: now() };
        try {
          es.close();
          if (action.do === "closeTwice") es.close();
        } catch (err) {
          entry.threw = err?.name ?? String(err);
        }
        entry.readyState = es.readyState;
        trace.entries.push(entry);
        checkDone();
        break;
      }
      case "windowStop": {
        // window.stop() aborts every fetch of the document (pages only).
        globalThis.stop();
        trace.entries.push({ src: st.i, via: "action", type: "#stop", readyState: es.readyState, t: now() });
        checkDone();
        break;
      }
      case "microtask":
        queueMicrotask(() => {
          trace.entries.push({ src: st.i, via: "action", type: "#microtask", readyState: es.readyState, t: now() });
        });
        break;
      case "throw":
        throw new Error("e2e: a listener throws on purpose");
      default:
        throw new Error(`e2e: unknown action ${action.do}`);
    }
  };

  const onEvent = (st, e) => {
    record(st, "listener", e);
    listened++;
    st.count++;
    const k = (st.perType[e.type] ?? 0) + 1;
    st.perType[e.type] = k;
    for (const a of st.src.actions ?? []) {
      if (a.on !== e.type || (a.n ?? 1) !== k) continue;
      if (a.delayMs) timers.push(setTimeout(() => { if (!ended) act(st, a); }, a.delayMs));
      else act(st, a);
    }
    if (st.src.stopAfter?.events && st.count === st.src.stopAfter.events) {
      const es = esOf(st);
      if (es.readyState !== 2) act(st, { do: "close" });
    }
    if (stopAfter.events && listened === stopAfter.events) {
      closeAll();
      // Leave time for events that close() should have suppressed.
      timers.push(setTimeout(() => end("events"), settleMs));
      return;
    }
    checkDone();
  };

  const evalIn = (expr, es) => {
    try {
      const v = new Function("es", "ES", `return (${expr});`)(es, ES);
      return plain(v);
    } catch (err) {
      return { $threw: err?.name ?? String(err), $ctor: err?.constructor?.name };
    }
  };

  for (const st of states) {
    const src = st.src;
    const out = { ctor: { threw: false }, checks: {}, checksEnd: {}, final: null };
    trace.sources.push(out);
    const url = src.urlExpr !== undefined ? new Function(`return (${src.urlExpr});`)() : src.url;
    const init = src.initExpr !== undefined ? new Function(`return (${src.initExpr});`)() : undefined;
    let es;
    try {
      switch (src.ctor ?? "new") {
        case "new": es = init === undefined ? new ES(url) : new ES(url, init); break;
        case "noargs": es = new ES(); break;
        case "call": es = ES(url); break;
        default: throw new Error(`e2e: unknown ctor ${src.ctor}`);
      }
    } catch (err) {
      out.ctor = {
        threw: true,
        name: err?.name,
        ctorName: err?.constructor?.name,
        code: err?.code,
        isDOMException: err instanceof DOMException,
        message: String(err?.message ?? err),
      };
      st.done = true;
      continue;
    }
    if (src.weak) {
      st.weak = new WeakRef(es);
    } else {
      st.es = es;
    }
    for (const [name, expr] of Object.entries(src.checks ?? {})) {
      out.checks[name] = evalIn(expr, es);
    }
    const types = ["open", "message", "error", ...(src.listen ?? [])];
    const listen = () => {
      for (const type of [...new Set(types)]) {
        es.addEventListener(type, (e) => onEvent(st, e));
      }
    };
    const handle = () => {
      for (const type of src.handlers ?? []) {
        es[`on${type}`] = function (e) {
          const entry = record(st, "on", e);
          entry.thisOk = this === esOf(st);
        };
      }
    };
    if (src.handlersFirst) {
      handle();
      listen();
    } else {
      listen();
      handle();
    }
    for (const a of src.actions ?? []) {
      if (a.on === "construct") act(st, a);
      if (a.afterMs !== undefined) timers.push(setTimeout(() => { if (!ended) act(st, a); }, a.afterMs));
    }
    es = null; // only st.es / st.weak hold it from here on
  }
  checkDone();
  if (stopAfter.ms) timers.push(setTimeout(() => end("ms"), stopAfter.ms));
  timers.push(setTimeout(() => end("timeout"), timeoutMs));

  await finished;
  for (const t of timers) clearTimeout(t);
  if (settleTimer !== null) clearTimeout(settleTimer);
  states.forEach((st, i) => {
    const es = esOf(st);
    const out = trace.sources[i];
    if (st.src.weak) {
      // Whether it is collected once closed is no business of the trace;
      // its events while open are.
      if (es) es.close();
      return;
    }
    if (!es) return;
    for (const [name, expr] of Object.entries(st.src.checksEnd ?? {})) {
      out.checksEnd[name] = evalIn(expr, es);
    }
    out.final = { readyState: es.readyState };
    es.close();
  });
  trace.elapsed = now();
  return trace;
}

/**
 * loadClass resolves to the class impl names: "native" (this global's own
 * EventSource), "ours" (load() from /dist/eventsource.mjs) or "shared"
 * (load({ shared: true })), and rejects any other name.
 */
export async function loadClass(impl) {
  const native = globalThis.EventSource;
  switch (impl) {
    case "native":
      if (typeof native !== "function") throw new Error("no native EventSource here");
      return native;
    case "ours": {
      const { load } = await import("/dist/eventsource.mjs");
      const ES = await load();
      if (ES === native) throw new Error("load() returned the native class");
      return ES;
    }
    case "shared": {
      // ours with shared: true by default (GET streams run in a SharedWorker)
      const { load } = await import("/dist/eventsource.mjs");
      return load({ shared: true });
    }
    default:
      throw new Error(`unknown implementation ${JSON.stringify(impl)}`);
  }
}

// plain turns a check's value into something JSON keeps as it is.
function plain(v) {
  if (v === undefined) return { $undefined: true };
  if (typeof v === "function") return { $function: v.name };
  if (typeof v === "symbol") return { $symbol: String(v) };
  if (typeof v === "bigint") return { $bigint: String(v) };
  if (typeof v === "number" && !Number.isFinite(v)) return { $number: String(v) };
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === "object") {
    const o = {};
    for (const [k, x] of Object.entries(v)) o[k] = plain(x);
    return o;
  }
  return v;
}

/** The property descriptor of obj[name] in a form a trace can compare. */
export function describe(obj, name) {
  const d = Object.getOwnPropertyDescriptor(obj, name);
  if (!d) return null;
  return {
    get: typeof d.get,
    set: typeof d.set,
    value: "value" in d ? plain(d.value) : { $absent: true },
    writable: d.writable ?? null,
    enumerable: d.enumerable,
    configurable: d.configurable,
  };
}
