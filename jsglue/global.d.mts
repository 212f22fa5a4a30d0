// Types for wasm-eventsource/global: what `globalThis.EventSource` accepts
// once install() has put our class there.
//
//   import { install } from "wasm-eventsource/global";
//   await install();
//   const es = new EventSource("/api/chat", { method: "POST", body }); // type-checks
//
// lib.dom's EventSourceInit gains every option of ours, its EventSource the
// `onclose` handler and the `close` event. The `error` handler keeps lib.dom's
// `Event` type: narrow it with the exported EventSourceErrorEvent type.

import type { EventSourceInit as WasmEventSourceInit, EventSourceMessage } from "./eventsource.mjs";

export * from "./eventsource.mjs";

declare global {
  interface EventSourceInit extends WasmEventSourceInit {}
  interface EventSourceEventMap {
    /** The stream ended and is not reopened (`reconnect: false`). */
    close: Event;
  }
  interface EventSource {
    onclose: ((this: EventSource, ev: Event) => any) | null;
    /** for await (const m of es): every message, named or not (ours, after install()). */
    [Symbol.asyncIterator](): AsyncIterableIterator<EventSourceMessage>;
  }
}
