#!/usr/bin/env node
// Evaluates an Aspire manifest as a deployment tool would for a Compose-like
// deployment (every resource on one network, found by its name, on its
// target port) and compares what each container gets with the Compose file
// aspirec wrote for the same program: the same environment, variable by
// variable, and the same argv (entrypoint + args against entrypoint +
// command). Shows that the manifest's expressions mean what the other
// targets render, not just that they parse.
//
// usage: node manifest-vs-compose.mjs aspire-manifest.json docker-compose.yaml
// Skipped: variables whose Compose value has literal text in braces (a
// manifest reads it as an expression; aspirec warns), and the argv of an
// executable.v0 or project.v0 (Compose runs an image there).
// Parameters compare as placeholders: `{p.value}` and Compose's `${P}` /
// `${P:?…}` both become <param:P> (P the parameter's environment name), and
// Compose's `$$` is read back as `$`.
// exit 0: the same; 1: differences (one line each); 2: usage / internal error.
import fs from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const YAML = require("yaml");
const [mfPath, composePath] = process.argv.slice(2);
if (!mfPath || !composePath) {
  console.error("usage: node manifest-vs-compose.mjs aspire-manifest.json docker-compose.yaml");
  process.exit(2);
}
const res = JSON.parse(fs.readFileSync(mfPath, "utf8")).resources;
const compose = YAML.parse(fs.readFileSync(composePath, "utf8"));
const envName = (n) => n.toUpperCase().replace(/[^A-Z0-9]/g, "_");

function binding(name, b, part) {
  const bd = res[name]?.bindings?.[b];
  if (!bd) throw new Error(`no binding ${name}.${b}`);
  const port = String(bd.targetPort ?? bd.port);
  switch (part) {
    case "host": return name;
    case "port": case "targetPort": return port;
    case "scheme": return bd.scheme;
    case "url": return `${bd.scheme}://${name}:${port}`;
  }
  throw new Error(`unknown binding part ${part}`);
}

function evaluate(s, depth = 0) {
  if (depth > 16) throw new Error("expressions nest too deep");
  return s.replace(/\{([^{}.]+)\.([^{}]+)\}/g, (all, name, path) => {
    const r = res[name];
    if (!r) return all; // literal text in braces stays (the emitter warned)
    const parts = path.split(".");
    if (parts[0] === "bindings" && parts.length === 3) return binding(name, parts[1], parts[2]);
    if (path === "connectionString") return evaluate(r.connectionString, depth + 1);
    if (r.type === "parameter.v0" && (path === "value" || path === "inputs.value")) return `<param:${envName(name)}>`;
    if (r.type === "annotated.string" && path === "value") return `<uri:${evaluate(r.value, depth + 1)}>`;
    throw new Error(`cannot evaluate {${name}.${path}}`);
  });
}

const fromCompose = (v) =>
  String(v)
    .replace(/\$\{([A-Za-z0-9_]+)(:\?[^}]*)?\}/g, (_, p) => `<param:${p}>`)
    .replace(/\$\$/g, "$");

const diffs = [];
let compared = 0, skipped = 0;
for (const [name, svc] of Object.entries(compose.services || {})) {
  const r = res[name];
  if (!r) { diffs.push(`${name}: a Compose service the manifest does not have`); continue; }
  const want = Object.fromEntries(Object.entries(svc.environment || {}).map(([k, v]) => [k, fromCompose(v)]));
  const got = {};
  for (const [k, v] of Object.entries(r.env || {})) got[k] = evaluate(v);
  for (const k of new Set([...Object.keys(want), ...Object.keys(got)])) {
    // Literal text in braces reads as an expression in a manifest (aspirec
    // warns): not comparable.
    if (k in want && /\{[^{}]*\}/.test(want[k])) { skipped++; continue; }
    compared++;
    if (!(k in got)) diffs.push(`${name}: ${k} is in Compose (${JSON.stringify(want[k])}), not in the manifest`);
    else if (!(k in want)) diffs.push(`${name}: ${k} is in the manifest (${JSON.stringify(got[k])}), not in Compose`);
    else if (got[k] !== want[k]) diffs.push(`${name}: ${k}: manifest ${JSON.stringify(got[k])}, Compose ${JSON.stringify(want[k])}`);
  }
  // A project run as a host process or by dotnet (executable.v0,
  // project.v0) is an image in Compose.
  if (r.type === "executable.v0" || r.type === "project.v0") continue;
  const argvC = [...(svc.entrypoint || []), ...(svc.command || [])].map(fromCompose);
  const argvM = [...(r.entrypoint !== undefined ? [r.entrypoint] : []), ...(r.args || [])].map((a) => evaluate(a));
  compared++;
  if (JSON.stringify(argvC) !== JSON.stringify(argvM))
    diffs.push(`${name}: argv: manifest ${JSON.stringify(argvM)}, Compose ${JSON.stringify(argvC)}`);
}
for (const d of diffs) console.error(`${mfPath}: ${d}`);
if (!diffs.length) console.log(`${mfPath}: the same as ${composePath} (${compared} values${skipped ? `, ${skipped} with literal braces skipped` : ""})`);
process.exit(diffs.length ? 1 : 0);
