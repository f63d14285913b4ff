#!/usr/bin/env python3
"""Print the upgrade benchmark table from the timing JSON files (hyperfine's format).

Usage: report_upgrade.py OUT_DIR
Reads OUT_DIR/meta.json, idp-one.json, idp-one-big.json, copier-update.json (one timed run per
service/project), fleet-idp.json and fleet-copier.json (one run each, bench/run_once.py),
fleet-idp-receipt.json (idp's fleet summary), verify-idp.json, verify-copier.json and checks.txt.
Writes OUT_DIR/report.txt and OUT_DIR/summary.json, and prints the report.
"""
import json
import os
import sys

from report import load, stats  # bench/report.py: hyperfine JSON, pooled runs

TARGET_RATIO = 50.0
TARGET_FLEET = 1000
TARGET_FLEET_S = 10.0


def others(out, key, st):
    """Share of the machine's CPU that other processes used while KEY's timed runs ran (from the
    /proc/stat snapshots in KEY.cpu), or None."""
    try:
        with open(os.path.join(out, key + ".cpu"), encoding="ascii") as f:
            t0, s0, t1, s1 = f.read().splitlines()[:4]
    except (OSError, ValueError):
        return None
    hz = os.sysconf("SC_CLK_TCK")

    def busy(line):  # cpu user nice system idle iowait irq softirq ...
        v = [int(x) for x in line.split()[1:8]]
        return (v[0] + v[1] + v[2] + v[5] + v[6]) / hz

    elapsed = float(t1) - float(t0)
    mine = st["runs"] * (st["user"] + st["system"]) / 1000
    return max(0.0, busy(s1) - busy(s0) - mine) / ((os.cpu_count() or 1) * elapsed)


def once(path):
    d = load(path)
    r = d["results"][0]
    return {"wall_s": r["times"][0], "user_s": r["user"], "system_s": r["system"],
            "max_rss_kb": r.get("max_rss_kb"), "machine": d.get("machine")}


