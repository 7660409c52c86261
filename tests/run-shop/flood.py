#!/usr/bin/env python3
"""Writes about MB megabytes of numbered 100-byte lines, 95% to stdout and 5%
to stderr, in large writes that split lines, then `FLOOD-DONE`.
usage: flood.py [MB]"""
import sys

mb = int(sys.argv[1]) if len(sys.argv) > 1 else 50
total = mb * 1000 * 1000 // 100
out, err = sys.stdout.buffer, sys.stderr.buffer
fill = b"x" * 82
buf, n_out, n_err = [], 0, 0
for i in range(total):
    if i % 20 == 19:
        err.write(b"FLOOD-ERR %07d %s\n" % (n_err, fill))
        n_err += 1
        continue
    buf.append(b"FLOOD-OUT %07d %s\n" % (n_out, fill))
    n_out += 1
    if len(buf) == 655:          # 65,500 bytes: writes end in the middle of lines
        data = b"".join(buf)
        out.write(data[:40000])
        out.flush()
        out.write(data[40000:])
        buf = []
out.write(b"".join(buf))
out.flush()
err.flush()
out.write(b"FLOOD-DONE out=%d err=%d\n" % (n_out, n_err))
out.flush()
