// The tabs demo: one stream shared by every tab of the origin.
//
// load({ shared: true }) makes shared the default of the class: a GET stream
// with the same URL, credentials and headers in any number of tabs is one
// request, run by the engine in a SharedWorker. Each tab's object still gets
// its own open, every message and every error, as an unshared one would.
import { load, sharedStats } from "/dist/eventsource.mjs";

const EventSource = await load({ shared: true });
const names = ["CONNECTING", "OPEN", "CLOSED"];
const $ = (id) => document.getElementById(id);
const URL_ = "/api/clock?interval=1000";

let es = null;

function line(s) {
  $("log").textContent = `${s}\n${$("log").textContent}`.slice(0, 4000);
}

function showState() {
  const name = es ? names[es.readyState] : "CLOSED";
  $("rs").textContent = name;
  $("rs").className = `pill ${name.toLowerCase()}`;
}

function start() {
  es = new EventSource(URL_);
  es.onopen = () => { line("open"); showState(); };
  es.onmessage = (e) => { line(`#${e.lastEventId} ${e.data}`); showState(); };
  es.onerror = (e) => { line(`error: ${e.message}`); showState(); };
  $("toggle").textContent = "Close this tab's stream";
  showState();
}

function stop() {
  es.close();
  es = null;
  line("closed here (the other tabs go on)");
  $("toggle").textContent = "Open this tab's stream";
  showState();
}

$("toggle").onclick = () => (es ? stop() : start());
$("another").onclick = () => window.open(location.href, "_blank");

// The worker's view, once a second.
async function refresh() {
  const w = (await sharedStats()).worker; // what the worker holds
  if (!w) {
    // no SharedWorker or Web Locks here: the stream runs in this page
    $("upstreams").textContent = "in this page";
    return;
  }
  $("tabs").textContent = w.tabs;
  $("upstreams").textContent = w.upstreams.length;
  $("listeners").textContent = w.upstreams.reduce((n, u) => n + u.clients, 0);
}
setInterval(refresh, 1000);

start();
refresh();
