#!/usr/bin/env node
// Write a deliberately broken copy of a Compose file: the negative controls that
// prove each validator can fail on a file the compiler produced.
// usage: node compose-mutate.mjs MUTATION IN OUT
//   identity      re-serialise only (must stay valid: proves the copy itself is fine)
//   unknown-key   add an unknown key to the first service
//   bad-type      make the first service's image a list
//   bad-duration  give the first service a healthcheck whose interval is "5 parsecs"
//   undefined-dep make the first service depend on a service that does not exist
import fs from "node:fs";
import YAML from "yaml";

const [mutation, input, output] = process.argv.slice(2);
if (!mutation || !input || !output) {
  console.error("usage: node compose-mutate.mjs identity|unknown-key|bad-type|bad-duration|undefined-dep IN OUT");
  process.exit(2);
}
const doc = YAML.parse(fs.readFileSync(input, "utf8"));
const names = Object.keys(doc?.services ?? {});
if (!names.length) { console.error(`${input}: no services to mutate`); process.exit(2); }
const svc = doc.services[names[0]];
switch (mutation) {
  case "identity": break;
  case "unknown-key": svc.aspirec_bogus_key = "x"; break;
  case "bad-type": svc.image = ["not", "a", "string"]; break;
  case "bad-duration":
    svc.healthcheck = { test: ["CMD", "true"], interval: "5 parsecs", retries: 3 };
    break;
  case "undefined-dep": {
    const dep = svc.depends_on;
    if (Array.isArray(dep)) dep.push("aspirec-no-such-service");
    else svc.depends_on = { ...(dep ?? {}), "aspirec-no-such-service": { condition: "service_started" } };
    break;
  }
  default: console.error(`unknown mutation ${mutation}`); process.exit(2);
}
// version 1.1: quote strings such as "no" that YAML 1.1 readers (docker-compose) take as booleans
fs.writeFileSync(output, YAML.stringify(doc, { version: "1.1" }));
