// The Switchboard inspector page: plain DOM + EventSource, no build step. Every value from the
// server is shown with textContent (never as HTML): frames and headers are client-supplied.

const BASE = "/_switchboard";
/** Entries the page keeps (the server keeps as many). */
const MAX_ENTRIES = 1000;

const state = {
  app: null,
  connections: [],
  entries: [],
  selectedConnection: null,
  selectedEntry: null,
  paused: false,
  /** What the detail pane shows: "connection" or "entry". */
  pane: null,
  lastSeq: 0,
};

const $ = (id) => document.getElementById(id);
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** JSON with colours, built as text nodes. */
function showJson(pre, value) {
  pre.replaceChildren();
  const text = JSON.stringify(value, null, 2) ?? "undefined";
  const token =
    /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;
  let last = 0;
  for (const m of text.matchAll(token)) {
    if (m.index > last) pre.append(text.slice(last, m.index));
    if (m[1]) {
      pre.append(el("span", m[2] ? "j-key" : "j-str", m[1]));
      if (m[2]) pre.append(m[2]);
    } else pre.append(el("span", m[3] ? "j-lit" : "j-num", m[0]));
    last = m.index + m[0].length;
  }
  pre.append(text.slice(last));
}

async function api(path, body) {
  const res = await fetch(BASE + path, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`${res.status}: ${data.message ?? res.statusText}`);
  return data;
}

function result(node, ok, text) {
  node.className = `result ${ok ? "ok" : "bad"}`;
  node.textContent = text;
}

// ---- routes ----
function renderApp() {
  const app = state.app;
  if (!app) return;
  $("app-name").textContent = `${app.name} · stage ${app.stage}`;
  $("rse").textContent = app.routeSelectionExpression;
  const body = $("routes").tBodies[0];
  body.replaceChildren();
  for (const route of app.routes) {
    const tr = el("tr");
    const key = el("td", "key", route.key);
    if (route.routeResponse) key.append(el("span", "tag", "two-way"));
    tr.append(key, el("td", "", route.handler));
    tr.title = `${route.functionName} · timeout ${route.timeoutMs / 1000} s`;
    body.append(tr);
  }
}

// ---- connections ----
function renderConnections() {
  const list = $("connections");
  list.replaceChildren();
  const open = state.connections.filter((c) => !c.closedAt).length;
  $("conn-count").textContent = `${open} open`;
  for (const conn of state.connections) {
    const li = el("li", conn.closedAt ? "closed" : "");
    li.dataset.id = conn.connectionId;
    if (conn.connectionId === state.selectedConnection) li.classList.add("selected");
    const head = el("span");
    head.append(el("span", "dot"), conn.connectionId);
    const query = conn.queryStringParameters
      ? Object.entries(conn.queryStringParameters)
          .map(([k, v]) => `${k}=${v}`)
          .join("&")
      : "";
    const sub = el(
      "span",
      "sub",
      `${conn.sourceIp}${query ? ` · ?${query}` : ""}${conn.closedAt ? ` · closed ${conn.close?.code ?? ""}` : ""}`,
    );
    li.append(head, sub);
    li.addEventListener("click", () => selectConnection(conn.connectionId));
    list.append(li);
  }
}

async function selectConnection(id) {
  state.selectedConnection = id;
  state.selectedEntry = null;
  $("clear-conn").hidden = false;
  $("clear-conn").textContent = `only ${id} ✕`;
  renderConnections();
  renderTimeline();
  state.pane = "connection";
  $("empty").hidden = true;
  $("entry-detail").hidden = true;
  $("conn-detail").hidden = false;
  $("cd-result").textContent = "";
  await refreshConnection();
}

