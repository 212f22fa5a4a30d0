// Helpers of the multi-tab tests (shared_test.go), driven in runner.html#shared
// tabs: one EventSource per tab, its events recorded briefly as the Go side
// writes them (`open RS1`, `message("a", id="1") RS1`, `error RS0`).

import { load } from "/dist/eventsource.mjs";
import { stats } from "/dist/shared.mjs";

export const log = [];
let es = null;

export async function open(url, init = { shared: true }, listen = []) {
  const ES = await load();
  es = new ES(url, init);
  for (const type of new Set(["open", "message", "error", "close", ...listen])) {
    es.addEventListener(type, (e) => {
      if (e instanceof MessageEvent) {
        log.push(`${e.type}(${JSON.stringify(e.data)}, id=${JSON.stringify(e.lastEventId)}) RS${es.readyState}`);
      } else {
        log.push(`${e.type} RS${es.readyState}${e.type === "error" ? ` kind=${e.kind} status=${e.status}` : ""}`);
      }
    });
  }
  return es.readyState;
}

export function close() {
  es.close();
  log.push(`#close RS${es.readyState}`);
  return es.readyState;
}

export function readyState() { return es ? es.readyState : -1; }

export { stats };
