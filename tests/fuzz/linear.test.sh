#!/bin/bash
# Compile time, memory and diagnostic output must grow linearly with the
# input (issue 2, item 9: no input takes more than linear time). One
# `ok`/`not ok` per shape of input (20 shapes and an existing .env).
#
# For each shape, an input of N units is generated (N doubled until one
# compile takes at least $APX_LIN_MIN_S of user CPU time, so that it is above
# noise), then one of 8N units; the check is
#     user(8N) < 8 * user(N) * 3        and   stderr(8N) < 8 * stderr(N) * 3
# (best of 3 runs each; a quadratic pass gives about 64x), and the same for
# the peak RSS (GNU time measures both). Every run must exit 0 or 1 (never
# a signal or 2+), within $APX_LIN_TIMEOUT seconds and $APX_FUZZ_MEM_MB MB.
# The deep-nesting inputs are checked by regressions.test.sh.
# apx-test: slow
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
need_aspirec
need_gnu_time

APX_LIN_MIN_S=${APX_LIN_MIN_S:-0.04}   # user seconds that N must reach
APX_LIN_MAX_N=${APX_LIN_MAX_N:-400000}  # ... or this many units
APX_LIN_MAX_BYTES=${APX_LIN_MAX_BYTES:-6000000} # ... or this size (so 8N stays under the 64 MiB cap)
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
# A component with N inputs, each used in its env, and an instance that sets
# half of them.
gen_inputs() {
  awk -v n="$1" 'BEGIN {
    print "component comp extends container {\n  image = \"x\""
    for (i = 0; i < n; i++) printf "  input i%d = \"d%d\"\n", i, i
    print "  env {"; for (i = 0; i < n; i++) printf "    I%d = i%d\n", i, i; print "  }\n}"
    print "comp c {"; for (i = 0; i < n; i += 2) printf "  i%d = \"set%d\"\n", i, i; print "}"
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
gen_errors() { awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "container c%d { imag = \"x\"  references = [x%d] }\n", i, i }'; }
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
# best FILE RUNS [TIMEOUT [ENOUGH]]: compiles FILE (--emit=compose into a
# fresh directory; --error-limit=0, so that every diagnostic is printed and
# the printing is measured too) RUNS times; sets UTIME to the smallest user CPU time, RSS_KB
# to the smallest peak RSS, ERRB to the bytes of diagnostics. Stops at an exit
# other than 0 or 1, or once a run took ENOUGH seconds or more (no need to
# confirm a failure).
best() {
  local i bu='' br='' tmo=${3:-$APX_LIN_TIMEOUT} enough=${4:-}
  for ((i = 0; i < $2; i++)); do
    rm -rf "$T/out"
    apx_run "$tmo" "$T/stdout" "$T/stderr" "$1" --emit=compose -o "$T/out" --error-limit=0
    [ "$RC" -gt 1 ] && return
    [ -n "$enough" ] && awk -v a="$UTIME" -v b="$enough" 'BEGIN { exit !(a >= b) }' && i=$2
    if [ -z "$bu" ] || awk -v a="$UTIME" -v b="$bu" 'BEGIN { exit !(a < b) }'; then bu=$UTIME; fi
    if [ -n "$RSS_KB" ] && { [ -z "$br" ] || [ "$RSS_KB" -lt "$br" ]; }; then br=$RSS_KB; fi
  done
  UTIME=$bu RSS_KB=$br
  ERRB=$(wc -c < "$T/stderr")
}
bad_exit() { # DESCRIPTION
  not_ok "$1: $(apx_bad_exit_msg)"
  cut -c1-200 "$T/stderr" | diag 20
}
# verdict T1 T8 E1 E8 R1 R8: the criteria that 8N broke, or "ok".
verdict() {
  awk -v t1="$1" -v t8="$2" -v e1="$3" -v e8="$4" -v r1="${5:-0}" -v r8="${6:-0}" -v k="$FACTOR" 'BEGIN {
    # GNU time counts user time in 0.01 s: a 0.00 s run took up to that.
    if (t1 < 0.01) t1 = 0.01
    v = ""
    if (t8 >= 8 * t1 * k) v = v " time"
    if (e8 > 8 * e1 * k + 4096) v = v " diagnostics"
    if (r1 > 0 && r8 > 8 * r1 * k) v = v " memory"
    print v == "" ? "ok" : substr(v, 2) }'
}
report() { # SHAPE VERDICT FIGURES
  if [ "$2" = ok ]; then ok "linear: $1 ($3)"
  else
    local what=${2// /, } verb=grows
    [ "$what" != "$2" ] && verb=grow
    not_ok "linear: $1: $what $verb faster than linearly ($3)"
  fi
}

# limit_for T1: the time limit (seconds) for the 8N run.
limit_for() { awk -v t="$1" -v k="$FACTOR" -v m="$APX_LIN_TIMEOUT" 'BEGIN { l = int(8 * t * k * 2) + 1; if (l < 10) l = 10; if (l > m) l = m; print l }'; }

# check_linear SHAPE N0: calibrates N from N0, then compares N with 8N.
check_linear() {
  local shape=$1 n=$2 f1 f8 t1 e1 r1
  while :; do
    f1=$T/$shape-$n.apx
    "gen_$shape" "$n" > "$f1"
    best "$f1" 3
    if [ "$RC" -gt 1 ]; then bad_exit "linear: $shape, N=$n"; rm -f "$f1"; return; fi
    if awk -v t="$UTIME" -v m="$APX_LIN_MIN_S" 'BEGIN { exit !(t >= m) }' || [ $((n * 2)) -gt "$APX_LIN_MAX_N" ] ||
       [ $(($(wc -c < "$f1") * 2)) -gt "$APX_LIN_MAX_BYTES" ]; then break; fi
    rm -f "$f1"
    n=$((n * 2))
  done
  t1=$UTIME e1=$ERRB r1=$RSS_KB
  f8=$T/$shape-$((8 * n)).apx
  "gen_$shape" $((8 * n)) > "$f8"
  # A linear 8N takes about 8 * t1; give it twice the allowed time, at least 10 s.
  best "$f8" 2 "$(limit_for "$t1")" "$(awk -v t="$t1" -v k="$FACTOR" 'BEGIN { print 8 * (t < 0.01 ? 0.01 : t) * k }')"
  if [ "$RC" -gt 1 ]; then bad_exit "linear: $shape, 8N=$((8 * n)) (N=$n took ${t1}s)"; rm -f "$f1" "$f8"; return; fi
  if apx_sanitizer_report "$T/stderr"; then not_ok "linear: $shape: sanitizer report"; cut -c1-200 "$T/stderr" | diag; rm -f "$f1" "$f8"; return; fi
  local figures
  figures="N=$n, $(wc -c < "$f1") B: ${t1}s${r1:+, $((r1 / 1024)) MB}, $e1 B of diagnostics; 8N, $(wc -c < "$f8") B: ${UTIME}s${RSS_KB:+, $((RSS_KB / 1024)) MB}, $ERRB B"
  report "$shape" "$(verdict "$t1" "$UTIME" "$e1" "$ERRB" "$r1" "$RSS_KB")" "$figures"
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
check_linear inputs 250
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
gen_dotenv_file() { awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "# a comment\nMY_VAR_%d=value %d\n", i, i }'; }
best_dotenv() { # N RUNS [TIMEOUT [ENOUGH]]
  local i bu='' tmo=${3:-$APX_LIN_TIMEOUT} enough=${4:-}
  for ((i = 0; i < $2; i++)); do
    rm -rf "$T/dout" && mkdir -p "$T/dout" && gen_dotenv_file "$1" > "$T/dout/.env"
    apx_run "$tmo" /dev/null "$T/stderr" "$T/dotenv.apx" --emit=compose -o "$T/dout"
    [ "$RC" -gt 1 ] && return
    [ -n "$enough" ] && awk -v a="$UTIME" -v b="$enough" 'BEGIN { exit !(a >= b) }' && i=$2
    if [ -z "$bu" ] || awk -v a="$UTIME" -v b="$bu" 'BEGIN { exit !(a < b) }'; then bu=$UTIME; fi
  done
  UTIME=$bu
}
check_dotenv() {
  local n=$1 t1
  printf 'param p { default = "v" }\ncontainer c { image = "x"  env { P = p } }\n' > "$T/dotenv.apx"
  while :; do
    best_dotenv "$n" 3
    if [ "$RC" -gt 1 ]; then bad_exit "linear: .env of $n entries"; return; fi
    if awk -v t="$UTIME" -v m="$APX_LIN_MIN_S" 'BEGIN { exit !(t >= m) }' || [ $((n * 2)) -gt "$APX_LIN_MAX_N" ]; then break; fi
    n=$((n * 2))
  done
  t1=$UTIME
  best_dotenv $((8 * n)) 2 "$(limit_for "$t1")" "$(awk -v t="$t1" -v k="$FACTOR" 'BEGIN { print 8 * (t < 0.01 ? 0.01 : t) * k }')"
  if [ "$RC" -gt 1 ]; then bad_exit "linear: .env of $((8 * n)) entries (N=$n took ${t1}s)"; return; fi
  report "entries of an existing .env" "$(verdict "$t1" "$UTIME" 0 0)" "N=$n: ${t1}s; 8N: ${UTIME}s"
}
check_dotenv 500

apx_done
