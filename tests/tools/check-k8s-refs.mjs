#!/usr/bin/env node
// Cross-object checks of Kubernetes manifests (multi-document YAML, several files taken
// together as one set of objects, as `kubectl apply -f DIR` would):
//   - every env valueFrom.configMapKeyRef / secretKeyRef names a ConfigMap / Secret that the
//     files define, and a key that object has (data, stringData or binaryData);
//   - every address in the environment (a ConfigMap value, a Secret value, an env `value`)
//     names a Service the files define, with a port it exposes: `scheme://host:port…`,
//     `host:port`, `Host=host;Port=port` and a pair of variables X_HOST / X_PORT. An address
//     whose host is not a Service name is only reported when the host looks like a cluster
//     name (no dot), so external URLs (example.com) pass;
//   - persistentVolumeClaim.claimName names a PersistentVolumeClaim (or a volumeClaimTemplate),
//     serviceAccountName a ServiceAccount, a RoleBinding its Role; every Service selector
//     matches the pod labels of some workload;
//   - no two objects share kind and name.
// usage: node check-k8s-refs.mjs FILE...   exit 0: consistent; 1: a broken reference; 2: usage.
import fs from "node:fs";
import YAML from "yaml";

const files = process.argv.slice(2);
if (!files.length) { console.error("usage: node check-k8s-refs.mjs FILE..."); process.exit(2); }
const objs = [];
for (const f of files) {
  for (const d of YAML.parseAllDocuments(fs.readFileSync(f, "utf8"))) {
    if (d.errors.length) { console.error(`${f}: error: ${d.errors[0].message}`); process.exit(1); }
    const o = d.toJS();
    if (o && typeof o === "object") objs.push({ file: f, o });
  }
}
let errors = 0;
const err = (o, msg) => { errors++; console.error(`${o.file}: ${o.o.kind}/${o.o.metadata?.name}: error: ${msg}`); };

const byKind = new Map();
for (const x of objs) {
  const k = `${x.o.kind}/${x.o.metadata?.name}`;
  if (byKind.has(k)) err(x, `a second ${k}`);
  byKind.set(k, x.o);
}
const get = (kind, name) => byKind.get(`${kind}/${name}`);
const services = new Map(); // name -> Set of ports
for (const x of objs) if (x.o.kind === "Service")
  services.set(x.o.metadata.name, new Set((x.o.spec?.ports ?? []).map((p) => String(p.port))));

const workloads = objs.filter((x) => ["Deployment", "StatefulSet", "Job", "DaemonSet"].includes(x.o.kind));
const podSpec = (o) => o.spec?.template?.spec;
const claimTemplates = (o) => new Set((o.spec?.volumeClaimTemplates ?? []).map((c) => c.metadata?.name));

function checkAddress(x, where, host, port) {
  if (!services.has(host)) {
    if (!host.includes(".")) err(x, `${where}: '${host}:${port}' names no Service defined here`);
    return;
  }
  if (!services.get(host).has(String(port))) err(x, `${where}: Service '${host}' does not expose port ${port} (it has ${[...services.get(host)].join(", ") || "none"})`);
}
function checkText(x, where, text) {
  if (typeof text !== "string") return;
  // userinfo (user:password@) skipped: a password starting with digits is no port
  for (const m of text.matchAll(/\b[a-z][a-z0-9+.-]*:\/\/(?:[^@\/\s;]*@)?([a-z0-9.-]+):(\d+)(?![\w])/gi)) checkAddress(x, where, m[1], m[2]);
  const noUrl = text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s;,]*/gi, " ");
  for (const m of noUrl.matchAll(/(?:^|[\s;,=@])([a-z][a-z0-9-]*(?:\.[a-z0-9-]+)*):(\d{1,5})(?![\d.])/gi)) checkAddress(x, where, m[1], m[2]);
  const h = /(?:^|;)\s*(?:Host|Server)=([^;:,]+)(?:[;,]|$)/i.exec(text), p = /(?:^|;)\s*Port=(\d+)/i.exec(text);
  if (h && p) checkAddress(x, where, h[1].trim(), p[1]);
}
function checkEnvMap(x, where, map) {
  const entries = Object.entries(map ?? {});
  for (const [k, v] of entries) checkText(x, `${where} ${k}`, v);
  const vals = new Map(entries.map(([k, v]) => [k, v]));
  for (const [k, v] of entries) {
    const m = /^(.*)_HOST$/.exec(k);
    if (m && vals.has(`${m[1]}_PORT`) && typeof v === "string" && !v.includes(".")) checkAddress(x, `${where} ${k}`, v, vals.get(`${m[1]}_PORT`));
  }
}

for (const x of objs) {
  if (x.o.kind === "ConfigMap") checkEnvMap(x, "data", x.o.data);
  if (x.o.kind === "Secret") checkEnvMap(x, "stringData", x.o.stringData);
  if (x.o.kind === "RoleBinding" && x.o.roleRef?.kind === "Role" && !get("Role", x.o.roleRef.name)) err(x, `roleRef names no Role '${x.o.roleRef.name}'`);
  if (x.o.kind === "Service" && x.o.spec?.selector) {
    const sel = Object.entries(x.o.spec.selector);
    const match = workloads.some((w) => sel.every(([k, v]) => podSpec(w.o) && w.o.spec.template.metadata?.labels?.[k] === v));
    if (!match) err(x, "its selector matches no workload's pods");
  }
}
for (const w of workloads) {
  const spec = podSpec(w.o);
  if (!spec) { err(w, "no pod template"); continue; }
  if (spec.serviceAccountName && !get("ServiceAccount", spec.serviceAccountName)) err(w, `serviceAccountName '${spec.serviceAccountName}' names no ServiceAccount`);
  const templ = claimTemplates(w.o);
  const podVolumes = new Set((spec.volumes ?? []).map((v) => v.name));
  for (const v of spec.volumes ?? []) {
    const c = v.persistentVolumeClaim?.claimName;
    if (c && !get("PersistentVolumeClaim", c)) err(w, `volume ${v.name}: claimName '${c}' names no PersistentVolumeClaim`);
  }
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    for (const vm of c.volumeMounts ?? []) if (!podVolumes.has(vm.name) && !templ.has(vm.name)) err(w, `container ${c.name}: volumeMount '${vm.name}' names no volume`);
    const env = {};
    for (const e of c.env ?? []) {
      if (e.value !== undefined) env[e.name] = e.value;
      const ref = e.valueFrom?.configMapKeyRef ?? e.valueFrom?.secretKeyRef;
      if (!ref) continue;
      const kind = e.valueFrom.configMapKeyRef ? "ConfigMap" : "Secret";
      const obj = get(kind, ref.name);
      if (!obj) { err(w, `container ${c.name}: env ${e.name} names no ${kind} '${ref.name}'`); continue; }
      const keys = new Set([...Object.keys(obj.data ?? {}), ...Object.keys(obj.stringData ?? {}), ...Object.keys(obj.binaryData ?? {})]);
      if (!keys.has(ref.key)) err(w, `container ${c.name}: env ${e.name}: ${kind} '${ref.name}' has no key '${ref.key}'`);
    }
    checkEnvMap(w, `container ${c.name} env`, env);
  }
}
if (errors) { console.error(`${errors} broken reference(s)`); process.exit(1); }
console.log(`OK: ${objs.length} objects, ${services.size} services`);
