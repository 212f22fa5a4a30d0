// Types for wasm-eventsource: a spec-exact EventSource on fetch streams.

/** What a `headers` function gets before each request. */
export interface HeadersContext {
  /** 0 for the first request, then 1, 2, … for each reconnection, retry or resume. */
  readonly attempt: number;
  /** The last event ID, sent as Last-Event-ID on this request ("" when none). */
  readonly lastEventId: string;
  /** The HTTP status of the previous attempt when it failed with one (see `retryOn`), else 0. */
  readonly status: number;
}

/**
 * Reconnection waits that grow: from the server's `retry:` value (else `initialDelay`), times
 * `factor` for each attempt without a successful open, up to `maxDelay`; a successful open starts
 * over. Without `backoff` the wait is the fixed reconnection time, as native (3000 ms or `retry:`).
 */
export interface BackoffOptions {
  /** The first wait in ms when the server sent no `retry:`. Default 1000. */
  initialDelay?: number;
  /** The longest wait in ms. Default 30000; not below `initialDelay`. */
  maxDelay?: number;
  /** Growth per attempt, from 1 to 1000. Default 2. */
  factor?: number;
  /** Full jitter: each wait uniform in [0, the computed wait]. Default true. */
  jitter?: boolean;
}

/** Why an `error` event fired: its `kind`. */
export type EventSourceErrorKind =
  /** A status other than 200 (retried only when in `retryOn`). */
  | "http"
  /** A 200 whose Content-Type is not text/event-stream. */
  | "content-type"
  /** The server could not be reached (reconnects, as native). */
  | "network"
  /** A CORS refusal, or a redirect fetch refused. */
  | "cors"
  /** The connection broke mid-stream. */
  | "dropped"
  /** An event larger than `maxEventSize`. */
  | "too-large"
  /** No byte for `idleTimeout` ms. */
  | "idle"
  /** `maxRetries` attempts in a row without an open. */
  | "retries-exhausted"
  /** The stream ended and a GET reconnects, as native. */
  | "ended"
  /** The `headers` function (or the `resume` function) threw or rejected. */
  | "headers"
  /** A URL that cannot be streamed (a scheme other than http(s), data: or blob:). */
  | "url"
  /** A bug in the engine, reported rather than crashing the page. */
  | "internal";

/**
 * Options of `new EventSource(url, init)`: the native ones, what fetch allows, and the policies
 * beyond native (README, "Options beyond native"). Each policy is opt-in: without them the class
 * behaves exactly as native.
 */
export interface EventSourceInit {
  /** As native: send cookies and HTTP auth cross-origin (credentials "include"). */
  withCredentials?: boolean;
  /** Request method. Default "GET". */
  method?: string;
  /**
   * Extra request headers, e.g. `{ Authorization: "Bearer …" }`. `Accept` defaults to
   * text/event-stream. A function is called before every request (the first, each reconnection,
   * retry and resume) with `{ attempt, lastEventId, status }`: refresh a token there. When it
   * throws or rejects the connection fails (error kind "headers"). After a redirect to another
   * origin, reconnections never carry Authorization.
   */
  headers?: HeadersInit | ((ctx: HeadersContext) => HeadersInit | Promise<HeadersInit>);
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
  /**
   * Aborting it is `close()` (readyState CLOSED, no event). Already aborted: CLOSED at once and
   * no request at all.
   */
  signal?: AbortSignal | null;
  /**
   * HTTP statuses that reconnect instead of failing, e.g. `[429, 502, 503, 504]` (the request is
   * sent again as it was: the server did not act on it). A Retry-After header (seconds or an HTTP
   * date) on such a response sets that wait. Default none: any status but 200 fails, as native.
   */
  retryOn?: readonly number[];
  /** Growing waits between reconnections, with full jitter; `true` takes every default. */
  backoff?: boolean | BackoffOptions;
  /**
   * Reconnection attempts in a row without a successful open before giving up: readyState
   * CLOSED, error kind "retries-exhausted". Default: no limit.
   */
  maxRetries?: number;
  /**
   * For a request that is not a GET: when its stream drops after it opened, continue with a GET
   * to this URL carrying Last-Event-ID (and the headers, never the body); later drops resume the
   * same way, and the normal end is a `close`. A function gets the last event ID and returns the
   * URL. Default: none (a dropped POST fails).
   */
  resume?: string | URL | ((lastEventId: string) => string | URL | Promise<string | URL>);
  /**
   * Milliseconds without a single byte (comments and heartbeats count) before the connection
   * counts as dropped: error kind "idle", then it reconnects, resumes or fails as the other
   * options say. Default 0: none.
   */
  idleTimeout?: number;
  /**
   * GET only: close the connection while `document.hidden` and reconnect with Last-Event-ID
   * when the page is shown (a source made in a hidden page waits until shown). Ignored for
   * other methods, which would be sent again. Default false.
   */
  pauseWhenHidden?: boolean;
  /** The `online` event ends a reconnection wait at once. Default false. */
  reconnectOnOnline?: boolean;
  /**
   * Share one upstream request with every tab and frame of the origin that opens the same
   * stream (same URL, credentials mode, headers and options), run by the engine in a
   * SharedWorker. The object behaves as an unshared one: its own `open`, every event, errors
   * with their details, reconnection; `close()` detaches this object alone. Only a GET with
   * static headers and no `signal`, `body`, `resume` or `pauseWhenHidden` is shared; any other
   * stream, or one made where SharedWorker or Web Locks are missing (workers, old browsers),
   * runs in the page as if `shared` were false. Default: `load({ shared })`, else false.
   */
  shared?: boolean;
}

