// The page side of e2e/options_test.go: records what the options beyond
// native expose (error kind, status, headers, body, attempt, retryIn, the
// open event's status, headers and url, for await), which trace.mjs does not
// look at. A test evaluates an expression that imports this module:
//
//   (async () => {
//     const { ES, record } = await import("/test/options.mjs").then((m) => m.setup());
//     const es = new ES("/s/…", { retryOn: [503] });
//     return record(es, { until: (log) => … });
//   })()

let loaded = null;

// Every fetch the page starts, with when it started: the engine calls
// globalThis.fetch at the moment it makes a request, so this is when a
// reconnection actually began (what the response took comes after).
const fetches = [];

/** Loads ours once and resolves to { ES, EventSourceError, record, iterate, sleep }. */
export function setup() {
  loaded ??= (async () => {
    const fetch = globalThis.fetch;
    globalThis.fetch = function (input, init) {
      const url = input instanceof Request ? input.url : String(input);
      fetches.push({ url, method: init?.method ?? "GET", t: now() });
      return fetch.call(this, input, init);
    };
    const m = await import("/dist/eventsource.mjs");
    return { ES: await m.load(), EventSourceError: m.EventSourceError, record, iterate, sleep };
  })();
  return loaded;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const t0 = performance.now();
const now = () => Math.round((performance.now() - t0) * 10) / 10;

/** headersObject turns a Headers (or null) into a plain object. */
function headersObject(h) {
  if (h === null || h === undefined) return null;
  if (!(h instanceof Headers)) return { $notHeaders: String(h) };
  return Object.fromEntries(h);
}

/**
 * record listens to open, message, error, close and the types given, and
 * resolves when the source is CLOSED (then settleMs more, to see nothing
 * else comes), when until(log) is true, or after timeoutMs. It then closes
 * the source and resolves to { log, reason, readyState, start, fetches }, each
 * log entry holding the event's time in ms since the module loaded (t),
 * readyState (rs), and what that type of event carries; fetches are the
 * requests the page started meanwhile ({ url, method, t }).
 */
export function record(es, { types = [], until, timeoutMs = 15000, settleMs = 200 } = {}) {
  const log = [];
  const start = now();
  const from = fetches.length;
  return new Promise((resolve) => {
    let done = false, settle = null;
    const finish = (reason) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(settle);
      const readyState = es.readyState;
      es.close();
      resolve({ log, reason, readyState, start, fetches: fetches.slice(from) });
    };
    const timer = setTimeout(() => finish("timeout"), timeoutMs);
    const on = (e) => {
      const entry = { type: e.type, t: now(), rs: es.readyState };
      if (e instanceof MessageEvent) {
        entry.data = e.data;
        entry.id = e.lastEventId;
      } else if (e.type === "error") {
        Object.assign(entry, {
          kind: e.kind, status: e.status, headers: headersObject(e.headers), body: e.body,
          attempt: e.attempt, retryIn: e.retryIn, message: e.message,
        });
      } else if (e.type === "open") {
        Object.assign(entry, { status: e.status, headers: headersObject(e.headers), url: e.url });
      }
      log.push(entry);
      if (until && until(log)) { finish("until"); return; }
      if (es.readyState === 2 && settle === null) settle = setTimeout(() => finish("closed"), settleMs);
    };
    for (const type of new Set(["open", "message", "error", "close", ...types])) es.addEventListener(type, on);
  });
}

/**
 * iterate runs `for await (const m of es)`, collecting the messages, until
 * the loop ends or stop(messages) is true (then it leaves the loop with
 * break). It resolves to { messages, ended: "done" | "break" | "threw",
 * error: the thrown error's name, kind, status, message, body and whether it
 * is an EventSourceError }.
 */
export async function iterate(es, { stop, EventSourceError } = {}) {
  const messages = [];
  let ended = "done", error = null;
  try {
    for await (const m of es) {
      messages.push({ type: m.type, data: m.data, id: m.lastEventId, keys: Object.keys(m).sort().join(",") });
      if (stop && stop(messages)) { ended = "break"; break; }
    }
  } catch (err) {
    ended = "threw";
    error = {
      name: err?.name, kind: err?.kind, status: err?.status, message: err?.message, body: err?.body,
      attempt: err?.attempt, retryIn: err?.retryIn, isError: err instanceof Error,
      isEventSourceError: EventSourceError ? err instanceof EventSourceError : null,
    };
  }
  return { messages, ended, error, readyState: es.readyState };
}
