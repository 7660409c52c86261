#!/bin/bash
# Run mode: the stdlib's mariadb through its local fallback (Debian's
# mariadb-server, as user mysql), with a real client: a program whose app
# waits for the database `orders` on it, connects with PyMySQL through the
# connection string run mode renders, creates a table, inserts a row and
# reads every row back. A second run finds the first run's row (the data
# directory is kept) and root's generated password still works. Ctrl-C
# leaves no process of the run.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/helpers.sh"
need_aspirec
for c in mariadbd mariadb-install-db mariadb; do
  command -v "$c" > /dev/null || [ -x "/usr/sbin/$c" ] ||
    { not_ok "$c is missing (bash scripts/setup.sh installs mariadb-server and mariadb-client)"; apx_done; exit; }
done
# Debian's python3 has Debian's modules; a python3 earlier on PATH (pyenv) may not.
DPY=$(py_with pymysql) || { not_ok "PyMySQL is missing (bash scripts/setup.sh installs python3-pymysql)"; apx_done; exit; }
apx_tmpdir T
chmod 755 "$T" # the server runs as mysql: it must reach its directory
cp "$APX_SRCDIR"/tests/run/progs/* "$T"/
program() {
  cat > "$T/shop.apx" <<APX
import "mariadb"
mariadb db {
  database orders {}
}
executable app {
  command    = "$DPY"
  args       = ["fallback_client.py", "mariadb", "$1"]
  references = [orders]
  wait_for   = [orders]
}
APX
}
for round in first second; do
  program "$round"
  out=$T/out-$round
  run_start "$out" "$T/shop.apx" --run --engine=local --grace 10s
  if wait_for_text "$out" 'app: (finished|ended|failed)' 90; then
    want="notes: first"; [ $round = second ] && want="notes: first second"
    if grep -qE "^app +\| $want\$" "$out" && grep -q 'app: finished (exit status 0)' "$out"; then
      ok "$round run: the app created a table on the local MariaDB, inserted a row and read back '${want#notes: }'"
    else
      not_ok "$round run: the app uses the database (want '$want')"; show "$out"
    fi
  else
    not_ok "$round run: the app ran against MariaDB"; show "$out"
  fi
  [ $round = first ] && grep -q 'db: running setup' "$out" && ok "first run: setup initialised the data directory" ||
    { [ $round = second ] && ! grep -q 'db: running setup' "$out" && ok "second run: no setup (the data directory is kept)"; } ||
    { not_ok "$round run: setup runs on the first run only"; show "$out"; }
  if [ $round = first ]; then
    owner=$(stat -c %U "$(readlink -f "$T/.aspirec/resources/db")/data/mysql" 2> /dev/null)
    [ "$(id -u)" != 0 ] || [ "$owner" = mysql ] && ok "the data is the mysql user's (aspirec runs as root)" ||
      not_ok "the data is the mysql user's (owner '$owner')"
  fi
  kill -INT "$RUN_PID"; wait_exit "$RUN_PID" 30
  [ "$RUN_RC" = 0 ] && ok "$round run: Ctrl-C stops it, status 0" || { not_ok "$round run: Ctrl-C (status $RUN_RC)"; show "$out"; }
  no_marked_left "$RUN_MARK" 5 && ok "$round run: no process of the run is left (mariadbd included)" ||
    { not_ok "$round run: processes left"; for p in $(mark_pids "$RUN_MARK"); do echo "$p $(tr '\0' ' ' < "/proc/$p/cmdline" | cut -c1-120)"; done | diag; }
done
apx_done
