#!/usr/bin/env bash
# Installs the packages scripts/package.sh built into fresh places, as docs/install.md says (its
# `tested:` blocks, run as written), and checks them. Rust is hidden from the PATH (no cargo,
# rustc or rustup: what a Backstage build machine or a data scientist's laptop has) except where
# the doc builds from source:
#
#   python-wheel        the abi3 wheel into a fresh venv; stubs and py.typed present;
#                       idp-python's tests and the Python example against it
#   python-sdist        the sdist builds from source (pip fetches maturin); the example runs
#   python-source       pip install of the checkout's idp-python; the example runs
#   backstage-packages  the three tarballs into a fresh app (timed): no Rust build, and
#                       require('@idp/node') runs the golden path from the platform package's
#                       binary; the Backstage module loads with its actions
#   node-packages       @idp/node alone into another fresh app
#
# Usage: scripts/test-packages.sh DIR [WORK]
#   DIR:  the packages; WORK: where the fresh venvs and apps go (default: a temp folder, removed
#   after). scripts/test-bindings.sh keeps WORK to run the parity suite with the installed wheel
#   (WORK/python-wheel/.venv).
# MATURIN_PEP517_ARGS is honoured by the builds from source (scripts/test-bindings.sh passes the
# debug profile and the tests' features, which keeps one build of the dependency graph).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIST="$(cd "${1:?usage: scripts/test-packages.sh DIR [WORK]}" && pwd)"
if [ -n "${2:-}" ]; then
  WORK="$2"
  # Only a folder this script made (its marker) or an empty one is replaced.
  if [ -d "$WORK" ] && [ -n "$(ls -A "$WORK")" ] && [ ! -e "$WORK/.idp-test-packages" ]; then
    echo "$WORK is not empty and not one of this script's folders: not removing it" >&2
    exit 2
  fi
  rm -rf "$WORK"
  mkdir -p "$WORK"
  touch "$WORK/.idp-test-packages"
else
  WORK="$(mktemp -d)"
  trap 'rm -rf "$WORK"' EXIT
fi
WORK="$(cd "$WORK" && pwd)"
. "$ROOT/scripts/doc-commands.sh"
START=$SECONDS
step() { printf '\n--- [%4ds] %s\n' "$((SECONDS - START))" "$*"; }
without_rust sh -c '! command -v cargo && ! command -v rustc' >/dev/null ||
  { echo "could not hide Rust from the PATH" >&2; exit 1; }
ls "$DIST"/idp-*-cp39-abi3-*.whl >/dev/null || { echo "no abi3 wheel in $DIST" >&2; exit 1; }
fresh() { mkdir -p "$WORK/$1" && cd "$WORK/$1"; }
example_py() { without_rust "$1" "$ROOT/examples/python/golden_path.py" >/dev/null && echo "examples/python/golden_path.py with $1: ok"; }

step "python-wheel: Rust hidden"
fresh python-wheel
NO_RUST=1 run_doc python-wheel
without_rust .venv/bin/python - <<'PY'
import pathlib, idp
pkg = pathlib.Path(idp.__file__).parent
missing = [f for f in ("py.typed", "_native.pyi", "__init__.py") if not (pkg / f).is_file()]
assert not missing, f"the wheel lacks {missing}"
assert not list(pkg.rglob("*.rs")), "the wheel ships Rust sources"
print(f"idp {idp.__version__} from {pkg} (stubs and py.typed present)")
PY
without_rust .venv/bin/pip install -q "pytest>=8"
(cd "$ROOT/idp-python" && without_rust "$WORK/python-wheel/.venv/bin/python" -m pytest -q -p no:cacheprovider)
example_py "$WORK/python-wheel/.venv/bin/python"

step "python-sdist: builds from source"
fresh python-sdist
run_doc python-sdist
example_py "$WORK/python-sdist/.venv/bin/python"

step "python-source: builds the checkout's idp-python"
fresh python-source
run_doc python-source
example_py "$WORK/python-source/.venv/bin/python"

step "backstage-packages: the three tarballs into a fresh app, Rust hidden"
fresh backstage-app
without_rust npm init -y >/dev/null
T0=$(date +%s%N)
NO_RUST=1 run_doc backstage-packages
echo "installed in $(( ($(date +%s%N) - T0) / 1000000 )) ms (Backstage's dependencies included): $(du -sh node_modules/@idp | cut -f1) in node_modules/@idp"
without_rust node - <<'JS'
const assert = require('node:assert')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { Platform, version } = require('@idp/node')
const pkg = path.dirname(require.resolve('@idp/node/package.json'))
assert.ok(!fs.existsSync(path.join(pkg, 'Cargo.toml')), '@idp/node ships Rust sources')
assert.ok(!fs.readdirSync(pkg).some((f) => f.endsWith('.node')), 'the binary belongs in the platform package')
const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'idp-pkg-'))
const platform = Platform.builtin(ws, { as: 'user:default/alice' })
platform.runGoldenPath({ service: 'payments-api', owner: 'team-payments' }).then((receipt) => {
  assert.equal(receipt.status, 'completed')
  assert.equal(receipt.steps.length, 4)
  fs.rmSync(ws, { recursive: true })
  const backstage = require('@idp/plugin-scaffolder-backend-module-idp')
  assert.equal(backstage.default.$$type, '@backstage/BackendFeature')
  const actions = Object.keys(backstage.ACTIONS)
  assert.ok(actions.includes('idp:golden-path'), actions.join(', '))
  console.log(`@idp/node ${version()}: the golden path ran (${receipt.steps.length} steps); ` +
    `the Backstage module loads with its actions (${actions.join(', ')})`)
})
JS

step "node-packages: @idp/node alone into a fresh app, Rust hidden"
fresh node-app
without_rust npm init -y >/dev/null
NO_RUST=1 run_doc node-packages
without_rust node -e "
const { Platform, methods } = require('@idp/node')
Platform.builtin('ws')
console.log('@idp/node:', methods().length, 'methods; installed:', require('fs').readdirSync('node_modules/@idp').join(', '))"

step "packages: all green in $((SECONDS - START))s"
