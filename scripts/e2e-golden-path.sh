#!/usr/bin/env bash
# Runs the golden path through the real `idp` CLI on the embedded default (local git repos,
# SQLite), clones the repos it made, and validates everything they contain with zero findings
# (scripts/validate-generated.sh). Three services: the defaults, one that stretches the
# parameters (long name, other Python, port and SLOs, a description with quotes and Unicode), and a
# Node/TypeScript service from node-express-service, whose GitOps manifests, dashboard and alerts
# come from the same shared templates as the Python one's.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cargo build --quiet --workspace --bins ${IDP_FEATURES:-} --manifest-path "$ROOT/Cargo.toml"
IDP="${CARGO_TARGET_DIR:-$ROOT/target}/${CARGO_BUILD_TARGET:+$CARGO_BUILD_TARGET/}debug/idp"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/idp-e2e.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
WS="$WORK/ws"

run() {
  local service="$1"; shift
  "$IDP" --workspace "$WS" --as user:default/alice -q golden-path run --service "$service" --owner team-payments "$@"
  rm -rf "$WORK/$service" "$WORK/gitops-$service"
  git clone -q "$WS/repos/$service.git" "$WORK/$service"
  git clone -q "$WS/repos/gitops.git" "$WORK/gitops-$service"
  bash "$ROOT/scripts/validate-generated.sh" "$WORK/$service" "$WORK/gitops-$service" "$service"
}

run payments-api
run inventory-reconciliation-worker-services \
  --param python_version=3.11 --param port=9000 --param availability_slo=0.999 \
  --param latency_slo_ms=1500 --param 'description=Reconciles "stock" & orders — über fast'
run orders-web --golden-path node-express-service --param port=3001
# The shared templates render the same dashboard and SLO rules for both languages: once the
# service's name and golden path are neutralised, the files are identical.
neutral() {
  sed "s/$2/SVC/g" "$1" | grep -v 'golden-path\|scaffold-version\|Managed by idp\|python-fastapi-service\|node-express-service'
}
for f in dashboard.yaml prometheusrule.yaml; do
  for d in gitops-payments-api/apps/payments-api gitops-orders-web/apps/orders-web; do
    [ -s "$WORK/$d/prod/$f" ] || { echo "missing $d/prod/$f" >&2; exit 1; }
  done
  diff <(neutral "$WORK/gitops-payments-api/apps/payments-api/prod/$f" payments-api) \
    <(neutral "$WORK/gitops-orders-web/apps/orders-web/prod/$f" orders-web) \
    || { echo "$f differs between the two golden paths beyond the service's name" >&2; exit 1; }
done
echo "e2e golden path: three services (two Python, one Node) generated and validated"

# Day-0 observability, live: each service runs, a real Prometheus scrapes it as its ServiceMonitor
# says and loads its PrometheusRule, traffic with 10% 5xx flows, and every query of every panel of
# its dashboard must return data (the error-rate panel reading 10%), every recording rule a
# series, and its spans must reach an OTLP/HTTP receiver (scripts/day0_live.py).
for s in payments-api orders-web; do
  "${TOOLS_DIR:-$ROOT/.ci/tools}/venv/bin/python" "$ROOT/scripts/day0_live.py" "$WORK/$s" "$WORK/gitops-$s" "$s"
done

# Upgrades: a service scaffolded at 1.0.0 is validated, moved to the latest version (as a
# platform admin), and validated again.
run legacy-api --version 1.0.0
"$IDP" --workspace "$WS" --as user:default/pat -q upgrade legacy-api >/dev/null
rm -rf "$WORK/legacy-api" "$WORK/gitops-legacy-api"
git clone -q "$WS/repos/legacy-api.git" "$WORK/legacy-api"
git clone -q "$WS/repos/gitops.git" "$WORK/gitops-legacy-api"
grep -q '"scaffoldVersion": "2.1.0"' "$WORK/legacy-api/.idp/scaffold.json"
bash "$ROOT/scripts/validate-generated.sh" "$WORK/legacy-api" "$WORK/gitops-legacy-api" legacy-api >/dev/null
echo "e2e upgrade: legacy-api 1.0.0 -> 2.1.0 validated"

# Infrastructure intents: every built-in type, in every environment (as a platform admin, since
# prod changes need approval), then the Terraform must parse with python-hcl2 (and pass
# `terraform fmt -check` / `tofu fmt -check` when one is installed), and the service's manifests,
# now carrying the Secret references, must still validate.
TOOLS="${TOOLS_DIR:-$ROOT/.ci/tools}"
for intent in bucket:logs bucket:data postgres queue:events cache; do
  "$IDP" --workspace "$WS" --as user:default/pat -q request-infra-resource \
    --service payments-api --owner team-payments --intent "$intent" >/dev/null
done
rm -rf "$WORK/infra" && git clone -q "$WS/repos/infra.git" "$WORK/infra"
TF_FILES=$(find "$WORK/infra" -name '*.tf' | sort)
[ -n "$TF_FILES" ] || { echo "no Terraform generated" >&2; exit 1; }
"$TOOLS/hcl-venv/bin/python" - $TF_FILES <<'PY'
import sys, hcl2
for path in sys.argv[1:]:
    with open(path) as f:
        doc = hcl2.load(f)
    modules = doc.get("module", [])
    assert modules, f"{path}: no module block"
    body = next(iter(modules[0].values()))
    for key in ("source", "version", "tags"):
        assert key in body, f"{path}: module has no {key}"
print(f"python-hcl2: {len(sys.argv) - 1} Terraform file(s) parse, each with source, version and tags")
PY
for fmt in terraform tofu; do
  if command -v "$fmt" >/dev/null; then
    "$fmt" fmt -check -recursive "$WORK/infra" && echo "$fmt fmt -check: no changes"
  fi
done
rm -rf "$WORK/payments-api" "$WORK/gitops-payments-api"
git clone -q "$WS/repos/payments-api.git" "$WORK/payments-api"
git clone -q "$WS/repos/gitops.git" "$WORK/gitops-payments-api"
grep -q 'secretKeyRef' "$WORK/gitops-payments-api/apps/payments-api/prod/deployment.yaml"
grep -q 'DB_PASSWORD_FILE' "$WORK/gitops-payments-api/apps/payments-api/prod/deployment.yaml"
bash "$ROOT/scripts/validate-generated.sh" "$WORK/payments-api" "$WORK/gitops-payments-api" payments-api >/dev/null
echo "e2e infrastructure: $(echo "$TF_FILES" | wc -l) Terraform file(s) and the rewired manifests validated"

# Insights: payloads from GitHub, Argo CD and Alertmanager for payments-api go in through
# `idp events ingest`; `idp insights` must report the four keys of that history, and its HTML
# report must draw every chart in headless Chromium (scripts/insights_e2e.py).
python3 "$ROOT/scripts/insights_e2e.py" "$IDP" "$WS" payments-api
