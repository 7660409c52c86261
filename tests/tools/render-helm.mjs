#!/usr/bin/env node
// Renders an aspirec Helm chart as `helm template` would, for the small template
// language aspirec's templates use (no Helm binary is reachable from Debian or npm):
//
//   {{ .Values.a.b }}  {{ .Release.Name }}  {{ .Release.Namespace }}  {{ .Chart.Name }}  {{ .Chart.Version }}
//   {{ required `message` .Values.a.b }}   fails with the message when the value is missing or empty
//   {{ X | toJson | trimPrefix (printf `%c` 34) | trimSuffix (printf `%c` 34) }}
//                                          the inside of X's JSON string (Go's json.Marshal)
//   {{`{{`}}                                 a raw string (literal text)
//   {{- if .Values.a.b }} … {{- end }}       a block kept when the value is truthy ({{- trims blanks before)
//
// Anything else is an error, as is a .Values path that does not exist (Helm would print
// "<no value>": treated as a bug here). Values: the chart's values.yaml, then each -f FILE,
// then each --set a.b=v (a string, or true/false/a number as in helm --set), deep-merged.
//
// usage: node render-helm.mjs CHART_DIR [-f FILE]... [--set K=V]... [--release NAME] [--namespace NS]
// prints every rendered template (templates/**/*.yaml, sorted) as one multi-document YAML on
// stdout, skipping those that render to nothing but comments; checks that each rendered file
// parses as YAML. exit 0: rendered; 1: a template failed; 2: usage.
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";

const args = process.argv.slice(2);
let chart = null, release = "release", namespace = "default";
const files = [], sets = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === "-f" || a === "--values") files.push(args[++i]);
  else if (a === "--set") sets.push(args[++i]);
  else if (a === "--release") release = args[++i];
  else if (a === "--namespace") namespace = args[++i];
  else if (!a.startsWith("-") && !chart) chart = a;
  else { console.error(`render-helm: unknown argument ${a}`); process.exit(2); }
}
if (!chart) { console.error("usage: node render-helm.mjs CHART_DIR [-f FILE]... [--set K=V]..."); process.exit(2); }

function merge(dst, src) {
  for (const [k, v] of Object.entries(src ?? {})) {
    if (v && typeof v === "object" && !Array.isArray(v) && dst[k] && typeof dst[k] === "object") merge(dst[k], v);
    else dst[k] = v;
  }
  return dst;
}
function loadYaml(f) {
  try { return YAML.parse(fs.readFileSync(f, "utf8")) ?? {}; }
  catch (e) { console.error(`${f}: error: ${e.message}`); process.exit(1); }
}
const chartMeta = loadYaml(path.join(chart, "Chart.yaml"));
const values = merge({}, loadYaml(path.join(chart, "values.yaml")));
for (const f of files) merge(values, loadYaml(f));
for (const s of sets) {
  const eq = s.indexOf("=");
  if (eq < 0) { console.error(`render-helm: --set ${s}: no =`); process.exit(2); }
  let v = s.slice(eq + 1);
  if (v === "true") v = true; else if (v === "false") v = false; else if (/^-?\d+$/.test(v)) v = Number(v);
  const keys = s.slice(0, eq).split(".");
  let o = values;
  for (const k of keys.slice(0, -1)) o = (o[k] && typeof o[k] === "object") ? o[k] : (o[k] = {});
  o[keys.at(-1)] = v;
}
const scope = {
  Values: values,
  Release: { Name: release, Namespace: namespace, Service: "Helm" },
  Chart: { Name: chartMeta.name, Version: chartMeta.version, AppVersion: chartMeta.appVersion },
};

