#!/usr/bin/env python3
"""Print the golden-path benchmark table from the timing JSON files (hyperfine's format).

Usage: report.py OUT_DIR   (reads OUT_DIR/meta.json, idp-empty.json, idp-ws.json, copier.json, fidelity.json)
Writes OUT_DIR/report.txt and OUT_DIR/summary.json, and prints the report.
"""
import json
import os
import statistics
import sys

TARGET_MS = 100.0
TARGET_RATIO = 20.0


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def stats(path):
    # One result per command; a parameter scan (one run per service name) has several: pool them.
    res = load(path)["results"]
    t = [x * 1000 for r in res for x in r["times"]]

    def mean_of(key):  # hyperfine gives the mean CPU time per result; weight by its run count
        return sum(r.get(key, float("nan")) * len(r["times"]) for r in res) / len(t) * 1000

    return {
        "runs": len(t),
        "min": min(t),
        "median": statistics.median(t),
        "max": max(t),
        "user": mean_of("user"),
        "system": mean_of("system"),
    }


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__)
    out = argv[1]
    meta = load(os.path.join(out, "meta.json"))
    fid = load(os.path.join(out, "fidelity.json"))
    rows = [
        ("idp golden-path run: first service, empty workspace", "idp-empty", fid["idp_files"]),
        (f"idp golden-path run: one more service, workspace with {meta['prefill']}*", "idp-ws", fid["idp_files"]),
        ("copier copy of the same files (no git, no commits)", "copier", fid["copier_files"]),
    ]
    s = {key: stats(os.path.join(out, key + ".json")) for _, key, _ in rows}

    L = []
    L.append(f"idp golden-path benchmark  ({meta['date']}, {meta['host']})")
    L.append(f"  idp:    {meta['idp_bin']}  ({meta['idp_version']})")
    if meta.get("debug_build"):
        L.append("          DEBUG build: numbers are not representative; use a release build (default IDP_BIN)")
    L.append(f"  copier: {meta['copier_version']}  (template: {meta['template_dir']}, {meta['questions']} questions)")
    L.append(f"  timer:  {meta['runner']}; {meta['runs']} timed runs each, every run into a path of its own "
             f"(nothing deleted in between);\n          {meta['warmup']} untimed warmups for idp (empty) and copier; "
             f"work dir on {meta['fs']}")
    L.append("")
    w = max(len(r[0]) for r in rows)
    L.append(f"  {'whole process, wall clock (ms)':<{w}}  {'files':>5}  {'min':>8}  {'median':>8}  {'max':>8}  {'user':>7}  {'sys':>7}")
    for label, key, files in rows:
        x = s[key]
        L.append(f"  {label:<{w}}  {files:>5}  {x['min']:>8.1f}  {x['median']:>8.1f}  {x['max']:>8.1f}"
                 f"  {x['user']:>7.1f}  {x['system']:>7.1f}")
    L.append("  user/sys: mean CPU time of the process and its children")
    L.append(f"  * a new service name every run: run k adds service {meta['prefill']}+k to the same workspace "
             f"(no warmup: the prefill\n    just ran the same work), so it ends with "
             f"{meta['prefill'] + s['idp-ws']['runs']} services")
    L.append("")
    cop = s["copier"]["median"]
    summary = {"targets": {}, "stats": s, "files": {"idp": fid["idp_files"], "copier": fid["copier_files"]}}
    for label, key in (("first service, empty workspace", "idp-empty"),
                       (f"one more service, workspace with {meta['prefill']}", "idp-ws")):
        ratio = cop / s[key]["median"]
        summary["targets"][key] = {
            "median_ms": s[key]["median"], "under_100ms": s[key]["median"] < TARGET_MS,
            "copier_over_idp": ratio, "at_least_20x": ratio >= TARGET_RATIO,
        }
        L.append(f"  {label}: idp is {ratio:.1f}x faster than copier copy alone "
                 f"(copier median {cop:.1f} ms / idp median {s[key]['median']:.1f} ms)")
    L.append("")
    L.append("  targets (issue 2, quality bar):")
    for key, t in summary["targets"].items():
        L.append(f"    {key:<10} whole golden path < {TARGET_MS:.0f} ms as a whole process: "
                 f"{t['median_ms']:7.1f} ms  {'PASS' if t['under_100ms'] else 'FAIL'}")
        L.append(f"    {key:<10} >= {TARGET_RATIO:.0f}x faster than copier copy alone:        "
                 f"{t['copier_over_idp']:7.1f}x   {'PASS' if t['at_least_20x'] else 'FAIL'}")
    L.append("")
    L.append(f"  files: idp {fid['idp_files']} (service repo + GitOps repo), copier {fid['copier_files']}; "
             f"{fid['identical']} byte-identical"
             + (f", differing only in {', '.join(fid['differ'])} (content hashes copier cannot compute)"
                if fid["differ"] else ""))
    L.append("  note: copier does strictly less work. It renders the files into one plain directory. idp also runs")
    L.append("        preflight and policy, creates 2 git repositories, commits each of the 4 steps on its own")
    L.append("        change-request branch and merges it to main, and persists the run state (SQLite).")
    text = "\n".join(L) + "\n"
    with open(os.path.join(out, "report.txt"), "w", encoding="utf-8") as f:
        f.write(text)
    with open(os.path.join(out, "summary.json"), "w", encoding="utf-8") as f:
        json.dump({**summary, "meta": meta}, f, indent=2)
    sys.stdout.write(text)


if __name__ == "__main__":
    main(sys.argv)
