// The live dashboard demo: three named event types at hundreds of events a
// second, drawn without jank.
//
// The rule that keeps it smooth: listeners only update plain data (a few
// assignments per event); one requestAnimationFrame callback a frame writes
// what changed into the DOM, reusing its nodes (textContent on a fixed set of
// cells and list items, one canvas per sparkline). However many events
// arrive, the page does one small DOM update per frame.
import { load } from "/dist/eventsource.mjs";

const EventSource = await load();
const $ = (id) => document.getElementById(id);
const STATES = ["CONNECTING", "OPEN", "CLOSED"];
const LOG_LINES = 22;
const SPARK = 120;

// The data the listeners update.
const prices = new Map(); // symbol -> { price, change, history: number[], dirty }
const logs = []; // the last LOG_LINES lines, newest first
let logsDirty = false;
let metrics = null;
let metricsDirty = false;
let received = 0;
let opens = 0;
let errors = 0;

// What the browser test reads (window.dashboard): counters, not DOM.
const stats = (window.dashboard = { events: 0, byType: { price: 0, log: 0, metrics: 0 }, frames: 0, longestFrame: 0, state: "CONNECTING" });

let es = null;
function connect() {
  es = new EventSource(`/api/dashboard?rate=${$("rate").value}`, {
    reconnectOnOnline: true, // with the engine's policy options: reconnect at once when the network returns
  });
  es.onopen = () => { opens++; showState(); };
  es.onerror = () => { errors++; showState(); };
  es.addEventListener("price", (e) => {
    const p = JSON.parse(e.data);
    let row = prices.get(p.symbol);
    if (!row) prices.set(p.symbol, (row = { price: 0, change: 0, history: [], dirty: true, el: null }));
    row.price = p.price;
    row.change = p.change;
    row.history.push(p.price);
    if (row.history.length > SPARK) row.history.shift();
    row.dirty = true;
    count("price");
  });
  es.addEventListener("log", (e) => {
    logs.unshift(JSON.parse(e.data));
    if (logs.length > LOG_LINES) logs.length = LOG_LINES;
    logsDirty = true;
    count("log");
  });
  es.addEventListener("metrics", (e) => {
    metrics = JSON.parse(e.data);
    metricsDirty = true;
    count("metrics");
  });
  showState();
}

function count(type) {
  received++;
  stats.events++;
  stats.byType[type]++;
}

function showState() {
  const s = STATES[es.readyState];
  stats.state = s;
  $("state").textContent = s;
  $("state").className = `pill ${s.toLowerCase()}`;
  $("conninfo").textContent = es.readyState === es.CLOSED
    ? "paused"
    : `${opens} open${opens === 1 ? "" : "s"}, ${errors} error${errors === 1 ? "" : "s"} (reconnects on its own)`;
}

// Rendering: once a frame, only what changed.
const logItems = Array.from({ length: LOG_LINES }, () => $("logs").appendChild(document.createElement("li")));
let lastFrame = performance.now();
let lastRate = performance.now();

function frame(now) {
  stats.frames++;
  stats.longestFrame = Math.max(stats.longestFrame, now - lastFrame);
  lastFrame = now;
  for (const [symbol, row] of prices) {
    if (!row.dirty) continue;
    row.dirty = false;
    if (!row.el) row.el = addPriceRow(symbol);
    row.el.price.textContent = row.price.toFixed(2);
    row.el.change.textContent = `${row.change >= 0 ? "+" : ""}${row.change.toFixed(2)}`;
    row.el.change.className = row.change >= 0 ? "up" : "down";
    sparkline(row.el.canvas, row.history);
  }
  if (logsDirty) {
    logsDirty = false;
    logs.forEach((l, i) => {
      logItems[i].textContent = `${l.level.padEnd(5)} ${l.service.padEnd(8)} ${l.msg}`;
      logItems[i].className = `lvl-${l.level}`;
    });
  }
  if (metricsDirty) {
    metricsDirty = false;
    $("m-rps").textContent = metrics.rps;
    $("m-p99").textContent = metrics.p99.toFixed(1);
    $("m-errors").textContent = metrics.errors;
  }
  if (now - lastRate >= 1000) {
    $("m-eps").textContent = Math.round((received * 1000) / (now - lastRate));
    received = 0;
    lastRate = now;
  }
  requestAnimationFrame(frame);
}

function addPriceRow(symbol) {
  const tr = document.createElement("tr");
  const cells = [0, 1, 2, 3].map(() => tr.appendChild(document.createElement("td")));
  cells[0].textContent = symbol;
  const canvas = cells[3].appendChild(document.createElement("canvas"));
  canvas.width = 240;
  canvas.height = 56;
  // Rows in symbol order, wherever their first event came.
  const rows = [...$("prices").children];
  const next = rows.find((r) => r.firstChild.textContent > symbol);
  $("prices").insertBefore(tr, next ?? null);
  return { price: cells[1], change: cells[2], canvas };
}

function sparkline(canvas, h) {
  const ctx = canvas.getContext("2d");
  const { width: w, height: ht } = canvas;
  ctx.clearRect(0, 0, w, ht);
  if (h.length < 2) return;
  const min = Math.min(...h), max = Math.max(...h), span = max - min || 1;
  ctx.beginPath();
  h.forEach((v, i) => {
    const x = (i / (h.length - 1)) * w, y = ht - 4 - ((v - min) / span) * (ht - 8);
    i ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
  });
  ctx.lineWidth = 3;
  ctx.strokeStyle = h[h.length - 1] >= h[0] ? "#1a7f37" : "#cf222e";
  ctx.stroke();
}

$("toggle").addEventListener("click", () => {
  if (es.readyState === es.CLOSED) {
    connect();
    $("toggle").textContent = "Pause";
  } else {
    es.close();
    showState();
    $("toggle").textContent = "Resume";
  }
});
$("rate").addEventListener("change", () => {
  es.close();
  connect();
  $("toggle").textContent = "Pause";
});

connect();
requestAnimationFrame(frame);