/** The `open` event: a plain Event, with the response it opened with. */
export interface EventSourceOpenEvent extends Event {
  /** The HTTP status (200). */
  readonly status: number;
  /** The response headers (those CORS exposes, cross-origin). */
  readonly headers: Headers;
  /** The final URL, after redirects. */
  readonly url: string;
}

/**
 * The `error` event: a plain Event, with details native EventSource does not give.
 * `message`, `body` and `headers` are server-controlled text: show them with `textContent`,
 * never `innerHTML`.
 */
export interface EventSourceErrorEvent extends Event {
  /** Why it fired. */
  readonly kind: EventSourceErrorKind;
  /** The HTTP status when the failure was one (401, 503, …); 0 otherwise. */
  readonly status: number;
  /** The failed response's headers when there was one (`status` is not 0), else null. */
  readonly headers: Headers | null;
  /** The failed response's body as text, first 64 KiB (often a JSON reason), else "". */
  readonly body: string;
  /** The attempt that failed: 0 for the first request. */
  readonly attempt: number;
  /** Milliseconds until the next attempt; -1 when none follows (readyState CLOSED). */
  readonly retryIn: number;
  /** A short reason: "HTTP 401", "connection lost: …", "no bytes for 30000 ms", … */
  readonly message: string;
}

/** What `for await (const m of es)` yields: every message, named or not. */
export interface EventSourceMessage {
  /** The event type: "message" or the `event:` field's name. */
  readonly type: string;
  readonly data: string;
  readonly lastEventId: string;
}

/**
 * What a failure throws out of a `for await` loop: the error event's details.
 * (`message` and `body` are server-controlled text.)
 */
export class EventSourceError extends Error {
  constructor(event: EventSourceErrorEvent);
  name: "EventSourceError";
  readonly kind: EventSourceErrorKind;
  readonly status: number;
  readonly headers: Headers | null;
  readonly body: string;
  readonly attempt: number;
  readonly retryIn: number;
}

export interface EventSourceEventMap {
  open: EventSourceOpenEvent;
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
  onopen: ((this: EventSource, ev: EventSourceOpenEvent) => any) | null;
  onmessage: ((this: EventSource, ev: MessageEvent<string>) => any) | null;
  onerror: ((this: EventSource, ev: EventSourceErrorEvent) => any) | null;
  onclose: ((this: EventSource, ev: Event) => any) | null;
  close(): void;
  /**
   * `for await (const m of es)`: every message, named or not, until the source is closed;
   * leaving the loop closes it; a failure ends the loop by throwing an EventSourceError.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<EventSourceMessage>;
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
  /**
   * The default of `shared` for every object of the class (see EventSourceInit.shared).
   * In a page that can share, the page then loads no engine until a stream cannot be shared
   * (that one starts once it is loaded), and the options of shared streams are checked by the
   * worker's engine: one it refuses is an `error` (kind "internal") instead of a TypeError.
   * Default false.
   */
  shared?: boolean;
}

/** Loads the WebAssembly engine (once; later calls return the same promise) and resolves to the class. */
export function load(options?: LoadOptions): Promise<EventSourceConstructor>;

/** What the shared streams of this page and the SharedWorker hold (see `shared`). */
export interface SharedStats {
  /** This page: shared objects open now, and ever made. */
  tab: { sources: number; opened: number };
  /** The worker: pages connected, and one entry per upstream request; null when nothing was shared. */
  worker: null | { tabs: number; upstreams: { url: string; clients: number; readyState: 0 | 1 | 2 }[] };
}

/** Asks the SharedWorker what it holds: for a page that shows it, and for debugging. */
export function sharedStats(): Promise<SharedStats>;

/** Like load(), and also sets globalThis.EventSource to the class. */
export function install(options?: LoadOptions): Promise<EventSourceConstructor>;
