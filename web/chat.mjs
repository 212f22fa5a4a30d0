// The LLM chat demo: POST + JSON + Authorization, tokens streamed as they
// come, Stop through an AbortSignal, a dropped connection resumed, errors with
// their status and the server's text.
//
// Everything the server sends (tokens, error messages, bodies) is put into the
// page with textContent, never innerHTML: it is text, and a server (or a
// prompt echoed by it) can send "<img src=x onerror=…>".
import { load } from "/dist/eventsource.mjs";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
if (params.has("delay")) {
  // ?delay=ms picks the speed (the browser test uses it).
  const opt = new Option(`${params.get("delay")} ms a token`, params.get("delay"), true, true);
  $("delay").add(opt);
}

const EventSource = await load();

// The answer being streamed, or null: one at a time, so Send is disabled
// while one streams and two answers never share a box.
let current = null;

function setState(state, detail) {
  const pill = $("state");
  pill.textContent = state;
  pill.className = `pill ${{ streaming: "open", connecting: "connecting", resuming: "connecting", error: "error" }[state] ?? "closed"}`;
  $("detail").textContent = detail;
  document.body.dataset.state = state; // for the browser test
}

function setStreaming(on) {
  $("send").disabled = on;
  $("stop").disabled = !on;
  $("drop").disabled = !on;
}

function bubble(role, text) {
  const div = document.createElement("div");
  div.className = `msg ${role}`;
  div.textContent = text;
  $("log").append(div);
  $("log").scrollTop = $("log").scrollHeight;
  return div;
}

// showError renders an error event's details as text. `kind`, `status` and
// `body` come with the engine's rich errors; `message` always.
function showError(e) {
  const box = $("error");
  box.textContent = "";
  const title = document.createElement("strong");
  const what = e.status ? `HTTP ${e.status}` : (e.kind ?? "error");
  title.textContent = `${what}${e.kind && e.status ? ` (${e.kind})` : ""}: `;
  box.append(title, serverText(e));
}

// serverText is what the server said: the `error` member of a JSON body, the
// body, or the engine's message.
function serverText(e) {
  if (e.body) {
    try {
      const j = JSON.parse(e.body);
      if (typeof j?.error === "string") return j.error;
      if (typeof j?.error?.message === "string") return j.error.message;
    } catch { /* not JSON: the text itself */ }
    return e.body;
  }
  return e.message || "the connection failed";
}

function send(prompt) {
  if (current || !prompt.trim()) return;
  $("error").textContent = "";
  bubble("user", prompt);
  const answer = bubble("assistant streaming", "");
  const token = $("badtoken").checked ? "wrong-token" : "demo-token";
  const ctrl = new AbortController();
  const es = new EventSource(`/api/chat?delay=${encodeURIComponent($("delay").value)}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ prompt }),
    signal: ctrl.signal, // Stop: aborting closes the source
    // A dropped answer continues with a GET carrying Last-Event-ID instead of
    // sending the prompt again (and paying for it twice).
    resume: $("noresume").checked ? undefined : "/api/chat/resume",
  });
  const st = { es, ctrl, answer, tokens: 0, lastId: "", resuming: null };
  current = st;
  setStreaming(true);
  setState("connecting", "sending the prompt…");

  const finish = (state, detail) => {
    if (current?.es !== es) return;
    current = null;
    es.close();
    answer.classList.remove("streaming");
    setStreaming(false);
    setState(state, detail);
  };
  const note = (text) => {
    const span = document.createElement("span");
    span.className = "note";
    span.textContent = text;
    answer.append(span);
    return span;
  };

  es.onopen = () => {
    if (st.resuming) {
      st.resuming.textContent = `⟳ connection dropped; resumed after token ${st.tokens}, none lost or repeated`;
      st.resuming = null;
    }
    setState("streaming", "tokens arrive as the server sends them");
  };
  es.onmessage = (e) => {
    const { delta } = JSON.parse(e.data);
    // A text node per token: appending never re-parses what is there.
    answer.insertBefore(document.createTextNode(delta), answer.querySelector(".note"));
    st.tokens++;
    st.lastId = e.lastEventId;
    $("log").scrollTop = $("log").scrollHeight;
  };
  es.addEventListener("done", () => finish("done", "the answer is complete"));
  // The stream ended without "done": a clean end all the same.
  es.onclose = () => finish("done", "the stream ended");
  es.onerror = (e) => {
    if (es.readyState !== es.CLOSED) {
      // The engine reconnects (resume): say so and wait.
      setState("resuming", `connection lost (${e.message}); resuming after event ${st.lastId || "-"}…`);
      st.resuming ??= note("⟳ connection dropped, resuming…");
      return;
    }
    showError(e);
    if (answer.textContent === "") answer.remove();
    else note(`✕ ${e.kind === "dropped" || /drop|not retried/i.test(e.message) ? "dropped" : "failed"}`);
    finish("error", e.message || "the request failed");
  };
  ctrl.signal.addEventListener("abort", () => {
    // With the signal option the source is already closed; close() again is
    // harmless and keeps Stop working on an engine without it.
    note("■ stopped");
    finish("stopped", "stopped by the user: no more tokens, the request was aborted");
  });
}

$("chat").addEventListener("submit", (ev) => {
  ev.preventDefault();
  send($("prompt").value);
});
$("stop").addEventListener("click", () => current?.ctrl.abort());
$("drop").addEventListener("click", async () => {
  // The demo server cuts every chat stream in flight (POST /api/demo/drop).
  await fetch("/api/demo/drop", { method: "POST" });
});

setStreaming(false);
setState("ready", "type a prompt and press Send");
