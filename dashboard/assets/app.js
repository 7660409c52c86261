// The aspirec dashboard: resources (table, graph, details), console logs,
// commands. Everything comes from the JSON API (doc/dashboard.md); live
// updates through Server-Sent Events. Text from the program is put in the
// page with textContent only (never as HTML).
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of kids) if (c !== null && c !== undefined) e.append(c);
  return e;
}
const SVG = "http://www.w3.org/2000/svg";
function sv(tag, attrs = {}) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

// ---- state ---------------------------------------------------------------

const state = {
  app: "",
  units: new Map(), // name -> unit (API JSON)
  order: [],
  selected: null, // unit name in the details pane
  revealed: new Set(),
  details: null,
};
window.apxState = state; // for tests

// HH:MM:SS.mmm in local time (by arithmetic: a console draws thousands).
const TZ_MS = -new Date().getTimezoneOffset() * 60000;
const p2 = (n) => (n < 10 ? "0" : "") + n;
function fmtTime(ms) {
  if (!ms) return "";
  const t = (ms + TZ_MS) % 86400000;
  const h = Math.floor(t / 3600000), m = Math.floor(t / 60000) % 60, s = Math.floor(t / 1000) % 60, f = t % 1000;
  return `${p2(h)}:${p2(m)}:${p2(s)}.${f < 10 ? "00" : f < 100 ? "0" : ""}${f}`;
}

function isUp(u) {
  return u && ["running", "healthy", "unhealthy", "starting"].includes(u.state);
}
// A resource is down when none of its units is up.
function resourceDown(name) {
  let any = false;
  for (const u of state.units.values()) if (u.resource === name) { any = true; if (isUp(u)) return false; }
  return any;
}
// What a unit needs that is down: shown as "affected".
function affectedBy(u) {
  const out = [];
  for (const t of new Set([...u.waits.map((w) => w.target), ...u.references]))
    if (resourceDown(t)) out.push(t);
  return out;
}

// ---- API -----------------------------------------------------------------

