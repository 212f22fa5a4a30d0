// A module Service Worker for the e2e suite: receives {spec} with a port,
// runs the trace with the class loaded by a static import (a Service Worker
// may not call import()), and posts back {trace} or {error} on the port.

import { load } from "/dist/eventsource.mjs";
import { runTrace, describe } from "./trace.mjs";

globalThis.describe = describe;

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (e) => e.waitUntil(self.clients.claim()));

self.addEventListener("message", (e) => {
  const port = e.ports[0];
  e.waitUntil((async () => {
    try {
      const ES = await load();
      const trace = await runTrace(e.data.spec, ES);
      trace.inWorker = typeof ServiceWorkerGlobalScope === "function" && self instanceof ServiceWorkerGlobalScope;
      port.postMessage({ trace });
    } catch (err) {
      port.postMessage({ error: String(err?.stack ?? err) });
    }
  })());
});
