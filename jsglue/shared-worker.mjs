// wasm-eventsource, shared streams: the SharedWorker (see shared.mjs).
//
// One engine for the whole origin, and one upstream EventSource per distinct
// stream (the key: URL, credentials mode, headers and options). Each page
// object attached to an upstream is a client; every event of the upstream
// goes to every client, in order; a client that joins an open upstream gets
// an open of its own. The upstream is closed when its last client leaves:
// close() in a page, or the page gone (its Web Lock released).

import { load } from "./eventsource.mjs";
import { RELAY } from "./shared.mjs";

const OPEN = 1, CLOSED = 2;

let loading = null;        // the class, loaded with the first page's wasmURL
let loadOptions = null;
const upstreams = new Map(); // key -> upstream {key, url, es, clients: Set, opened}
const tabs = new Set();

// Held for the worker's whole life: each page waits on it to learn that the
// worker is gone (a MessagePort does not say), and fails its streams then.
const life = `wasm-eventsource:worker:${self.location.href}`;
const alive = new Promise((resolve) => {
  navigator.locks.request(life, () => { resolve(); return new Promise(() => {}); });
});

self.onconnect = (e) => {
  const port = e.ports[0];
  let tab = null;
  port.onmessage = ({ data: m }) => {
    switch (m.op) {
      case "hello":
        if (tab) return;
        tab = { port, clients: new Map(), out: [], gone: false };
        tabs.add(tab);
        loadOptions ??= m.wasmURL === undefined ? {} : { wasmURL: m.wasmURL };
        engine();
        // Granted when the page dies: then detach everything it had.
        navigator.locks.request(m.lock, () => gone(tab));
        alive.then(() => port.postMessage({ alive: life }));
        break;
      case "open":
        if (tab && !tab.gone) open(tab, m);
        break;
      case "close":
        if (tab) detach(tab, m.id);
        break;
      case "stats":
        port.postMessage({ stats: {
          tabs: tabs.size,
          upstreams: [...upstreams.values()].map((u) => ({ url: u.url, clients: u.clients.size, readyState: u.es?.readyState ?? 0 })),
        } });
        break;
    }
  };
};

// The worker's class, with every event it dispatches relayed to the clients.
const upstreamOf = new WeakMap();
function subclass(EventSource) {
  return class extends EventSource {
    dispatchEvent(e) {
      const up = upstreamOf.get(this);
      if (up) relay(up, e, this);
      return super.dispatchEvent(e);
    }
  };
}

// The class; a failed load is tried again for the next stream.
function engine() {
  if (!loading) {
    loading = load(loadOptions).then(subclass);
    loading.catch(() => { loading = null; });
  }
  return loading;
}

function open(tab, m) {
  const client = { tab, id: m.id, up: null };
  tab.clients.set(m.id, client);
  engine().then((Upstream) => {
    if (tab.clients.get(m.id) !== client) return; // closed meanwhile
    let up = upstreams.get(m.key);
    if (!up) {
      up = { key: m.key, url: m.url, es: null, clients: new Set(), opened: null };
      try {
        up.es = new Upstream(m.url, { ...m.init, [RELAY]: true });
      } catch (err) {
        send(client, failure(`${err?.message ?? err}`));
        tab.clients.delete(m.id);
        return;
      }
      upstreamOf.set(up.es, up);
      upstreams.set(m.key, up);
    }
    client.up = up;
    up.clients.add(client);
    if (up.es.readyState === OPEN && up.opened) send(client, { t: "open", ...up.opened });
  }, (err) => {
    tab.clients.delete(m.id);
    send(client, failure(`the engine did not load: ${err?.message ?? err}`));
  });
}

function failure(message) {
  return { t: "error", rs: CLOSED, kind: "internal", status: 0, headers: null, body: "", attempt: 0, retryIn: -1, message: `shared: ${message}` };
}

function relay(up, e, es) {
  let r;
  if (e instanceof MessageEvent) {
    r = { t: "m", type: e.type, data: e.data, lastEventId: e.lastEventId, origin: e.origin };
  } else if (e.type === "open") {
    up.opened = { status: e.status, headers: e.headers ? [...e.headers] : [], url: e.url };
    r = { t: "open", ...up.opened };
  } else if (e.type === "error") {
    r = {
      t: "error", rs: es.readyState, kind: e.kind, status: e.status, headers: e.headers ? [...e.headers] : null,
      body: e.body, attempt: e.attempt, retryIn: e.retryIn, message: e.message,
    };
  } else if (e.type === "close") {
    r = { t: "close" };
  } else {
    return;
  }
  for (const c of up.clients) send(c, r);
  if (es.readyState === CLOSED) {
    // Failed or ended: the clients are done with it; a new stream starts afresh.
    if (upstreams.get(up.key) === up) upstreams.delete(up.key);
    for (const c of up.clients) c.tab.clients.delete(c.id);
    up.clients.clear();
  }
}

// Records go out in one message per tab and task: a chunk of many events
// is one message (the page still dispatches each in a task of its own).
const dirty = new Set();
const flusher = new MessageChannel();
flusher.port1.onmessage = () => {
  for (const tab of dirty) {
    const list = tab.out;
    tab.out = [];
    if (!tab.gone) tab.port.postMessage({ list });
  }
  dirty.clear();
};

function send(client, r) {
  const tab = client.tab;
  if (tab.gone) return;
  tab.out.push([client.id, r]);
  if (dirty.has(tab)) return;
  dirty.add(tab);
  if (dirty.size === 1) flusher.port2.postMessage(null);
}

function detach(tab, id) {
  const client = tab.clients.get(id);
  if (!client) return;
  tab.clients.delete(id);
  const up = client.up;
  if (!up || !up.clients.delete(client) || up.clients.size > 0) return;
  if (upstreams.get(up.key) === up) upstreams.delete(up.key);
  up.es.close();
}

function gone(tab) {
  tab.gone = true;
  tabs.delete(tab);
  for (const id of [...tab.clients.keys()]) detach(tab, id);
  tab.port.close();
}
