#!/bin/bash
# Compile time (and diagnostic output) must grow linearly with the input, and
# pathological nesting must end in a clear error, never a crash or a hang
# (issue 2, item 9). One `ok`/`not ok` per shape.
#
# For each shape, an input of N units is generated (N doubled until one
# compile takes at least $APX_LIN_MIN_S of user CPU time, so that it is above
# noise), then one of 8N units; the check is
#     user(8N) < 8 * user(N) * 3        and   stderr(8N) < 8 * stderr(N) * 3
# (best of 3 runs each; a quadratic pass gives about 64x). Every run must exit
# 0 or 1 (never a signal or 2+), within $APX_LIN_TIMEOUT seconds.
# apx-test: slow
. "$(dirname "$0")/../lib.sh"
need_aspirec

APX_LIN_MIN_S=${APX_LIN_MIN_S:-0.04}   # user seconds that N must reach
APX_LIN_MAX_N=${APX_LIN_MAX_N:-400000}  # ... or this many units
APX_LIN_TIMEOUT=${APX_LIN_TIMEOUT:-60}
FACTOR=3
apx_tmpdir T

# ---- input shapes: gen_SHAPE N > FILE ------------------------------------
# A realistic topology: containers with endpoints, env templates, references,
# health checks and a wait_for chain N deep (cycle detection, depends_on).
gen_resources() {
  awk -v n="$1" 'BEGIN {
    print "param token { secret = true }"
    for (i = 0; i < n; i++) {
      printf "container c%d {\n  image = \"example.com/c:%d\"\n  endpoint http { target_port = 8080 }\n", i, i
      printf "  env { TOKEN = token  N = \"%d\"", i
      if (i) printf "  UP = \"${c%d.endpoints.http.url}/v1\"", i - 1
      printf " }\n"
      if (i) printf "  references = [c%d]\n  wait_for = [c%d]\n", i - 1, i - 1
      printf "  health { http = \"/healthz\" }\n}\n"
    }
  }'
}
# One resource with N environment variables.
gen_env() { awk -v n="$1" 'BEGIN { print "container c {\n  image = \"x\"\n  env {"; for (i = 0; i < n; i++) printf "    K%d = \"v%d\"\n", i, i; print "  }\n}" }'; }
# One resource with N labels (a free-form map with quoted keys).
gen_labels() { awk -v n="$1" 'BEGIN { print "container c {\n  image = \"x\"\n  labels {"; for (i = 0; i < n; i++) printf "    \"example.com/l%d\" = \"v\"\n", i; print "  }\n}" }'; }
# One resource with N endpoints.
gen_endpoints() { awk -v n="$1" 'BEGIN { print "container c {\n  image = \"x\""; for (i = 0; i < n; i++) printf "  endpoint e%d { target_port = %d }\n", i, 1000 + i % 60000; print "}" }'; }
# One resource with N volumes.
gen_volumes() { awk -v n="$1" 'BEGIN { print "container c {\n  image = \"x\""; for (i = 0; i < n; i++) printf "  volume v%d { target = \"/d%d\" }\n", i, i; print "}" }'; }
# One resource that references (and waits for) N others.
gen_refs() {
  awk -v n="$1" 'BEGIN {
    for (i = 0; i < n; i++) printf "container c%d { image = \"x\"  endpoint tcp { target_port = 5000 } }\n", i
    print "container z {\n  image = \"x\"\n  references = ["; for (i = 0; i < n; i++) printf "    c%d,\n", i
    print "  ]\n  wait_for = ["; for (i = 0; i < n; i++) printf "    c%d,\n", i; print "  ]\n}"
  }'
}
# N parameters, each used in an env entry of one resource (and in .env).
gen_params() {
  awk -v n="$1" 'BEGIN {
    for (i = 0; i < n; i++) printf "param p%d { default = \"v%d\" }\n", i, i
    print "container c {\n  image = \"x\"\n  env {"; for (i = 0; i < n; i++) printf "    P%d = p%d\n", i, i; print "  }\n}"
  }'
}
# N instances of stdlib components (imports, expansion, child resources).
gen_components() {
  awk -v n="$1" 'BEGIN {
    print "import \"postgres\"\nimport \"redis\"\nparam pw { secret = true }"
    for (i = 0; i < n; i++) {
      if (i % 2) printf "redis r%d {}\n", i
      else printf "postgres pg%d {\n  password = pw\n  database db%d {}\n}\n", i, i
    }
  }'
}
# A string of N*64 characters, with escapes.
gen_longstring() { awk -v n="$1" 'BEGIN { printf "container c {\n  image = \"x\"\n  env { S = \""; for (i = 0; i < n; i++) printf "abcdefghijklmnopqrstuvwxyz0123456789 \\t\\n \\$ \\\" \\\\ ABCDEFGHIJKLMN"; print "\" }\n}" }'; }
# A string with N interpolations.
gen_interp() { awk -v n="$1" 'BEGIN { printf "container c {\n  image = \"x\"\n  endpoint http { target_port = 80 }\n  env { S = \""; for (i = 0; i < n; i++) printf "${self.endpoints.http.port}/%d-", i; print "\" }\n}" }'; }
# join() over a list of N strings.
gen_join() { awk -v n="$1" 'BEGIN { print "container c {\n  image = \"x\"\n  env { S = join(\",\", ["; for (i = 0; i < n; i++) printf "    \"item%d\",\n", i; print "  ]) }\n}" }'; }
# A list of N arguments.
gen_list() { awk -v n="$1" 'BEGIN { print "container c {\n  image = \"x\"\n  args = ["; for (i = 0; i < n; i++) printf "    \"--flag%d\",\n", i; print "  ]\n}" }'; }
# A heredoc of N lines.
gen_heredoc() { awk -v n="$1" 'BEGIN { print "container c {\n  image = \"x\"\n  args = [\"sh\", \"-c\", <<-EOT"; for (i = 0; i < n; i++) printf "    echo line %d\n", i; print "    EOT\n  ]\n}" }'; }
# N comment lines, block comments and blank lines.
gen_comments() { awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "// comment %d\n/* block\n   comment */\n\n", i; print "container c { image = \"x\" }" }'; }
# N semantic errors, one per line (unknown attribute, unknown reference).
gen_errors() { awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "container c%d { imag = \"x\"  references = [nothere%d] }\n", i, i }'; }
# N errors on ONE line: each diagnostic quotes the line, which must not make
# the output (and time) N * line length.
gen_errline() { awk -v n="$1" 'BEGIN { printf "container c { image = \"x\"  references = ["; for (i = 0; i < n; i++) printf "nothere%d, ", i; print "] }" }'; }
# N syntax errors (error recovery).
gen_syntax() { awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "container c%d { image = = ] }\n", i }'; }
# N duplicate resource names.
gen_dupnames() { awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "container same { image = \"x\" }\n" }'; }
# N unknown attributes in one map of generate options.
gen_badmap() { awk -v n="$1" 'BEGIN { print "param p {\n  secret = true\n  generate = {"; for (i = 0; i < n; i++) printf "    opt%d = %d,\n", i, i; print "  }\n}" }'; }

