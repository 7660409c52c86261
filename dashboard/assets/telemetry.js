// The structured logs, traces and metrics pages (the OTLP receiver's): they
// read /api/telemetry/* (doc/dashboard.md). app.js shows the sections
// #page-structured, #page-traces and #page-metrics and calls
// window.apxPages[name].show(section, args) when one is opened; the page
// shown is refreshed every second while it is visible.
"use strict";
(() => {
  const h = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "text") e.textContent = v;
      else if (k === "class") e.className = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of kids.flat()) if (c !== null && c !== undefined && c !== false) e.append(c);
    return e;
  };
  const SVG = "http://www.w3.org/2000/svg";
  const s = (tag, attrs, ...kids) => {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) {
      if (k === "text") e.textContent = v; else e.setAttribute(k, String(v));
    }
    for (const c of kids.flat()) if (c) e.append(c);
    return e;
  };
  // The same colour per resource as app.js gives it.
  const colorOf = window.colorOf || ((name) => {
    let x = 2166136261;
    for (let i = 0; i < name.length; i++) { x ^= name.charCodeAt(i); x = Math.imul(x, 16777619) >>> 0; }
    return x % 12;
  });
  const resChip = (name) => h("span", { class: "tl-res" }, h("span", { class: "dot c" + colorOf(name) }), name);

  // Our style sheet (index.html is app.js's; a <link> added here is 'self' for the CSP).
  if (!document.querySelector('link[href="/static/telemetry.css"]'))
    document.head.append(h("link", { rel: "stylesheet", href: "/static/telemetry.css" }));

  const api = async (path) => {
    const r = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!r.ok) throw new Error(`${path}: ${r.status}`);
    return r.json();
  };
  const nsToMs = (ns) => Number(BigInt(ns || "0") / 1000n) / 1000;
  const fmtTime = (ms) => {
    const d = new Date(ms);
    const p = (n, w = 2) => String(n).padStart(w, "0");
    return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
  };
  const fmtDur = (ms) => (ms >= 1000 ? (ms / 1000).toFixed(2) + " s" : ms >= 1 ? ms.toFixed(ms >= 100 ? 0 : 1) + " ms" : (ms * 1000).toFixed(0) + " µs");
  const anyText = (v) => {
    if (!v) return "";
    if ("stringValue" in v) return v.stringValue;
    if ("intValue" in v) return String(v.intValue);
    if ("doubleValue" in v) return String(v.doubleValue);
    if ("boolValue" in v) return String(v.boolValue);
    if ("bytesValue" in v) return v.bytesValue;
    if (v.arrayValue) return "[" + (v.arrayValue.values || []).map(anyText).join(", ") + "]";
    if (v.kvlistValue) return "{" + (v.kvlistValue.values || []).map((kv) => kv.key + ": " + anyText(kv.value)).join(", ") + "}";
    return "";
  };
  const attr = (list, key) => { const a = (list || []).find((x) => x.key === key); return a ? anyText(a.value) : ""; };
  const kvTable = (list) => h("table", { class: "kv" }, h("tbody", {}, (list || []).map((a) => h("tr", {}, h("th", { text: a.key }), h("td", { text: anyText(a.value) })))));
  // The name a record's resource is shown by: the API's displayName for it.
  let resources = [];
  const labelOf = (resource) => {
    const name = attr(resource && resource.attributes, "service.name") || "unknown_service";
    const inst = attr(resource && resource.attributes, "service.instance.id");
    const r = resources.find((x) => x.name === name && x.instanceId === inst);
    return r ? r.displayName : name;
  };
  // OTLP/JSON's resource -> scope -> items nesting, flattened.
  const flatten = (data, rk, sk, ik) => {
    const out = [];
    for (const rs of (data && data[rk]) || [])
      for (const ss of rs[sk] || []) for (const it of ss[ik] || []) out.push({ res: labelOf(rs.resource), scope: ss.scope || {}, it });
    return out;
  };
  const sevClass = (n) => (n >= 17 ? "bad" : n >= 13 ? "warn" : n >= 9 ? "info" : "");
  const sevName = (n) => (n >= 21 ? "Critical" : n >= 17 ? "Error" : n >= 13 ? "Warning" : n >= 9 ? "Information" : n >= 5 ? "Debug" : n >= 1 ? "Trace" : "Unspecified");

  async function loadResources() {
    const r = await api("/api/telemetry/resources");
    resources = r.resources || [];
    bytesLimit = r.maxBytesPerResource || 0;
    return r;
  }
  function resourceSelect(sel, value, onchange) {
    const cur = value || "";
    sel.replaceChildren(h("option", { value: "", text: "All resources" }),
      ...resources.map((r) => h("option", { value: r.displayName, text: r.displayName, selected: r.displayName === cur })));
    sel.value = cur;
    if (onchange && !sel.dataset.bound) { sel.dataset.bound = "1"; sel.addEventListener("change", onchange); }
  }
  let bytesLimit = 0;
  const mib = (n) => `${Math.round(n / 1048576)} MiB`;
  const droppedNote = (what, key, limit) => {
    const parts = resources.filter((r) => r.dropped && r.dropped[key] > 0).map((r) => `${r.displayName}: ${r.dropped[key]}`);
    return parts.length ? h("p", { class: "tl-dropped", text: `Older ${what} dropped (limit ${limit} or ${mib(bytesLimit)} per resource): ${parts.join(", ")}` }) : null;
  };

  // ---- structured logs --------------------------------------------------------------

  const logs = { sec: null, state: { resource: "", severity: "", text: "", traceId: "" }, open: new Set(), paused: false };
  logs.build = function (sec) {
    this.sec = sec;
    sec.replaceChildren();
    const st = this.state;
    this.resSel = h("select", { id: "sl-resource", "aria-label": "Resource" });
    this.sevSel = h("select", { id: "sl-severity", "aria-label": "Minimum severity" },
      ["", "Trace", "Debug", "Information", "Warning", "Error", "Critical"].map((v) => h("option", { value: v, text: v ? v + " and above" : "All levels" })));
    this.text = h("input", { id: "sl-filter", type: "search", placeholder: "Filter message or attributes", value: st.text });
    this.trace = h("span", { class: "tl-chip", id: "sl-trace" });
    this.pause = h("button", { id: "sl-pause", text: "Pause", onclick: () => { this.paused = !this.paused; this.pause.textContent = this.paused ? "Resume" : "Pause"; this.pause.classList.toggle("on", this.paused); } });
    const changed = () => { st.resource = this.resSel.value; st.severity = this.sevSel.value; st.text = this.text.value; this.refresh(true); };
    this.sevSel.addEventListener("change", changed);
    this.text.addEventListener("input", changed);
    this.resSel.addEventListener("change", changed);
    this.count = h("span", { class: "muted", id: "sl-count" });
    this.note = h("div");
    this.body = h("tbody");
    sec.append(h("h2", { text: "Structured logs" }),
      h("div", { class: "tl-bar" }, this.resSel, this.sevSel, this.text, this.trace, this.pause, this.count),
      this.note,
      h("table", { class: "grid tl-logs", id: "sl-table" },
        h("thead", {}, h("tr", {}, ["Time", "Resource", "Level", "Message", "Trace"].map((t) => h("th", { text: t })))), this.body));
  };
  logs.show = function (sec, args) {
    if (this.sec !== sec || !sec.querySelector("#sl-table")) this.build(sec);
    this.state.traceId = args && args[0] ? args[0] : "";
    this.refresh(true);
  };
  logs.refresh = async function (force) {
    if (this.paused && !force) return;
    const st = this.state;
    await loadResources();
    resourceSelect(this.resSel, st.resource);
    this.trace.replaceChildren(...(st.traceId ? [`trace ${st.traceId.slice(0, 12)}… `, h("a", { href: "#/structured", text: "✕", title: "Show every trace" })] : []));
    this.trace.hidden = !st.traceId;
    const q = new URLSearchParams({ limit: "500" });
    if (st.resource) q.set("resource", st.resource);
    if (st.severity) q.set("severity", st.severity);
    if (st.text) q.set("text", st.text);
    if (st.traceId) q.set("traceId", st.traceId);
    let r;
    try { r = await api("/api/telemetry/logs?" + q); } catch (e) { this.count.textContent = String(e.message); return; }
    const rows = flatten(r.data, "resourceLogs", "scopeLogs", "logRecords").reverse(); // newest first
    this.count.textContent = `${r.returnedCount} of ${r.totalCount}`;
    this.note.replaceChildren(...[droppedNote("logs", "logs", "10,000")].filter(Boolean));
    const key = (x) => x.it.timeUnixNano + "|" + x.res + "|" + anyText(x.it.body);
    this.body.replaceChildren(...rows.flatMap((x) => {
      const l = x.it, k = key(x);
      const tr = h("tr", { class: "sl-row", "data-severity": String(l.severityNumber || 0), "data-resource": x.res, onclick: () => { if (this.open.has(k)) this.open.delete(k); else this.open.add(k); this.refresh(true); } },
        h("td", { class: "ts", text: fmtTime(nsToMs(l.timeUnixNano)) }),
        h("td", {}, resChip(x.res)),
        h("td", {}, h("span", { class: "badge " + sevClass(l.severityNumber || 0), text: l.severityText || sevName(l.severityNumber || 0) })),
        h("td", { class: "sl-msg", text: anyText(l.body) }),
        h("td", {}, l.traceId ? h("a", { href: "#/traces/" + l.traceId, text: l.traceId.slice(0, 8), onclick: (e) => e.stopPropagation() }) : ""));
      if (!this.open.has(k)) return [tr];
      const extra = [{ key: "scope", value: { stringValue: x.scope.name || "" } }, ...(l.attributes || [])];
      if (l.spanId) extra.push({ key: "spanId", value: { stringValue: l.spanId } });
      return [tr, h("tr", { class: "sl-detail" }, h("td", { colspan: "5" }, kvTable(extra)))];
    }));
    if (!rows.length) this.body.append(h("tr", {}, h("td", { colspan: "5", class: "empty", text: "No structured logs yet. Resources send them over OTLP (OTEL_EXPORTER_OTLP_ENDPOINT)." })));
  };

  // ---- traces -------------------------------------------------------------------------

  const traces = { sec: null, state: { resource: "", text: "", errors: false }, id: "", selected: "" };
  traces.show = function (sec, args) {
    this.sec = sec;
    const id = args && args[0] ? args[0] : "";
    if (id !== this.id || !sec.firstChild || !sec.querySelector(id ? "#tr-detail" : "#tr-table")) {
      this.id = id;
      this.selected = "";
      sec.replaceChildren();
      if (id) this.buildDetail(sec); else this.buildList(sec);
    }
    this.refresh();
  };
  traces.buildList = function (sec) {
    this.resSel = h("select", { id: "tr-resource", "aria-label": "Resource" });
    this.text = h("input", { id: "tr-filter", type: "search", placeholder: "Filter span names or attributes", value: this.state.text });
    this.errors = h("input", { type: "checkbox", id: "tr-errors", checked: this.state.errors });
    const changed = () => { this.state.resource = this.resSel.value; this.state.text = this.text.value; this.state.errors = this.errors.checked; this.refresh(); };
    this.resSel.addEventListener("change", changed);
    this.text.addEventListener("input", changed);
    this.errors.addEventListener("change", changed);
    this.count = h("span", { class: "muted" });
    this.note = h("div");
    this.body = h("tbody");
    sec.append(h("h2", { text: "Traces" }), h("div", { class: "tl-bar" }, this.resSel, this.text,
      h("label", { class: "tl-check" }, this.errors, " Errors only"), this.count), this.note,
      h("table", { class: "grid", id: "tr-table" }, h("thead", {}, h("tr", {}, ["Time", "Name", "Resources", "Spans", "Duration"].map((t) => h("th", { text: t })))), this.body));
  };
  traces.buildDetail = function (sec) {
    this.head = h("div", { class: "tr-head" });
    this.wf = h("div", { class: "wf", id: "tr-waterfall" });
    this.span = h("div", { class: "tr-span" });
    sec.append(h("p", {}, h("a", { href: "#/traces", text: "← All traces" })), h("div", { id: "tr-detail" }, this.head, this.wf, this.span));
  };
  traces.refresh = async function () {
    await loadResources();
    if (this.id) return this.refreshDetail();
    resourceSelect(this.resSel, this.state.resource);
    const q = new URLSearchParams({ limit: "200", summary: "true" });
    if (this.state.resource) q.set("resource", this.state.resource);
    if (this.state.text) q.set("text", this.state.text);
    if (this.state.errors) q.set("hasError", "true");
    const r = await api("/api/telemetry/traces?" + q);
    this.count.textContent = `${r.returnedCount} of ${r.totalCount}`;
    this.note.replaceChildren(...[droppedNote("traces", "traces", "10,000")].filter(Boolean));
    const max = Math.max(1e-3, ...r.traces.map((t) => t.durationMs));
    this.body.replaceChildren(...r.traces.map((t) =>
      h("tr", { class: "tr-row", "data-trace": t.traceId, onclick: () => { location.hash = "#/traces/" + t.traceId; } },
        h("td", { class: "ts", text: fmtTime(nsToMs(t.startTimeUnixNano)) }),
        h("td", {}, h("a", { href: "#/traces/" + t.traceId, text: (t.rootResource ? t.rootResource + ": " : "") + t.name }), t.hasError ? h("span", { class: "badge bad tl-err", text: "error" }) : null),
        h("td", {}, t.resources.map(resChip)),
        h("td", { class: "tr-spans", text: String(t.spanCount) }),
        h("td", { class: "tr-dur" }, h("span", { class: "tr-durbar", "data-w": String(Math.max(1, Math.round(100 * t.durationMs / max))) }), fmtDur(t.durationMs)))));
    for (const b of this.body.querySelectorAll(".tr-durbar")) b.style.width = b.dataset.w + "px";
    if (!r.traces.length) this.body.append(h("tr", {}, h("td", { colspan: "5", class: "empty", text: "No traces yet." })));
  };
  traces.refreshDetail = async function () {
    let r;
    try { r = await api("/api/telemetry/traces/" + encodeURIComponent(this.id)); } catch (e) {
      this.head.replaceChildren(h("p", { class: "empty", text: `Trace ${this.id} not found (or dropped).` }));
      this.wf.replaceChildren();
      return;
    }
    const sum = r.traces[0];
    const spans = flatten(r.data, "resourceSpans", "scopeSpans", "spans").map((x) => ({ ...x.it, res: x.res, scope: x.scope,
      t0: nsToMs(x.it.startTimeUnixNano), t1: nsToMs(x.it.endTimeUnixNano) }));
    const start = Math.min(...spans.map((x) => x.t0)), end = Math.max(...spans.map((x) => x.t1));
    const total = Math.max(end - start, 1e-3);
    this.head.replaceChildren(h("h2", {}, `${sum.rootResource}: ${sum.name} `, sum.hasError ? h("span", { class: "badge bad", text: "error" }) : null),
      h("p", { class: "muted" }, `Trace ${sum.traceId} · ${fmtTime(start)} · ${fmtDur(total)} · ${spans.length} spans · `, sum.resources.map(resChip)));
    // Depth-first from the roots (spans whose parent is absent), children by start time.
    const byId = new Map(spans.map((x) => [x.spanId, x]));
    const kids = new Map();
    const roots = [];
    for (const x of spans) {
      if (x.parentSpanId && byId.has(x.parentSpanId)) { if (!kids.has(x.parentSpanId)) kids.set(x.parentSpanId, []); kids.get(x.parentSpanId).push(x); } else roots.push(x);
    }
    const order = [];
    const walk = (x, d) => { order.push([x, d]); for (const c of (kids.get(x.spanId) || []).sort((a, b) => a.t0 - b.t0)) walk(c, d + 1); };
    for (const x of roots.sort((a, b) => a.t0 - b.t0)) walk(x, 0);
    const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => h("span", { class: "wf-tick", "data-left": String(f * 100), text: fmtDur(f * total) }));
    const rows = order.map(([x, d]) => {
      const left = (100 * (x.t0 - start)) / total, width = Math.max(0.3, (100 * (x.t1 - x.t0)) / total);
      const err = x.status && x.status.code === 2;
      return h("div", { class: "wf-row" + (x.spanId === this.selected ? " selected" : ""), "data-span": x.spanId, "data-resource": x.res, onclick: () => { this.selected = x.spanId; this.refreshDetail(); } },
        h("div", { class: "wf-name", "data-depth": String(d) }, resChip(x.res), h("span", { class: "wf-label", text: x.name }), err ? h("span", { class: "badge bad tl-err", text: "error" }) : null),
        h("div", { class: "wf-track" }, h("div", { class: "wf-bar c" + colorOf(x.res) + (err ? " err" : ""), "data-left": left.toFixed(3), "data-width": width.toFixed(3), title: `${x.name} ${fmtDur(x.t1 - x.t0)}` }),
          h("span", { class: "wf-dur", "data-left": (left + width).toFixed(3), text: fmtDur(x.t1 - x.t0) })));
    });
    this.wf.replaceChildren(h("div", { class: "wf-row wf-axis" }, h("div", { class: "wf-name", text: "Span" }), h("div", { class: "wf-track" }, ticks)), ...rows);
    // Positions through the CSSOM (the CSP allows no inline style attributes).
    for (const e of this.wf.querySelectorAll("[data-left]")) e.style.left = Math.min(Number(e.dataset.left), 96) + "%";
    for (const e of this.wf.querySelectorAll("[data-width]")) e.style.width = e.dataset.width + "%";
    for (const e of this.wf.querySelectorAll("[data-depth]")) e.style.paddingLeft = 0.3 + 1.1 * Number(e.dataset.depth) + "rem";
    const sel = spans.find((x) => x.spanId === this.selected);
    if (!sel) { this.span.replaceChildren(h("p", { class: "muted", text: "Select a span to see its attributes." }), h("p", {}, h("a", { href: "#/structured/" + this.id, text: "Structured logs of this trace" }))); return; }
    const kinds = ["Unspecified", "Internal", "Server", "Client", "Producer", "Consumer"];
    this.span.replaceChildren(...[h("h3", { text: sel.name }), kvTable([
      { key: "resource", value: { stringValue: sel.res } },
      { key: "spanId", value: { stringValue: sel.spanId } },
      { key: "parentSpanId", value: { stringValue: sel.parentSpanId || "" } },
      { key: "kind", value: { stringValue: kinds[sel.kind || 0] || String(sel.kind) } },
      { key: "scope", value: { stringValue: sel.scope.name || "" } },
      { key: "duration", value: { stringValue: fmtDur(sel.t1 - sel.t0) } },
      { key: "status", value: { stringValue: ["Unset", "Ok", "Error"][(sel.status && sel.status.code) || 0] + (sel.status && sel.status.message ? ": " + sel.status.message : "") } },
      ...(sel.attributes || [])]),
    (sel.events || []).length ? h("h3", { text: "Events" }) : null,
    ...(sel.events || []).map((ev) => h("div", {}, h("b", { text: ev.name + " " }), h("span", { class: "muted", text: fmtTime(nsToMs(ev.timeUnixNano)) }), kvTable(ev.attributes))),
    h("p", {}, h("a", { href: "#/structured/" + this.id, text: "Structured logs of this trace" }))].filter(Boolean));
  };

  // ---- metrics ------------------------------------------------------------------------

  const metrics = { sec: null, pick: null };
  metrics.show = function (sec) {
    if (this.sec !== sec || !sec.querySelector("#mt-tree")) {
      this.sec = sec;
      this.tree = h("div", { class: "mt-tree", id: "mt-tree" });
      this.view = h("div", { class: "mt-view", id: "mt-view" });
      sec.replaceChildren(h("h2", { text: "Metrics" }), h("div", { class: "mt-layout" }, this.tree, this.view));
    }
    this.refresh();
  };
  metrics.refresh = async function () {
    await loadResources();
    const r = await api("/api/telemetry/metrics");
    const all = [];
    for (const res of r.resources) for (const ins of res.instruments) all.push({ res: res.name, ins });
    if (!this.pick && all.length) this.pick = { res: all[0].res, name: all[0].ins.name };
    this.tree.replaceChildren(...(r.resources.length ? r.resources.map((res) => h("div", { class: "mt-res" }, h("div", { class: "mt-rname" }, resChip(res.name)),
      res.droppedSeries || res.droppedInstruments ? h("div", { class: "tl-dropped", text: `dropped: ${res.droppedInstruments} instruments, ${res.droppedSeries} series` }) : null,
      res.instruments.map((ins) => h("a", { href: "#/metrics", class: "mt-ins" + (this.pick && this.pick.res === res.name && this.pick.name === ins.name ? " selected" : ""), "data-instrument": ins.name,
        onclick: (e) => { e.preventDefault(); this.pick = { res: res.name, name: ins.name }; this.refresh(); } }, ins.name)))) : [h("p", { class: "empty", text: "No metrics yet." })]));
    const cur = this.pick && all.find((x) => x.res === this.pick.res && x.ins.name === this.pick.name);
    if (!cur) { this.view.replaceChildren(); return; }
    this.windowMs = r.percentileWindowMs;
    this.view.replaceChildren(this.chart(cur.res, cur.ins));
  };
  const PALETTE = ["#512bd4", "#1d64c1", "#107c41", "#b45309", "#c42b1c", "#0e7490", "#86198f", "#4d7c0f"];
  metrics.chart = function (resName, ins) {
    const hist = ins.kind === "histogram" || ins.kind === "exponentialHistogram" || ins.kind === "summary";
    const lines = [];
    const seriesLabel = (se) => (se.attributes || []).map((a) => `${a.key}=${anyText(a.value)}`).join(", ") || "(no attributes)";
    if (hist) {
      const se = ins.series[0];
      if (se) for (const [i, name] of [[3, "P50"], [4, "P90"], [5, "P99"]]) lines.push({ name: `${name} ${seriesLabel(se)}`, pts: se.points.map((p) => [p[0], p[i]]).filter((p) => p[1] !== null) });
    } else {
      for (const se of ins.series.slice(0, 8)) lines.push({ name: seriesLabel(se), pts: se.points.map((p) => [p[0], p[1]]) });
    }
    const W = 760, H = 260, L = 64, R = 12, T = 12, B = 28;
    const xs = lines.flatMap((l) => l.pts.map((p) => p[0])), ys = lines.flatMap((l) => l.pts.map((p) => p[1]));
    const x0 = Math.min(...xs), x1 = Math.max(...xs, x0 + 1000);
    let y0 = Math.min(0, ...ys), y1 = Math.max(...ys, y0 + 1);
    if (y1 === y0) y1 = y0 + 1;
    const X = (x) => L + ((x - x0) / (x1 - x0)) * (W - L - R), Y = (y) => T + (1 - (y - y0) / (y1 - y0)) * (H - T - B);
    const fmtNum = (v) => (Math.abs(v) >= 1e6 ? v.toExponential(2) : Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) < 10 ? 2 : 1));
    const grid = [0, 0.5, 1].map((f) => {
      const v = y0 + f * (y1 - y0);
      return s("g", {}, s("line", { x1: L, x2: W - R, y1: Y(v), y2: Y(v), class: "mt-grid" }), s("text", { x: L - 6, y: Y(v) + 4, "text-anchor": "end", class: "mt-axis", text: fmtNum(v) }));
    });
    const xl = xs.length ? [s("text", { x: L, y: H - 8, class: "mt-axis", text: fmtTime(x0) }), s("text", { x: W - R, y: H - 8, "text-anchor": "end", class: "mt-axis", text: fmtTime(x1) })] : [];
    const paths = lines.map((l, i) => s("g", { class: "mt-line", "data-series": l.name },
      s("polyline", { points: l.pts.map((p) => `${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join(" "), fill: "none", stroke: PALETTE[i % PALETTE.length], "stroke-width": 2 }),
      ...l.pts.slice(-1).map((p) => s("circle", { cx: X(p[0]).toFixed(1), cy: Y(p[1]).toFixed(1), r: 3, fill: PALETTE[i % PALETTE.length] }))));
    const svg = s("svg", { class: "mt-chart", id: "mt-chart", viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img", "aria-label": ins.name }, grid, xl, paths);
    const last = (l) => (l.pts.length ? fmtNum(l.pts[l.pts.length - 1][1]) : "–");
    return h("div", {}, h("h3", {}, resChip(resName), " ", ins.name),
      h("p", { class: "muted", text: `${ins.description || ""}${ins.unit ? " (" + ins.unit + ")" : ""} · ${ins.kind}${ins.kind === "sum" ? (ins.isMonotonic ? ", monotonic" : "") : ""}` +
        (hist && ins.kind !== "summary" ? ` · percentiles of the values recorded in the last ${this.windowMs ? this.windowMs / 1000 + " s" : "export"} before each point` : "") }),
      svg,
      h("table", { class: "grid mt-legend" }, h("thead", {}, h("tr", {}, h("th", { text: hist ? "Percentile · series" : "Series" }), h("th", { text: "Latest" }), h("th", { text: "Points" }))),
        h("tbody", {}, lines.map((l, i) => h("tr", {}, h("td", {}, h("span", { class: "mt-swatch", "data-c": String(i % PALETTE.length) }), l.name), h("td", { class: "mt-last", text: last(l) }), h("td", { text: String(l.pts.length) }))))));
  };

  window.apxPages = window.apxPages || {};
  Object.assign(window.apxPages, { structured: logs, traces, metrics });

  // Refresh the page shown, once a second, while the tab is visible.
  let busy = false;
  setInterval(async () => {
    if (busy || document.hidden) return;
    const pages = [["structured", logs], ["traces", traces], ["metrics", metrics]];
    for (const [name, p] of pages) {
      const sec = document.getElementById("page-" + name);
      if (!sec || sec.hidden || !p.sec) continue;
      busy = true;
      try { await p.refresh(); } catch (e) { /* the next tick tries again */ } finally { busy = false; }
    }
  }, 1000);
})();
