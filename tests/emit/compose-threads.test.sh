#!/bin/bash
# --emit=compose writes the services of a large file in threads (APX_THREADS
# parts; backends/compose.c): the same bytes as one thread, for every input.
# Each golden input, example and bench topology (1,000 resources, two seeds)
# is emitted with threads forced on (APX_THREADS=2 and 3, on any size) and
# compared with one thread: exit code, messages, docker-compose.yaml and
# .env. strace shows that the parts really were joined (copy_file_range);
# an error in a part written by a thread leaves no file behind.
. "$(dirname "$0")/../lib.sh"
need_aspirec
apx_tmpdir T
S=$APX_SRCDIR

inputs=()
for f in "$S"/tests/golden/*.apx "$S"/examples/*.apx; do inputs+=("$f"); done
python3 "$S/bench/compose/gen.py" 1000 -o "$T/bench1k.apx"
python3 "$S/bench/compose/gen.py" 1000 --seed 7 -o "$T/bench1k-7.apx"
inputs+=("$T/bench1k.apx" "$T/bench1k-7.apx")

# emit THREADS SRC ARGS...: into $T/out (kept between runs, as a re-run
# keeps .env), the messages into $T/err.THREADS with the directory's name.
emit() {
  local n=$1 src=$2; shift 2
  (cd "$(dirname "$src")" && APX_THREADS=$n "$ASPIREC" "$src" "$@" --emit=compose -o "$T/out" > /dev/null 2> "$T/err.$n")
  echo $? > "$T/rc.$n"
}

same=0 differ=0 compiled=0
for src in "${inputs[@]}"; do
  name=${src#"$S"/}
  read -ra args <<< "$(apx_args_of "$src")"
  case $src in */bench1k*) args=(-p pg_password=x) ;; esac
  rm -rf "$T/out" "$T/one"
  # Twice: the second run reads back the .env the first wrote, as every
  # run after it does.
  emit 1 "$src" "${args[@]}"
  emit 1 "$src" "${args[@]}"
  [ -f "$T/out/docker-compose.yaml" ] && compiled=$((compiled + 1))
  mkdir -p "$T/one"; [ -d "$T/out" ] && cp -a "$T/out/." "$T/one/"
  bad=
  for n in 2 3; do
    emit "$n" "$src" "${args[@]}"
    cmp -s "$T/rc.1" "$T/rc.$n" || bad+=" exit($n)"
    cmp -s "$T/err.1" "$T/err.$n" || bad+=" messages($n)"
    for f in docker-compose.yaml .env; do
      if [ -e "$T/one/$f" ] || [ -e "$T/out/$f" ]; then cmp -s "$T/one/$f" "$T/out/$f" || bad+=" $f($n)"; fi
    done
  done
  if [ -z "$bad" ]; then same=$((same + 1)); else
    differ=$((differ + 1)); not_ok "$name: threads change$bad"
    diff "$T/err.1" "$T/err.3" | diag 10
    diff "$T/one/docker-compose.yaml" "$T/out/docker-compose.yaml" | diag 20
  fi
done
if [ "$differ" = 0 ] && [ "$compiled" -ge 10 ]; then
  ok "${#inputs[@]} inputs ($compiled with a compose file): 2 and 3 threads write the bytes and messages of one"
elif [ "$differ" = 0 ]; then
  not_ok "only $compiled inputs compiled to a compose file"
fi

# The threads were used: each part after the first is appended to the file
# (copy_file_range); one thread does neither. (The probe is copied with
# copy_file_range too: strace -y names the files, and its copy is left out.)
parts_appended() { grep copy_file_range "$1" | grep -v 'aspirec-probe' | grep -q .; }
if command -v strace > /dev/null; then
  # LeakSanitizer cannot run under ptrace (the sanitizer build).
  export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
  for n in 1 2; do
    rm -rf "$T/out"
    APX_THREADS=$n strace -f -qq -y -e trace=clone,clone3,copy_file_range -o "$T/strace.$n" \
      "$ASPIREC" "$T/bench1k.apx" -p pg_password=x --emit=compose -o "$T/out" 2> /dev/null
  done
  if parts_appended "$T/strace.2" && grep -qE 'clone3?\(' "$T/strace.2" &&
    ! parts_appended "$T/strace.1" && ! grep -qE 'clone3?\(' "$T/strace.1"; then
    ok "APX_THREADS=2 starts a thread and appends its part; APX_THREADS=1 does neither"
  else
    not_ok "threads not visible in strace"; grep -E 'clone|copy_file' "$T/strace.2" | diag 5
  fi
  # Without APX_THREADS: one part per online CPU from 128 services on.
  rm -rf "$T/out"
  env -u APX_THREADS strace -f -qq -y -e trace=copy_file_range -o "$T/strace.d" \
    "$ASPIREC" "$T/bench1k.apx" -p pg_password=x --emit=compose -o "$T/out" 2> /dev/null
  if [ "$(nproc)" -ge 2 ] && parts_appended "$T/strace.d"; then ok "by default, threads at 1,000 resources on $(nproc) CPUs"
  elif [ "$(nproc)" -lt 2 ] && ! parts_appended "$T/strace.d"; then ok "by default, one thread on one CPU"
  else not_ok "default threads on $(nproc) CPUs"; fi
else
  note "SKIP strace not installed: threads not shown to run"
fi

# An error in a part that a thread writes (the third service of three, with
# three parts): the messages of one thread, exit 1, no file written, an
# existing one untouched, nothing left in the directory.
cat > "$T/bad.apx" << 'EOF'
param pw { secret = true }
container a { image = "busybox" }
executable x { command = "ls" }
container b {
  image = "busybox"
  workdir = "rel/dir"
  health { log = "ready" }
}
container c {
  image = "busybox"
  env { P = urlencode("x${pw}") }
}
EOF
# The same error in the first service, which the caller's thread writes.
sed -e 's/^container a { image = "busybox" }$/container a {\n  image = "busybox"\n  env { P = urlencode("x${pw}") }\n}/' \
  -e '/^container c {$/,/^}$/d' "$T/bad.apx" > "$T/bad-first.apx"
printf 'container c { image = "busybox" }\n' >> "$T/bad-first.apx"
for bad in bad bad-first; do
  case $bad in bad) who=c where="a thread's part" ;; *) who=a where="the first part" ;; esac
  rm -rf "$T/keep"; mkdir "$T/keep"; echo old > "$T/keep/docker-compose.yaml"
  (cd "$T" && APX_THREADS=1 "$ASPIREC" $bad.apx --emit=compose -o keep > /dev/null 2> "$T/bad.1"); rc1=$?
  (cd "$T" && APX_THREADS=3 "$ASPIREC" $bad.apx --emit=compose -o keep > /dev/null 2> "$T/bad.3"); rc3=$?
  if [ "$rc1" = 1 ] && [ "$rc3" = 1 ] && cmp -s "$T/bad.1" "$T/bad.3" &&
    grep -q "error: cannot write environment variable P of '$who'" "$T/bad.3" &&
    grep -q "log health check of 'b'" "$T/bad.3" && [ "$(ls -A "$T/keep")" = docker-compose.yaml ] &&
    [ "$(cat "$T/keep/docker-compose.yaml")" = old ]; then
    ok "an error in $where: the same messages, exit 1, the old file kept, nothing else written"
  else
    not_ok "an error in $where (exit $rc1 / $rc3)"; diff "$T/bad.1" "$T/bad.3" | diag; ls -A "$T/keep" | diag
  fi
done

apx_done