async function refreshConnection() {
  const id = state.selectedConnection;
  // The pane may show a timeline entry meanwhile: leave it.
  if (!id || state.pane !== "connection") return;
  $("cd-id").textContent = id;
  try {
    const c = await api(`/api/connections/${encodeURIComponent(id)}`);
    if (state.selectedConnection !== id || state.pane !== "connection") return;
    $("cd-state").textContent = c.open ? "open" : "closed";
    $("cd-state").className = `pill${c.open ? "" : " off"}`;
    showJson($("cd-query"), c.queryStringParameters ?? null);
    showJson($("cd-headers"), c.headers ?? null);
    showJson($("cd-authorizer"), c.authorizer ?? null);
    showJson($("cd-row"), c.tableRow);
    showJson($("cd-info"), c.info);
  } catch (error) {
    result($("cd-result"), false, String(error.message ?? error));
  }
}

async function connectionAction(what, body) {
  const id = state.selectedConnection;
  const out = $("cd-result");
  try {
    await api(`/api/connections/${encodeURIComponent(id)}/${what}`, body);
    result(
      out,
      true,
      `${what === "send" ? "sent as the client" : what === "post" ? "posted" : "disconnected"} ✓`,
    );
  } catch (error) {
    result(out, false, String(error.message ?? error));
  }
  setTimeout(refreshConnection, 150);
}

// ---- timeline ----
const kinds = () =>
  new Set(
    [...document.querySelectorAll("#filters input[data-kind]")]
      .filter((i) => i.checked)
      .map((i) => i.dataset.kind),
  );

function visible(entry, shown, text) {
  if (!shown.has(entry.kind)) return false;
  if (state.selectedConnection && entry.connectionId !== state.selectedConnection) return false;
  if (text && !`${entry.connectionId ?? ""} ${entry.summary}`.toLowerCase().includes(text))
    return false;
  return true;
}

function row(entry) {
  const direction = entry.kind === "frame" ? entry.detail.direction : "";
  const li = el("li", `k-${entry.kind} ${direction}${entry.failed ? " failed" : ""}`);
  li.dataset.seq = String(entry.seq);
  li.dataset.kind = entry.kind;
  if (entry.seq === state.selectedEntry) li.classList.add("selected");
  const t = new Date(entry.at);
  const time = `${t.toLocaleTimeString([], { hour12: false })}.${String(t.getMilliseconds()).padStart(3, "0")}`;
  const label = entry.kind === "frame" ? `frame ${direction}` : entry.kind;
  li.append(
    el("span", "time", time),
    el("span", "kind", label),
    el("span", "cid", entry.connectionId ?? ""),
    el("span", "sum", entry.summary),
  );
  li.addEventListener("click", () => selectEntry(entry.seq));
  return li;
}

function renderTimeline() {
  const list = $("timeline");
  const shown = kinds();
  const text = $("search").value.trim().toLowerCase();
  const rows = [];
  for (let i = state.entries.length - 1; i >= 0; i--) {
    const entry = state.entries[i];
    if (visible(entry, shown, text)) rows.push(row(entry));
  }
  list.replaceChildren(...rows);
}

function addEntry(entry) {
  if (entry.seq <= state.lastSeq) return;
  state.lastSeq = entry.seq;
  state.entries.push(entry);
  if (state.entries.length > MAX_ENTRIES) state.entries.shift();
  if (state.paused) return;
  if (visible(entry, kinds(), $("search").value.trim().toLowerCase())) {
    $("timeline").prepend(row(entry));
    const list = $("timeline");
    while (list.children.length > MAX_ENTRIES) list.lastChild.remove();
  }
}

function selectEntry(seq) {
  const entry = state.entries.find((e) => e.seq === seq);
  if (!entry) return;
  state.selectedEntry = seq;
  state.pane = "entry";
  for (const li of document.querySelectorAll("#timeline li.selected"))
    li.classList.remove("selected");
  document.querySelector(`#timeline li[data-seq="${seq}"]`)?.classList.add("selected");
  $("empty").hidden = true;
  $("conn-detail").hidden = true;
  $("entry-detail").hidden = false;
  $("ed-title").textContent =
    `${entry.kind} #${entry.seq}${entry.connectionId ? ` · ${entry.connectionId}` : ""}`;
  showJson($("ed-json"), entry.detail);
  const hasResult = "result" in entry.detail;
  $("ed-outcome").hidden = !hasResult;
  if (hasResult) showJson($("ed-result-json"), entry.detail.result);
  const error = entry.detail.error;
  $("ed-error").hidden = !error;
  if (error)
    $("ed-stack").textContent = error.stack ?? error.message ?? JSON.stringify(error, null, 2);
  const output = entry.detail.output;
  $("ed-output").hidden = !Array.isArray(output);
  if (Array.isArray(output)) showOutput(output, entry.detail.outputDropped);
  const event = entry.detail.event;
  const replayable =
    entry.kind === "invoke" &&
    entry.routeKey &&
    event &&
    typeof event === "object" &&
    event.requestContext;
  $("ed-replay").hidden = !replayable;
  $("ed-result").textContent = "";
  if (replayable) {
    $("ed-body").value = typeof event.body === "string" ? event.body : "";
    $("ed-body").disabled = typeof event.body !== "string";
  }
}

