#!/bin/bash
# The scanner never backs up (flex -b: "No backing up."): with no backing-up
# state flex drops the per-byte bookkeeping of the last accepting state,
# about a fifth of the scanner's instructions on a large file. A rule that
# brings it back (a longer pattern whose prefix alone matches nothing) fails
# here; the fix is a rule for the prefix (see "<<-", "1.", "$$" and the `"`
# rule in frontend/lexer.l).
source "$(dirname "$0")/../lib.sh"
cd "$APX_SRCDIR" || exit 2
apx_tmpdir T
FLEX=${FLEX:-flex}

backs_up() { # LEXER.L: prints the number of backing-up states (0: none)
  (cd "$T" && rm -f lex.backup && "$FLEX" -b -o lex.c "$1" 2> flex.err) || { echo error; return; }
  if grep -q '^No backing up\.$' "$T/lex.backup"; then echo 0
  else grep -c '^State #' "$T/lex.backup"; fi
}

n=$(backs_up "$APX_SRCDIR/frontend/lexer.l")
if [ "$n" = 0 ]; then ok "frontend/lexer.l: no backing up"
else
  not_ok "frontend/lexer.l: $n backing-up state(s) (flex -b)"
  head -40 "$T/lex.backup" "$T/flex.err" 2>/dev/null | diag 40
fi

# The check can fail: the same scanner with the prefix rule of "<<-" taken out.
sed '/^"<<-"  *{$/d; s/^\("<<"  *\)|$/\1{/' "$APX_SRCDIR/frontend/lexer.l" > "$T/broken.l"
if grep -q '^"<<-"' "$T/broken.l"; then not_ok "the broken copy still has the \"<<-\" rule"
else
  n=$(backs_up "$T/broken.l")
  if [ "$n" != 0 ] && [ "$n" != error ]; then ok "a scanner that backs up is caught ($n state(s))"
  else not_ok "a scanner that backs up is caught (got: $n)"; fi
fi
apx_done
