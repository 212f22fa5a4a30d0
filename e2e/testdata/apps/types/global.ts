// The global augmentation of wasm-eventsource/global: after install(),
// code that uses the global EventSource passes our options and gets our
// close event. Type-checked by e2e/package_test.go.
import { install, EventSourceError } from "wasm-eventsource/global";
import type { EventSourceErrorEvent, EventSourceMessage } from "wasm-eventsource/global";

await install();

const es = new EventSource("/api/chat", {
  method: "POST",
  headers: { Authorization: "Bearer token" },
  body: JSON.stringify({ prompt: "hi" }),
  reconnect: false,
  signal: new AbortController().signal,
  resume: "/api/chat/resume",
  retryOn: [503],
  backoff: { maxDelay: 10_000 },
});
es.onclose = () => console.log("the answer is complete");
es.addEventListener("close", (e: Event) => console.log(e.type));
es.onerror = (e) => {
  const err = e as EventSourceErrorEvent;
  console.log(err.status, err.message);
};
// for await on the global, and the error it throws.
try {
  for await (const m of es) {
    const msg: EventSourceMessage = m;
    console.log(msg.type, msg.data, msg.lastEventId);
  }
} catch (err) {
  if (err instanceof EventSourceError) console.log(err.kind, err.status, err.body);
}
// Native options still type-check.
new EventSource("/api/clock", { withCredentials: true });
