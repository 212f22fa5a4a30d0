// Type-checked by e2e/package_test.go with `tsc --strict` under
// moduleResolution bundler and nodenext, against the packed package: every
// load option, every EventSource option and every event property, so that a
// missing or wrong declaration fails CI. `satisfies Required<…>` makes this
// file fail to compile when an option is added to the declarations and not
// used here. Never run.
import { load, install } from "wasm-eventsource";
import type {
  EventSource as WasmEventSource,
  EventSourceConstructor,
  EventSourceErrorEvent,
  EventSourceEventMap,
  EventSourceInit,
  LoadOptions,
} from "wasm-eventsource";

const loadOptions = {
  wasmURL: new URL("/assets/eventsource.wasm", "https://app.example"),
} satisfies Required<LoadOptions>;

const EventSource: EventSourceConstructor = await load(loadOptions);
const Installed: EventSourceConstructor = await install();
const same: boolean = EventSource === Installed;

const init = {
  withCredentials: false,
  method: "POST",
  headers: { Authorization: "Bearer token", "Content-Type": "application/json" },
  body: JSON.stringify({ prompt: "hi" }),
  credentials: "same-origin",
  reconnect: false,
  maxEventSize: 1 << 20,
  lastEventId: "42",
} satisfies EventSourceInit; // Required<…> once the policy options are declared

const es: WasmEventSource = new EventSource("/api/chat", init);
new EventSource(new URL("https://app.example/api/clock"));
new EventSource("/api/clock", { headers: new Headers({ "X-Trace": "1" }) });

const url: string = es.url;
const withCredentials: boolean = es.withCredentials;
const state: 0 | 1 | 2 = es.readyState;
const constants: [0, 1, 2] = [es.CONNECTING, es.OPEN, es.CLOSED];
const staticConstants: [0, 1, 2] = [EventSource.CONNECTING, EventSource.OPEN, EventSource.CLOSED];

es.onopen = function (e: Event) {
  const self: WasmEventSource = this; // handlers are called on the source
  console.log("open", e.type, self.url);
};
es.onmessage = (e: MessageEvent<string>) => {
  const data: string = e.data;
  const id: string = e.lastEventId;
  const origin: string = e.origin;
  console.log(data, id, origin);
};
es.onerror = (e: EventSourceErrorEvent) => {
  const status: number = e.status;
  const message: string = e.message;
  console.log(status, message);
};
es.onclose = (e: Event) => console.log("closed", e.type);

es.addEventListener("error", (e) => {
  const status: number = e.status; // typed by EventSourceEventMap
  console.log(status, e.message);
});
es.addEventListener("delta", (e) => {
  const data: string = e.data; // a named event is a MessageEvent<string>
  console.log(data);
});
const onClose = (e: EventSourceEventMap["close"]) => console.log(e.type);
es.addEventListener("close", onClose, { once: true });
es.removeEventListener("close", onClose);
es.close();

console.log(url, withCredentials, state, constants, staticConstants, same);
