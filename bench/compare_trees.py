#!/usr/bin/env python3
"""Check that copier rendered the template faithfully: compare what idp generated with copier's output.

Usage: compare_trees.py SERVICE SERVICE_CLONE GITOPS_CLONE COPIER_DEST

idp's side is SERVICE_CLONE's tracked files under SERVICE/ plus GITOPS_CLONE's under gitops/, the
layout of the copier template.  Prints a JSON summary.  Exits 1 if the file sets differ or a file
other than the scaffold manifests (.idp/scaffold.json, which holds content hashes that a copier
template cannot compute) differs.
"""
import json
import os
import subprocess
import sys


def tracked(repo, prefix):
    out = subprocess.run(["git", "-C", repo, "ls-files", "-z"], check=True, capture_output=True).stdout
    return {f"{prefix}/{p}": os.path.join(repo, p) for p in out.decode().split("\0") if p}


def walk(root):
    files = {}
    for d, _, names in os.walk(root):
        for n in names:
            full = os.path.join(d, n)
            files[os.path.relpath(full, root)] = full
    return files


def read(p):
    with open(p, "rb") as f:
        return f.read()


def main(argv):
    if len(argv) != 5:
        sys.exit(__doc__)
    service, svc, gitops, dest = argv[1:]
    idp = {**tracked(svc, service), **tracked(gitops, "gitops")}
    cop = walk(dest)
    only_idp = sorted(set(idp) - set(cop))
    only_copier = sorted(set(cop) - set(idp))
    differ = sorted(p for p in set(idp) & set(cop) if read(idp[p]) != read(cop[p]))
    unexpected = [p for p in differ if not p.endswith(".idp/scaffold.json")]
    ok = not only_idp and not only_copier and not unexpected
    json.dump(
        {
            "ok": ok,
            "idp_files": len(idp),
            "copier_files": len(cop),
            "identical": len(set(idp) & set(cop)) - len(differ),
            "differ": differ,
            "only_idp": only_idp,
            "only_copier": only_copier,
        },
        sys.stdout,
        indent=2,
    )
    sys.stdout.write("\n")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main(sys.argv)
