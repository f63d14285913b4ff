#!/usr/bin/env python3
"""Day-0 observability, live: the first requests of a generated service show up on its dashboard.

    day0_live.py SERVICE_REPO_DIR GITOPS_REPO_DIR SERVICE [ENV]

1. installs the generated service in a scratch folder (a Python service: a venv and
   `pip install .`; a Node service: `npm install` and `npm run build`) and starts it on a free
   loopback port, with its tracing pointed at a small OTLP/HTTP receiver run here, and one extra
   route that always answers 500 (added by a launcher, not in the service's code);
2. starts a real Prometheus (the `prometheus` server unpacked by scripts/install-tools.sh) on a
   free loopback port, scraping the service the way the generated ServiceMonitor of ENV (default
   dev) describes it (its path; `job` = the Service's name, `namespace` = its namespace) every
   second, with the rule groups of the generated PrometheusRule loaded;
3. sends traffic in which exactly one request in ten fails with a 5xx;
4. evaluates every query of every panel of the generated Grafana dashboard (variables
   substituted) against Prometheus' HTTP API and requires data from each, the "Error rate (5xx)"
   panel within 0.02 of the injected share; requires every recording rule of the PrometheusRule to
   produce a series; and requires spans at the OTLP receiver.

Exit status 0 when everything holds, 1 with one line per failure otherwise, 2 on bad usage.
Prometheus, the service and the receiver are stopped, and the scratch folder removed, on exit.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
TOOLS = Path(os.environ.get("TOOLS_DIR", ROOT / ".ci" / "tools"))
PROMETHEUS = TOOLS / "prometheus" / "usr" / "bin" / "prometheus"
INJECTED_ERROR_SHARE = 0.1
TOLERANCE = 0.02
REQUESTS = 400


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_for(what: str, check, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"day0: {what} did not come up within {timeout:.0f} s")


class OtlpReceiver(http.server.BaseHTTPRequestHandler):
    """Counts OTLP/HTTP trace exports (POST /v1/traces) and their bytes."""

    exports: list[tuple[str, int]] = []

    def body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() != "chunked":
            return self.rfile.read(int(self.headers.get("content-length") or 0))
        # Node's exporter streams its body in chunks, without a content-length.
        out = b""
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()
                return out
            out += self.rfile.read(size)
            self.rfile.readline()

    def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
        body = self.body()
        if self.path == "/v1/traces":
            OtlpReceiver.exports.append((self.headers.get("content-type") or "", len(body)))
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *_args) -> None:
        pass


def manifest(gitops: Path, service: str, env: str, kind: str, label: str | None = None) -> dict:
    """The first object of `kind` (with metadata label `label`, if given) under apps/SERVICE/ENV."""
    for f in sorted((gitops / "apps" / service / env).glob("*.yaml")):
        for doc in yaml.safe_load_all(f.read_text()):
            if not isinstance(doc, dict) or doc.get("kind") != kind:
                continue
            if label is None or label in ((doc.get("metadata") or {}).get("labels") or {}):
                return doc
    raise SystemExit(f"day0: no {kind} under apps/{service}/{env}")


def dashboard_panels(gitops: Path, service: str, env: str) -> list[dict]:
    # The ConfigMap the Grafana sidecar loads, whatever other ConfigMaps the service has.
    cm = manifest(gitops, service, env, "ConfigMap", label="grafana_dashboard")
    (body,) = cm["data"].values()
    return json.loads(body)["panels"]


def service_python(app: Path) -> str:
    """$SERVICE_PYTHON, else pythonX.Y (the pyproject's requires-python) on PATH or from pyenv,
    else this interpreter (as scripts/validate-generated.sh picks it)."""
    if os.environ.get("SERVICE_PYTHON"):
        return os.environ["SERVICE_PYTHON"]
    text = (app / "pyproject.toml").read_text()
    want = next((line.split(">=")[1].strip(' "') for line in text.splitlines() if line.startswith("requires-python")), "")
    on_path = shutil.which(f"python{want}") if want else None
    # A pyenv shim is on PATH for every version pyenv has, and fails for the ones not selected.
    if on_path and subprocess.run([on_path, "-c", ""], capture_output=True).returncode == 0:
        return on_path
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = sorted(pyenv.glob(f"{want}.*/bin/python")) if want and pyenv.is_dir() else []
    return str(found[-1]) if found else sys.executable


def start_service(src: Path, work: Path, port: int, env: dict, procs: list) -> None:
    app = work / "service"
    shutil.copytree(src, app, ignore=shutil.ignore_patterns(".git"))
    if (app / "package.json").exists():
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=app, check=True)
        subprocess.run(["npm", "run", "build", "--silent"], cwd=app, check=True)
        launcher = app / "day0-launcher.js"
        launcher.write_text(
            "// tracing first, as src/server.ts does, then the app with one failing route\n"
            "require('./dist/src/tracing');\n"
            "const { createApp } = require('./dist/src/app');\n"
            "const app = createApp();\n"
            "app.get('/boom', (_req, res) => { res.status(500).json({ error: 'injected' }); });\n"
            f"app.listen({port}, '127.0.0.1');\n"
        )
        cmd = ["node", str(launcher)]
    else:
        venv = work / "venv"
        subprocess.run([service_python(app), "-m", "venv", str(venv)], check=True)
        py = venv / "bin" / "python"
        subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "."], cwd=app, check=True)
        module = next(p.name for p in (app / "src").iterdir() if (p / "main.py").exists())
        launcher = work / "day0_launcher.py"
        launcher.write_text(
            "import uvicorn\n"
            "from fastapi import HTTPException\n"
            f"from {module}.main import app\n\n\n"
            "@app.get('/boom')\n"
            "def boom() -> None:\n"
            "    raise HTTPException(status_code=500, detail='injected')\n\n\n"
            f"uvicorn.run(app, host='127.0.0.1', port={port}, log_level='warning')\n"
        )
        cmd = [str(py), str(launcher)]
    # Listed before the wait, so that it is stopped even when it never comes up.
    with open(work / "service.log", "w") as log:
        procs.append(subprocess.Popen(cmd, cwd=app, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
    wait_for("the service", lambda: get(f"http://127.0.0.1:{port}/healthz", 1)[0] == 200)


def start_prometheus(work: Path, port: int, gitops: Path, service: str, env: str, target: str, procs: list) -> None:
    monitor = manifest(gitops, service, env, "ServiceMonitor")
    endpoint = monitor["spec"]["endpoints"][0]
    rule = manifest(gitops, service, env, "PrometheusRule")
    (work / "rules.yaml").write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}))
    # What the Prometheus Operator makes of the ServiceMonitor: job = the Service's name,
    # namespace = the Service's namespace; a one-second interval so the test is short.
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(work / "rules.yaml")],
        "scrape_configs": [
            {
                "job_name": monitor["metadata"]["name"],
                "metrics_path": endpoint.get("path", "/metrics"),
                "static_configs": [{"targets": [target], "labels": {"namespace": monitor["metadata"]["namespace"]}}],
            }
        ],
    }
    (work / "prometheus.yml").write_text(yaml.safe_dump(config))
    with open(work / "prometheus.log", "w") as log:
        procs.append(subprocess.Popen(
            [
                str(PROMETHEUS),
                f"--config.file={work / 'prometheus.yml'}",
                f"--storage.tsdb.path={work / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        ))
    wait_for("Prometheus", lambda: get(f"http://127.0.0.1:{port}/-/ready", 1)[0] == 200)


def query(prom: str, expr: str) -> list[dict]:
    status, body = get(f"{prom}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
    data = json.loads(body)
    if status != 200 or data.get("status") != "success":
        raise ValueError(f"{data.get('errorType')}: {data.get('error')}")
    result = data["data"]["result"]
    return result if isinstance(result, list) else [{"value": result}]


def main(service_dir: Path, gitops: Path, service: str, env: str) -> int:
    if not PROMETHEUS.exists():
        print(f"day0: missing {PROMETHEUS}: run scripts/install-tools.sh first", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="idp-day0-"))
    procs: list[subprocess.Popen] = []
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), OtlpReceiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    failures: list[str] = []
    try:
        svc_port, prom_port = free_port(), free_port()
        run_env = dict(
            os.environ,
            OTEL_SERVICE_NAME=service,
            OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{receiver.server_address[1]}",
            OTEL_BSP_SCHEDULE_DELAY="200",
            NODE_ENV="production",
        )
        start_service(service_dir, work, svc_port, run_env, procs)
        start_prometheus(work, prom_port, gitops, service, env, f"127.0.0.1:{svc_port}", procs)
        prom = f"http://127.0.0.1:{prom_port}"
        base = f"http://127.0.0.1:{svc_port}"
        # Traffic over about 8 s: every tenth request fails, from the first one on.
        sent = {"ok": 0, "err": 0}
        for i in range(REQUESTS):
            if i % 10 == 9:
                status, _ = get(f"{base}/boom")
                sent["err"] += status >= 500
            else:
                status, _ = get(f"{base}/")
                sent["ok"] += status == 200
            time.sleep(8.0 / REQUESTS)
        if sent["err"] != REQUESTS // 10 or sent["ok"] != REQUESTS - REQUESTS // 10:
            failures.append(f"traffic: expected {REQUESTS // 10} 5xx and the rest 200, got {sent}")
        time.sleep(4)  # a few more scrapes and rule evaluations after the last request

        panels = dashboard_panels(gitops, service, env)
        checked = 0
        for panel in panels:
            for target in panel.get("targets", []):
                expr = target["expr"].replace("$__rate_interval", "1m")
                try:
                    result = query(prom, expr)
                except ValueError as e:
                    failures.append(f"panel {panel['title']!r}: {expr}: {e}")
                    continue
                checked += 1
                if not result:
                    failures.append(f"panel {panel['title']!r}: no data for {expr}")
                    continue
                if panel["title"] == "Error rate (5xx)":
                    ratio = float(result[0]["value"][1])
                    if abs(ratio - INJECTED_ERROR_SHARE) > TOLERANCE:
                        failures.append(
                            f"panel {panel['title']!r}: {ratio:.4f}, injected {INJECTED_ERROR_SHARE} (± {TOLERANCE})"
                        )
                    else:
                        print(f"day0: error-rate panel reads {ratio:.4f} (injected {INJECTED_ERROR_SHARE})")
        print(f"day0: {checked} dashboard queries evaluated against Prometheus")

        rules = manifest(gitops, service, env, "PrometheusRule")["spec"]["groups"]
        selector = f'{{namespace="{manifest(gitops, service, env, "ServiceMonitor")["metadata"]["namespace"]}",job="{service}"}}'
        records = [r["record"] for g in rules for r in g["rules"] if "record" in r]
        for record in records:
            if not query(prom, record + selector):
                failures.append(f"recording rule {record}: no series")
        print(f"day0: {len(records)} recording rules produce series")

        deadline = time.monotonic() + 10
        while not OtlpReceiver.exports and time.monotonic() < deadline:
            time.sleep(0.2)
        spans = [e for e in OtlpReceiver.exports if e[1] > 0]
        if not spans:
            failures.append("tracing: no span reached the OTLP/HTTP receiver")
        else:
            print(f"day0: {len(spans)} OTLP/HTTP trace export(s) received ({spans[0][0]})")
    finally:
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        receiver.shutdown()
        if failures:
            for name in ("service.log", "prometheus.log"):
                f = work / name
                if f.exists():
                    print(f"--- {name} (last lines)", file=sys.stderr)
                    print("\n".join(f.read_text().splitlines()[-15:]), file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)
    for f in failures:
        print(f"FAIL day0 {service}: {f}")
    if not failures:
        print(f"day0 {service}: every panel has data, the recording rules produce series, spans arrive")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    # The service and Prometheus run in process groups of their own; a SIGTERM (a CI timeout)
    # ends this script through its `finally`, which stops them, instead of orphaning them.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4] if len(sys.argv) == 5 else "dev"))
