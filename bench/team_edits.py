#!/usr/bin/env python3
"""The two team edits of the upgrade benchmark, applied and checked in one place.

  catalog-info.yaml  a new annotation, `pagerduty.com/service-id: PX1234`, as the first line of
                     metadata.annotations (a merged YAML file that 2.0.0 also changes)
  Dockerfile         `WORKDIR /build` becomes `WORKDIR /src` (a merged text file that 2.0.0 also
                     changes, elsewhere)

Usage:
  team_edits.py edit DIR                  edit the files in DIR (a checkout of a service repo, or
                                          the service directory of a copier project)
  team_edits.py commit BARE_REPO...       commit the edits on top of `main` of each bare service
                                          repo, as the team would by clone + commit + push (one
                                          `git cat-file --batch` and one `git fast-import` per
                                          repo: no work tree); prints progress every 100 repos
  team_edits.py check DIR                 exit 1 unless DIR has both edits; prints what it found
  team_edits.py check-bare VERSION BARE_REPO...
                                          exit 1 unless `main` of every repo has both edits and
                                          catalog-info.yaml says scaffold-version VERSION; prints
                                          a one-line count (and the first repos that fail)
"""
import os
import time
import subprocess
import sys

ANNOTATION = "    pagerduty.com/service-id: PX1234\n"
OLD_WORKDIR = "WORKDIR /build\n"
NEW_WORKDIR = "WORKDIR /src\n"
AUTHOR = "Team Payments <team-payments@acme.example>"
MESSAGE = "team: PagerDuty service id; build in /src\n"


def edit_catalog(text):
    marker = "\n  annotations:\n"
    if text.count(marker) != 1 or ANNOTATION in text:
        raise ValueError("catalog-info.yaml: expected one metadata.annotations block and no PagerDuty id")
    return text.replace(marker, marker + ANNOTATION, 1)


def edit_dockerfile(text):
    if text.count(OLD_WORKDIR) != 1:
        raise ValueError(f"Dockerfile: expected exactly one {OLD_WORKDIR.strip()!r}")
    return text.replace(OLD_WORKDIR, NEW_WORKDIR, 1)


EDITS = {"catalog-info.yaml": edit_catalog, "Dockerfile": edit_dockerfile}


def edit_dir(d):
    for name, fn in EDITS.items():
        p = os.path.join(d, name)
        with open(p, encoding="utf-8", newline="") as f:
            text = f.read()
        with open(p, "w", encoding="utf-8", newline="") as f:
            f.write(fn(text))


def check_dir(d):
    found = {}
    with open(os.path.join(d, "catalog-info.yaml"), encoding="utf-8") as f:
        found["catalog-info.yaml: pagerduty.com/service-id: PX1234"] = ANNOTATION in f.read()
    with open(os.path.join(d, "Dockerfile"), encoding="utf-8") as f:
        text = f.read()
    found["Dockerfile: WORKDIR /src (and no WORKDIR /build)"] = NEW_WORKDIR in text and OLD_WORKDIR not in text
    return found


def read_main(repo, paths, extra=()):
    """[(object id, bytes)] of main:PATH for each path, then of each revision in extra."""
    req = "".join(f"main:{p}\n" for p in paths) + "".join(f"{r}\n" for r in extra)
    out = subprocess.run(["git", "-C", repo, "cat-file", "--batch"], input=req.encode(),
                         capture_output=True, check=True).stdout
    objs, pos = [], 0
    for _ in range(len(paths) + len(extra)):
        nl = out.index(b"\n", pos)
        header = out[pos:nl].split()
        if len(header) < 3:
            raise ValueError(f"{repo}: {out[pos:nl].decode()}")
        size = int(header[2])
        objs.append((header[0].decode(), out[nl + 1 : nl + 1 + size]))
        pos = nl + 1 + size + 1
    return objs


def check_bare(repo, version):
    (_, catalog), (_, docker) = read_main(repo, ["catalog-info.yaml", "Dockerfile"])
    catalog, docker = catalog.decode(), docker.decode()
    return {
        "edit: PagerDuty annotation": ANNOTATION in catalog,
        "edit: WORKDIR /src": NEW_WORKDIR in docker and OLD_WORKDIR not in docker,
        f"scaffold-version {version}": f'idp.dev/scaffold-version: "{version}"' in catalog,
    }


def commit_bare(repo, stamp):
    """One commit on main with both edits, written with fast-import (refs/heads/main moves only
    if the parent is still what we read: fast-import refuses a non-fast-forward)."""
    paths = list(EDITS)
    blobs = read_main(repo, paths, ["main^{commit}"])
    parent = blobs[-1][0]
    stream = [f"commit refs/heads/main\n"
              f"author {AUTHOR} {stamp} +0000\ncommitter {AUTHOR} {stamp} +0000\n"
              f"data {len(MESSAGE.encode())}\n{MESSAGE}from {parent}\n".encode()]
    for p, (_, raw) in zip(paths, blobs):
        new = EDITS[p](raw.decode("utf-8")).encode("utf-8")
        stream.append(f"M 100644 inline {p}\ndata {len(new)}\n".encode() + new + b"\n")
    stream.append(b"done\n")
    subprocess.run(["git", "-C", repo, "fast-import", "--quiet", "--done"], input=b"".join(stream),
                   capture_output=True, check=True)


def main(argv):
    if len(argv) < 3 or argv[1] not in ("edit", "commit", "check", "check-bare"):
        sys.exit(__doc__)
    cmd, args = argv[1], argv[2:]
    if cmd == "edit":
        for d in args:
            edit_dir(d)
    elif cmd == "check":
        ok = True
        for d in args:
            for what, good in check_dir(d).items():
                print(f"{'kept' if good else 'LOST'}: {what}  ({d})")
                ok &= good
        sys.exit(0 if ok else 1)
    elif cmd == "check-bare":
        version, repos = args[0], args[1:]
        bad = []
        for repo in repos:
            failed = [k for k, v in check_bare(repo, version).items() if not v]
            if failed:
                bad.append(f"{os.path.basename(repo)}: {', '.join(failed)}")
        print(f"{len(repos) - len(bad)}/{len(repos)} repos have both team edits and scaffold-version {version}"
              + "".join(f"\n  FAIL {b}" for b in bad[:10]))
        sys.exit(0 if not bad else 1)
    else:
        stamp = int(time.time())
        for i, repo in enumerate(args, 1):
            try:
                commit_bare(repo, stamp + i)
            except subprocess.CalledProcessError as e:
                sys.exit(f"error: {repo}: {' '.join(e.cmd)}: {e.stderr.decode(errors='replace')}")
            if i % 100 == 0 or i == len(args):
                print(f"bench:   team edits committed in {i}/{len(args)} repos", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main(sys.argv)