async function api(path, opts = {}) {
  const r = await fetch(path, { credentials: "same-origin", ...opts });
  if (r.status === 401) { location.href = "/login"; throw new Error("not logged in"); }
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

async function command(name, cmd) {
  try {
    await api(`/api/resources/${encodeURIComponent(name)}/${cmd}`, { method: "POST" });
    toast(`${cmd}: ${name}`);
  } catch (e) {
    toast(`${cmd} ${name}: ${e.message}`, true);
  }
}

function toast(msg, bad) {
  const t = el("div", { class: "toast" + (bad ? " bad" : ""), text: msg });
  document.body.append(t);
  setTimeout(() => t.remove(), 3500);
}

// ---- resources: live list --------------------------------------------------

let resSource = null;
function followResources() {
  if (resSource) resSource.close();
  resSource = new EventSource("/api/resources?follow=1");
  resSource.addEventListener("resources", (ev) => {
    const j = JSON.parse(ev.data);
    state.app = j.app;
    $("#app-name").textContent = j.app + " · aspirec";
    document.title = j.app + " · aspirec dashboard";
    state.units.clear();
    state.order = [];
    for (const u of j.resources) { state.units.set(u.name, u); state.order.push(u.name); }
    renderResources(true);
  });
  resSource.addEventListener("resource", (ev) => {
    const u = JSON.parse(ev.data);
    if (!state.units.has(u.name)) state.order.push(u.name);
    state.units.set(u.name, u);
    renderResources(false);
    if (state.selected === u.name) loadDetails(u.name);
  });
  resSource.onopen = () => setConn(true);
  resSource.onerror = () => setConn(false);
}

function setConn(ok) {
  const c = $("#conn");
  c.textContent = ok ? "live" : "reconnecting…";
  c.className = "conn " + (ok ? "ok" : "bad");
}

// ---- resources page --------------------------------------------------------

function stateBadge(u) {
  const cls = { healthy: "good", running: u.health === "" ? "good" : "info", unhealthy: "bad", "failed to start": "bad",
    exited: "warn", finished: u.exitCode === 0 || u.exitCode === null && u.exitSignal === null ? "muted" : "bad",
    waiting: "info", starting: "info", stopping: "warn", "not started": "muted" }[u.state] || "muted";
  return el("span", { class: "badge " + cls, text: u.state });
}

let pageBuilt = false;
function buildResourcesPage() {
  const p = $("#page-resources");
  p.replaceChildren(
    el("div", { class: "res-layout" },
      el("div", { class: "res-main" },
        el("h2", { text: "Resources" }),
        el("div", { class: "table-wrap" }, el("table", { id: "res-table", class: "grid" },
          el("thead", {}, el("tr", {},
            ...["Name", "Actions", "Kind", "State", "Health", "Started", "Restarts", "Exit", "PID", "URLs", "Replica"]
              .map((h) => el("th", { text: h })))),
          el("tbody"))),
        el("h2", { text: "Graph" }),
        el("p", { class: "legend" }, el("span", { class: "lg-wait", text: "— waits for" }), " ",
          el("span", { class: "lg-ref", text: "- - references" })),
        el("div", { id: "graph" })),
      el("aside", { id: "details", class: "details", hidden: true })));
  pageBuilt = true;
}

function renderResources(full) {
  if (!pageBuilt) buildResourcesPage();
  const tb = $("#res-table tbody");
  const rows = new Map([...tb.children].map((tr) => [tr.dataset.name, tr]));
  for (const name of state.order) {
    const u = state.units.get(name);
    const tr = rows.get(name) || el("tr", { "data-name": name, onclick: () => select(name) });
    const aff = affectedBy(u);
    const urls = el("td", { class: "urls" });
    for (const e of u.endpoints) {
      if (e.url) urls.append(el("a", { href: e.url, target: "_blank", rel: "noopener noreferrer", text: e.url }), " ");
      else urls.append(el("span", { class: "muted", text: `${e.scheme}://localhost:${e.port}` }), " ");
    }
    const stateCell = el("td", {}, stateBadge(u));
    if (u.waiting) stateCell.append(el("div", { class: "why", text: u.waiting }));
    else if (u.why && (u.state === "failed to start" || u.state === "unhealthy")) stateCell.append(el("div", { class: "why", text: u.why }));
    if (aff.length) stateCell.append(el("span", { class: "badge warn affected", title: "needs " + aff.join(", ") + ", which is down", text: "affected" }));
    const up = isUp(u) || u.state === "waiting";
    const actions = el("td", { class: "actions" },
      el("button", { class: "act-start", disabled: up || u.state === "stopping" ? true : null, title: "start",
        onclick: (ev) => { ev.stopPropagation(); command(name, "start"); }, text: "▶" }),
      el("button", { class: "act-stop", disabled: !up ? true : null, title: "stop",
        onclick: (ev) => { ev.stopPropagation(); command(name, "stop"); }, text: "■" }),
      el("button", { class: "act-restart", disabled: u.state === "waiting" ? true : null, title: "restart",
        onclick: (ev) => { ev.stopPropagation(); command(name, "restart"); }, text: "↻" }));
    const exit = u.exitSignal !== null ? "signal " + u.exitSignal : u.exitCode !== null ? String(u.exitCode) : "";
    tr.replaceChildren(
      el("td", { class: "name" }, el("span", { class: "dot c" + colorOf(u.resource) }), u.name,
        u.explicitStart ? el("span", { class: "tag", title: "explicit_start: starts when you start it", text: "manual" }) : null),
      actions,
      el("td", { text: u.kind }),
      stateCell,
      el("td", { text: u.health }),
      el("td", { class: "started", text: fmtTime(u.startedAt) }),
      el("td", { class: "restarts", text: String(u.restarts) }),
      el("td", { class: "exit", text: exit }),
      el("td", { class: "pid", text: u.pid ? String(u.pid) : "" }),
      urls,
      el("td", { text: u.replicas > 1 ? `${u.replica + 1}/${u.replicas}` : "" }));
    tr.dataset.state = u.state;
    tr.dataset.affected = aff.length ? "1" : "";
    tr.classList.toggle("selected", state.selected === name);
    if (!tr.parentNode) tb.append(tr);
  }
  renderGraph();
  if (con.built) fillSelect();
}

// Stable colour per resource (as on the terminal).
function colorOf(name) {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) { h ^= name.charCodeAt(i); h = Math.imul(h, 16777619) >>> 0; }
  return h % 12;
}

