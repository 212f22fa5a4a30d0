// The app both bundler builds run (copied to vite/src/main.js and
// webpack/src/index.js by e2e/package_test.go): it imports the package by
// its name, as a user's app does, streams /sse and reports in window.result.
import { load } from "wasm-eventsource";

const log = document.getElementById("log");
const result = (window.result = { state: "loading", events: [], error: "" });

load().then((EventSource) => {
  result.state = "streaming";
  const es = new EventSource("/sse");
  es.addEventListener("tick", (e) => {
    result.events.push(e.data);
    log.textContent += `tick ${e.data}\n`;
  });
  es.addEventListener("done", () => {
    es.close();
    result.state = "done";
  });
  es.onerror = (e) => {
    es.close();
    result.state = "error";
    result.error = `${e.message} (status ${e.status})`;
  };
}, (err) => {
  result.state = "error";
  result.error = `load() failed: ${err}`;
});
