// Runs traces in other kinds of workers for the e2e suite (shared_test.go):
// use("shared-worker") or use("service-worker") makes this page's
// runTrace(spec) run the class inside one instead of the page.

/** Makes runTrace(spec) run in a worker of this kind. */
export function use(kind) {
  switch (kind) {
    case "shared-worker": globalThis.runTrace = inSharedWorker; break;
    case "service-worker": globalThis.runTrace = inServiceWorker; break;
    default: throw new Error(`unknown worker kind ${kind}`);
  }
  return kind;
}

let n = 0;

function answer(spec, port, post, done) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { done(); reject(new Error("the worker did not answer in time")); },
      (spec.timeoutMs ?? 8000) + 5000);
    port.onmessage = (e) => {
      clearTimeout(timer);
      done();
      if (e.data.error) reject(new Error(`worker: ${e.data.error}`));
      else resolve(e.data.trace);
    };
    post();
  });
}

function inSharedWorker(spec) {
  // A name of its own: a fresh worker per trace.
  const w = new SharedWorker(new URL("./sharedworker.mjs", import.meta.url), { type: "module", name: `trace-${++n}-${Date.now()}` });
  w.onerror = (e) => console.error("shared worker error", e.message);
  return answer(spec, w.port, () => w.port.postMessage({ impl: "ours", spec }), () => w.port.close());
}

async function inServiceWorker(spec) {
  const reg = await navigator.serviceWorker.register(new URL("./sw.mjs", import.meta.url), { type: "module", scope: "/test/sw-scope/" });
  const sw = reg.active ?? await new Promise((resolve, reject) => {
    const w = reg.installing ?? reg.waiting;
    w.addEventListener("statechange", () => {
      if (w.state === "activated") resolve(w);
      if (w.state === "redundant") reject(new Error("the service worker became redundant"));
    });
  });
  const ch = new MessageChannel();
  return answer(spec, ch.port1, () => sw.postMessage({ spec }, [ch.port2]), () => ch.port1.close());
}
