// Type-checked by e2e/package_test.go with `tsc --strict` under
// moduleResolution bundler, node16 and nodenext, against the packed package:
// every load option, every EventSource option and every event property, so
// that a missing or wrong declaration fails CI. `satisfies Required<…>` (and
// the exhaustive switch on the error kind) make this file fail to compile
// when the declarations gain an option or a kind that is not used here.
// Never run.
import { load, install, sharedStats, EventSourceError } from "wasm-eventsource";
import type {
  BackoffOptions,
  EventSource as WasmEventSource,
  EventSourceConstructor,
  EventSourceErrorEvent,
  EventSourceErrorKind,
  EventSourceEventMap,
  EventSourceInit,
  EventSourceMessage,
  EventSourceOpenEvent,
  HeadersContext,
  LoadOptions,
  SharedStats,
} from "wasm-eventsource";

const loadOptions = {
  wasmURL: new URL("/assets/eventsource.wasm", "https://app.example"),
  shared: false,
} satisfies Required<LoadOptions>;

const EventSource: EventSourceConstructor = await load(loadOptions);
const Installed: EventSourceConstructor = await install();
const same: boolean = EventSource === Installed;

declare function freshToken(attempt: number, lastEventId: string, status: number): Promise<string>;

const backoff = { initialDelay: 500, maxDelay: 10_000, factor: 2, jitter: true } satisfies Required<BackoffOptions>;
const controller = new AbortController();

const init = {
  withCredentials: false,
  method: "POST",
  // A token refreshed before every request.
  headers: async ({ attempt, lastEventId, status }: HeadersContext) => ({
    Authorization: `Bearer ${await freshToken(attempt, lastEventId, status)}`,
    "Content-Type": "application/json",
  }),
  body: JSON.stringify({ prompt: "hi" }),
  credentials: "same-origin",
  reconnect: false,
  maxEventSize: 1 << 20,
  lastEventId: "42",
  signal: controller.signal,
  retryOn: [429, 502, 503, 504],
  backoff,
  maxRetries: 5,
  resume: (lastEventId: string) => `/api/chat/resume?after=${encodeURIComponent(lastEventId)}`,
  idleTimeout: 30_000,
  pauseWhenHidden: false,
  reconnectOnOnline: true,
  shared: false,
} satisfies Required<EventSourceInit>;

const es: WasmEventSource = new EventSource("/api/chat", init);
// The other forms each option takes.
new EventSource(new URL("https://app.example/api/clock"));
new EventSource("/api/clock", {
  headers: new Headers({ "X-Trace": "1" }),
  backoff: true,
  resume: new URL("https://app.example/api/chat/resume"),
  signal: null,
});
new EventSource("/api/chat", { method: "POST", headers: () => [["Authorization", "Bearer t"]], resume: "/api/chat/resume" });

const url: string = es.url;
const withCredentials: boolean = es.withCredentials;
const state: 0 | 1 | 2 = es.readyState;
const constants: [0, 1, 2] = [es.CONNECTING, es.OPEN, es.CLOSED];
const staticConstants: [0, 1, 2] = [EventSource.CONNECTING, EventSource.OPEN, EventSource.CLOSED];

es.onopen = function (e: EventSourceOpenEvent) {
  const self: WasmEventSource = this; // handlers are called on the source
  const status: number = e.status;
  const requestId: string | null = e.headers.get("x-request-id");
  const finalURL: string = e.url;
  console.log(self.url, status, requestId, finalURL);
};
es.onmessage = (e: MessageEvent<string>) => {
  const data: string = e.data;
  const id: string = e.lastEventId;
  const origin: string = e.origin;
  console.log(data, id, origin);
};
es.onerror = (e: EventSourceErrorEvent) => {
  const status: number = e.status;
  const retryAfter: string | null | undefined = e.headers?.get("retry-after");
  const body: string = e.body; // server text: textContent, never innerHTML
  const attempt: number = e.attempt;
  const retryIn: number = e.retryIn;
  const message: string = e.message;
  console.log(describe(e.kind), status, retryAfter, body, attempt, retryIn, message);
};
es.onclose = (e: Event) => console.log("closed", e.type);

es.addEventListener("error", (e) => {
  const kind: EventSourceErrorKind = e.kind; // typed by EventSourceEventMap
  console.log(kind, e.status);
});
es.addEventListener("open", (e) => console.log(e.status, e.url));
es.addEventListener("delta", (e) => {
  const data: string = e.data; // a named event is a MessageEvent<string>
  console.log(data);
});
const onClose = (e: EventSourceEventMap["close"]) => console.log(e.type);
es.addEventListener("close", onClose, { once: true });
es.removeEventListener("close", onClose);

try {
  for await (const m of es) {
    const message: EventSourceMessage = m;
    const type: string = m.type;
    console.log(message, type, m.data, m.lastEventId);
    if (m.type === "done") break; // leaving the loop closes the source
  }
} catch (err) {
  if (err instanceof EventSourceError) {
    const kind: EventSourceErrorKind = err.kind;
    const name: "EventSourceError" = err.name;
    console.log(kind, name, err.status, err.headers, err.body, err.attempt, err.retryIn, err.message);
  }
}
controller.abort();
es.close();

// Every kind, handled: a new kind in the declarations fails here.
function describe(kind: EventSourceErrorKind): string {
  switch (kind) {
    case "http": return "the server answered with an error status";
    case "content-type": return "not an event stream";
    case "network": return "unreachable";
    case "cors": return "refused by CORS";
    case "dropped": return "the connection broke";
    case "too-large": return "an event too large";
    case "idle": return "silent for too long";
    case "retries-exhausted": return "gave up";
    case "ended": return "the stream ended";
    case "headers": return "the headers function failed";
    case "url": return "a URL that cannot be streamed";
    case "internal": return "a bug in the engine";
    default: {
      const unknown: never = kind;
      return unknown;
    }
  }
}

// One request for every tab that opens the same GET stream; what the worker holds.
new EventSource("/api/clock", { shared: true });
const stats: SharedStats = await sharedStats();
const upstreams: number = stats.worker?.upstreams.length ?? 0;
const opened: number = stats.tab.opened;

console.log(url, withCredentials, state, constants, staticConstants, same, upstreams, opened);