def verdict(ok):
    return "PASS" if ok else "FAIL"


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__)
    out = argv[1]
    m = load(os.path.join(out, "meta.json"))
    F, C = m["fleet"], m["copier_fleet"]
    one = {k: stats(os.path.join(out, k + ".json")) for k in ("idp-one", "idp-one-big", "copier-update")}
    fi, fc = once(os.path.join(out, "fleet-idp.json")), once(os.path.join(out, "fleet-copier.json"))
    receipt = load(os.path.join(out, "fleet-idp-receipt.json"))
    vi, vc = load(os.path.join(out, "verify-idp.json")), load(os.path.join(out, "verify-copier.json"))
    with open(os.path.join(out, "checks.txt"), encoding="utf-8") as f:
        checks = [ln.rstrip("\n") for ln in f if ln.strip()]

    L = []
    L.append(f"idp upgrade benchmark  ({m['date']}, {m['host']})")
    L.append(f"  idp:    {m['idp_bin']}  ({m['idp_version']})")
    if m.get("debug_build"):
        L.append("          DEBUG build: numbers are not representative; use a release build (default IDP_BIN)")
    L.append(f"  copier: {m['copier_version']}  (template: {m['template_dir']}, git tags v1 = idp 1.0.0, "
             f"v2 = idp 2.0.0; {m['files']} files)")
    L.append(f"  timer:  {m['runner']}; one service: {m['runs']} timed runs, each on a service/project of its "
             f"own,\n          after {m['warmup']} untimed warmups (on other services); fleets: one run each "
             f"(python perf_counter + wait4)")
    L.append(f"  work dir on {m['fs']}; load average before the timings: {m['load_before']}; "
             f"after: {m['load_after']}")
    L.append("")

    rows = [
        (f"idp upgrade SERVICE, workspace with {m['one_ws_services']} services", "idp-one", m["idp_files_changed"]),
        (f"idp upgrade SERVICE, workspace with {m['big_ws_services']} services", "idp-one-big", m["idp_files_changed"]),
        ("copier update --vcs-ref v2, fresh copy of the project", "copier-update", m["copier_files_changed"]),
    ]
    w = max(len(r[0]) for r in rows)
    L.append("  ONE SERVICE, 1.0.0 -> 2.0.0, two team edits merged (catalog-info.yaml, Dockerfile)")
    L.append(f"  {'whole process, wall clock (ms)':<{w}}  {'changed':>7}  {'min':>8}  {'median':>8}  {'max':>8}"
             f"  {'user':>7}  {'sys':>7}  {'others':>6}")
    busy = {}
    for label, key, files in rows:
        x = one[key]
        busy[key] = others(out, key, x)
        b = "" if busy[key] is None else f"{busy[key] * 100:5.0f}%"
        L.append(f"  {label:<{w}}  {files:>7}  {x['min']:>8.1f}  {x['median']:>8.1f}  {x['max']:>8.1f}"
                 f"  {x['user']:>7.1f}  {x['system']:>7.1f}  {b:>6}")
    L.append("  changed: files the upgrade changed, added, removed or renamed (idp: its receipt, in 2 repos;"
             " copier: git status)")
    L.append("  user/sys: mean CPU time of the process and its children; others: share of the machine's CPU")
    L.append("  used by other processes while these runs were timed (0% on an idle machine)")
    if any(b is not None and b > 0.10 for b in busy.values()):
        L.append("  => the machine was NOT idle during some timings (others > 10%): those numbers are pessimistic")
    cop = one["copier-update"]["median"]
    ratio = cop / one["idp-one"]["median"]
    ratio_big = cop / one["idp-one-big"]["median"]
    L.append("")
    L.append(f"  idp is {ratio:.1f}x faster than copier update per service "
             f"(copier median {cop:.0f} ms / idp median {one['idp-one']['median']:.1f} ms)")
    L.append(f"  in the workspace with {m['big_ws_services']} services: {ratio_big:.1f}x "
             f"(idp median {one['idp-one-big']['median']:.1f} ms)")
    L.append("")

    idp_ms = fi["wall_s"] * 1000 / F
    cop_ms = fc["wall_s"] * 1000 / C
    L.append("  FLEET (one run each)")
    fw = 52
    def other_share(x):
        mach = x.get("machine")
        return "" if not mach else f"{mach['other_load'] / (m['cpus'] * x['wall_s']) * 100:5.0f}%"

    L.append(f"  {'':<{fw}}  {'services':>8}  {'wall (s)':>9}  {'ms/svc':>8}  {'user (s)':>8}  {'sys (s)':>8}"
             f"  {'others':>6}")
    L.append(f"  {'idp upgrade --all (one process, parallel)':<{fw}}  {F:>8}  {fi['wall_s']:>9.2f}  {idp_ms:>8.1f}"
             f"  {fi['user_s']:>8.2f}  {fi['system_s']:>8.2f}  {other_share(fi):>6}")
    L.append(f"  {'copier update, one project after another':<{fw}}  {C:>8}  {fc['wall_s']:>9.2f}  {cop_ms:>8.1f}"
             f"  {fc['user_s']:>8.2f}  {fc['system_s']:>8.2f}  {other_share(fc):>6}")
    L.append(f"  {f'copier update, extrapolated to {F} projects':<{fw}}  {F:>8}  {cop_ms * F / 1000:>9.1f}")
    L.append(f"  idp fleet summary: {receipt['upgraded']} upgraded, {receipt['conflicts']} with conflicts, "
             f"{receipt['failed']} failed, {receipt['up_to_date']} already up to date")
    fleet_ratio = cop_ms / idp_ms
    L.append(f"  per service in the fleets: idp is {fleet_ratio:.1f}x faster than copier update "
             f"({cop_ms:.0f} ms / {idp_ms:.1f} ms)")
    L.append("")

    projected = idp_ms * TARGET_FLEET / 1000
    fleet_ok = (fi["wall_s"] if F == TARGET_FLEET else projected) < TARGET_FLEET_S
    L.append("  GOALS (issue 6, quality bar)")
    L.append(f"    >= {TARGET_RATIO:.0f}x faster than copier update per service:   {ratio:7.1f}x  {verdict(ratio >= TARGET_RATIO)}"
             f"   (fleet per service: {fleet_ratio:.1f}x {verdict(fleet_ratio >= TARGET_RATIO)})")
    if F == TARGET_FLEET:
        L.append(f"    {TARGET_FLEET:,} services in under {TARGET_FLEET_S:.0f} s on {m['cpus']} cores:        "
                 f"{fi['wall_s']:7.2f} s  {verdict(fleet_ok)}")
    else:
        L.append(f"    {TARGET_FLEET:,} services in under {TARGET_FLEET_S:.0f} s on {m['cpus']} cores:        "
                 f"{projected:7.2f} s  {verdict(fleet_ok)} (PROJECTED from FLEET={F}: {idp_ms:.1f} ms/service;"
                 f" run with the default FLEET=1000)")
    L.append("")

    mach = fi.get("machine")
    L.append("  MACHINE during the idp fleet run")
    cpu_s = fi["user_s"] + fi["system_s"]
    L.append(f"    idp used {cpu_s:.2f} CPU-s in {fi['wall_s']:.2f} s on {m['cpus']} cores "
             f"({cpu_s / fi['wall_s'] / m['cpus'] * 100:.0f}% of the machine); sys is "
             f"{fi['system_s'] / cpu_s * 100:.0f}% of its CPU time; max RSS {fi['max_rss_kb'] / 1024:.0f} MiB")
    disk_bound = False
    if mach:
        c = mach["cpu_seconds"]
        cap = m["cpus"] * fi["wall_s"]
        wait = c.get("iowait", 0) + c.get("idle", 0)
        L.append(f"    all CPUs: user {c['user']:.1f}, sys {c['system']:.1f}, iowait {c.get('iowait', 0):.1f}, "
                 f"idle {c['idle']:.1f} CPU-s (of {cap:.1f}); other processes ~{mach['other_load']:.1f} CPU-s")
        disk_bound = wait / cap > 0.25
        if disk_bound:
            L.append(f"    => the CPUs waited {wait / cap * 100:.0f}% of the time (idle + iowait): the run is "
                     "disk-bound (idp fsyncs every commit and its state), not CPU-bound")
        if mach["other_load"] > 0.1 * cap:
            L.append("    => something else used the CPUs during the run: the numbers are pessimistic")
    if fi["system_s"] > 0.4 * cpu_s:
        L.append("    => sys time is large: most of idp's CPU goes to the kernel (file creation, fsync, "
                 "git object writes): disk/filesystem-bound")
    L.append(f"    (TMPDIR=/dev/shm puts the workspaces on tmpfs, which takes the disk out)")
    L.append("")

    L.append("  CHECKS (outside the timings)")
    for c in checks:
        L.append(f"    {c}")
    L.append(f"    idp's upgrade vs a fresh 2.0.0 render + the edits: {vi['identical']} identical"
             + (f", same data: {', '.join(vi['same_data'])}" if vi["same_data"] else "")
             + (f", differ: {', '.join(vi['differ'])}" if vi["differ"] else "")
             + (f", MISSING: {', '.join(vi['missing'])}" if vi["missing"] else "")
             + (f", EXTRA: {', '.join(vi['extra'])}" if vi["extra"] else ""))
    L.append(f"    copier's update vs the same:                      {vc['identical']} identical"
             + (f", same data: {', '.join(vc['same_data'])}" if vc["same_data"] else "")
             + (f", differ: {', '.join(vc['differ'])}" if vc["differ"] else "")
             + (f", MISSING: {', '.join(vc['missing'])}" if vc["missing"] else "")
             + (f", EXTRA: {', '.join(vc['extra'])}" if vc["extra"] else ""))
    L.append("    (diffs: verify-idp.diff, verify-copier.diff; .idp/scaffold.json left out: a copier template "
             "cannot compute its hashes)")
    L.append("")
    L.append("  NOTES")
    L.append("    copier update re-renders the OLD template version (v1) into a temporary directory to get its")
    L.append("    merge base, renders v2, and applies the difference to the work tree; it needs the old template")
    L.append("    to still render, and it leaves the result uncommitted: no commit, no branch, no change request.")
    L.append("    idp takes its merge base from the scaffold stamp (stored renders, no old template), runs the")
    L.append("    migrations, merges by keys/lines, checks policy and guardrails, commits one upgrade commit per")
    L.append("    repo (service + GitOps) on a branch with a change request, merges it, and audits it.")
    L.append("    Fleet preparation is not timed; copier's fleet is smaller (COPIER_FLEET) and extrapolated linearly.")

    text = "\n".join(L) + "\n"
    summary = {
        "meta": m, "one_service_ms": one, "fleet": {"idp": fi, "copier": fc, "idp_receipt": receipt},
        "ratio_per_service": ratio, "ratio_per_service_big_ws": ratio_big, "ratio_fleet_per_service": fleet_ratio,
        "targets": {
            "at_least_50x": ratio >= TARGET_RATIO,
            "fleet_1000_under_10s": fleet_ok, "fleet_projected": F != TARGET_FLEET,
            "fleet_1000_seconds": fi["wall_s"] if F == TARGET_FLEET else projected,
        },
        "others_share": busy, "disk_bound": disk_bound, "verify": {"idp": vi, "copier": vc}, "checks": checks,
    }
    with open(os.path.join(out, "report.txt"), "w", encoding="utf-8") as f:
        f.write(text)
    with open(os.path.join(out, "summary.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2)
    sys.stdout.write(text)


if __name__ == "__main__":
    main(sys.argv)
