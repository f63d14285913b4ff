"""The CLI face of the parity suite: runs every call of a request vector as an `idp ... --json`
command (service requests go in whole with `--request -`) and prints one JSON result per call:
the command's JSON on stdout, which for a failed command is {"error": ...} with a non-zero exit.

    IDP_CLI=target/debug/idp python cli_face.py VECTOR.json WORKSPACE > results.json
"""
import json
import os
import subprocess
import sys


def kebab(s: str) -> str:
    return s.replace("_", "-")


def command(method: str, args: dict):
    """The idp command line and stdin for one call."""
    if method == "run_golden_path":
        return ["golden-path", "run", "--request", "-"], args
    if method in ("bootstrap_service", "wire_ci", "provision_gitops", "attach_observability",
                  "request_infra_resource"):
        return [kebab(method), "--request", "-"], args
    if method == "plan":
        op = args["operation"]
        op = "golden-path" if op == "run_golden_path" else kebab(op)
        return ["plan", op, "--diff", "--request", "-"], args["request"]
    if method == "explain":
        return ["explain", args["service"]], None
    if method in ("upgrade", "upgrade_plan"):
        argv = ["upgrade", args["service"]]
        if args.get("to"):
            argv += ["--to", args["to"]]
        if args.get("keep"):
            argv.append("--keep")
        if method == "upgrade_plan":
            argv.append("--plan")
        return argv, None
    if method == "upgrade_fleet":
        argv = ["upgrade", "--all"]
        for flag in ("to", "owner"):
            if args.get(flag):
                argv += [f"--{flag}", args[flag]]
        for flag in ("keep", "plan"):
            if args.get(flag):
                argv.append(f"--{flag}")
        return argv, None
    if method == "fleet":
        return ["fleet"], None
    if method == "modules":
        return ["modules", "list"], None
    if method == "infra_impact":
        return ["infra", "impact"], None
    raise SystemExit(f"cli_face: no command for method {method}")


def team_push(workspace: str, spec: dict):
    """A team's push between calls (tests/parity/team_push.py, the same for every face)."""
    script = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "team_push.py")
    out = subprocess.run([sys.executable, script, workspace, json.dumps(spec)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main(vector_path: str, workspace: str) -> None:
    cli = os.environ.get("IDP_CLI", "idp")
    with open(vector_path, encoding="utf-8") as f:
        vector = json.load(f)
    default_as = vector.get("as", "user:default/alice")
    results = []
    for c in vector["calls"]:
        if "team_push" in c:
            results.append(team_push(workspace, c["team_push"]))
            continue
        argv, stdin = command(c["method"], c.get("args") or {})
        p = subprocess.run(
            [cli, "--workspace", workspace, "--as", c.get("as", default_as), "--json", "-q", *argv],
            input=None if stdin is None else json.dumps(stdin), capture_output=True, text=True,
        )
        try:
            out = json.loads(p.stdout)
        except json.JSONDecodeError:
            raise SystemExit(f"cli_face: `idp {' '.join(argv)}` printed no JSON (exit {p.returncode}):\n"
                             f"{p.stdout}\n{p.stderr}")
        is_error = isinstance(out, dict) and "error" in out
        # An upgrade with conflicts is a result, not an error, and exits with the conflict code.
        conflicted = (p.returncode == 4 and isinstance(out, dict)
                      and (out.get("status") == "conflicts" or out.get("conflicts")))
        if (p.returncode != 0) != is_error and not conflicted:
            raise SystemExit(f"cli_face: `idp {' '.join(argv)}` exit {p.returncode} disagrees with its JSON")
        results.append(out)
    json.dump(results, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
