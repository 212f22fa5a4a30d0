// The HEAD probe after a rejected fetch (issue 8): sent only when its
// answer changes what happens next. Run after `make build`:
//
//	node --test jsglue/test/
//
// This file plays a page at http://page.test/ (each test file runs in a
// process of its own), so that the host tells same-origin URLs from
// cross-origin ones as in a browser.
import { test } from "node:test";
import assert from "node:assert/strict";
import { h, reset, record, until, sleep } from "./harness.mjs";

globalThis.location = new URL("http://page.test/app/");
const { load } = await import("../../dist/eventsource.mjs");
const ES = await load();
const OTHER = "http://api.test/s";

// failOnce makes one source whose fetch is rejected and returns its first
// error event (and closes it).
async function failOnce(init) {
  reset([{ reject: true }, { reject: true }]);
  const es = new ES(OTHER, init);
  const trace = record(es, ["error"]);
  await until(() => trace.length >= 1, 3000, "an error");
  await sleep(30);
  es.close();
  assert.equal(trace.length, 1, "one error");
  return trace[0];
}

test("a cross-origin GET is probed once, and reconnects when the probe says network", async () => {
  const e = await failOnce(undefined);
  assert.equal(e.kind, "network");
  assert.equal(e.rs, ES.CONNECTING);
  assert.equal(h.probes, 1);
});

test("on a cross-origin-isolated page (COEP) a cross-origin GET fails once as a CORS refusal, with no probe", async () => {
  globalThis.crossOriginIsolated = true;
  try {
    const e = await failOnce(undefined);
    assert.equal(e.kind, "cors");
    assert.equal(e.rs, ES.CLOSED);
    assert.equal(h.probes, 0, "the probe would be blocked by COEP whatever the server said: it is not sent");
    assert.equal(h.requests.length, 1);
  } finally {
    delete globalThis.crossOriginIsolated;
  }
});

test("a failed POST, and a GET with reconnect: false, are not probed", async () => {
  for (const init of [{ method: "POST", body: "x" }, { method: "POST", body: "x", resume: "/resume" }, { reconnect: false }]) {
    const e = await failOnce(init);
    assert.equal(e.kind, "network", JSON.stringify(init));
    assert.equal(e.rs, ES.CLOSED, JSON.stringify(init));
    assert.equal(h.probes, 0, `no probe for ${JSON.stringify(init)}`);
    assert.equal(h.requests.length, 1, JSON.stringify(init));
  }
});
