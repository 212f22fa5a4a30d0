// A SharedWorker for the e2e suite: receives {impl, spec} on its port, loads
// the class (see loadClass), runs the trace and posts back {trace} or
// {error}.

import { runTrace, describe, loadClass } from "./trace.mjs";

globalThis.describe = describe;

self.onconnect = (c) => {
  const port = c.ports[0];
  port.onmessage = async (e) => {
    const { impl, spec } = e.data;
    try {
      const ES = await loadClass(impl);
      const trace = await runTrace(spec, ES);
      trace.inWorker = typeof SharedWorkerGlobalScope === "function" && self instanceof SharedWorkerGlobalScope;
      port.postMessage({ trace });
    } catch (err) {
      port.postMessage({ error: String(err?.stack ?? err) });
    }
  };
};