# ---- measuring ------------------------------------------------------------
# run_one FILE OUTDIR: compiles FILE (--emit=compose into OUTDIR); sets RC,
# USER (seconds), ERRB (bytes of stderr).
run_one() {
  local f=$1 out=$2 tf=$T/time.txt
  local TIMEFORMAT=%3U
  rm -rf "$out"
  { time timeout -k 5 "$APX_LIN_TIMEOUT" "$ASPIREC" "$f" --emit=compose -o "$out" > "$T/stdout" 2> "$T/stderr"; } 2> "$tf"
  RC=$?
  USER=$(tail -n 1 "$tf")
  ERRB=$(wc -c < "$T/stderr")
}
# best FILE OUTDIR RUNS: the smallest user time of RUNS runs (stops at a bad exit).
best() {
  local i b=
  for ((i = 0; i < $3; i++)); do
    run_one "$1" "$2"
    if [ "$RC" -gt 1 ]; then return; fi
    if [ -z "$b" ] || awk -v a="$USER" -v b="$b" 'BEGIN { exit !(a < b) }'; then b=$USER; fi
  done
  USER=$b
}
bad_exit() { # DESCRIPTION: reports a run that did not exit 0 or 1
  if [ "$RC" -eq 124 ] || [ "$RC" -eq 137 ]; then not_ok "$1: no result within ${APX_LIN_TIMEOUT}s (hang or superlinear)"
  elif [ "$RC" -gt 128 ]; then not_ok "$1: killed by signal $((RC - 128))"
  else not_ok "$1: exit status $RC"; fi
  diag 20 < "$T/stderr"
}
sanitizer_report() { grep -qE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:|MemorySanitizer' "$T/stderr"; }

# check_linear SHAPE N0: calibrates N from N0, then compares N with 8N.
check_linear() {
  local shape=$1 n=$2 f1 f8 t1 e1
  while :; do
    f1=$T/$shape-$n.apx
    "gen_$shape" "$n" > "$f1"
    best "$f1" "$T/out" 3
    if [ "$RC" -gt 1 ]; then bad_exit "linear: $shape, N=$n"; return; fi
    if awk -v t="$USER" -v m="$APX_LIN_MIN_S" 'BEGIN { exit !(t >= m) }' || [ $((n * 2)) -gt "$APX_LIN_MAX_N" ]; then break; fi
    rm -f "$f1"
    n=$((n * 2))
  done
  t1=$USER e1=$ERRB
  f8=$T/$shape-$((8 * n)).apx
  "gen_$shape" $((8 * n)) > "$f8"
  best "$f8" "$T/out" 2
  if [ "$RC" -gt 1 ]; then bad_exit "linear: $shape, N=$((8 * n))"; rm -f "$f1" "$f8"; return; fi
  if sanitizer_report; then not_ok "linear: $shape: sanitizer report"; diag < "$T/stderr"; rm -f "$f1" "$f8"; return; fi
  local size1 size8
  size1=$(wc -c < "$f1") size8=$(wc -c < "$f8")
  local verdict
  verdict=$(awk -v t1="$t1" -v t8="$USER" -v e1="$e1" -v e8="$ERRB" -v k="$FACTOR" 'BEGIN {
    if (t1 < 0.001) t1 = 0.001
    if (t8 >= 8 * t1 * k) { printf "time"; exit }
    if (e8 > 8 * e1 * k + 4096) { printf "output"; exit }
    printf "ok" }')
  local figures="N=$n ($size1 B): ${t1}s, ${e1} B of diagnostics; 8N ($size8 B): ${USER}s, ${ERRB} B"
  case $verdict in
    ok) ok "linear: $shape ($figures)" ;;
    time) not_ok "linear: $shape: time grows faster than linearly ($figures)" ;;
    output) not_ok "linear: $shape: diagnostics grow faster than linearly ($figures)" ;;
  esac
  rm -f "$f1" "$f8"
}

