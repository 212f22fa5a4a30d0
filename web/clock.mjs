// The native-vs-ours demo: the browser's EventSource and ours on one stream.
import { load } from "/dist/eventsource.mjs";

const EventSource = await load();
const names = ["CONNECTING", "OPEN", "CLOSED"];

function clock(kind, Impl) {
  const log = document.getElementById(`${kind}-log`);
  const rs = document.getElementById(`${kind}-rs`);
  const es = new Impl("/api/clock?interval=1000");
  const show = () => {
    rs.textContent = names[es.readyState];
    rs.className = `pill ${names[es.readyState].toLowerCase()}`;
  };
  const line = (s) => {
    log.textContent = `${s}\n${log.textContent}`.slice(0, 4000);
    show();
  };
  es.onopen = () => line("open");
  es.onmessage = (e) => line(`#${e.lastEventId} ${e.data}`);
  es.onerror = () => line("error");
  show();
}

clock("native", globalThis.EventSource);
clock("ours", EventSource);
