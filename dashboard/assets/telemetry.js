// The structured logs, traces and metrics pages (the OTLP receiver's):
// filled by that part of the dashboard. app.js shows the sections
// #page-structured, #page-traces and #page-metrics and calls
// window.apxPages[name].show(section) when one is opened, if defined.
"use strict";