check_linear resources 250
check_linear env 500
check_linear labels 500
check_linear endpoints 250
check_linear volumes 250
check_linear refs 250
check_linear params 250
check_linear components 100
check_linear longstring 1000
check_linear interp 500
check_linear join 500
check_linear list 1000
check_linear heredoc 1000
check_linear comments 1000
check_linear errors 250
check_linear errline 250
check_linear syntax 250
check_linear dupnames 250
check_linear badmap 250

# .env of the output directory: aspirec keeps what a user put there, so it
# reads it; N entries must not cost N^2.
gen_dotenv_prog() { printf 'param p { default = "v" }\ncontainer c { image = "x"  env { P = p } }\n'; }
gen_dotenv_file() { awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "# a comment\nMY_VAR_%d=value %d\n", i, i }'; }
check_dotenv() {
  local n=$1 t1 prog=$T/dotenv.apx
  gen_dotenv_prog > "$prog"
  run_dotenv() { # N RUNS
    local i b= TIMEFORMAT=%3U
    for ((i = 0; i < $2; i++)); do
      rm -rf "$T/dout" && mkdir -p "$T/dout" && gen_dotenv_file "$1" > "$T/dout/.env"
      { time timeout -k 5 "$APX_LIN_TIMEOUT" "$ASPIREC" "$prog" --emit=compose -o "$T/dout" > /dev/null 2> "$T/stderr"; } 2> "$T/time.txt"
      RC=$?
      [ "$RC" -gt 1 ] && return
      USER=$(tail -n 1 "$T/time.txt")
      if [ -z "$b" ] || awk -v a="$USER" -v b="$b" 'BEGIN { exit !(a < b) }'; then b=$USER; fi
    done
    USER=$b
  }
  while :; do
    run_dotenv "$n" 3
    if [ "$RC" -gt 1 ]; then bad_exit "linear: .env of $n entries"; return; fi
    if awk -v t="$USER" -v m="$APX_LIN_MIN_S" 'BEGIN { exit !(t >= m) }' || [ $((n * 2)) -gt "$APX_LIN_MAX_N" ]; then break; fi
    n=$((n * 2))
  done
  t1=$USER
  run_dotenv $((8 * n)) 2
  if [ "$RC" -gt 1 ]; then bad_exit "linear: .env of $((8 * n)) entries"; return; fi
  local figures="N=$n: ${t1}s; 8N: ${USER}s"
  if awk -v t1="$t1" -v t8="$USER" -v k="$FACTOR" 'BEGIN { if (t1 < 0.001) t1 = 0.001; exit !(t8 < 8 * t1 * k) }'; then
    ok "linear: existing .env entries kept ($figures)"
  else
    not_ok "linear: existing .env entries kept: time grows faster than linearly ($figures)"
  fi
}
check_dotenv 500

