#!/usr/bin/env node
// Checks on what HashiCorp's HCL parser (@cdktf/hcl2json) makes of a Terraform
// directory aspirec wrote for AWS ECS (--emit=hcl), beyond the syntax:
//   - a variable with `sensitive = true` has no default;
//   - no container's `environment` refers to a sensitive variable or a
//     random_password (secrets go through `secrets`, from Secrets Manager);
//   - every task definition's container_definitions is jsonencode() of a list
//     whose parse (the same parser) has the shape of ECS container definitions:
//     name, image, essential; portMappings of {containerPort number, protocol
//     tcp|udp}; environment of {name, value}; secrets of {name, valueFrom} with
//     valueFrom an aws_secretsmanager_secret's arn; healthCheck.command a list
//     starting with CMD or CMD-SHELL; logConfiguration.logDriver; only known keys.
// usage: node check-tf.mjs DIR...    exit 0: all pass; 1: a check failed; 2: usage.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { parse } = require("@cdktf/hcl2json");

const dirs = process.argv.slice(2);
if (!dirs.length) { console.error("usage: node check-tf.mjs DIR..."); process.exit(2); }

const KNOWN = new Set(["name", "image", "essential", "entryPoint", "command", "workingDirectory", "portMappings",
  "environment", "secrets", "mountPoints", "healthCheck", "dockerLabels", "logConfiguration"]);
const isObj = (v) => v && typeof v === "object" && !Array.isArray(v);
const isStr = (v) => typeof v === "string";

let failed = 0;
for (const dir of dirs) {
  const errors = [];
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".tf")).sort();
  const merged = { variable: {}, resource: {} };
  for (const f of files) {
    const json = await parse(f, fs.readFileSync(path.join(dir, f), "utf8"));
    for (const [k, v] of Object.entries(json.variable || {})) merged.variable[k] = v[0];
    for (const [t, byName] of Object.entries(json.resource || {}))
      for (const [n, v] of Object.entries(byName)) (merged.resource[t] ||= {})[n] = v[0];
  }
  const sensitive = Object.entries(merged.variable).filter(([, v]) => v.sensitive === true).map(([k]) => k);
  for (const s of sensitive)
    if ("default" in merged.variable[s]) errors.push(`variable "${s}" is sensitive but has a default`);
  const secretRe = new RegExp(`\\b(random_password\\.[A-Za-z0-9_-]+|var\\.(${sensitive.map((s) => s.replace(/[-]/g, "\\-")).join("|") || "(?!)"}))\\b`);
  const secrets = new Set(Object.keys(merged.resource.aws_secretsmanager_secret || {}));
  const tds = merged.resource.aws_ecs_task_definition || {};
  for (const [name, td] of Object.entries(tds)) {
    const where = `aws_ecs_task_definition.${name}`;
    const expr = td.container_definitions;
    const m = isStr(expr) && /^\$\{jsonencode\(([\s\S]*)\)\}$/.exec(expr);
    if (!m) { errors.push(`${where}: container_definitions is not jsonencode([...])`); continue; }
    let defs;
    try { defs = (await parse("cd.tf", `x = ${m[1]}\n`)).x; }
    catch (e) { errors.push(`${where}: container_definitions does not parse: ${e.message || e}`); continue; }
    if (!Array.isArray(defs) || !defs.length) { errors.push(`${where}: container_definitions is not a non-empty list`); continue; }
    defs.forEach((c, i) => {
      const at = `${where} container ${i}`;
      if (!isObj(c)) { errors.push(`${at}: not an object`); return; }
      for (const k of Object.keys(c)) if (!KNOWN.has(k)) errors.push(`${at}: unknown key "${k}"`);
      if (!isStr(c.name) || !c.name) errors.push(`${at}: no name`);
      if (!isStr(c.image) || !c.image) errors.push(`${at}: no image`);
      if (c.essential !== true) errors.push(`${at}: essential is not true`);
      for (const k of ["entryPoint", "command"])
        if (k in c && !(Array.isArray(c[k]) && c[k].every(isStr))) errors.push(`${at}: ${k} is not a list of strings`);
      for (const p of c.portMappings || [])
        if (!isObj(p) || typeof p.containerPort !== "number" || !["tcp", "udp"].includes(p.protocol))
          errors.push(`${at}: bad port mapping ${JSON.stringify(p)}`);
      if ("environment" in c && !Array.isArray(c.environment)) errors.push(`${at}: environment is not a list`);
      for (const e of c.environment || []) {
        if (!isObj(e) || !isStr(e.name) || !isStr(e.value)) { errors.push(`${at}: bad environment entry ${JSON.stringify(e)}`); continue; }
        if (secretRe.test(e.value)) errors.push(`${at}: environment ${e.name} holds a secret (${e.value.match(secretRe)[0]})`);
      }
      for (const s of c.secrets || []) {
        const ref = isObj(s) && isStr(s.valueFrom) && /^\$\{aws_secretsmanager_secret\.([A-Za-z0-9_-]+)\.arn\}$/.exec(s.valueFrom);
        if (!ref || !isStr(s.name)) errors.push(`${at}: bad secret ${JSON.stringify(s)}`);
        else if (!secrets.has(ref[1])) errors.push(`${at}: secret ${s.name} from undeclared aws_secretsmanager_secret.${ref[1]}`);
      }
      if ("healthCheck" in c) {
        const h = c.healthCheck;
        if (!isObj(h) || !Array.isArray(h.command) || !["CMD", "CMD-SHELL"].includes(h.command[0]))
          errors.push(`${at}: bad healthCheck`);
      }
      if (!isObj(c.logConfiguration) || !isStr(c.logConfiguration.logDriver)) errors.push(`${at}: no logConfiguration.logDriver`);
    });
  }
  if (!Object.keys(tds).length) errors.push("no aws_ecs_task_definition");
  for (const e of errors) console.error(`${dir}: error: ${e}`);
  if (errors.length) failed++;
  else console.log(`${dir}: OK (${Object.keys(tds).length} task definitions)`);
}
process.exit(failed ? 1 : 0);
