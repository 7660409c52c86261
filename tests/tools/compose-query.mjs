#!/usr/bin/env node
// Read values out of a Compose file, for shell tests (no interpolation).
// usage: node compose-query.mjs FILE services          -> one service name per line
//        node compose-query.mjs FILE env SERVICE       -> KEY=VALUE lines (list or map form)
//        node compose-query.mjs FILE get PATH          -> the value at a dotted path
//                                                         (scalar as is, else JSON)
// exit 0: printed; 1: no such service/path; 2: usage or unreadable file.
import fs from "node:fs";
import YAML from "yaml";

const [file, cmd, arg] = process.argv.slice(2);
const die = (code, msg) => { if (msg) console.error(msg); process.exit(code); };
if (!file || !cmd) die(2, "usage: node compose-query.mjs FILE services|env SERVICE|get PATH");
let doc;
try { doc = YAML.parse(fs.readFileSync(file, "utf8")); } catch (e) { die(2, `${file}: ${e.message}`); }
const services = (doc && typeof doc.services === "object" && doc.services) || {};

if (cmd === "services") {
  for (const name of Object.keys(services)) console.log(name);
} else if (cmd === "env") {
  const svc = services[arg];
  if (!svc) die(1, `${file}: no service ${arg}`);
  const env = svc.environment ?? {};
  if (Array.isArray(env)) for (const kv of env) console.log(String(kv));
  else for (const [k, v] of Object.entries(env)) console.log(v === null ? k : `${k}=${v}`);
} else if (cmd === "get") {
  let node = doc;
  for (const seg of (arg ?? "").split(".").filter(Boolean)) {
    if (node === null || typeof node !== "object" || !(seg in node)) die(1, `${file}: no ${arg}`);
    node = node[seg];
  }
  console.log(node !== null && typeof node === "object" ? JSON.stringify(node) : String(node));
} else die(2, `unknown command ${cmd}`);
