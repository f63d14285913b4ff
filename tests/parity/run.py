"""The parity suite: every request vector in vectors/ runs through the four faces — Rust (the
typed idp-core API), Python (`import idp`), Node (`@idp/node`) and the CLI (`idp --json`) — each
in a fresh workspace at the same path, and their results (receipts, plans, explanations, change
sets with diffs, errors) must be byte-identical once the values that identify one run are
blanked: run ids, start/finish times and commit ids (a commit's id hashes its time and run id).
Nothing else is normalized: key order, types and number formats count.

    python tests/parity/run.py [--faces rust,python,node,cli] [--out DIR] [VECTOR ...]

Needs: IDP_PARITY_RUST (the idp-parity-rust binary), IDP_CLI (the idp binary), the `idp` Python
module importable by this interpreter, and idp-node built (scripts/test-bindings.sh does all of
this). Exit 1 with a unified diff of the first difference when two faces disagree.
"""
import argparse
import difflib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
FACES = ("rust", "python", "node", "cli")
# The values that identify one run and nothing else.
RUN_IDENTITY = {"run_id", "started_at", "finished_at", "commit"}


def face_command(face: str, vector: Path, workspace: Path):
    if face == "rust":
        return [os.environ.get("IDP_PARITY_RUST", "idp-parity-rust"), str(vector), str(workspace)]
    if face == "python":
        return [sys.executable, str(HERE / "faces" / "python_face.py"), str(vector), str(workspace)]
    if face == "node":
        return ["node", str(HERE / "faces" / "node_face.mjs"), str(vector), str(workspace)]
    return [sys.executable, str(HERE / "faces" / "cli_face.py"), str(vector), str(workspace)]


def blank_run_identity(v):
    if isinstance(v, dict):
        return {k: ("<run>" if k in RUN_IDENTITY and v[k] is not None else blank_run_identity(x))
                for k, x in v.items()}
    if isinstance(v, list):
        return [blank_run_identity(x) for x in v]
    return v


def canonical(text: str) -> str:
    """The face's JSON, parsed keeping key order and number types, printed one way."""
    return json.dumps(blank_run_identity(json.loads(text)), indent=1, ensure_ascii=False) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--faces", default=",".join(FACES))
    ap.add_argument("--out", help="keep every face's raw and compared results here")
    ap.add_argument("vectors", nargs="*")
    a = ap.parse_args()
    faces = a.faces.split(",")
    vectors = [Path(v) for v in a.vectors] or sorted((HERE / "vectors").glob("*.json"))
    root = Path(tempfile.mkdtemp(prefix="idp-parity-"))
    out = Path(a.out) if a.out else root / "out"
    failed = 0
    try:
        # One workspace path for every face, so that links to repos are the same text.
        workspace = root / "workspace"
        for vector in vectors:
            calls = len(json.loads(vector.read_text())["calls"])
            results = {}
            for face in faces:
                shutil.rmtree(workspace, ignore_errors=True)
                p = subprocess.run(face_command(face, vector, workspace), capture_output=True, text=True)
                if p.returncode != 0:
                    print(f"FAIL {vector.name}: the {face} face exited {p.returncode}\n{p.stderr}", file=sys.stderr)
                    return 1
                d = out / vector.stem
                d.mkdir(parents=True, exist_ok=True)
                (d / f"{face}.raw.json").write_text(p.stdout)
                results[face] = canonical(p.stdout)
                (d / f"{face}.json").write_text(results[face])
                if len(json.loads(p.stdout)) != calls:
                    print(f"FAIL {vector.name}: {face} returned a result count other than {calls}", file=sys.stderr)
                    return 1
            first = faces[0]
            bad = [f for f in faces[1:] if results[f] != results[first]]
            for f in bad:
                diff = difflib.unified_diff(results[first].splitlines(True), results[f].splitlines(True),
                                            f"{first}/{vector.name}", f"{f}/{vector.name}", n=2)
                sys.stderr.writelines(list(diff)[:80])
            size = len(results[first].encode())
            if bad:
                failed += 1
                print(f"FAIL {vector.name}: {', '.join(bad)} differ from {first}", file=sys.stderr)
            else:
                print(f"ok   {vector.name}: {calls} calls, {size} bytes identical across {', '.join(faces)}")
    finally:
        if not a.out:
            shutil.rmtree(root, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