class RenderError extends Error {}
function lookupPath(p) {
  if (!/^(\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(p)) throw new RenderError(`unsupported expression ${p}`);
  let o = scope;
  const parts = p.slice(1).split(".");
  for (const k of parts) {
    if (o === null || typeof o !== "object" || !(k in o)) return undefined;
    o = o[k];
  }
  return o;
}
function mustPath(p) {
  const v = lookupPath(p);
  if (v === undefined) throw new RenderError(`${p} is not set (no such value)`);
  return v;
}
const str = (v) => (v === null || v === undefined) ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
const truthy = (v) => !(v === undefined || v === null || v === false || v === 0 || v === "" ||
  (Array.isArray(v) && !v.length) || (typeof v === "object" && !Array.isArray(v) && !Object.keys(v).length));

function evalTerm(e) {
  let m;
  if ((m = /^`([^`]*)`$/.exec(e))) return m[1];
  if ((m = /^\(printf\s+`%c`\s+(\d+)\)$/.exec(e))) return String.fromCodePoint(Number(m[1]));
  if ((m = /^required\s+`([^`]*)`\s+(\S+)$/.exec(e))) {
    const v = lookupPath(m[2]);
    if (v === undefined || v === null || v === "") throw new RenderError(`execution error: ${m[1]}`);
    return v;
  }
  return mustPath(e);
}
// Go's json.Marshal: JSON.stringify, with <, >, & and U+2028/9 escaped as \uXXXX.
const goJson = (v) => JSON.stringify(v ?? null).replace(/[<>&\u2028\u2029]/g,
  (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
// The pipeline's functions: the piped value comes last, as in Go templates.
const funcs = {
  toJson: (v) => goJson(v),
  trimPrefix: (p, v) => { const s = str(v); return s.startsWith(p) ? s.slice(p.length) : s; },
  trimSuffix: (p, v) => { const s = str(v); return s.endsWith(p) ? s.slice(0, s.length - p.length) : s; },
};
// Splits on | outside backquotes and parentheses.
function splitPipe(e) {
  const parts = [];
  let depth = 0, raw = false, cur = "";
  for (const c of e) {
    if (c === "`") raw = !raw;
    else if (!raw && c === "(") depth++;
    else if (!raw && c === ")") depth--;
    if (c === "|" && !raw && depth === 0) { parts.push(cur.trim()); cur = ""; } else cur += c;
  }
  parts.push(cur.trim());
  return parts;
}
function evalExpr(e) {
  const [first, ...rest] = splitPipe(e);
  let v = evalTerm(first);
  for (const call of rest) {
    const m = /^(\w+)(?:\s+([\s\S]+))?$/.exec(call);
    if (!m || !funcs[m[1]]) throw new RenderError(`unsupported function in ${call}`);
    const args = m[2] ? [evalTerm(m[2])] : [];
    v = funcs[m[1]](...args, v);
  }
  return v;
}

// Splits the text into literal text and actions; renders with if/end blocks.
function render(text, file) {
  const re = /\{\{(-?)\s*([\s\S]*?)\s*(-?)\}\}/g;
  const tokens = [];
  let last = 0, m;
  while ((m = re.exec(text))) {
    tokens.push({ text: text.slice(last, m.index) });
    tokens.push({ action: m[2], ltrim: m[1] === "-", rtrim: m[3] === "-" });
    last = re.lastIndex;
  }
  tokens.push({ text: text.slice(last) });
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.action === undefined) continue;
    if (t.ltrim && i > 0) tokens[i - 1].text = tokens[i - 1].text.replace(/\s+$/, "");
    if (t.rtrim && i + 1 < tokens.length) tokens[i + 1].text = tokens[i + 1].text.replace(/^\s+/, "");
  }
  let out = "";
  const stack = []; // each: is this block emitting
  const on = () => stack.every(Boolean);
  for (const t of tokens) {
    if (t.action === undefined) { if (on()) out += t.text; continue; }
    let m;
    if ((m = /^if\s+(\S+)$/.exec(t.action))) { stack.push(on() ? truthy(lookupPath(m[1])) : false); continue; }
    if (t.action === "end") {
      if (!stack.length) throw new RenderError(`${file}: {{ end }} without {{ if }}`);
      stack.pop();
      continue;
    }
    if (on()) out += str(evalExpr(t.action));
  }
  if (stack.length) throw new RenderError(`${file}: {{ if }} without {{ end }}`);
  return out;
}

function walk(dir) {
  const res = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) res.push(...walk(p));
    else res.push(p);
  }
  return res;
}

const tdir = path.join(chart, "templates");
const templates = walk(tdir).sort();
const docs = [];
let failed = false;
// Before rendering: a template must itself be valid YAML, with every action inside a
// double-quoted scalar (or in a comment, for if/end), so that YAML tools can read it.
function checkRaw(text, rel) {
  const docs = YAML.parseAllDocuments(text);
  for (const d of docs) {
    if (d.errors.length) return `the template is not YAML: ${d.errors[0].message}`;
    let bad = null;
    YAML.visit(d, { Scalar(_, node) {
      if (!bad && typeof node.value === "string" && node.value.includes("{{") && node.type !== "QUOTE_DOUBLE")
        bad = `'${node.value}' holds a template action outside a double-quoted scalar`;
    } });
    if (bad) return bad;
  }
  return null;
}

for (const f of templates) {
  const rel = path.relative(chart, f);
  let out;
  if (f.endsWith(".yaml")) {
    const bad = checkRaw(fs.readFileSync(f, "utf8"), rel);
    if (bad) { console.error(`${rel}: error: ${bad}`); failed = true; continue; }
  }
  try { out = render(fs.readFileSync(f, "utf8"), rel); }
  catch (e) {
    if (!(e instanceof RenderError)) throw e;
    console.error(`${rel}: error: ${e.message}`); failed = true; continue;
  }
  if (!f.endsWith(".yaml")) continue; // NOTES.txt: rendered (so it must render) but not a manifest
  try {
    const all = YAML.parseAllDocuments(out);
    for (const d of all) if (d.errors.length) throw new Error(d.errors[0].message);
  } catch (e) { console.error(`${rel}: error: the rendered file is not YAML: ${e.message}`); failed = true; continue; }
  if (!out.split("\n").some((l) => l.trim() && !l.trim().startsWith("#"))) continue;
  docs.push(`# Source: ${rel}\n${out.replace(/\n*$/, "\n")}`);
}
if (failed) process.exit(1);
process.stdout.write(docs.map((d) => d.startsWith("---") ? d : d).join("---\n"));
