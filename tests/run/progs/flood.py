#!/usr/bin/env python3
"""usage: flood.py NAME LINES [WIDTH]: writes LINES numbered lines of WIDTH
bytes (newline included) to stdout as fast as it can, in 1 MB writes, then
"NAME done" to stderr."""
import sys

name, lines = sys.argv[1], int(sys.argv[2])
width = int(sys.argv[3]) if len(sys.argv) > 3 else 100
out = sys.stdout.buffer
pad = b"x" * width
buf = []
size = 0
for i in range(lines):
    head = b"%s %09d " % (name.encode(), i)
    line = head + pad[: width - len(head) - 1] + b"\n"
    buf.append(line)
    size += len(line)
    if size >= 1 << 20:
        out.write(b"".join(buf))
        buf, size = [], 0
out.write(b"".join(buf))
out.flush()
sys.stderr.write("%s done\n" % name)