# ---- pathological nesting: a clear error, no crash, no hang ----------------
# check_deep DESCRIPTION FILE: exit 1, an error on stderr, no sanitizer report.
check_deep() {
  local desc=$1 f=$2
  run_one "$f" "$T/out"
  if [ "$RC" -gt 1 ]; then bad_exit "deep: $desc"; return; fi
  if sanitizer_report; then not_ok "deep: $desc: sanitizer report"; diag < "$T/stderr"; return; fi
  if [ "$RC" -ne 1 ] || ! grep -q 'error' "$T/stderr"; then
    not_ok "deep: $desc: expected exit 1 with an error (exit $RC)"; diag 10 < "$T/stderr"; return
  fi
  ok "deep: $desc ($(grep -m1 'error' "$T/stderr" | cut -c1-110), ${USER}s)"
}
D=100000
awk -v n=$D 'BEGIN { printf "container c {\n  image = \"x\"\n  args = "; for (i = 0; i < n; i++) printf "["; for (i = 0; i < n; i++) printf "]"; print "\n}" }' > "$T/brackets.apx"
check_deep "[[[[... $D deep" "$T/brackets.apx"
awk -v n=$D 'BEGIN { printf "container c {\n  image = \"x\"\n  args = "; for (i = 0; i < n; i++) printf "["; print "\n}" }' > "$T/brackets-open.apx"
check_deep "[[[[... $D deep, never closed" "$T/brackets-open.apx"
awk -v n=$D 'BEGIN { printf "param p {\n  generate = "; for (i = 0; i < n; i++) printf "{ a = "; printf "1"; for (i = 0; i < n; i++) printf " }"; print "\n}" }' > "$T/maps.apx"
check_deep "{ a = { a = ... $D deep" "$T/maps.apx"
awk -v n=$D 'BEGIN { for (i = 0; i < n; i++) printf "container c%d {\n", i; print "" }' > "$T/blocks.apx"
check_deep "container c { container c { ... $D deep, never closed" "$T/blocks.apx"
awk -v n=$D 'BEGIN { printf "container c {\n  image = \"x\"\n  env { A = "; for (i = 0; i < n; i++) printf "lower("; printf "\"x\""; for (i = 0; i < n; i++) printf ")"; print " }\n}" }' > "$T/calls.apx"
check_deep "lower(lower(... $D deep" "$T/calls.apx"
awk -v n=$D 'BEGIN { printf "container c {\n  image = \"x\"\n  env { A = "; for (i = 0; i < n; i++) printf "\"${"; printf "1"; for (i = 0; i < n; i++) printf "}\""; print " }\n}" }' > "$T/interp.apx"
check_deep "\"\${\"\${... $D deep" "$T/interp.apx"
awk -v n=$D 'BEGIN { printf "container c {\n  image = \"x\"\n  env { A = c"; for (i = 0; i < n; i++) printf ".b%d", i; print " }\n}" }' > "$T/path.apx"
check_deep "c.b0.b1.b2... $D segments" "$T/path.apx"
awk -v n=$D 'BEGIN { printf "container c {\n  image = \"x\"\n  env { A = \"${self"; for (i = 0; i < n; i++) printf ".endpoints"; print "}\" }\n}" }' > "$T/path-interp.apx"
check_deep "\"\${self.endpoints.endpoints...}\" $D segments" "$T/path-interp.apx"
# Just under the nesting limit: must still be handled (compiles or errors), not crash.
awk 'BEGIN { printf "container c {\n  image = \"x\"\n  labels { a = "; for (i = 0; i < 990; i++) printf "["; for (i = 0; i < 990; i++) printf "]"; print " }\n}" }' > "$T/brackets-990.apx"
run_one "$T/brackets-990.apx" "$T/out"
if [ "$RC" -le 1 ] && ! sanitizer_report; then ok "deep: 990 nested brackets (exit $RC)"; else bad_exit "deep: 990 nested brackets"; fi

apx_done
