#!/usr/bin/env node
// Validate an Aspire deployment manifest (aspire-manifest.json) against the
// Aspire 8.0 JSON schema with ajv, then check what the schema cannot: every
// expression `{name.path}` in a string names a resource of the manifest and a
// property that resource has (Aspire's expression grammar, as deployment
// tools such as azd evaluate it).
//
// usage: node validate-manifest.mjs [--schema PATH] [--no-refs] [--quiet] FILE...
//   --schema PATH  another schema (default: schemas/aspire-8.0.json beside this script)
//   --no-refs      the schema only
// exit 0: all valid; 1: at least one invalid; 2: usage / internal error.
// Errors: `FILE: error: /json/pointer: message`.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

function usage(msg) {
  if (msg) console.error(msg);
  console.error("usage: node validate-manifest.mjs [--schema PATH] [--no-refs] [--quiet] FILE...");
  process.exit(2);
}

const opts = { schema: path.join(here, "schemas", "aspire-8.0.json"), refs: true, quiet: false };
const files = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === "--schema") opts.schema = argv[++i] ?? usage("--schema needs a value");
  else if (a === "--no-refs") opts.refs = false;
  else if (a === "--quiet" || a === "-q") opts.quiet = true;
  else if (a === "-h" || a === "--help") usage();
  else if (a.startsWith("--")) usage(`unknown option ${a}`);
  else files.push(a);
}
if (!files.length) usage("no FILE given");

const Ajv = (await import("ajv")).default;
const addFormats = (await import("ajv-formats")).default;
const schema = JSON.parse(fs.readFileSync(opts.schema, "utf8"));
delete schema.$schema; // draft-07, ajv's default
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const validate = ajv.compile(schema);

// What each resource type lets an expression name.
function props(r) {
  const p = new Set();
  if (typeof r.connectionString === "string") p.add("connectionString");
  if (r.type === "parameter.v0") { p.add("value"); p.add("inputs.value"); }
  if (r.type === "annotated.string") p.add("value");
  for (const b of Object.keys(r.bindings || {}))
    for (const x of ["url", "host", "port", "targetPort", "scheme"]) p.add(`bindings.${b}.${x}`);
  return p;
}

function checkRefs(doc, report) {
  const res = doc.resources || {};
  const known = {};
  for (const [name, r] of Object.entries(res)) known[name] = props(r);
  const esc = (k) => String(k).replace(/~/g, "~0").replace(/\//g, "~1");
  const visit = (v, ptr) => {
    if (typeof v === "string") {
      // An expression is `{name.path}`; a brace that opens one must close it.
      for (const m of v.matchAll(/\{([^{}]*)\}/g)) {
        const inner = m[1];
        const dot = inner.indexOf(".");
        if (dot <= 0) { report(ptr, `'{${inner}}' is not an expression {resource.property}`); continue; }
        const name = inner.slice(0, dot), prop = inner.slice(dot + 1);
        if (!(name in known)) report(ptr, `'{${inner}}' names no resource of the manifest ('${name}')`);
        else if (!known[name].has(prop)) report(ptr, `'{${inner}}': resource '${name}' has no '${prop}'`);
      }
      if (/\{[^}]*$/.test(v.replace(/\{[^{}]*\}/g, ""))) report(ptr, `unclosed '{' in ${JSON.stringify(v)}`);
    } else if (Array.isArray(v)) v.forEach((x, i) => visit(x, `${ptr}/${i}`));
    else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) visit(x, `${ptr}/${esc(k)}`);
  };
  for (const [name, r] of Object.entries(res)) {
    // A parameter's own value is `{name.inputs.value}` of itself.
    if (r.type === "parameter.v0" && r.value !== `{${name}.inputs.value}`)
      report(`/resources/${esc(name)}/value`, `a parameter's value must be '{${name}.inputs.value}'`);
    visit(r, `/resources/${esc(name)}`);
  }
}

let bad = 0;
for (const f of files) {
  let doc;
  try {
    doc = JSON.parse(fs.readFileSync(f, "utf8"));
  } catch (e) {
    console.error(`${f}: error: ${e.message}`);
    bad++;
    continue;
  }
  const errors = [];
  if (!validate(doc))
    for (const e of validate.errors) errors.push(`${e.instancePath || "/"}: ${e.message}${e.params && e.params.additionalProperty ? ` (${e.params.additionalProperty})` : ""}`);
  if (opts.refs && errors.length === 0) checkRefs(doc, (ptr, msg) => errors.push(`${ptr}: ${msg}`));
  if (errors.length) {
    bad++;
    // ajv reports every branch of a oneOf: the first few say enough.
    for (const e of errors.slice(0, 12)) console.error(`${f}: error: ${e}`);
    if (errors.length > 12) console.error(`${f}: error: … ${errors.length - 12} more`);
  } else if (!opts.quiet) console.log(`${f}: valid`);
}
process.exit(bad ? 1 : 0);
