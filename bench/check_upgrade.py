#!/usr/bin/env python3
"""Check an upgraded service against what the new version renders, plus the team's edits.

Usage: check_upgrade.py [--edited] [--strict] [--diff-out FILE]
                        EXPECT_SERVICE EXPECT_GITOPS RESULT_SERVICE RESULT_GITOPS

EXPECT_* are a fresh render of the new version (clones of the service repo and the GitOps repo
of a workspace that holds only this service).  RESULT_* are the same two trees after an upgrade
from the old version (idp: clones after `idp upgrade`; copier: the project's service directory
and its gitops/ directory after `copier update`).  `.git` directories are skipped.

With --edited, the expected content of catalog-info.yaml and Dockerfile is the new render with
the two team edits of bench/team_edits.py applied, and both edits must be in the result.

Every file is: identical; same data (YAML/JSON/TOML that parses to the same value, only the text
differs); differs; missing (expected, not in the result); or extra (in the result only).  The
scaffold manifests (.idp/scaffold.json) are left out: they hold content hashes that a copier
template cannot compute.  Prints a JSON summary.  Exits 1 if an edit is lost or a file is missing
or extra, and with --strict also if a file differs.  --diff-out writes unified diffs of the files
that are not identical.
"""
import argparse
import difflib
import json
import os
import sys
import tomllib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import team_edits  # noqa: E402

try:
    import yaml  # PyYAML: in bench/.venv (a copier dependency)
except ImportError:  # pragma: no cover
    yaml = None


def walk(root, prefix):
    files = {}
    for d, dirs, names in os.walk(root):
        dirs[:] = [x for x in dirs if x != ".git"]
        for n in names:
            full = os.path.join(d, n)
            files[f"{prefix}/{os.path.relpath(full, root)}"] = full
    return files


def parse(path, text):
    try:
        if path.endswith((".yaml", ".yml")) and yaml is not None:
            return ("ok", list(yaml.safe_load_all(text)))
        if path.endswith(".json"):
            return ("ok", json.loads(text))
        if path.endswith(".toml"):
            return ("ok", tomllib.loads(text))
    except Exception:  # noqa: BLE001 - unparsable text is compared as text
        pass
    return None


def read(p):
    with open(p, encoding="utf-8", newline="") as f:
        return f.read()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--edited", action="store_true")
    ap.add_argument("--strict", action="store_true")
    ap.add_argument("--diff-out")
    ap.add_argument("expect_service")
    ap.add_argument("expect_gitops")
    ap.add_argument("result_service")
    ap.add_argument("result_gitops")
    a = ap.parse_args()

    exp = {**walk(a.expect_service, "service"), **walk(a.expect_gitops, "gitops")}
    res = {**walk(a.result_service, "service"), **walk(a.result_gitops, "gitops")}
    stamps = sorted(p for p in set(exp) | set(res) if p.endswith(".idp/scaffold.json"))
    for p in stamps:
        exp.pop(p, None)
        res.pop(p, None)

    out = {"identical": 0, "same_data": [], "differ": [], "missing": sorted(set(exp) - set(res)),
           "extra": sorted(set(res) - set(exp)), "ignored": stamps}
    diffs = []
    for p in sorted(set(exp) & set(res)):
        want, got = read(exp[p]), read(res[p])
        name = p.removeprefix("service/")
        if a.edited and name in team_edits.EDITS:
            want = team_edits.EDITS[name](want)
        if want == got:
            out["identical"] += 1
            continue
        pw, pg = parse(p, want), parse(p, got)
        (out["same_data"] if pw is not None and pw == pg else out["differ"]).append(p)
        diffs += difflib.unified_diff(want.splitlines(True), got.splitlines(True),
                                      f"expected/{p}", f"result/{p}")
    if a.edited:
        out["edits"] = team_edits.check_dir(a.result_service)
    lost = [k for k, v in out.get("edits", {}).items() if not v]
    out["ok"] = not lost and not out["missing"] and not out["extra"] and not (a.strict and out["differ"])
    if a.diff_out:
        with open(a.diff_out, "w", encoding="utf-8") as f:
            f.writelines(d if d.endswith("\n") else d + "\n" for d in diffs)
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")
    sys.exit(0 if out["ok"] else 1)


if __name__ == "__main__":
    main()
