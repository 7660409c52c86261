#!/bin/bash
# The error limit (issue 6): hostile inputs that make thousands of errors
# print at most --error-limit of them (20 by default) and one line counting
# the rest, finish fast, and still count every error (summary line, exit 1).
#   - 20 KB of random bytes (fixed seed): thousands of lexical and syntax errors;
#   - 200,000 references to an endpoint that does not exist (7 MB);
# and a 5 MB image string makes one short error, fast.
# Time is the user+system CPU time of apx_run (common.sh), bounded
# generously: $APX_LIMIT_SECONDS (2 s; 30 s under ASan).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
need_aspirec
need_gnu_time
apx_tmpdir T

if [ "$APX_FUZZ_ASAN" = 1 ]; then APX_LIMIT_SECONDS=${APX_LIMIT_SECONDS:-30}; else APX_LIMIT_SECONDS=${APX_LIMIT_SECONDS:-2}; fi

# Random bytes, but no '"', '/', '#' or '<', which would open a string, a
# comment or a heredoc that swallows the rest: each byte is then a token.
LC_ALL=C awk 'BEGIN {
  srand(42)
  for (i = 0; i < 20480; i++) { c = 1 + int(rand() * 255); if (c == 34 || c == 47 || c == 35 || c == 60) c = 33; printf "%c", c } }' > "$T/random.apx"
awk 'BEGIN {
  print "container a { image = \"x\" }"
  print "container b {\n  image = \"x\"\n  env {"
  for (i = 0; i < 200000; i++) printf "    K%d = \"${a.endpoints.nope.url}\"\n", i
  print "  }\n}" }' > "$T/refs.apx"

# hostile NAME FILE MIN_ERRORS: the checks of one input under the default limit.
hostile() {
  local name=$1 f=$2 min=$3 lines bytes shown total more
  apx_run 60 "$T/stdout" "$T/stderr" "$f"
  if [ "$RC" -ne 1 ]; then
    not_ok "$name: exit status 1 ($(apx_bad_exit_msg))"
    cut -c1-200 "$T/stderr" | diag 10
    return
  fi
  ok "$name: exit status 1"
  lines=$(wc -l < "$T/stderr") bytes=$(wc -c < "$T/stderr")
  shown=$(grep -c ': error: ' "$T/stderr")
  total=$(sed -n 's/^\([0-9]*\) errors\{0,1\}, [0-9]* warnings\{0,1\}$/\1/p' "$T/stderr")
  more=$(sed -n 's/^aspirec: \([0-9]*\) more errors not shown (limit 20); --error-limit=0 shows them all$/\1/p' "$T/stderr")
  if [ "$shown" -eq 20 ] && [ "$lines" -le 120 ] && [ "$bytes" -le 40000 ]; then
    ok "$name: 20 errors shown, $lines lines, $bytes bytes"
  else
    not_ok "$name: at most 20 errors in at most 120 lines and 40,000 bytes (got $shown errors, $lines lines, $bytes bytes)"
  fi
  if [ -n "$total" ] && [ "$total" -ge "$min" ] && [ -n "$more" ] && [ $((more + 20)) -eq "$total" ]; then
    ok "$name: the true count ($total errors) and one line for the $more not shown"
  else
    not_ok "$name: '$min or more errors' and 'N more errors not shown' that add up (got '${total:-none}', '${more:-none}')"
    tail -n 3 "$T/stderr" | cut -c1-200 | diag
  fi
  if awk -v u="$UTIME" -v s="$SYS" -v m="$APX_LIMIT_SECONDS" 'BEGIN { exit !(u + s < m) }'; then
    ok "$name: done in ${UTIME}s user + ${SYS}s system (< ${APX_LIMIT_SECONDS}s)"
  else
    not_ok "$name: took ${UTIME}s user + ${SYS}s system, more than ${APX_LIMIT_SECONDS}s"
  fi
  apx_sanitizer_report "$T/stderr" && { not_ok "$name: sanitizer report"; grep -m5 -E 'Sanitizer|runtime error' "$T/stderr" | diag; }
}

hostile "20 KB of random bytes" "$T/random.apx" 1000
hostile "200,000 references to a missing endpoint" "$T/refs.apx" 200000

