#!/bin/bash
# apx-test: slow
# A resource that prints 50 MB of logs (flood.apx runs flood.py: 475,000
# numbered lines on stdout, 25,000 on stderr, in writes that split lines):
# every line reaches aspirec's output, whole and in order, and the log files
# in the state directory.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-run.sh"
need_run_mode
need_cmds python3

rs_tmpdir T
mkdir -p "$T/flood"
cp "$RS_DIR/flood.apx" "$RS_DIR/flood.py" "$T/flood/"
out=$T/flood.out
state=$T/flood/state
t0=$(date +%s%N)
rs_start "$out" "$T" "$T/flood/flood.apx" --run --state-dir "$state" --grace 3s
if rs_wait_output "$out" 'FLOOD-DONE' 180; then
  ms=$((($(date +%s%N) - t0) / 1000000))
  ok "50 MB of output went through in ${ms}ms ($((50500 / (ms > 0 ? ms : 1))) MB/s, start-up included)"
else
  not_ok "FLOOD-DONE not seen within 180s"; rs_show "$out" 10
fi
sleep 1
rs_stop

# check FILE LABEL: every FLOOD line once, in order, intact.
check_lines() {
  local r
  r=$(awk '
    /FLOOD-OUT [0-9]+ / { s = "out" } /FLOOD-ERR [0-9]+ / { s = "err" }
    /FLOOD-(OUT|ERR) [0-9]+ / {
      match($0, /FLOOD-(OUT|ERR) [0-9]+ x+$/)
      if (RSTART == 0 || RLENGTH != 100) { bad++; if (bad < 4) print "# damaged: " substr($0, 1, 160); next }
      n = substr($0, RSTART + 10, 7) + 0
      if (n != next_[s] + 0) { gap++; if (gap < 4) print "# " s ": expected " next_[s] + 0 ", got " n }
      next_[s] = n + 1; count[s]++
    }
    END { printf "out=%d err=%d bad=%d gaps=%d\n", count["out"], count["err"], bad + 0, gap + 0 }' "$1")
  if [ "$(tail -n 1 <<< "$r")" = "out=475000 err=25000 bad=0 gaps=0" ]; then
    ok "$2: all 500,000 lines, whole and in order"
  else
    not_ok "$2: lines lost or damaged: $(tail -n 1 <<< "$r")"; head -n -1 <<< "$r"
  fi
}
check_lines "$out" "aspirec's output"
# The log files: whichever files under the state directory hold flood's lines.
files=$(grep -rlE 'FLOOD-(OUT|ERR) 0000000' "$state" 2> /dev/null)
if [ -z "$files" ]; then
  not_ok "no log file with flood's lines under the state directory"; (cd "$state" 2> /dev/null && find . | head -n 20 | diag)
else
  note "log files: $(echo "$files" | sed "s|$state/||" | paste -sd' ' -)"
  cat $files > "$T/all-logs"
  check_lines "$T/all-logs" "log files in the state directory"
fi
apx_done
