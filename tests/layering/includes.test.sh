#!/bin/bash
# Arrows point down the pipeline only: every #include "…" of the library's
# sources names a header of its own module or of a module below it.
#   base → frontend → ir → passes → backends, runtime → dashboard → driver → cli
# backends and runtime stand side by side and include neither each other.
# dashboard/ sees run mode only through runtime/monitor.h (checked below).
# include/ (the public header) includes nothing of ours.
source "$(dirname "$0")/../lib.sh"
cd "$APX_SRCDIR" || exit 2

# What each module may include besides itself.
declare -A allowed=(
  [base]=""
  [frontend]="base"
  [ir]="base frontend"
  [passes]="base frontend ir"
  [backends]="base frontend ir passes"
  [runtime]="base frontend ir passes"
  [dashboard]="base runtime"
  [driver]="base frontend ir passes backends runtime dashboard include"
  [cli]="base frontend ir passes backends runtime dashboard driver include"
  [include]=""
)

# Prints "FILE:LINE: MODULE includes TARGET_MODULE (HEADER)" for each arrow up.
check_tree() { # ROOT
  local root=$1 f mod line n inc target tmod bad=0
  while IFS= read -r f; do
    mod=${f%%/*}
    [ -n "${allowed[$mod]+x}" ] || continue
    n=0
    while IFS= read -r line; do
      n=$((n + 1))
      [[ $line =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*\"([^\"]+)\" ]] || continue
      inc=${BASH_REMATCH[1]}
      # "x.h" beside the file, "../mod/x.h" or "mod/x.h" from the top.
      if [ -f "$root/$(dirname "$f")/$inc" ]; then target=$(realpath -m --relative-to="$root" "$root/$(dirname "$f")/$inc")
      elif [ -f "$root/$inc" ]; then target=$inc
      else
        # generated: the parser's, and protoc-c's OTLP messages (dashboard/otlp_proto/)
        case $inc in config.h|frontend/parser.h|frontend/lexer.h|parser.h|lexer.h|dashboard/otlp_proto/otlp.pb-c.h) continue ;; esac
        echo "$f:$n: includes \"$inc\", which is not a file of the tree"; bad=1; continue
      fi
      tmod=${target%%/*}
      [ "$tmod" = "$mod" ] && continue
      if [ "$mod" = dashboard ] && [ "$tmod" = runtime ] && [ "$target" != runtime/monitor.h ]; then
        echo "$f:$n: dashboard includes $target: it sees run mode through runtime/monitor.h only"; bad=1; continue
      fi
      case " ${allowed[$mod]} " in *" $tmod "*) continue ;; esac
      echo "$f:$n: $mod includes $tmod ($inc): arrows point down only"; bad=1
    done < "$root/$f"
  done < <(cd "$root" && find base frontend ir passes backends runtime dashboard driver cli include \
             -type f \( -name '*.c' -o -name '*.h' -o -name '*.y' -o -name '*.l' \) 2> /dev/null | sort)
  return $bad
}

out=$(check_tree "$APX_SRCDIR")
if [ -z "$out" ]; then ok "every #include of the library points down the pipeline"
else not_ok "includes that point up the pipeline"; diag "$out"
fi

# The check must be able to fail: a copy of the tree where ir/ includes a
# pass header, and frontend/ a runtime header, must be caught.
apx_tmpdir t
cp -r base frontend ir passes backends runtime dashboard driver cli include "$t/"
printf '#include "../passes/pipeline.h"\n' >> "$t/ir/render.c"
printf '#include "runtime/run.h"\n' >> "$t/frontend/ast.c"
printf '#include "../backends/backend.h"\n' >> "$t/runtime/ports.c"
printf '#include "runtime/run_internal.h"\n' >> "$t/dashboard/api.c"
printf '#include "../dashboard/dash.h"\n' >> "$t/runtime/run.c"
bad=$(check_tree "$t")
check "an ir/ file including passes/ is caught" grep -q 'ir/render.c:.*ir includes passes' <<< "$bad"
check "a frontend/ file including runtime/ is caught" grep -q 'frontend/ast.c:.*frontend includes runtime' <<< "$bad"
check "runtime/ including backends/ is caught" grep -q 'runtime/ports.c:.*runtime includes backends' <<< "$bad"
check "dashboard/ including runtime/ beyond monitor.h is caught" grep -q 'dashboard/api.c:.*monitor.h only' <<< "$bad"
check "runtime/ including dashboard/ is caught" grep -q 'runtime/run.c:.*runtime includes dashboard' <<< "$bad"
apx_done
