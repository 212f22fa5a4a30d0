// Types for wasm-eventsource: a spec-exact EventSource on fetch streams.

/** Options of `new EventSource(url, init)`: the native ones plus what fetch allows. */
export interface EventSourceInit {
  /** As native: send cookies and HTTP auth cross-origin (credentials "include"). */
  withCredentials?: boolean;
  /** Request method. Default "GET". */
  method?: string;
  /** Extra request headers, e.g. `{ Authorization: "Bearer …" }`. `Accept` defaults to text/event-stream. */
  headers?: HeadersInit;
  /** Request body (anything fetch accepts except a ReadableStream); not allowed with GET or HEAD. */
  body?: BodyInit | null;
  /** fetch credentials mode; overrides `withCredentials`. */
  credentials?: RequestCredentials;
  /**
   * Whether to reconnect after the stream ends or drops, as native EventSource does.
   * Default: true for GET, false for any other method, so that a POST (an LLM prompt, a
   * payment) is never sent twice by itself. When false, the end of the stream sets
   * readyState to CLOSED and fires a `close` event; a dropped connection fires `error`
   * with readyState CLOSED.
   */
  reconnect?: boolean;
  /**
   * Largest event (data plus the line being read), in bytes, before the connection fails
   * with an error event. Default 32 MiB. Keeps memory bounded whatever the server sends.
   */
  maxEventSize?: number;
  /** A last event ID to start from: sent as Last-Event-ID on the first request too. */
  lastEventId?: string;
}

/** The `error` event: a plain Event, with details native EventSource does not give. */
export interface EventSourceErrorEvent extends Event {
  /** The HTTP status when the failure was one (401, 500, …); 0 otherwise. */
  readonly status: number;
  /** A short reason: "HTTP 401 Unauthorized", "network error: …", "the stream ended", … */
  readonly message: string;
}

export interface EventSourceEventMap {
  open: Event;
  message: MessageEvent<string>;
  error: EventSourceErrorEvent;
  /** The stream ended and is not reopened (`reconnect: false`). */
  close: Event;
}

export interface EventSource extends EventTarget {
  readonly url: string;
  readonly withCredentials: boolean;
  readonly readyState: 0 | 1 | 2;
  readonly CONNECTING: 0;
  readonly OPEN: 1;
  readonly CLOSED: 2;
  onopen: ((this: EventSource, ev: Event) => any) | null;
  onmessage: ((this: EventSource, ev: MessageEvent<string>) => any) | null;
  onerror: ((this: EventSource, ev: EventSourceErrorEvent) => any) | null;
  onclose: ((this: EventSource, ev: Event) => any) | null;
  close(): void;
  addEventListener<K extends keyof EventSourceEventMap>(
    type: K, listener: (this: EventSource, ev: EventSourceEventMap[K]) => any,
    options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: (this: EventSource, ev: MessageEvent<string>) => any,
    options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject,
    options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof EventSourceEventMap>(
    type: K, listener: (this: EventSource, ev: EventSourceEventMap[K]) => any,
    options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject,
    options?: boolean | EventListenerOptions): void;
}

export interface EventSourceConstructor {
  new (url: string | URL, init?: EventSourceInit): EventSource;
  readonly prototype: EventSource;
  readonly CONNECTING: 0;
  readonly OPEN: 1;
  readonly CLOSED: 2;
}

export interface LoadOptions {
  /**
   * Where eventsource.wasm is, fetched as it is (a relative string resolves against the page,
   * as `fetch` resolves it). Default: the file next to this module, found through
   * `new URL("./eventsource.wasm", import.meta.url)`, which bundlers emit as an asset.
   */
  wasmURL?: string | URL;
}

/** Loads the WebAssembly engine (once; later calls return the same promise) and resolves to the class. */
export function load(options?: LoadOptions): Promise<EventSourceConstructor>;

/** Like load(), and also sets globalThis.EventSource to the class. */
export function install(options?: LoadOptions): Promise<EventSourceConstructor>;
