"""The Python face of the parity suite: runs every call of a request vector through `import idp`
(the typed methods, `as_=` for the principal) and prints one JSON result per call: the result's
`.to_dict()` (lists: each item's), or {"error": {kind, message, retryable, context, details}} from the
`idp.IdpError` raised (`.reason` is the message without its context, as in the CLI JSON).

    python python_face.py VECTOR.json WORKSPACE > results.json
"""
import json
import subprocess
import sys
from pathlib import Path

import idp


def plain(value):
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def team_push(workspace: str, spec: dict):
    """A team's push between calls (tests/parity/team_push.py, the same for every face)."""
    script = Path(__file__).resolve().parents[1] / "team_push.py"
    out = subprocess.run([sys.executable, str(script), workspace, json.dumps(spec)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main(vector_path: str, workspace: str) -> None:
    with open(vector_path, encoding="utf-8") as f:
        vector = json.load(f)
    platform = idp.Platform.default(workspace=workspace)
    default_as = vector.get("as", "user:default/alice")
    results = []
    for c in vector["calls"]:
        if "team_push" in c:
            results.append(team_push(workspace, c["team_push"]))
            continue
        method = getattr(platform, c["method"])
        try:
            results.append(plain(method(c.get("args") or {}, as_=c.get("as", default_as))))
        except idp.IdpError as e:
            results.append({"error": {"kind": e.kind, "message": e.reason, "retryable": e.retryable,
                                      "context": e.context, "details": e.details}})
    json.dump(results, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
