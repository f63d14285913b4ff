#!/usr/bin/env python3
"""Fallback timer for when hyperfine is not available.

Usage: timeit.py --runs N --warmup W [--prepare "CMD ARGS"] [--scan K] --export-json FILE -- COMMAND ARGS...

Like `hyperfine -N --prepare ... --export-json ...`: before every run (warmups included) the prepare
command runs (split with shlex, no shell); the command runs with stdout/stderr discarded and is timed
with time.perf_counter (wall clock) and os.wait4 (user/system CPU).  A non-zero exit is an error.
With --scan K, like hyperfine's `--parameter-scan n 1 K`: one benchmark per n in 1..K, with `{n}` in
COMMAND replaced by n.  Writes hyperfine-compatible JSON ({"results": [{"command", "times", ...}, ...]}).
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time


def run_timed(argv):
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, rusage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode("utf-8", "replace")
    proc.stderr.close()
    if proc.returncode != 0:
        sys.exit(f"error: command exited {proc.returncode}: {shlex.join(argv)}\n{err}")
    return elapsed, rusage.ru_utime, rusage.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, required=True)
    ap.add_argument("--warmup", type=int, default=0)
    ap.add_argument("--prepare", default="")
    ap.add_argument("--scan", type=int, default=0)
    ap.add_argument("--export-json", required=True)
    ap.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.command[1:] if a.command[:1] == ["--"] else a.command
    if not cmd:
        sys.exit("error: no command")
    prepare = shlex.split(a.prepare) if a.prepare else None

    results = []
    for n in range(1, a.scan + 1) if a.scan else [None]:
        argv = [x.replace("{n}", str(n)) for x in cmd] if n is not None else cmd
        results.append(bench(argv, prepare, a.warmup, a.runs))
    with open(a.export_json, "w", encoding="utf-8") as f:
        json.dump({"results": results}, f, indent=2)
    times = [t for r in results for t in r["times"]]
    print(f"  {len(times)} runs: median {statistics.median(times) * 1000:.1f} ms "
          f"(min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f})")


def bench(cmd, prepare, warmup, runs):
    times, users, systems = [], [], []
    for i in range(warmup + runs):
        if prepare:
            subprocess.run(prepare, check=True, stdout=subprocess.DEVNULL)
        t, u, s = run_timed(cmd)
        if i >= warmup:
            times.append(t)
            users.append(u)
            systems.append(s)
    return {
        "command": shlex.join(cmd),
        "mean": statistics.fmean(times),
        "stddev": statistics.stdev(times) if len(times) > 1 else 0.0,
        "median": statistics.median(times),
        "user": statistics.fmean(users),
        "system": statistics.fmean(systems),
        "min": min(times),
        "max": max(times),
        "times": times,
        "exit_codes": [0] * len(times),
    }


if __name__ == "__main__":
    main()
