#!/bin/bash
# Checks every --emit=k8s and --emit=helm output of examples/*.apx, ../shared/examples/*.apx
# (when that folder exists), tests/golden/*.apx and the hand-written manifests
# tests/manifest/types.json and testshop.json (not build.json: an image built
# from a Dockerfile has no name for a cluster to pull) with tools nobody on this project wrote:
#   validate-k8s.mjs     npm kubernetes-models: every object, schema and unknown fields
# and with checks of our own that read the output back:
#   check-k8s-refs.mjs   every configMapKeyRef/secretKeyRef names an object and key that exist,
#                        every address in the environment a Service and a port it exposes, …
#   render-helm.mjs      renders the chart (the templates' small language, see the file),
#                        first checking that each template is YAML with its actions quoted
# k8s: the manifests and secrets.yaml together; no value of secrets.yaml in manifests.yaml;
# secrets.yaml mode 0600; a second emit byte-identical (generated values kept).
# helm: rendered with its values.yaml (+ --set for each secret: the chart holds none), and with a
# values override (replicas, image tag, exposure on), each checked as above; rendered without
# the secrets it must fail with the `required` message. Then negative controls: broken copies
# that each checker must reject. Skipped: inputs meant to fail (as tests/validate/compose.sh).
. "$(dirname "$0")/../lib.sh"
need_aspirec

tools=$APX_SRCDIR/tests/tools
if [ ! -d "$tools/node_modules/kubernetes-models" ]; then not_ok "k8s validators: $tools/node_modules missing (run scripts/setup.sh)"; exit 1; fi
command -v node > /dev/null || { not_ok "k8s validators: node missing (run scripts/setup.sh)"; exit 1; }
apx_tmpdir tmp

