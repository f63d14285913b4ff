#!/usr/bin/env python3
"""Checks of a generated GitOps tree that no off-the-shelf validator makes; used by
scripts/validate-generated.sh with the PyYAML of .ci/tools/venv.

  generated_checks.py conventions GITOPS_DIR SERVICE
      every object carries the required label set (metadata and pod template), selectors use
      only app.kubernetes.io/name (and app.kubernetes.io/instance), dashboards are valid JSON
      with a Grafana uid of at most 40 characters.
  generated_checks.py service SERVICE_DIR SERVICE
      catalog-info.yaml is a Backstage Component stamped with the golden path, dependabot.yml or
      renovate.json covers the language's packages, docker and github-actions; pyproject.toml
      parses and configures pytest, or (a Node service) package.json has the scripts CI runs.
  generated_checks.py promtool-inputs GITOPS_DIR SERVICE OUT_DIR
      for every PrometheusRule: OUT_DIR/<n>.rules.yaml (its spec.groups, for `promtool check
      rules`) and OUT_DIR/<n>.test.yaml (for `promtool test rules`): synthetic traffic with a 10%
      5xx ratio must fire the fast-burn page alert; 0% must not, even next to a failing neighbour.

Prints one line per finding and exits 1 when there is any.
"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

import yaml

REQUIRED_LABELS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/managed-by",
    "team",
    "cost-center",
    "env",
)
SELECTOR_LABELS = {"app.kubernetes.io/name", "app.kubernetes.io/instance"}
FAST_BURN_ALERT = "ErrorBudgetFastBurn"
REQUESTS_METRIC = "http_server_requests_total"
GRAFANA_UID_MAX = 40


def manifests(gitops: Path, service: str) -> list[tuple[Path, dict]]:
    files = sorted((gitops / "apps" / service).rglob("*.y*ml"))
    files += sorted((gitops / "argocd").rglob("*.y*ml"))
    docs = []
    for f in files:
        for doc in yaml.safe_load_all(f.read_text()):
            if not isinstance(doc, dict):
                continue
            # The GitOps repo is shared: argocd/ holds every service's Applications.
            labels = (doc.get("metadata") or {}).get("labels") or {}
            if "argocd" in f.parts and labels.get("app.kubernetes.io/name") != service:
                continue
            docs.append((f, doc))
    return docs


def labels_of(doc: dict) -> dict:
    return (doc.get("metadata") or {}).get("labels") or {}


def env_of(gitops: Path, service: str, path: Path) -> str | None:
    """The environment a file belongs to: apps/<service>/<env>/... or argocd/.../<service>-<env>."""
    rel = path.relative_to(gitops).parts
    if rel[0] == "apps" and len(rel) >= 4:
        return rel[2]
    stem = path.stem
    return stem[len(service) + 1 :] if stem.startswith(service + "-") else None


def check_labels(where: str, labels: dict | None, service: str, env: str | None) -> list[str]:
    labels = labels or {}
    problems = [f"{where}: label {k} is missing" for k in REQUIRED_LABELS if k not in labels]
    if labels.get("app.kubernetes.io/name", service) != service:
        problems.append(f"{where}: app.kubernetes.io/name is {labels['app.kubernetes.io/name']!r}")
    if env is not None and labels.get("env", env) != env:
        problems.append(f"{where}: env label is {labels['env']!r}, the file is for {env!r}")
    return problems


def check_selector(where: str, selector: dict | None, pod_labels: dict | None) -> list[str]:
    if selector is None:
        return [f"{where}: selector is missing"]
    problems = []
    extra = set(selector) - SELECTOR_LABELS
    if extra:
        problems.append(f"{where}: selector uses {sorted(extra)}; only {sorted(SELECTOR_LABELS)}")
    if "app.kubernetes.io/name" not in selector:
        problems.append(f"{where}: selector does not use app.kubernetes.io/name")
    if pod_labels is not None:
        for k, v in selector.items():
            if pod_labels.get(k) != v:
                problems.append(f"{where}: selector {k}={v} does not match the pod labels")
    return problems


def conventions(gitops: Path, service: str) -> list[str]:
    problems: list[str] = []
    docs = manifests(gitops, service)
    if not docs:
        return [f"no manifests under {gitops}/apps/{service} or {gitops}/argocd"]
    pod_labels_by_env: dict[str | None, dict] = {}
    for path, doc in docs:
        if doc.get("kind") == "Deployment":
            env = env_of(gitops, service, path)
            pod_labels_by_env[env] = doc["spec"]["template"]["metadata"].get("labels") or {}
    # app.kubernetes.io/instance is optional, but once one object has it, every object needs it.
    instance = "app.kubernetes.io/instance"
    if any(instance in labels_of(doc) for _, doc in docs):
        for path, doc in docs:
            if instance not in labels_of(doc):
                problems.append(f"{path.relative_to(gitops)}: label {instance} is missing")
    for path, doc in docs:
        kind = doc.get("kind", "?")
        where = f"{path.relative_to(gitops)} ({kind})"
        env = env_of(gitops, service, path)
        meta = doc.get("metadata") or {}
        problems += check_labels(where, meta.get("labels"), service, env)
        spec = doc.get("spec") or {}
        pods = pod_labels_by_env.get(env)
        if kind == "Deployment":
            tmpl = spec["template"]["metadata"].get("labels")
            problems += check_labels(f"{where} pod template", tmpl, service, env)
            problems += check_selector(where, (spec.get("selector") or {}).get("matchLabels"), tmpl)
        elif kind == "Service":
            problems += check_selector(where, spec.get("selector"), pods)
        elif kind in ("PodDisruptionBudget", "ServiceMonitor"):
            problems += check_selector(where, (spec.get("selector") or {}).get("matchLabels"), pods)
        elif kind == "NetworkPolicy":
            problems += check_selector(
                where, (spec.get("podSelector") or {}).get("matchLabels"), pods
            )
        elif kind == "ConfigMap" and (meta.get("labels") or {}).get("grafana_dashboard") == "1":
            problems += check_dashboards(where, doc.get("data") or {})
    return problems


def check_dashboards(where: str, data: dict) -> list[str]:
    problems = []
    found = False
    for key, text in data.items():
        if not key.endswith(".json"):
            continue
        found = True
        try:
            dash = json.loads(text)
        except json.JSONDecodeError as err:
            problems.append(f"{where}: {key} is not valid JSON: {err}")
            continue
        uid = dash.get("uid")
        if not isinstance(uid, str) or not 0 < len(uid) <= GRAFANA_UID_MAX:
            problems.append(f"{where}: {key} uid {uid!r} must be 1..{GRAFANA_UID_MAX} characters")
        if not dash.get("panels"):
            problems.append(f"{where}: {key} has no panels")
        for panel in dash.get("panels", []):
            for target in panel.get("targets", []):
                if "{{" in target.get("expr", "") or "{%" in target.get("expr", ""):
                    problems.append(f"{where}: panel {panel.get('title')!r} has template residue")
    if not found:
        problems.append(f"{where}: labelled grafana_dashboard but has no *.json data")
    return problems


def service_files(root: Path, service: str) -> list[str]:
    problems: list[str] = []

    def load(rel: str):
        try:
            return yaml.safe_load((root / rel).read_text())
        except (OSError, yaml.YAMLError) as err:
            problems.append(f"{rel}: {err}")
            return None

    catalog = load("catalog-info.yaml")
    if isinstance(catalog, dict):
        meta = catalog.get("metadata") or {}
        annotations = meta.get("annotations") or {}
        if catalog.get("kind") != "Component" or meta.get("name") != service:
            problems.append(f"catalog-info.yaml: not a Component named {service}")
        for key in ("idp.dev/golden-path-id", "idp.dev/scaffold-version"):
            if not isinstance(annotations.get(key), str) or not annotations[key]:
                problems.append(f"catalog-info.yaml: annotation {key} is missing")
        spec = catalog.get("spec") or {}
        for key in ("type", "lifecycle", "owner"):
            if not isinstance(spec.get(key), str) or not spec[key]:
                problems.append(f"catalog-info.yaml: spec.{key} is missing")
    # The service's language: a package.json (node-express-service) or a pyproject.toml.
    node = (root / "package.json").exists()
    # Dependency updates: Dependabot (python 1.x) or Renovate (python 2.x, node), for every ecosystem.
    if (root / ".github/dependabot.yml").exists():
        dependabot = load(".github/dependabot.yml")
        if isinstance(dependabot, dict):
            ecosystems = {u.get("package-ecosystem") for u in dependabot.get("updates") or []}
            for eco in ("npm" if node else "pip", "docker", "github-actions"):
                if eco not in ecosystems:
                    problems.append(f".github/dependabot.yml: no {eco} updates")
    elif (root / "renovate.json").exists():
        try:
            renovate = json.loads((root / "renovate.json").read_text())
        except ValueError as err:
            renovate = None
            problems.append(f"renovate.json: {err}")
        if isinstance(renovate, dict):
            managers = {m for r in renovate.get("packageRules") or [] for m in r.get("matchManagers") or []}
            for manager in ("npm" if node else "pep621", "dockerfile", "github-actions"):
                if manager not in managers:
                    problems.append(f"renovate.json: no rule for {manager}")
    else:
        problems.append("no dependency-update config (.github/dependabot.yml or renovate.json)")
    if node:
        return problems + check_package_json(root, service)
    try:
        pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    except (OSError, tomllib.TOMLDecodeError) as err:
        return problems + [f"pyproject.toml: {err}"]
    project = pyproject.get("project") or {}
    if project.get("name") != service:
        problems.append(f"pyproject.toml: project.name is {project.get('name')!r}")
    dev = " ".join((project.get("optional-dependencies") or {}).get("dev") or [])
    for tool in ("pytest", "httpx", "ruff"):
        if tool not in dev:
            problems.append(f"pyproject.toml: the dev extra lacks {tool}")
    pytest_cfg = ((pyproject.get("tool") or {}).get("pytest") or {}).get("ini_options") or {}
    if pytest_cfg.get("pythonpath") != ["src"]:
        problems.append('pyproject.toml: [tool.pytest.ini_options] pythonpath is not ["src"]')
    return problems


def check_package_json(root: Path, service: str) -> list[str]:
    """package.json of a Node service: named after it, with the scripts CI runs, TypeScript, and
    the libraries the day-0 metrics and traces need."""
    try:
        package = json.loads((root / "package.json").read_text())
    except (OSError, ValueError) as err:
        return [f"package.json: {err}"]
    problems = []
    if package.get("name") != service:
        problems.append(f"package.json: name is {package.get('name')!r}")
    if package.get("private") is not True:
        problems.append("package.json: not private (a service is never published to npm)")
    scripts = package.get("scripts") or {}
    for script in ("build", "typecheck", "test", "start"):
        if not scripts.get(script):
            problems.append(f"package.json: no {script} script")
    deps = package.get("dependencies") or {}
    for dep in ("express", "prom-client", "@opentelemetry/sdk-trace-node"):
        if dep not in deps:
            problems.append(f"package.json: dependencies lack {dep}")
    if "typescript" not in (package.get("devDependencies") or {}):
        problems.append("package.json: devDependencies lack typescript")
    if not (root / "tsconfig.json").exists():
        problems.append("no tsconfig.json")
    return problems


def series(namespace: str, job: str, status: str, per_minute: int, route: str = "/") -> dict:
    labels = f'namespace="{namespace}",job="{job}",method="GET",route="{route}",status="{status}"'
    return {"series": f"{REQUESTS_METRIC}{{{labels}}}", "values": f"0+{per_minute}x180"}


def promtool_inputs(gitops: Path, service: str, out: Path) -> list[str]:
    problems: list[str] = []
    out.mkdir(parents=True, exist_ok=True)
    rules = [(p, d) for p, d in manifests(gitops, service) if d.get("kind") == "PrometheusRule"]
    if not rules:
        return [f"no PrometheusRule under {gitops}/apps/{service}"]
    for n, (path, doc) in enumerate(rules):
        where = str(path.relative_to(gitops))
        groups = (doc.get("spec") or {}).get("groups")
        if not groups:
            problems.append(f"{where}: spec.groups is empty")
            continue
        rules_file = out / f"{n}.rules.yaml"
        rules_file.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
        (out / f"{n}.source").write_text(where + "\n")

        fast = [r for g in groups for r in g.get("rules", []) if r.get("alert") == FAST_BURN_ALERT]
        if len(fast) != 1:
            problems.append(f"{where}: expected one {FAST_BURN_ALERT} alert, found {len(fast)}")
            continue
        alert = fast[0]
        namespace = doc["metadata"]["namespace"]
        neighbour = service + "-neighbour"
        exp_labels = {"namespace": namespace, "job": service, **(alert.get("labels") or {})}
        test = {
            "rule_files": [rules_file.name],
            "evaluation_interval": "1m",
            "tests": [
                {
                    # 10% of requests fail: 7x the 14.4x threshold of a 99.5% objective.
                    "interval": "1m",
                    "input_series": [
                        series(namespace, service, "200", 540),
                        series(namespace, service, "500", 60),
                        series(namespace, neighbour, "200", 6000),
                    ],
                    "alert_rule_test": [
                        {
                            "eval_time": "90m",
                            "alertname": FAST_BURN_ALERT,
                            "exp_alerts": [
                                {
                                    "exp_labels": exp_labels,
                                    "exp_annotations": alert.get("annotations") or {},
                                }
                            ],
                        }
                    ],
                },
                {
                    # No errors here, while a neighbour in the same namespace fails every request.
                    "interval": "1m",
                    "input_series": [
                        series(namespace, service, "200", 600),
                        series(namespace, neighbour, "500", 600),
                    ],
                    "alert_rule_test": [
                        {"eval_time": "90m", "alertname": FAST_BURN_ALERT, "exp_alerts": []}
                    ],
                },
            ],
        }
        (out / f"{n}.test.yaml").write_text(yaml.safe_dump(test, sort_keys=False))
    return problems


def main(argv: list[str]) -> int:
    if len(argv) >= 3 and argv[0] == "conventions":
        problems = conventions(Path(argv[1]), argv[2])
    elif len(argv) >= 3 and argv[0] == "service":
        problems = service_files(Path(argv[1]), argv[2])
    elif len(argv) >= 4 and argv[0] == "promtool-inputs":
        problems = promtool_inputs(Path(argv[1]), argv[2], Path(argv[3]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
