#!/usr/bin/env python3
"""Time one long command once (a fleet upgrade), keeping its output.

Usage: run_once.py --export-json FILE [--stdout FILE] [--stderr FILE] -- COMMAND ARGS...

Runs COMMAND (no shell) with stdout and stderr written to the given files (default: discarded),
timed with time.perf_counter (wall clock) and os.wait4 (user/system CPU of the process and its
children).  It also reads /proc/stat before and after, so the JSON says what the whole machine's
CPUs did meanwhile (user, system, iowait, idle, in CPU-seconds): a run whose CPUs sit in iowait
or idle is waiting on the disk (fsync), not computing; a large `other_load` means something else
was running.  Writes hyperfine-compatible JSON ({"results": [{"command", "times", "user",
"system", ...}]}) plus "machine".  A non-zero exit is an error (the output files are kept).
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import time


def cpu_times():
    # First line of /proc/stat: cpu user nice system idle iowait irq softirq steal ... (USER_HZ ticks)
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except OSError:
        return None
    hz = os.sysconf("SC_CLK_TCK")
    names = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"]
    return {n: fields[i] / hz for i, n in enumerate(names) if i < len(fields)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--export-json", required=True)
    ap.add_argument("--stdout", default=os.devnull)
    ap.add_argument("--stderr", default=os.devnull)
    ap.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.command[1:] if a.command[:1] == ["--"] else a.command
    if not cmd:
        sys.exit("error: no command")

    with open(a.stdout, "wb") as out, open(a.stderr, "wb") as err:
        before = cpu_times()
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        after = cpu_times()
    code = os.waitstatus_to_exitcode(status)
    machine = None
    if before and after:
        d = {k: after[k] - before[k] for k in after}
        busy = d["user"] + d["nice"] + d["system"] + d.get("irq", 0) + d.get("softirq", 0)
        machine = {
            "cpus": os.cpu_count(),
            "cpu_seconds": {k: round(v, 2) for k, v in d.items()},
            # CPU time spent by everything else on the machine meanwhile (approximate).
            "other_load": round(max(0.0, busy - ru.ru_utime - ru.ru_stime), 2),
        }
    with open(a.export_json, "w", encoding="utf-8") as f:
        json.dump({"results": [{
            "command": shlex.join(cmd), "mean": wall, "stddev": 0.0, "median": wall,
            "user": ru.ru_utime, "system": ru.ru_stime, "min": wall, "max": wall,
            "times": [wall], "exit_codes": [code], "max_rss_kb": ru.ru_maxrss,
        }], "machine": machine}, f, indent=2)
    if code != 0:
        sys.exit(f"error: command exited {code}: {shlex.join(cmd)} (stderr: {a.stderr})")
    print(f"  1 run: {wall:.2f} s wall, {ru.ru_utime:.2f} s user, {ru.ru_stime:.2f} s sys"
          + (f"; machine meanwhile: iowait {machine['cpu_seconds'].get('iowait', 0):.1f} CPU-s, "
             f"idle {machine['cpu_seconds']['idle']:.1f} CPU-s" if machine else ""))


if __name__ == "__main__":
    main()