// The graph: resources in columns by depth of their waits and references.
function renderGraph() {
  const g = $("#graph");
  const res = [];
  const byRes = new Map();
  for (const name of state.order) {
    const u = state.units.get(name);
    if (!byRes.has(u.resource)) { byRes.set(u.resource, { name: u.resource, units: [], deps: new Map() }); res.push(byRes.get(u.resource)); }
    const r = byRes.get(u.resource);
    r.units.push(u);
    for (const w of u.waits) r.deps.set(w.target, "wait");
    for (const t of u.references) if (!r.deps.has(t)) r.deps.set(t, "ref");
  }
  const depth = new Map();
  const d = (r, seen = new Set()) => {
    if (depth.has(r.name)) return depth.get(r.name);
    if (seen.has(r.name)) return 0;
    seen.add(r.name);
    let m = 0;
    for (const t of r.deps.keys()) if (byRes.has(t)) m = Math.max(m, d(byRes.get(t), seen) + 1);
    depth.set(r.name, m);
    return m;
  };
  res.forEach((r) => d(r));
  const cols = [];
  for (const r of res) (cols[depth.get(r.name)] ||= []).push(r);
  const W = 170, H = 46, GX = 70, GY = 18;
  const pos = new Map();
  cols.forEach((c, i) => c.forEach((r, k) => pos.set(r.name, { x: 10 + i * (W + GX), y: 10 + k * (H + GY) })));
  const width = 20 + cols.length * (W + GX), height = 20 + Math.max(1, ...cols.map((c) => c.length)) * (H + GY);
  const svg = sv("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "graph", role: "img" });
  const defs = sv("defs");
  const mk = sv("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "10", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" });
  mk.append(sv("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrowhead" }));
  defs.append(mk);
  svg.append(defs);
  for (const r of res)
    for (const [t, kind] of r.deps) {
      if (!pos.has(t)) continue;
      const a = pos.get(r.name), b = pos.get(t);
      const x1 = a.x, y1 = a.y + H / 2, x2 = b.x + W, y2 = b.y + H / 2;
      const mx = (x1 + x2) / 2;
      svg.append(sv("path", { d: `M ${x1} ${y1} C ${mx} ${y1}, ${mx} ${y2}, ${x2} ${y2}`, class: "edge " + kind, "marker-end": "url(#arrow)" }));
    }
  for (const r of res) {
    const p = pos.get(r.name);
    const u = r.units[0];
    const cls = isUp(u) ? (u.state === "unhealthy" ? "bad" : "good") : u.state === "failed to start" ? "bad" : u.state === "waiting" ? "info" : "muted";
    const grp = sv("g", { class: "node " + cls, transform: `translate(${p.x},${p.y})`, "data-name": r.name });
    grp.addEventListener("click", () => select(u.name));
    grp.append(sv("rect", { width: W, height: H, rx: 6 }));
    const t1 = sv("text", { x: 10, y: 19, class: "n" });
    t1.textContent = r.name + (r.units.length > 1 ? ` ×${r.units.length}` : "");
    const t2 = sv("text", { x: 10, y: 36, class: "s" });
    t2.textContent = u.kind + " · " + u.state;
    grp.append(t1, t2);
    svg.append(grp);
  }
  g.replaceChildren(svg);
}

