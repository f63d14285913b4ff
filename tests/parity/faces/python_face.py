"""The Python face of the parity suite: runs every call of a request vector through `import idp`
(the typed methods, `as_=` for the principal) and prints one JSON result per call: the result's
`.to_dict()` (lists: each item's), or {"error": {kind, message, retryable, context, details}} from the
`idp.IdpError` raised (`.reason` is the message without its context, as in the CLI JSON).

    python python_face.py VECTOR.json WORKSPACE > results.json
"""
import json
import sys

import idp


def plain(value):
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def main(vector_path: str, workspace: str) -> None:
    with open(vector_path, encoding="utf-8") as f:
        vector = json.load(f)
    platform = idp.Platform.default(workspace=workspace)
    default_as = vector.get("as", "user:default/alice")
    results = []
    for c in vector["calls"]:
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