# A 5 MB image string (issue 6): one error for its length, at once (the
# lengths are checked before any matching).
awk 'BEGIN { printf "container a { image = \""; for (i = 0; i < 65536; i++) printf "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"; print "\" }" }' > "$T/image.apx"
apx_run 60 "$T/stdout" "$T/stderr" "$T/image.apx"
if [ "$RC" -eq 1 ] && grep -q '/image.apx:1:23: error: the image name is 5242880 characters long$' "$T/stderr" &&
   [ "$(wc -c < "$T/stderr")" -lt 2000 ] && awk -v u="$UTIME" -v s="$SYS" -v m="$APX_LIMIT_SECONDS" 'BEGIN { exit !(u + s < m) }'; then
  ok "a 5 MB image: one located error in ${UTIME}s user + ${SYS}s system"
else
  not_ok "a 5 MB image: one located error of under 2,000 bytes within ${APX_LIMIT_SECONDS}s (exit $RC, ${UTIME}s + ${SYS}s)"
  cut -c1-200 "$T/stderr" | diag 5
fi

# A name of 1 MB in a message (an unknown attribute): the message is cut,
# the output stays small.
awk 'BEGIN { printf "container a {\n  image = \"x\"\n  "; for (i = 0; i < 16384; i++) printf "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"; print " = 1\n}" }' > "$T/longname.apx"
apx_run 60 "$T/stdout" "$T/stderr" "$T/longname.apx"
if [ "$RC" -eq 1 ] && grep -q "/longname.apx:3:3: error: unknown attribute 'yyyy.*\.\.\.$" "$T/stderr" && [ "$(wc -c < "$T/stderr")" -lt 3000 ]; then
  ok "a 1 MB name in a message: cut, $(wc -c < "$T/stderr") bytes of diagnostics"
else
  not_ok "a 1 MB name in a message: one error, cut, under 3,000 bytes (exit $RC, $(wc -c < "$T/stderr") bytes)"
  cut -c1-200 "$T/stderr" | diag 5
fi

# --error-limit=0 shows all, --error-limit=N shows N; bad values are refused.
head -n 1004 "$T/refs.apx" > "$T/small.apx" && printf '  }\n}\n' >> "$T/small.apx"
for lim in 0 5 1000; do
  apx_run 60 "$T/stdout" "$T/stderr" "$T/small.apx" --error-limit=$lim
  shown=$(grep -c ': error: ' "$T/stderr")
  want=$lim; [ "$lim" = 0 ] && want=1000
  if [ "$RC" -eq 1 ] && [ "$shown" -eq "$want" ] && grep -qx '1000 errors, 0 warnings' "$T/stderr" &&
     { [ "$want" -eq 1000 ] && ! grep -q 'not shown' "$T/stderr" || grep -qx "aspirec: $((1000 - lim)) more errors not shown (limit $lim); --error-limit=0 shows them all" "$T/stderr"; }; then
    ok "--error-limit=$lim: $shown of 1000 errors shown, exit 1"
  else
    not_ok "--error-limit=$lim: $want of 1000 errors shown and counted, exit 1 (got $shown, exit $RC)"
    tail -n 3 "$T/stderr" | diag
  fi
done
for bad in x -1 '' 5x; do
  apx_run 60 "$T/stdout" "$T/stderr" "$T/small.apx" "--error-limit=$bad"
  if [ "$RC" -eq 2 ] && grep -q "^aspirec: --error-limit=$bad: write a number" "$T/stderr"; then ok "--error-limit='$bad' is refused (exit 2)"
  else not_ok "--error-limit='$bad': exit 2 and a message (got exit $RC)"; diag < "$T/stderr"; fi
done

# Warnings have a limit of their own: 30 warnings do not hide the one error.
{
  echo 'container a { image = "x" }'
  for i in $(seq 30); do echo "container b$i { image = \"x\"  references = [a] }"; done
  echo 'container e { image = "x"  references = [nope] }'
} > "$T/warn.apx"
apx_run 60 "$T/stdout" "$T/stderr" "$T/warn.apx"
if [ "$RC" -eq 1 ] && [ "$(grep -c ': warning: ' "$T/stderr")" -eq 20 ] && grep -q "unknown resource 'nope'" "$T/stderr" &&
   grep -qx 'aspirec: 10 more warnings not shown (limit 20); --error-limit=0 shows them all' "$T/stderr" &&
   grep -qx '1 error, 30 warnings' "$T/stderr"; then
  ok "30 warnings: 20 shown, the error shown, true counts"
else
  not_ok "30 warnings: 20 shown, the error shown, '10 more warnings not shown', '1 error, 30 warnings' (exit $RC)"
  tail -n 5 "$T/stderr" | diag
fi

apx_done