// ---- details pane ------------------------------------------------------------

function select(name) {
  state.selected = name;
  for (const tr of document.querySelectorAll("#res-table tbody tr")) tr.classList.toggle("selected", tr.dataset.name === name);
  loadDetails(name);
}

let detailsSeq = 0;
async function loadDetails(name) {
  const seq = ++detailsSeq;
  const reveal = state.revealed.has(name) ? "?reveal=1" : "";
  let u;
  try { u = await api(`/api/resources/${encodeURIComponent(name)}${reveal}`); } catch (e) { return; }
  if (seq !== detailsSeq) return;
  const p = $("#details");
  p.hidden = false;
  const kv = (k, v) => v === undefined || v === null || v === "" ? null : el("tr", {}, el("th", { text: k }), el("td", { text: String(v) }));
  const env = el("table", { class: "kv env" });
  for (const e of u.env) {
    const val = e.value === null ? el("span", { class: "masked", text: "••••••••" }) : el("code", { text: e.value });
    env.append(el("tr", { class: e.secret ? "secret" : "" }, el("th", { text: e.name }, e.secret ? el("span", { class: "tag", text: "secret" }) : null), el("td", {}, val)));
  }
  const anySecret = u.env.some((e) => e.secret);
  const checks = el("ol", { class: "checks" });
  for (const c of u.checks)
    checks.append(el("li", { class: c.ok ? "ok" : "bad" }, el("span", { class: "t", text: fmtTime(c.at) }), " ", el("span", { text: (c.ok ? "✓ " : "✗ ") + c.text })));
  const eps = el("ul", { class: "eps" });
  for (const e of u.endpoints)
    eps.append(el("li", {}, el("b", { text: e.name + " " }), e.url ? el("a", { href: e.url, target: "_blank", rel: "noopener noreferrer", text: e.url }) : el("span", { text: `${e.scheme} port ${e.port}` })));
  const aff = affectedBy(u);
  p.replaceChildren(...[
    el("div", { class: "dhead" }, el("h2", { text: u.name }), el("button", { class: "close", title: "close", onclick: () => { p.hidden = true; state.selected = null; }, text: "×" })),
    el("div", { class: "dstate" }, stateBadge(u), u.waiting ? el("span", { class: "why", text: " " + u.waiting }) : null),
    aff.length ? el("p", { class: "affected-note", text: `Affected: ${aff.join(", ")} ${aff.length > 1 ? "are" : "is"} down.` }) : null,
    u.why ? el("p", { class: "why", text: u.why }) : null,
    el("div", { class: "actions" },
      el("button", { class: "act-start", onclick: () => command(u.name, "start"), text: "Start" }),
      el("button", { class: "act-stop", onclick: () => command(u.name, "stop"), text: "Stop" }),
      el("button", { class: "act-restart", onclick: () => command(u.name, "restart"), text: "Restart" }),
      el("a", { class: "button", href: `#/console/${encodeURIComponent(u.name)}`, text: "Console" })),
    el("table", { class: "kv" },
      kv("resource", u.resource), kv("kind", u.kind), kv("runs as", u.runsAs), kv("pid", u.pid), kv("started", fmtTime(u.startedAt)),
      kv("starts", u.starts), kv("image", u.image), kv("command", u.command), kv("workdir", u.workdir),
      kv("waits for", u.waits.map((w) => `${w.target}: ${w.kind}${w.met ? " ✓" : ""}`).join(", ")),
      kv("references", u.references.join(", "))),
    el("h3", { text: "Endpoints" }), u.endpoints.length ? eps : el("p", { class: "muted", text: "none" }),
    el("h3", {}, "Environment ", anySecret ? el("button", { class: "reveal", onclick: () => {
      if (state.revealed.has(u.name)) state.revealed.delete(u.name); else state.revealed.add(u.name);
      loadDetails(u.name);
    }, text: state.revealed.has(u.name) ? "hide secrets" : "reveal secrets" }) : null),
    u.env.length ? env : el("p", { class: "muted", text: "none" }),
    el("h3", { text: "Health checks" }), u.checks.length ? checks : el("p", { class: "muted", text: "no results yet" })].filter((x) => x));
}

