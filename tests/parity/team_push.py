"""A team's push between two calls of a parity vector: `{"team_push": {"repo": R, "path": P,
"replace": [FROM, TO]}}` edits one file of a repo in the face's workspace with git (a clone, a
commit with fixed dates, a push to main), as a developer would. Every face runs this same script,
so every face sees the same repo; it prints the call's result, `{"pushed": "R:P"}`.

    python team_push.py WORKSPACE '{"repo": ..., "path": ..., "replace": [..., ...]}'
"""
import json
import os
import subprocess
import sys
import tempfile


def main(workspace: str, spec_json: str) -> None:
    spec = json.loads(spec_json)
    old, new = spec["replace"]
    env = dict(os.environ, GIT_AUTHOR_DATE="2026-01-01T00:00:00Z",
               GIT_COMMITTER_DATE="2026-01-01T00:00:00Z")
    git = ["git", "-c", "user.name=Team", "-c", "user.email=team@acme.example"]
    with tempfile.TemporaryDirectory() as tmp:
        clone = os.path.join(tmp, "clone")
        repo = os.path.join(workspace, "repos", spec["repo"] + ".git")
        subprocess.run([*git, "clone", "-q", repo, clone], check=True, env=env)
        path = os.path.join(clone, spec["path"])
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if old not in text:
            raise SystemExit(f"team_push: {spec['path']} has no {old!r}")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace(old, new, 1))
        subprocess.run([*git, "-C", clone, "commit", "-qam", "team edit"], check=True, env=env)
        subprocess.run([*git, "-C", clone, "push", "-q", "origin", "main"], check=True, env=env)
    json.dump({"pushed": f"{spec['repo']}:{spec['path']}"}, sys.stdout)


if __name__ == "__main__":
    main(*sys.argv[1:])
