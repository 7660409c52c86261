#!/bin/sh
# usage: stamp.sh NAME [EXIT [SECONDS|forever]]
# Writes "NAME start <time>" to $TIMES, waits, writes "NAME end <time>", exits EXIT.
name=$1 code=${2:-0} wait=${3:-0}
t() { date +%s.%N | cut -c1-14; }
[ -n "$TIMES" ] && echo "$name start $(t) $$" >> "$TIMES"
echo "$name: started (pid $$)"
if [ "$wait" = forever ]; then exec sleep 100000; fi
sleep "$wait"
[ -n "$TIMES" ] && echo "$name end $(t)" >> "$TIMES"
echo "$name: exiting with $code"
exit "$code"