// ---- console logs ---------------------------------------------------------------
//
// The lines live in an array (at most MAX_LINES; older ones go, counted and
// marked); only the rows on screen are in the DOM (a virtual list of fixed
// height rows), so a resource printing 50 MB costs the page a few dozen
// nodes, however fast lines come.

const MAX_LINES = 10000;
const ROW_H = 18;
const con = {
  source: null, which: "", paused: false, filter: "", lines: [], view: null, dropped: 0, built: false,
  pendingRender: false, atBottom: true, pool: [],
  arrivals: [], // {text, at}: when lines arrived (the latency benchmark reads it)
};
window.apxArrivals = con.arrivals;
const perf = { parse: 0, draw: 0, events: 0 }; // time spent, for tests and curiosity
window.apxPerf = perf;
window.apxConsole = { count: () => con.lines.length, dropped: () => con.dropped, view: () => (con.view || con.lines).length,
  sources: () => [...new Set(con.lines.filter((l) => l.r).map((l) => l.r))] };

function buildConsole() {
  const p = $("#page-console");
  const sel = el("select", { id: "con-which", onchange: (e) => { location.hash = "#/console/" + encodeURIComponent(e.target.value); } });
  const box = el("div", { id: "con-lines", class: "console", role: "log" }, el("div", { id: "con-spacer" }), el("div", { id: "con-rows" }));
  box.addEventListener("scroll", () => {
    con.atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - ROW_H;
    scheduleRender();
  });
  p.replaceChildren(
    el("div", { class: "con-bar" },
      el("h2", { text: "Console" }), sel,
      el("input", { id: "con-filter", type: "search", placeholder: "filter (text or /regex/)", oninput: (e) => { con.filter = e.target.value; applyFilter(); } }),
      el("button", { id: "con-pause", onclick: togglePause, text: "Pause" }),
      el("button", { id: "con-clear", onclick: () => { con.lines = []; con.dropped = 0; applyFilter(); }, text: "Clear" }),
      el("a", { id: "con-download", class: "button", text: "Download" }),
      el("span", { id: "con-count", class: "muted" })),
    el("div", { id: "con-dropped", class: "dropped-banner", hidden: true }),
    box);
  con.built = true;
}

function fillSelect() {
  const sel = $("#con-which");
  const names = ["", ...state.order];
  if (sel.options.length === names.length && [...sel.options].every((o, i) => o.value === names[i])) { sel.value = con.which; return; }
  sel.replaceChildren(...names.map((n) => el("option", { value: n, text: n || "All resources" })));
  sel.value = con.which;
}

function togglePause() {
  con.paused = !con.paused;
  $("#con-pause").textContent = con.paused ? "Resume" : "Pause";
  $("#con-pause").classList.toggle("on", con.paused);
  scheduleRender();
}

function addLines(list) {
  const re = con.view ? filterRe() : null;
  for (const l of list) {
    con.lines.push(l);
    if (con.view && (l.dropped || (re && re.test(l.text)))) con.view.push(l);
  }
  const extra = con.lines.length - MAX_LINES;
  if (extra > 0) {
    const gone = con.lines.splice(0, extra);
    let n = 0;
    for (const l of gone) if (!l.dropped) n++;
    con.dropped += n;
    if (con.view) { const keep = new Set(con.lines); con.view = con.view.filter((l) => keep.has(l)); }
  }
}

