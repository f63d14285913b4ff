#!/usr/bin/env bash
# Runs the golden path through the real `idp` CLI on the embedded default (local git repos,
# SQLite), clones the repos it made, and validates everything they contain with zero findings
# (scripts/validate-generated.sh). Two services: the defaults, and one that stretches the
# parameters (long name, other Python, port and SLOs, a description with quotes and Unicode).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cargo build --quiet -p idp-cli --manifest-path "$ROOT/Cargo.toml"
IDP="${CARGO_TARGET_DIR:-$ROOT/target}/debug/idp"
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
echo "e2e golden path: both services generated and validated"
