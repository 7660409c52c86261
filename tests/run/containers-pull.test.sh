#!/bin/bash
# A missing image is pulled, with its progress summarised on the terminal:
# a private dockerd pulls it from a minimal registry on 127.0.0.1 in the
# engine's network namespace (progs/registry.py: one image made from
# busybox-static, its layer sent slowly so that the pull lasts about 3 s).
# The progress lines come at most once a second, then "pulled", then the
# container runs from the pulled image; another resource of the same image
# waits for the same pull (one pull, not two).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/helpers.sh"
need_aspirec
. "$APX_SRCDIR/tests/compose-up/lib/engine.sh"
apx_tmpdir T
unset CONTAINER_HOST
cu_need dockerd "$DOCKER" /bin/busybox nsenter python3
cu_engine "$T/dk"
engine_pid=$(cat "$T/dk/launcher.pid")
root=$T/root
mkdir -p "$root"/{bin,etc,tmp}
cp /bin/busybox "$root/bin/busybox"
for a in sh echo sleep cat; do ln -s busybox "$root/bin/$a"; done
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
nsenter -t "$engine_pid" -n -- python3 "$APX_SRCDIR/tests/run/progs/registry.py" "$port" "$root" apx/bb 1 300000 \
  > "$T/registry.log" 2>&1 &
reg=$!
at_exit "kill $reg 2> /dev/null"
for _ in $(seq 50); do grep -q 'registry on' "$T/registry.log" && break; sleep 0.1; done
grep -q 'registry on' "$T/registry.log" || { not_ok "registry started"; diag < "$T/registry.log"; exit 1; }
ok "a minimal registry on 127.0.0.1:$port ($(grep -o 'layer [0-9]* bytes' "$T/registry.log"))"

cat > "$T/ASPIREC" <<SH
#!/bin/sh
exec nsenter -t $engine_pid -n -- "$ASPIREC" "\$@"
SH
chmod +x "$T/ASPIREC"
ASPIREC=$T/ASPIREC
mkdir -p "$T/app"
cat > "$T/app/app.apx" <<APX
container first {
  image   = "127.0.0.1:$port/apx/bb:1"
  command = "sh"
  args    = ["-c", "echo first runs the pulled image; exec sleep 100"]
}
container second {
  image   = "127.0.0.1:$port/apx/bb:1"
  command = "sh"
  args    = ["-c", "echo second runs it too; exec sleep 100"]
}
APX
out=$T/out
t0=$(date +%s)
run_start "$out" "$T/app/app.apx" --run --grace 1s
wait_for_text "$out" 'app is up|started with problems' 60
took=$(( $(date +%s) - t0 ))
img="127.0.0.1:$port/apx/bb:1"
progress=$(grep -cE "aspirec +\| (first|second): pulling $img: [0-9]+ of 1 layers, [0-9.]+ of [0-9.]+ MB \([0-9]+%\)" "$out")
if grep -qE "aspirec +\| (first|second): pulling $img\$" "$out" && [ "$progress" -ge 1 ] &&
   grep -qE "aspirec +\| (first|second): pulled $img \(1 layer, [0-9.]+ MB, [0-9.]+ s\)" "$out"; then
  ok "pull: progress on the terminal ($progress summary lines), then pulled"
else not_ok "pull progress ($progress lines)"; show "$out"; fi
if [ "$progress" -le $((took + 1)) ]; then ok "pull: progress throttled (at most one line a second: $progress in ${took}s)"
else not_ok "pull progress not throttled: $progress lines in ${took}s"; show "$out"; fi
if [ "$(grep -cE "pulling $img\$" "$out")" = 1 ] && wait_for_text "$out" 'first +\| first runs the pulled image' 10 &&
   wait_for_text "$out" 'second +\| second runs it too' 10; then
  ok "two resources of one image: one pull, both run from it"
else not_ok "one pull for two resources"; show "$out"; fi
kill -INT "$RUN_PID"; wait_exit "$RUN_PID" 20
if [ "$RUN_RC" = 0 ] && [ -z "$("$DOCKER" ps -aq --filter label=aspirec.program=app)" ]; then ok "Ctrl-C: nothing left"
else not_ok "Ctrl-C: rc $RUN_RC"; show "$out"; fi
apx_done