function followConsole(which) {
  if (!con.built) buildConsole();
  if (con.source && con.which === which) return;
  if (con.source) con.source.close();
  con.which = which;
  fillSelect();
  con.lines = []; con.dropped = 0; con.atBottom = true;
  applyFilter();
  const base = which ? `/api/resources/${encodeURIComponent(which)}/logs` : "/api/logs";
  $("#con-download").href = base + "?format=text";
  $("#con-download").setAttribute("download", (which || "console") + ".log");
  con.source = new EventSource(base + "?follow=1");
  con.source.addEventListener("lines", (ev) => {
    const p0 = performance.now();
    const now = performance.timeOrigin + p0;
    const lines = JSON.parse(ev.data);
    for (const l of lines) con.arrivals.push({ text: l.text, at: now });
    if (con.arrivals.length > 2000) con.arrivals.splice(0, con.arrivals.length - 1000);
    if (!con.paused) addLines(lines);
    else con.held = (con.held || []).concat(lines).slice(-MAX_LINES);
    scheduleRender();
    perf.parse += performance.now() - p0;
    perf.events++;
  });
  con.source.addEventListener("dropped", (ev) => {
    const j = JSON.parse(ev.data);
    con.dropped += j.count;
    addLines([{ dropped: j.count }]);
    scheduleRender();
  });
}

function scheduleRender() {
  if (con.pendingRender) return;
  con.pendingRender = true;
  requestAnimationFrame(render);
}

function rowFor(l) {
  if (l.dropped) return el("div", { class: "dropped", text: `… ${l.dropped} older line${l.dropped === 1 ? "" : "s"} dropped` });
  // aspirec's own messages (starts, health, exits, errors) as the terminal shows them: "aspirec | db: healthy".
  const row = el("div", { class: "line" + (l.cont ? " cont" : "") + (l.sys ? " sys" : "") + (l.error ? " error" : "") });
  row.append(el("span", { class: "ts", text: fmtTime(l.t) }),
    l.sys ? el("span", { class: "src sys", text: "aspirec", title: l.r }) : el("span", { class: "src c" + colorOf(l.r.replace(/\.\d+$/, "")), text: l.r }));
  row.append(ansi(l.text));
  row.title = l.text.length > 200 ? l.text.slice(0, 2000) : "";
  return row;
}

// Draws the rows on screen (and a few more).
function render() {
  con.pendingRender = false;
  if (!con.built || $("#page-console").hidden) return;
  const t0 = performance.now();
  if (!con.paused && con.held) { addLines(con.held); con.held = null; }
  const list = con.view || con.lines;
  const box = $("#con-lines");
  $("#con-spacer").style.height = list.length * ROW_H + "px";
  if (con.atBottom && !con.paused) box.scrollTop = box.scrollHeight;
  const first = Math.max(0, Math.floor(box.scrollTop / ROW_H) - 5);
  const count = Math.ceil(box.clientHeight / ROW_H) + 10;
  const rows = $("#con-rows");
  rows.style.transform = `translateY(${first * ROW_H}px)`;
  const frag = document.createDocumentFragment();
  for (let i = first; i < Math.min(list.length, first + count); i++) {
    const l = list[i];
    if (!l.row) l.row = rowFor(l); // built once, kept with the line
    frag.append(l.row);
  }
  rows.replaceChildren(frag);
  const banner = $("#con-dropped");
  banner.hidden = !con.dropped;
  banner.textContent = `… ${con.dropped.toLocaleString()} older lines dropped (the page keeps the last ${MAX_LINES.toLocaleString()}; the server ${"5,000"} per resource)`;
  $("#con-count").textContent = `${list.length.toLocaleString()} lines${con.paused ? " (paused)" : ""}`;
  perf.draw += performance.now() - t0;
}

function filterRe() {
  const f = con.filter;
  if (!f) return null;
  const m = /^\/(.*)\/([a-z]*)$/.exec(f);
  try { return m ? new RegExp(m[1], m[2]) : new RegExp(f.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "i"); } catch { return null; }
}

function applyFilter() {
  const re = filterRe();
  con.view = re ? con.lines.filter((l) => l.dropped || re.test(l.text)) : null;
  scheduleRender();
}

