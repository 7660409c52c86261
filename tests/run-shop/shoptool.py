#!/usr/bin/env python3
"""Helpers for the run-mode tests (standard library only).

  shoptool.py http METHOD URL [BODY]     prints the status, a newline, the body; exit 0 unless unreachable
  shoptool.py wait-http URL SECONDS [STATUS]
                                         waits until URL answers STATUS (default 200); exit 1 on timeout
  shoptool.py procs PID TAG DIR          live processes that belong to a run: descendants of PID, and
                                         any whose environment has APX_TEST_TAG=TAG or whose command line
                                         or working directory mentions DIR; one line each:
                                         `pid starttime uid cwd cmdline`
  shoptool.py alive PIDSTART...          the given `pid:starttime` that still run (zombies do not count)
  shoptool.py env PID VAR                prints VAR from /proc/PID/environ (exit 1 when unset)
  shoptool.py order LOGFILE              the start-order timestamps from the shop's own log lines, as JSON
  shoptool.py events ASPIREC_LOG         first time of each `NAME: started|healthy|ready|stopping|stopped`
                                         in STATE/logs/aspirec.log, as JSON {"NAME started": epoch, …}
  shoptool.py free-port                  a free TCP port on 127.0.0.1
"""

import calendar
import json
import os
import re
import socket
import sys
import time
import urllib.error
import urllib.request


def http(method, url, body=None, timeout=10):
    data = body.encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def stat_of(pid):
    """(ppid, state, starttime) or None."""
    try:
        with open("/proc/%s/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    rest = s[s.rindex(")") + 2:].split()
    return int(rest[1]), rest[0], rest[19]


def read(path, binary=False):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return b"" if binary else ""
    return data if binary else data.decode("utf-8", "replace")


def procs(root, tag, dirpath):
    table = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = stat_of(d)
            if st and st[1] != "Z":
                table[int(d)] = st
    keep = set()
    # descendants of root
    children = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    todo = [int(root)] if root and root != "0" else []
    while todo:
        p = todo.pop()
        for c in children.get(p, []):
            if c not in keep:
                keep.add(c)
                todo.append(c)
    me = os.getpid()
    needle = ("APX_TEST_TAG=" + tag).encode() if tag else None
    for pid in table:
        if pid in keep or pid == me or pid == os.getppid():
            continue
        env = read("/proc/%d/environ" % pid, True)
        if needle and needle in env.split(b"\0"):
            keep.add(pid)
            continue
        if dirpath:
            cmd = read("/proc/%d/cmdline" % pid, True).replace(b"\0", b" ").decode("utf-8", "replace")
            try:
                cwd = os.readlink("/proc/%d/cwd" % pid)
            except OSError:
                cwd = ""
            if dirpath in cmd or cwd == dirpath or cwd.startswith(dirpath + "/"):
                keep.add(pid)
    out = []
    for pid in sorted(keep):
        if pid == me or pid == int(root or 0):
            continue
        st = stat_of(pid)
        if not st or st[1] == "Z":
            continue
        try:
            uid = os.stat("/proc/%d" % pid).st_uid
            cwd = os.readlink("/proc/%d/cwd" % pid)
        except OSError:
            uid, cwd = -1, "?"
        cmd = read("/proc/%d/cmdline" % pid, True).replace(b"\0", b" ").decode("utf-8", "replace").strip()
        out.append("%d %s %d %s %s" % (pid, st[2], uid, cwd, cmd))
    return out


def alive(items):
    left = []
    for it in items:
        pid, _, start = it.partition(":")
        st = stat_of(pid)
        if st and st[1] != "Z" and (not start or st[2] == start):
            left.append(it)
    return left


# ---- start order -------------------------------------------------------------

ISO = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z")
PG = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) (UTC|GMT)")
REDIS = re.compile(r"(\d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d\.\d{3})")


def epoch(text, fmt):
    base, ms = text.rsplit(".", 1)
    return calendar.timegm(time.strptime(base, fmt)) + int(ms) / 1000.0


def order(path):
    """First times, from the resources' own log lines (all in UTC: the test runs with TZ=UTC)."""
    found = {}

    def first(key, value):
        if key not in found:
            found[key] = value
    with open(path, "rb") as f:
        for raw in f:
            line = raw.decode("utf-8", "replace")
            if "database system is ready to accept connections" in line:
                m = PG.search(line)
                if m:
                    first("db_ready", epoch(m.group(1), "%Y-%m-%d %H:%M:%S"))
            elif "Ready to accept connections" in line:
                m = REDIS.search(line)
                if m:
                    first("cache_ready", epoch(m.group(1), "%d %b %Y %H:%M:%S"))
            elif " starting: database " in line:
                m = ISO.search(line)
                if m:
                    first("api_start", epoch(m.group(1), "%Y-%m-%dT%H:%M:%S"))
            elif re.search(r'"(GET|HEAD) /healthz" 200', line) and "/api/" not in line:
                m = ISO.search(line)
                if m:
                    first("api_healthy", epoch(m.group(1), "%Y-%m-%dT%H:%M:%S"))
            elif "listening on http" in line and ", api at " in line:
                m = ISO.search(line)
                if m:
                    first("web_start", epoch(m.group(1), "%Y-%m-%dT%H:%M:%S"))
    return found


EVENT = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}) ([a-z][a-z0-9-]*(?:\.\d+)?): "
                   r"(started|healthy|ready|stopping|stopped)\b")


def events(path):
    """aspirec.log's times are local: the tests run with TZ=UTC."""
    found = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = EVENT.match(line)
            if m:
                found.setdefault("%s %s" % (m.group(2), m.group(3)), epoch(m.group(1), "%Y-%m-%dT%H:%M:%S"))
    return found


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd = argv[1]
    if cmd == "http":
        try:
            status, body = http(argv[2], argv[3], argv[4] if len(argv) > 4 else None)
        except (OSError, urllib.error.URLError) as e:
            print("unreachable: %s" % e)
            return 1
        print(status)
        print(body, end="" if body.endswith("\n") else "\n")
        return 0
    if cmd == "wait-http":
        url, limit = argv[2], float(argv[3])
        want = int(argv[4]) if len(argv) > 4 else 200
        deadline, last = time.monotonic() + limit, "no answer"
        while time.monotonic() < deadline:
            try:
                status, body = http("GET", url, timeout=3)
                if status == want:
                    return 0
                last = "%d %s" % (status, body.strip()[:200])
            except (OSError, urllib.error.URLError) as e:
                last = str(e)
            time.sleep(0.2)
        print("timed out after %ss waiting for %s: %s" % (argv[3], url, last))
        return 1
    if cmd == "procs":
        for line in procs(argv[2], argv[3], argv[4] if len(argv) > 4 else ""):
            print(line)
        return 0
    if cmd == "alive":
        for it in alive(argv[2:]):
            print(it)
        return 0
    if cmd == "env":
        env = read("/proc/%s/environ" % argv[2], True).split(b"\0")
        pre = (argv[3] + "=").encode()
        for e in env:
            if e.startswith(pre):
                print(e[len(pre):].decode("utf-8", "replace"))
                return 0
        return 1
    if cmd == "order":
        print(json.dumps(order(argv[2])))
        return 0
    if cmd == "events":
        print(json.dumps(events(argv[2])))
        return 0
    if cmd == "free-port":
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])
        s.close()
        return 0
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
