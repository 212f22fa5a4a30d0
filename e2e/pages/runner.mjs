// The page side of the e2e suite: loads the class the fragment names
// (#native or #ours), then exposes runTrace(spec) to the Go tests.
//
// globalThis.runnerState is "loading", then "ready" or "error: <reason>".

import { runTrace, describe, loadClass } from "./trace.mjs";

const impl = location.hash.slice(1) || "native";
let ES = null;

globalThis.runnerState = "loading";
globalThis.describe = describe;

// Every tab has its own browser context, so its own cookie jar: the cookie
// lets the tests see when a request carries credentials.
document.cookie = "e2e=1; path=/; SameSite=Lax";

/** Runs spec with this page's class, or in a module worker when spec.inWorker. */
globalThis.runTrace = async (spec) => {
  if (spec.inWorker) return runInWorker(spec);
  if (!ES) throw new Error(`runner: ${impl} is not loaded (${globalThis.runnerState})`);
  return runTrace(spec, ES);
};

function runInWorker(spec) {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL("./worker.mjs", import.meta.url), { type: "module" });
    const timer = setTimeout(() => {
      w.terminate();
      reject(new Error("runner: the worker did not answer in time"));
    }, (spec.timeoutMs ?? 8000) + 5000);
    w.onmessage = (e) => {
      clearTimeout(timer);
      w.terminate();
      if (e.data.error) reject(new Error(`worker: ${e.data.error}`));
      else resolve(e.data.trace);
    };
    w.onerror = (e) => {
      clearTimeout(timer);
      w.terminate();
      reject(new Error(`worker error: ${e.message}`));
    };
    w.postMessage({ impl, spec });
  });
}

try {
  ES = await loadClass(impl);
  globalThis.runnerState = "ready";
} catch (err) {
  globalThis.runnerState = `error: ${err?.stack ?? err}`;
}
