// The structured logs, traces and metrics pages (the OTLP receiver's part
// of the dashboard fills this file).
//
// The contract with app.js (loaded before this file, both deferred):
// - the sections #page-structured, #page-traces and #page-metrics exist
//   (index.html) and app.js shows the one the address names
//   (#/structured, #/traces, #/metrics; anything after a further "/" is
//   passed as arguments);
// - when one is shown, app.js calls window.apxPages[name].show(section, args)
//   if it is defined (name: "structured", "traces", "metrics");
// - app.js's helpers are global: el(tag, attrs, ...children) (text through
//   textContent only), api(path, opts) (fetch with the cookie, JSON, 401 ->
//   /login), fmtTime(ms), colorOf(resourceName) (the class cN of a
//   resource's colour), ansi(text), state (the resources, live).
// No inline script or style: the Content-Security-Policy forbids them.
"use strict";
window.apxPages = window.apxPages || {};