shopt -s nullglob
inputs=("$APX_SRCDIR"/examples/*.apx "$APX_SRCDIR"/tests/golden/*.apx "$APX_SRCDIR"/tests/manifest/types.json "$APX_SRCDIR"/tests/manifest/testshop.json)
if shared=$(apx_shared_dir); then inputs+=("$shared"/examples/*.apx); else note "no shared examples folder: only this tree's inputs"; fi
shopt -u nullglob

# schema_check WANT LABEL CHART [VALUES-FILE]: the chart's values.yaml (merged with
# VALUES-FILE) against its values.schema.json, with ajv (as helm install would check it).
schema_check() {
  local want=$1 label=$2 chart=$3 extra=${4:-}
  node -e '
    const [tools, chart, extra] = process.argv.slice(1);
    const YAML = require(tools + "/node_modules/yaml");
    const Ajv = require(tools + "/node_modules/ajv").default;
    const fs = require("fs");
    const merge = (d, s) => { for (const [k, v] of Object.entries(s ?? {})) {
      if (v && typeof v === "object" && !Array.isArray(v) && d[k] && typeof d[k] === "object") merge(d[k], v); else d[k] = v; } return d; };
    const values = YAML.parse(fs.readFileSync(chart + "/values.yaml", "utf8"));
    if (extra) merge(values, YAML.parse(fs.readFileSync(extra, "utf8")));
    const schema = JSON.parse(fs.readFileSync(chart + "/values.schema.json", "utf8"));
    const ajv = new Ajv({ strict: false, allErrors: true });
    if (!ajv.validate(schema, values)) { console.error(ajv.errorsText(ajv.errors)); process.exit(1); }
  ' "$tools" "$chart" "$extra" > "$tmp/s.out" 2>&1
  local rc=$?
  if [ "$want" = valid ] && [ $rc = 0 ]; then ok "values.schema.json (ajv): $label"
  elif [ "$want" = invalid ] && [ $rc = 1 ]; then ok "values.schema.json (ajv) rejects $label"
  else not_ok "values.schema.json (ajv): $label (want $want, exit $rc)"; diag < "$tmp/s.out"; fi
}

# k8s_checks LABEL FILE...: the schema validator and the reference checker, on the files together.
k8s_checks() {
  local label=$1
  shift
  if node "$tools/validate-k8s.mjs" --quiet "$@" > "$tmp/v.out" 2>&1; then ok "kubernetes-models: $label"
  else not_ok "kubernetes-models: $label"; diag < "$tmp/v.out"; fi
  if node "$tools/check-k8s-refs.mjs" "$@" > "$tmp/r.out" 2>&1; then ok "references: $label"
  else not_ok "references: $label"; diag < "$tmp/r.out"; fi
}

n=0
last_k8s="" last_helm=""
for src in "${inputs[@]}"; do
  rel=$(apx_input_rel "$src")
  base=$(basename "$src" .apx)
  if why=$(apx_input_skip "$src"); then note "skip $rel ($why)"; continue; fi
  n=$((n + 1))
  read -ra args <<< "$(apx_args_of "$src")"

  # --- k8s
  out=$tmp/$n/k8s
  if ! msg=$(cd "$(dirname "$src")" && "$ASPIREC" "$(basename "$src")" "${args[@]}" --emit=k8s -o "$out" 2>&1); then
    not_ok "emit k8s: $rel"; diag <<< "$msg"; continue
  fi
  ok "emit k8s: $rel"
  files=("$out/manifests.yaml")
  [ -f "$out/secrets.yaml" ] && files+=("$out/secrets.yaml")
  k8s_checks "k8s $rel" "${files[@]}"
  if [ -f "$out/secrets.yaml" ]; then
    check "k8s $rel: secrets.yaml is mode 0600" test "$(stat -c %a "$out/secrets.yaml")" = 600
    # every non-empty value of a Secret, searched for in the manifests
    node -e '
      const YAML = require(process.argv[1] + "/node_modules/yaml");
      const fs = require("fs");
      const vals = new Set();
      for (const d of YAML.parseAllDocuments(fs.readFileSync(process.argv[2], "utf8")))
        for (const v of Object.values(d.toJS()?.stringData ?? {})) if (String(v).length >= 6) vals.add(String(v));
      const text = fs.readFileSync(process.argv[3], "utf8");
      const leaked = [...vals].filter((v) => text.includes(v));
      if (leaked.length) { console.error("secret values in manifests.yaml: " + leaked.length); process.exit(1); }
    ' "$tools" "$out/secrets.yaml" "$out/manifests.yaml" > "$tmp/leak" 2>&1 \
      && ok "k8s $rel: no secret value in manifests.yaml" || { not_ok "k8s $rel: no secret value in manifests.yaml"; diag < "$tmp/leak"; }
  fi
  cp -r "$out" "$tmp/$n/k8s.first"
  (cd "$(dirname "$src")" && "$ASPIREC" "$(basename "$src")" "${args[@]}" --emit=k8s -o "$out" > /dev/null 2>&1)
  check "k8s $rel: a second emit is byte-identical (generated values kept)" diff -r "$tmp/$n/k8s.first" "$out"
  last_k8s=$out

  # --- helm
  chart=$tmp/$n/helm
  if ! msg=$(cd "$(dirname "$src")" && "$ASPIREC" "$(basename "$src")" "${args[@]}" --emit=helm -o "$chart" 2>&1); then
    not_ok "emit helm: $rel"; diag <<< "$msg"; continue
  fi
  ok "emit helm: $rel"
  # --set for every value the chart leaves empty (secrets, parameters without a value), as a user would
  sets=()
  # (values with what YAML and JSON escape: a `"`, a `\`, a `'`, braces, <&>)
  while IFS= read -r k; do [ -n "$k" ] && sets+=(--set "$k=te\"st\\va'l {{ ue }} <&>-$k"); done < <(node -e '
    const YAML = require(process.argv[1] + "/node_modules/yaml");
    const v = YAML.parse(require("fs").readFileSync(process.argv[2], "utf8"));
    for (const top of ["secrets", "parameters"]) for (const [k, x] of Object.entries(v[top] ?? {})) if (x === "") console.log(top + "." + k);
  ' "$tools" "$chart/values.yaml")
  if node "$tools/render-helm.mjs" "$chart" "${sets[@]}" > "$tmp/$n/rendered.yaml" 2> "$tmp/h.err"; then
    ok "render helm (values.yaml): $rel"
    k8s_checks "helm $rel (values.yaml)" "$tmp/$n/rendered.yaml"
    if [ ${#sets[@]} -gt 0 ]; then
      # each value given reaches some object's string unchanged
      node -e '
        const YAML = require(process.argv[1] + "/node_modules/yaml");
        const strs = [];
        const walk = (x) => { if (typeof x === "string") strs.push(x); else if (x && typeof x === "object") Object.values(x).forEach(walk); };
        YAML.parseAllDocuments(require("fs").readFileSync(process.argv[2], "utf8")).forEach((d) => walk(d.toJS()));
        const lost = process.argv.slice(3).filter((s) => s !== "--set").map((s) => s.slice(s.indexOf("=") + 1))
          .filter((v) => !strs.some((s) => s.includes(v)));
        if (lost.length) { console.error("not found as given: " + lost.join(" | ")); process.exit(1); }
      ' "$tools" "$tmp/$n/rendered.yaml" "${sets[@]}" > "$tmp/v.err" 2>&1 \
        && ok "helm $rel: values holding \" \\ ' {{ }} <&> render unchanged" || { not_ok "helm $rel: values holding quotes and backslashes render unchanged"; diag < "$tmp/v.err"; }
    fi
  else
    not_ok "render helm (values.yaml): $rel"; diag < "$tmp/h.err"
  fi
  if [ ${#sets[@]} -gt 0 ]; then
    if node "$tools/render-helm.mjs" "$chart" > /dev/null 2> "$tmp/h.err"; then not_ok "helm $rel: rendering without the secrets fails"
    elif grep -q 'has no value: set ' "$tmp/h.err"; then ok "helm $rel: rendering without the secrets fails, naming the value"
    else not_ok "helm $rel: rendering without the secrets fails, naming the value"; diag < "$tmp/h.err"; fi
  fi
  # an override: every resource at 3 replicas, another tag, everything exposed
  node -e '
    const YAML = require(process.argv[1] + "/node_modules/yaml");
    const v = YAML.parse(require("fs").readFileSync(process.argv[2], "utf8"));
    const o = { resources: {} };
    for (const [k, r] of Object.entries(v.resources ?? {})) {
      const x = o.resources[k] = {};
      if ("replicas" in r) x.replicas = 3;
      if (r.image) x.image = { tag: "override" };
      if (r.expose) x.expose = { loadBalancer: true, ...("ingress" in r.expose ? { ingress: true } : {}) };
      if (r.storage) x.storage = Object.fromEntries(Object.keys(r.storage).map((s) => [s, "5Gi"]));
    }
    console.log(YAML.stringify(o));
  ' "$tools" "$chart/values.yaml" > "$tmp/$n/override.yaml"
  schema_check valid "helm $rel values.yaml" "$chart"
  schema_check valid "helm $rel with the override" "$chart" "$tmp/$n/override.yaml"
  if node "$tools/render-helm.mjs" "$chart" -f "$tmp/$n/override.yaml" "${sets[@]}" > "$tmp/$n/rendered2.yaml" 2> "$tmp/h.err"; then
    ok "render helm (override): $rel"
    k8s_checks "helm $rel (override)" "$tmp/$n/rendered2.yaml"
    # the override reached the objects
    node -e '
      const YAML = require(process.argv[1] + "/node_modules/yaml");
      const objs = YAML.parseAllDocuments(require("fs").readFileSync(process.argv[2], "utf8")).map((d) => d.toJS()).filter(Boolean);
      const bad = objs.filter((o) => ["Deployment", "StatefulSet"].includes(o.kind) && o.spec.replicas !== 3).map((o) => o.metadata.name);
      const tags = objs.filter((o) => o.spec?.template).flatMap((o) => o.spec.template.spec.containers).filter((c) => !c.image.endsWith(":override"));
      if (bad.length || tags.length) { console.error("not overridden: " + [...bad, ...tags.map((c) => c.name)].join(", ")); process.exit(1); }
    ' "$tools" "$tmp/$n/rendered2.yaml" > "$tmp/o.err" 2>&1 \
      && ok "helm $rel: the override sets replicas and image tags" || { not_ok "helm $rel: the override sets replicas and image tags"; diag < "$tmp/o.err"; }
  else
    not_ok "render helm (override): $rel"; diag < "$tmp/h.err"
  fi
  last_helm=$chart
done
[ $n -gt 0 ] || not_ok "k8s validators: no inputs"

# ---- negative controls: each checker must reject a broken copy
neg() { # LABEL EXPECTED-TOOL FILE...
  local label=$1 tool=$2
  shift 2
  if node "$tools/$tool" "$@" > "$tmp/neg.out" 2>&1; then not_ok "$tool rejects $label"; diag < "$tmp/neg.out"
  else ok "$tool rejects $label"; fi
}
shop_k8s=$tmp/neg-k8s
(cd "$APX_SRCDIR/examples" && "$ASPIREC" shop.apx --emit=k8s -o "$shop_k8s" > /dev/null 2>&1) || not_ok "emit k8s for the negative controls"
m=$shop_k8s/manifests.yaml
sed '0,/key: CATALOG_HOST/s//key: CATALOG_HOSTX/' "$m" > "$tmp/bad-key.yaml"
cmp -s "$m" "$tmp/bad-key.yaml" && not_ok "negative control: the mutation changed nothing"
neg "a configMapKeyRef to a missing key" check-k8s-refs.mjs "$tmp/bad-key.yaml" "$shop_k8s/secrets.yaml"
neg "a secretKeyRef to a missing Secret (secrets.yaml left out)" check-k8s-refs.mjs "$m"
sed 's|services__api__http__0: http://api:8080|services__api__http__0: http://api:8081|' "$m" > "$tmp/bad-port.yaml"
cmp -s "$m" "$tmp/bad-port.yaml" && not_ok "negative control: the port mutation changed nothing"
neg "an address with a port the Service does not expose" check-k8s-refs.mjs "$tmp/bad-port.yaml" "$shop_k8s/secrets.yaml"
sed 's|API_HOST: api$|API_HOST: apix|' "$m" > "$tmp/bad-host.yaml"
cmp -s "$m" "$tmp/bad-host.yaml" && not_ok "negative control: the host mutation changed nothing"
neg "an address naming no Service" check-k8s-refs.mjs "$tmp/bad-host.yaml" "$shop_k8s/secrets.yaml"
sed '0,/replicas: 1/s//replicas: "one"/' "$m" > "$tmp/bad-replicas.yaml"
neg "replicas as a string" validate-k8s.mjs "$tmp/bad-replicas.yaml"
sed '0,/containerPort:/s//containerPortt:/' "$m" > "$tmp/bad-field.yaml"
neg "an unknown field" validate-k8s.mjs "$tmp/bad-field.yaml"
if [ -n "$last_helm" ]; then
  cp -r "$last_helm" "$tmp/bad-chart"
  f=$(ls "$tmp/bad-chart"/templates/*/*.yaml | head -n 1)
  sed -i '0,/app.kubernetes.io\/part-of: \(.*\)$/s//app.kubernetes.io\/part-of: {{ .Chart.Name }}/' "$f"
  neg "an action outside a quoted scalar" render-helm.mjs "$tmp/bad-chart"
  cp -r "$last_helm" "$tmp/bad-chart2"
  f=$(ls "$tmp/bad-chart2"/templates/*/*.yaml | head -n 1)
  printf 'spare: "{{ .Values.nosuch.value }}"\n' >> "$f"
  neg "a value the chart does not define" render-helm.mjs "$tmp/bad-chart2"
  first=$(node -e 'const Y = require(process.argv[1] + "/node_modules/yaml"); const v = Y.parse(require("fs").readFileSync(process.argv[2], "utf8"));
    console.log(Object.entries(v.resources).find(([, r]) => "replicas" in r)?.[0] ?? "")' "$tools" "$last_helm/values.yaml")
  if [ -n "$first" ]; then
    printf 'resources:\n  %s:\n    replicas: "two"\n' "$first" > "$tmp/bad-values1.yaml"
    schema_check invalid "replicas as a string" "$last_helm" "$tmp/bad-values1.yaml"
    printf 'resources:\n  %s:\n    replica: 2\n' "$first" > "$tmp/bad-values2.yaml"
    schema_check invalid "a mistyped key" "$last_helm" "$tmp/bad-values2.yaml"
  else
    not_ok "negative control: no resource with replicas in the last chart"
  fi
fi
apx_done
