#!/usr/bin/env python3
"""Run-mode benchmark: aspirec --run beside supervisord and foreman (run by bench.sh).

Start: N listeners (bench/run/listener.c, one port each). Each supervisor
starts the same N processes on the same ports; "up" is when every port
accepts a connection, polled by this script (every 1 ms), the same way for
all. For aspirec each listener has a tcp health check and one more resource
`ready` waits for all of them and writes the time: "healthy" is when
aspirec itself saw them all healthy. "direct" is launch.c starting the N
processes (posix_spawn one after the other, no supervisor): the processes'
own start time.

Logs: M noisy processes (noisy.c) writing MB megabytes of 100-byte lines in
total through each supervisor to a file; MB/s from launch to the last line
on disk, and whether every line arrived.

Memory: the supervisor's peak RSS (VmHWM of its own processes, not of the
listeners), read at the end of each run.
"""

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import time


def now():
    return time.time()


# ---- processes ------------------------------------------------------------------

def tagged(tag):
    """Live pids whose environment holds BENCH_TAG=tag."""
    needle = ("BENCH_TAG=" + tag).encode()
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open("/proc/%s/environ" % d, "rb") as f:
                if needle in f.read().split(b"\0"):
                    with open("/proc/%s/stat" % d) as s:
                        if s.read().rsplit(")", 1)[1].split()[0] != "Z":
                            pids.append(int(d))
        except OSError:
            pass
    return pids


def descendants(root):
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    rest = f.read().rsplit(")", 1)[1].split()
                if rest[0] != "Z":
                    kids.setdefault(int(rest[1]), []).append(int(d))
            except OSError:
                pass
    out, todo = [], [root]
    while todo:
        for c in kids.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def exe_of(pid):
    try:
        return os.readlink("/proc/%d/exe" % pid)
    except OSError:
        return ""