// ANSI SGR colours: the 16 colours as classes, 256 and true colour as
// properties set through the DOM (the CSP allows no inline styles in markup).
const XTERM = (n) => {
  if (n < 16) return null;
  if (n >= 232) { const v = 8 + (n - 232) * 10; return `rgb(${v},${v},${v})`; }
  n -= 16; const c = [Math.floor(n / 36), Math.floor(n / 6) % 6, n % 6].map((x) => (x ? 55 + x * 40 : 0));
  return `rgb(${c.join(",")})`;
};
function ansi(text) {
  const out = el("span", { class: "msg" });
  if (text.indexOf("\x1b[") < 0) { out.textContent = text; return out; }
  let st = {};
  const re = /\x1b\[([0-9;]*)([A-Za-z])/g;
  let last = 0, m;
  const put = (s) => {
    if (!s) return;
    const sp = document.createElement("span");
    sp.textContent = s;
    const cls = [];
    if (st.bold) cls.push("b");
    if (st.dim) cls.push("dim");
    if (st.italic) cls.push("i");
    if (st.under) cls.push("u");
    if (typeof st.fg === "number") cls.push("f" + st.fg);
    if (typeof st.bg === "number") cls.push("g" + st.bg);
    if (cls.length) sp.className = cls.join(" ");
    if (typeof st.fg === "string") sp.style.color = st.fg;
    if (typeof st.bg === "string") sp.style.backgroundColor = st.bg;
    out.append(sp);
  };
  while ((m = re.exec(text))) {
    put(text.slice(last, m.index));
    last = re.lastIndex;
    if (m[2] !== "m") continue;
    const p = m[1] === "" ? [0] : m[1].split(";").map(Number);
    for (let i = 0; i < p.length; i++) {
      const c = p[i];
      if (c === 0) st = {};
      else if (c === 1) st.bold = true;
      else if (c === 2) st.dim = true;
      else if (c === 3) st.italic = true;
      else if (c === 4) st.under = true;
      else if (c === 22) { st.bold = false; st.dim = false; }
      else if (c === 23) st.italic = false;
      else if (c === 24) st.under = false;
      else if (c >= 30 && c <= 37) st.fg = c - 30;
      else if (c >= 90 && c <= 97) st.fg = c - 90 + 8;
      else if (c === 39) delete st.fg;
      else if (c >= 40 && c <= 47) st.bg = c - 40;
      else if (c >= 100 && c <= 107) st.bg = c - 100 + 8;
      else if (c === 49) delete st.bg;
      else if ((c === 38 || c === 48) && p[i + 1] === 5) {
        const n = p[i + 2] | 0; const v = n < 16 ? n : XTERM(n);
        if (c === 38) st.fg = v; else st.bg = v; i += 2;
      } else if ((c === 38 || c === 48) && p[i + 1] === 2) {
        const v = `rgb(${p[i + 2] | 0},${p[i + 3] | 0},${p[i + 4] | 0})`;
        if (c === 38) st.fg = v; else st.bg = v; i += 4;
      }
    }
  }
  put(text.slice(last));
  return out;
}

// ---- pages ---------------------------------------------------------------------------

window.apxPages = window.apxPages || {};
function route() {
  const h = location.hash.replace(/^#\/?/, "") || "resources";
  const [page, ...rest] = h.split("/");
  const name = ["resources", "console", "structured", "traces", "metrics"].includes(page) ? page : "resources";
  for (const s of document.querySelectorAll("main > .page")) s.hidden = s.id !== "page-" + name;
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.dataset.page === name);
  if (name === "console") followConsole(decodeURIComponent(rest.join("/") || ""));
  const hook = window.apxPages[name];
  if (hook && hook.show) hook.show($("#page-" + name), rest.map(decodeURIComponent));
}

window.addEventListener("hashchange", route);
document.addEventListener("DOMContentLoaded", () => {
  buildResourcesPage();
  followResources();
  route();
});
