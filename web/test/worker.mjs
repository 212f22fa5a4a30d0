// A module worker for the e2e suite: receives {impl, spec}, loads the class
// (self.EventSource, or ours from /dist/eventsource.mjs), runs the trace and
// posts it back as {trace} or {error}.

import { runTrace, describe } from "./trace.mjs";

globalThis.describe = describe;

self.onmessage = async (e) => {
  const { impl, spec } = e.data;
  try {
    let ES;
    if (impl === "ours") {
      const { load } = await import("/dist/eventsource.mjs");
      ES = await load();
      if (ES === self.EventSource) throw new Error("load() returned the native class");
    } else {
      ES = self.EventSource;
      if (typeof ES !== "function") throw new Error("no EventSource in this worker");
    }
    const trace = await runTrace(spec, ES);
    trace.inWorker = typeof WorkerGlobalScope === "function" && self instanceof WorkerGlobalScope;
    self.postMessage({ trace });
  } catch (err) {
    self.postMessage({ error: String(err?.stack ?? err) });
  }
};