def comm_of(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return "?"


def hwm_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def own_peak_kb(root, workers, skip_root=False):
    """Peak RSS of the supervisor's own processes: root (unless skip_root:
    /usr/bin/time) and its descendants other than the workload (whose
    executables are in `workers`)."""
    workers = {os.path.realpath(w) for w in workers}
    total, names = (0, []) if skip_root else (hwm_kb(root), [comm_of(root)])
    for pid in descendants(root):
        exe = exe_of(pid)
        if exe in workers:
            continue
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                cmd = f.read()
        except OSError:
            cmd = b""
        total += hwm_kb(pid)
        names.append(comm_of(pid))
    return total, names


def stop(proc, tag, sig=signal.SIGTERM, limit=20.0, group=False):
    """Stops the supervisor (with group, its whole process group: behind
    /usr/bin/time), waits, then kills whatever of the run is left.
    Returns (seconds to stop, number of processes that had to be killed)."""
    t = now()
    if proc.poll() is None:
        try:
            if group:
                os.killpg(proc.pid, sig)
            else:
                proc.send_signal(sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(limit)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    # The workload may take a moment to go after its supervisor.
    deadline = now() + 3
    left = tagged(tag)
    while left and now() < deadline:
        time.sleep(0.02)
        left = tagged(tag)
    elapsed = now() - t
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return elapsed, len(left)


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def wait_ports(ports, limit, proc=None):
    """Time at which the last port accepted a connection (None on timeout)."""
    pending = list(ports)
    deadline = now() + limit
    while pending:
        t = now()
        still = []
        for p in pending:
            s = socket.socket()
            try:
                s.connect(("127.0.0.1", p))
            except OSError:
                still.append(p)
            finally:
                s.close()
        pending = still
        if not pending:
            return t
        if now() > deadline or (proc is not None and proc.poll() is not None):
            return None
        time.sleep(0.001)
    return now()


# ---- the programs each supervisor runs -----------------------------------------------

def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def gen_start(d, listener, ports, interval):
    os.makedirs(d, exist_ok=True)
    names = ["l%03d" % i for i in range(len(ports))]
    # aspirec
    apx = ["// generated by bench/run/bench.py: %d listeners, then `ready`" % len(ports)]
    for n, p in zip(names, ports):
        apx.append('executable %s {\n  command = "%s"\n  args = ["${self.endpoints.tcp.port}"]\n'
                   '  endpoint tcp { port = %d }\n  health { tcp = "tcp"  interval = %s }\n}' % (n, listener, p, interval))
    apx.append('executable ready {\n  command = "sh"\n  args = ["-c", "date +%%s.%%N > ready.stamp"]\n'
               '  wait_for = [%s]\n}' % ", ".join(names))
    write(os.path.join(d, "start.apx"), "\n".join(apx) + "\n")
    # supervisord
    conf = ["[supervisord]", "nodaemon=true", "logfile=%s/supervisord.log" % d, "pidfile=%s/supervisord.pid" % d,
            "childlogdir=%s" % d, "loglevel=warn", ""]
    for n, p in zip(names, ports):
        conf += ["[program:%s]" % n, "command=%s %d" % (listener, p), "autostart=true", "autorestart=false",
                 "startsecs=0", "stdout_logfile=NONE", "stderr_logfile=NONE", ""]
    write(os.path.join(d, "supervisord.conf"), "\n".join(conf))
    # foreman
    write(os.path.join(d, "Procfile"), "".join("%s: %s %d\n" % (n, listener, p) for n, p in zip(names, ports)))


def gen_logs(d, noisy, m, mb_each):
    os.makedirs(d, exist_ok=True)
    names = ["noisy%02d" % i for i in range(m)]
    apx = ["// generated by bench/run/bench.py: %d noisy processes, %d MB each" % (m, mb_each)]
    for i, n in enumerate(names):
        apx.append('executable %s {\n  command = "%s"\n  args = ["%d", "%d"]\n  restart = "no"\n}'
                   % (n, noisy, i, mb_each))
    write(os.path.join(d, "logs.apx"), "\n".join(apx) + "\n")
    conf = ["[supervisord]", "nodaemon=true", "logfile=%s/supervisord.log" % d, "pidfile=%s/supervisord.pid" % d,
            "childlogdir=%s" % d, "loglevel=warn", ""]
    for i, n in enumerate(names):
        conf += ["[program:%s]" % n, "command=%s %d %d" % (noisy, i, mb_each), "autostart=true",
                 "autorestart=false", "startsecs=0", "redirect_stderr=true",
                 "stdout_logfile=%s/%s.log" % (d, n), "stdout_logfile_maxbytes=0", "stdout_logfile_backups=0", ""]
    write(os.path.join(d, "supervisord.conf"), "\n".join(conf))
    write(os.path.join(d, "Procfile"), "".join("%s: %s %d %d\n" % (n, noisy, i, mb_each)
                                               for i, n in enumerate(names)))
    return names


# ---- runs --------------------------------------------------------------------------------

def launch(argv, cwd, tag, out_path):
    env = dict(os.environ, BENCH_TAG=tag, NO_COLOR="1")
    out = open(out_path, "wb")
    t0 = now()
    p = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    out.close()
    return p, t0


def run_start(kind, args, d, ports, listener, rnd):
    """One start run: returns a dict of figures."""
    tag = "bench-%d-%s-%d" % (os.getpid(), kind, rnd)
    out = os.path.join(d, "%s.out" % kind)
    stamp = os.path.join(d, "ready.stamp")
    if os.path.exists(stamp):
        os.unlink(stamp)
    res = {"kind": kind}
    if kind == "direct":
        # launch.c: posix_spawn of each listener, nothing else in between.
        argv = [args.launch, listener] + [str(p) for p in ports]
        proc, t0 = launch(argv, d, tag, out)
        try:
            t = wait_ports(ports, 30, proc)
            res["up"] = None if t is None else t - t0
        finally:
            stop(proc, tag)
        return res
    if kind == "aspirec":
        argv = [args.aspirec, os.path.join(d, "start.apx"), "--run", "--state-dir", os.path.join(d, "state-aspirec"),
                "--grace", "5s"]
    elif kind == "supervisord":
        argv = ["supervisord", "-n", "-c", os.path.join(d, "supervisord.conf")]
    else:
        argv = ["foreman", "start", "--no-timestamp", "-f", os.path.join(d, "Procfile"), "-d", d]
    proc, t0 = launch(argv, d, tag, out)
    try:
        t = wait_ports(ports, 60, proc)
        res["up"] = None if t is None else t - t0
        if kind == "aspirec" and t is not None:
            deadline = now() + 30
            while now() < deadline and proc.poll() is None:
                try:
                    with open(stamp) as f:
                        res["healthy"] = float(f.read().strip()) - t0
                    break
                except (OSError, ValueError):
                    time.sleep(0.002)
        if res.get("up") is None:
            res["error"] = "not all ports up (see %s)" % out
        time.sleep(1.0)   # steady state: health checks keep running
        res["rss_kb"], res["procs"] = own_peak_kb(proc.pid, {listener})
    finally:
        res["stop"], res["killed"] = stop(proc, tag)
    return res


def run_logs(kind, args, d, names, mb_each, rnd):
    tag = "bench-%d-logs-%s-%d" % (os.getpid(), kind, rnd)
    for f in os.listdir(d):
        if f.endswith(".log") or f.endswith(".out") or f.startswith("state-"):
            path = os.path.join(d, f)
            if os.path.isdir(path):
                subprocess.run(["rm", "-rf", path])
            else:
                os.unlink(path)
    out = os.path.join(d, "%s.out" % kind)
    noisy = args.noisy_bin
    if kind == "direct":
        files = [os.path.join(d, "%s.log" % n) for n in names]
        env = dict(os.environ, BENCH_TAG=tag)
        procs = []
        try:
            t0 = now()
            for i, f in enumerate(files):
                fh = open(f, "wb")
                procs.append(subprocess.Popen([noisy, str(i), str(mb_each)], env=env, stdout=fh,
                                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
                fh.close()
            for p in procs:
                p.wait()
            res = {"kind": kind, "seconds": now() - t0}
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        res["lines"] = count_lines(files, len(names))
        return res
    if kind == "aspirec":
        argv = [args.aspirec, os.path.join(d, "logs.apx"), "--run", "--state-dir", os.path.join(d, "state-aspirec"),
                "--grace", "5s"]
        files = [out]
    elif kind == "supervisord":
        argv = ["supervisord", "-n", "-c", os.path.join(d, "supervisord.conf")]
        files = [os.path.join(d, "%s.log" % n) for n in names]
    else:
        argv = ["foreman", "start", "--no-timestamp", "-f", os.path.join(d, "Procfile"), "-d", d]
        files = [out]
    # aspirec exits by itself once all are done, and a process's peak RSS
    # cannot be read once it is gone: GNU time reports it (%M, from wait4).
    # (Python's own wait4 would not do: the peak of the process that forked
    # survives exec, so a child of this script reports this script's RSS.)
    rss_file = os.path.join(d, "%s.maxrss" % kind)
    if os.path.exists(rss_file):
        os.unlink(rss_file)
    proc, t0 = launch(["/usr/bin/time", "-f", "%M", "-o", rss_file] + argv, d, tag, out)
    res = {"kind": kind}
    try:
        peak = [0]

        def sample():          # while it runs: the sum over its own processes (aspirec: and its watchdog)
            if proc.returncode is None:
                kb, _ = own_peak_kb(proc.pid, {noisy}, skip_root=True)
                peak[0] = max(peak[0], kb)
        sample.info = {}
        t = wait_done(files, len(names), 300, proc, sample)
        res["seconds"] = None if t is None else t - t0
        sample()
    finally:
        res["stop"], res["killed"] = stop(proc, tag, group=True)
    try:
        with open(rss_file) as f:
            timed = int(f.read().split()[-1])
    except (OSError, ValueError, IndexError):
        timed = 0
    res["rss_kb"] = max(peak[0], timed)
    res["lines"] = count_lines(files, len(names))
    return res


def reap(proc, info):
    """Like proc.poll(), but keeps the exited process's peak RSS (wait4)."""
    if proc.returncode is not None:
        return True
    pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
    if pid == 0:
        return False
    proc.returncode = os.waitstatus_to_exitcode(status)
    info["maxrss_kb"] = ru.ru_maxrss
    return True


def wait_done(files, m, limit, proc, sample):
    """Waits until m `NOISY-DONE` lines are in the files, reading them as they
    grow, slowly (every 100 ms, to take little CPU from what is measured).
    Returns the time of the last write: the newest modification time."""
    offs, tails, done = {}, {}, 0
    deadline = now() + limit
    while now() < deadline:
        if not reap(proc, sample.info):
            sample()
        for f in files:
            try:
                with open(f, "rb") as fh:
                    fh.seek(offs.get(f, 0))
                    data = fh.read()
            except OSError:
                continue
            if data:
                offs[f] = offs.get(f, 0) + len(data)
                chunk = tails.get(f, b"") + data
                done += chunk.count(b"NOISY-DONE")
                # keep a tail that cannot hold a whole marker, so none is counted twice
                tails[f] = chunk[-9:]
        if done >= m:
            time.sleep(0.2)   # what the supervisor says after the last line is not part of it
            return max(os.stat(f).st_mtime for f in files if os.path.exists(f)) if m else now()
        if reap(proc, sample.info) and done < m:
            time.sleep(0.05)
            if all(os.path.getsize(f) == offs.get(f, 0) for f in files if os.path.exists(f)):
                return None
        time.sleep(0.1)
    return None


def count_lines(files, m):
    """Checks every noisy line: returns 'all' or a description of what is missing."""
    want = None
    seen = {}
    for f in files:
        try:
            fh = open(f, "rb")
        except OSError:
            continue
        with fh:
            for line in fh:
                i = line.find(b"NOISY ")
                if i >= 0:
                    parts = line[i:].split(b" ", 3)
                    seen[parts[1]] = seen.get(parts[1], 0) + 1
                elif b"NOISY-DONE" in line:
                    want = int(line.rsplit(b"lines=", 1)[1].split()[0]) if b"lines=" in line else want
    total = sum(seen.values())
    if want is None:
        return "%d lines, no end marker" % total
    missing = m * want - total
    return "all %d" % total if missing == 0 else "%d of %d lost" % (missing, m * want)


# ---- report ------------------------------------------------------------------------------

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, unit, digits=1):
    return "-" if x is None else ("%.*f %s" % (digits, x, unit)).strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--aspirec", default="")
    ap.add_argument("--out", required=True)
    ap.add_argument("--listener", required=True)
    ap.add_argument("--noisy-bin", required=True)
    ap.add_argument("--launch", required=True, help="the direct launcher (launch.c)")
    ap.add_argument("-n", type=int, default=100, help="listeners (100)")
    ap.add_argument("--rounds", type=int, default=5, help="runs of each, median reported (5)")
    ap.add_argument("--interval", default="25ms", help="aspirec's health-check interval (25ms)")
    ap.add_argument("--noisy", type=int, default=10, help="noisy processes (10)")
    ap.add_argument("--log-mb", type=int, default=100, help="MB written in total (100)")
    ap.add_argument("--only", default="direct,aspirec,supervisord,foreman")
    ap.add_argument("--skip-logs", action="store_true", help="leave out the log throughput runs")
    ap.add_argument("--skip-start", action="store_true", help="leave out the start runs")
    args = ap.parse_args()
    kinds = [k for k in args.only.split(",") if k]
    if not args.aspirec and "aspirec" in kinds:
        kinds.remove("aspirec")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    start_dir = os.path.join(args.out, "start")
    ports = free_ports(args.n)
    gen_start(start_dir, args.listener, ports, args.interval)
    print("bench: %d listeners (%s), %d round(s) each; programs in %s" % (args.n, args.listener, args.rounds, start_dir))
    sys.stdout.flush()

    # One listener alone: launch -> accepting, 20 times.
    single = []
    for _ in range(20):
        p = free_ports(1)[0]
        t0 = now()
        pr = subprocess.Popen([args.listener, str(p)], stdin=subprocess.DEVNULL)
        t = wait_ports([p], 5)
        single.append(t - t0)
        pr.kill()
        pr.wait()

    results = {k: [] for k in kinds}
    for rnd in range(0 if args.skip_start else args.rounds):
        for k in kinds:
            r = run_start(k, args, start_dir, ports, args.listener, rnd)
            results[k].append(r)
            print("  round %d %-11s up %s%s%s%s" % (
                rnd + 1, k, fmt(r.get("up") and r["up"] * 1000, "ms"),
                "  healthy %s" % fmt(r["healthy"] * 1000, "ms") if "healthy" in r else "",
                "  peak RSS %s" % fmt(r["rss_kb"] / 1024, "MB") if "rss_kb" in r else "",
                "  ERROR %s" % r["error"] if "error" in r else ""))
            sys.stdout.flush()

    logres = {}
    if not args.skip_logs:
        log_dir = os.path.join(args.out, "logs")
        mb_each = max(1, args.log_mb // args.noisy)
        names = gen_logs(log_dir, args.noisy_bin, args.noisy, mb_each)
        print("bench: log throughput, %d processes x %d MB; programs in %s" % (args.noisy, mb_each, log_dir))
        runs = {k: [] for k in kinds}
        for rnd in range(args.rounds):
            for k in kinds:
                r = run_logs(k, args, log_dir, names, mb_each, rnd)
                runs[k].append(r)
                print("  round %d %-11s %s  %s%s" % (rnd + 1, k, fmt(r.get("seconds"), "s", 2), r["lines"],
                                                   "  peak RSS %s" % fmt(r["rss_kb"] / 1024, "MB") if "rss_kb" in r else ""))
                sys.stdout.flush()
        for k in kinds:
            rs = runs[k]
            lost = [r["lines"] for r in rs if not r["lines"].startswith("all ")]
            logres[k] = {"seconds": med([r.get("seconds") for r in rs]),
                         "rss_kb": max(r.get("rss_kb", 0) for r in rs),
                         "lines": lost[0] if lost else rs[0]["lines"]}
        for f in os.listdir(log_dir):      # the big files are not kept
            if f.endswith(".log") or f.endswith(".out") or f.startswith("state-"):
                subprocess.run(["rm", "-rf", os.path.join(log_dir, f)])

    # ---- the table
    direct_up = med([r.get("up") for r in results.get("direct", [])])
    total_mb = max(1, args.log_mb // args.noisy) * args.noisy * 1.0
    if not args.skip_start:
        print_start(args, kinds, results, direct_up, single)
    if logres:
        print_logs(args, kinds, logres, total_mb)
    if "aspirec" in results:
        print_goals(args, results, logres, direct_up, total_mb)


def print_start(args, kinds, results, direct_up, single):
    print()
    print("Start %d listeners (median of %d; one listener alone starts in %.2f ms, median of 20)"
          % (args.n, args.rounds, statistics.median(single) * 1000))
    hdr = "%-12s %12s %14s %16s %12s %10s" % ("", "all ports up", "all healthy", "added/resource", "peak RSS", "stop")
    print(hdr)
    print("-" * len(hdr))
    for k in kinds:
        rs = results[k]
        up = med([r.get("up") for r in rs])
        healthy = med([r.get("healthy") for r in rs])
        rss = max([r.get("rss_kb", 0) for r in rs] or [0])
        stop_s = med([r.get("stop") for r in rs])
        added = None
        if k != "direct" and up is not None and direct_up is not None:
            added = ((healthy if healthy is not None else up) - direct_up) / args.n * 1000
        print("%-12s %12s %14s %16s %12s %10s" % (
            k, fmt(up and up * 1000, "ms"), fmt(healthy and healthy * 1000, "ms"),
            fmt(added, "ms", 2), "-" if k == "direct" else fmt(rss / 1024, "MB"),
            "-" if k == "direct" else fmt(stop_s and stop_s * 1000, "ms", 0)))
    counted = ["%s: %s" % (k, " + ".join(results[k][-1].get("procs", []))) for k in kinds
               if k != "direct" and results[k] and results[k][-1].get("procs")]
    if counted:
        print("peak RSS: the sum of VmHWM over the supervisor's own processes (%s)" % "; ".join(counted))


def print_logs(args, kinds, logres, total_mb):
    if True:
        print()
        print("Logs: %d processes writing %d MB in total (100-byte lines) to a file (median of %d)"
              % (args.noisy, total_mb, args.rounds))
        hdr = "%-12s %10s %10s %12s %s" % ("", "seconds", "MB/s", "peak RSS", "lines")
        print(hdr)
        print("-" * (len(hdr) + 10))
        for k in kinds:
            r = logres[k]
            s = r.get("seconds")
            print("%-12s %10s %10s %12s %s" % (k, fmt(s, "", 2), fmt(s and total_mb / s, "", 0),
                                               "-" if k == "direct" else fmt(r.get("rss_kb", 0) / 1024, "MB"),
                                               r["lines"]))


def print_goals(args, results, logres, direct_up, total_mb):
    if True:
        rs = results["aspirec"]
        healthy = med([r.get("healthy") for r in rs])
        up = med([r.get("up") for r in rs])
        added = ((healthy if healthy is not None else up) - direct_up) / args.n * 1000 \
            if direct_up is not None and (healthy or up) else None
        rss = max([r.get("rss_kb", 0) for r in rs] + [logres.get("aspirec", {}).get("rss_kb", 0)]) / 1024
        thr = None
        if "aspirec" in logres and logres["aspirec"].get("seconds"):
            thr = total_mb / logres["aspirec"]["seconds"]
        print()
        print("Goals (issue 3): aspirec")

        def goal(name, value, target, ok):
            print("  %-46s %-12s %-12s %s" % (name, value, target,
                                                 "not measured" if value == "-" else "met" if ok else "NOT met"))
        goal("added per resource over the processes' own", fmt(added, "ms", 2), "< 2 ms", added is not None and added < 2)
        goal("peak memory (start and log runs)", fmt(rss, "MB"), "< 10 MB", 0 < rss < 10)
        goal("log throughput, %d noisy processes" % args.noisy, fmt(thr, "MB/s", 0), ">= 200 MB/s",
             thr is not None and thr >= 200)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:        # every run stopped its processes on the way out
        print("\nbench: interrupted", file=sys.stderr)
        sys.exit(130)