/** An invocation's console lines, one per row, as text (a handler may print what clients sent). */
function showOutput(lines, dropped) {
  $("ed-output-lines").replaceChildren(
    ...lines.map((line) => {
      const li = el("li", `out-${line.method}`);
      li.append(el("span", "method", line.method), el("span", "text", line.text));
      return li;
    }),
  );
  $("ed-output-note").textContent = dropped
    ? `(${dropped} more line${dropped === 1 ? "" : "s"} not kept)`
    : "";
}

async function reinvoke() {
  const out = $("ed-result");
  try {
    const body = $("ed-body").disabled ? undefined : $("ed-body").value;
    const outcome = await api("/api/replay", { seq: state.selectedEntry, body });
    const shown =
      outcome.kind === "ok"
        ? JSON.stringify(outcome.result)
        : outcome.kind === "error"
          ? (outcome.error?.stack ?? JSON.stringify(outcome.error))
          : "timed out";
    result(
      out,
      outcome.kind === "ok",
      `${outcome.kind} in ${outcome.durationMs.toFixed(1)} ms\n${shown}`,
    );
  } catch (error) {
    result(out, false, String(error.message ?? error));
  }
}

// ---- live stream ----
function connect() {
  const source = new EventSource(`${BASE}/events`);
  source.addEventListener("open", () => {
    $("live").textContent = "live";
    $("live").className = "pill";
  });
  source.addEventListener("error", () => {
    $("live").textContent = "reconnecting…";
    $("live").className = "pill off";
  });
  source.addEventListener("snapshot", (e) => {
    const snap = JSON.parse(e.data);
    state.app = snap.app;
    state.connections = snap.connections;
    for (const entry of snap.entries) {
      if (entry.seq > state.lastSeq) {
        state.entries.push(entry);
        state.lastSeq = entry.seq;
      }
    }
    while (state.entries.length > MAX_ENTRIES) state.entries.shift();
    renderApp();
    renderConnections();
    renderTimeline();
  });
  source.addEventListener("entry", (e) => addEntry(JSON.parse(e.data)));
  source.addEventListener("connections", (e) => {
    state.connections = JSON.parse(e.data);
    renderConnections();
    if (state.selectedConnection) refreshConnection();
  });
  source.addEventListener("app", (e) => {
    state.app = JSON.parse(e.data);
    renderApp();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  for (const input of document.querySelectorAll("#filters input"))
    input.addEventListener("input", renderTimeline);
  $("clear-conn").addEventListener("click", () => {
    state.selectedConnection = null;
    $("clear-conn").hidden = true;
    renderConnections();
    renderTimeline();
  });
  $("pause").addEventListener("click", () => {
    state.paused = !state.paused;
    $("pause").textContent = state.paused ? "Resume" : "Pause";
    if (!state.paused) renderTimeline();
  });
  $("cd-send").addEventListener("click", () =>
    connectionAction("send", { data: $("cd-send-data").value }),
  );
  $("cd-post").addEventListener("click", () =>
    connectionAction("post", { data: $("cd-post-data").value }),
  );
  $("cd-disconnect").addEventListener("click", () => connectionAction("disconnect", {}));
  $("ed-reinvoke").addEventListener("click", reinvoke);
  connect();
});
