// A module worker for the e2e suite: receives {impl, spec}, loads the class
// impl names (see loadClass), runs the trace and posts it back as {trace}
// or {error}.

import { runTrace, describe, loadClass } from "./trace.mjs";

globalThis.describe = describe;

self.onmessage = async (e) => {
  const { impl, spec } = e.data;
  try {
    const ES = await loadClass(impl);
    const trace = await runTrace(spec, ES);
    trace.inWorker = typeof WorkerGlobalScope === "function" && self instanceof WorkerGlobalScope;
    self.postMessage({ trace });
  } catch (err) {
    self.postMessage({ error: String(err?.stack ?? err) });
  }
};
