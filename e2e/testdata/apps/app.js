// The app both bundler builds run (copied to vite/src/main.js and
// webpack/src/index.js by e2e/package_test.go): it imports the package by
// its name, as a user's app does, streams /sse in the page, then again with
// `shared: true` (through the SharedWorker the bundler emitted), and reports
// in window.result.
import { load } from "wasm-eventsource";

const log = document.getElementById("log");
const result = (window.result = { state: "loading", events: [], shared: [], error: "" });

function stream(EventSource, init, into) {
  return new Promise((resolve, reject) => {
    const es = new EventSource("/sse", init);
    es.addEventListener("tick", (e) => {
      into.push(e.data);
      log.textContent += `tick ${e.data}${init.shared ? " (shared)" : ""}\n`;
    });
    es.addEventListener("done", () => {
      es.close();
      resolve();
    });
    es.onerror = (e) => {
      es.close();
      reject(new Error(`${e.kind ?? "error"}: ${e.message} (status ${e.status})`));
    };
  });
}

load()
  .then(async (EventSource) => {
    result.state = "streaming";
    await stream(EventSource, {}, result.events);
    await stream(EventSource, { shared: true }, result.shared);
    result.state = "done";
  })
  .catch((err) => {
    result.state = "error";
    result.error = String(err);
  });
