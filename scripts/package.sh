#!/usr/bin/env bash
# Builds idp's packages from this source checkout into one folder (default: dist/):
#
#   idp-X-cp39-abi3-<platform>.whl          Python: one wheel for every CPython >= 3.9 (abi3),
#                                           with the .pyi stubs and py.typed (`pip wheel ./idp-python`)
#   idp-X.tar.gz                            Python: the sdist (builds from source with Rust)
#   idp-node-<platform>-X.tgz               Node: the prebuilt native module for this platform
#   idp-node-X.tgz                          Node: @idp/node, choosing the platform package
#   idp-plugin-scaffolder-backend-module-idp-X.tgz   the Backstage module
#
# None of them needs Rust to install: `pip install dist/idp-*.whl`, `npm install dist/*.tgz`
# (docs/install.md). Building them needs Rust 1.95, a C compiler, Python >= 3.9 with pip and
# Node >= 20 with npm; maturin is installed into a venv under .ci/tools.
#
# Usage: scripts/package.sh [--out DIR] [--profile release|dev]
#   --profile dev   the debug profile (about a third of the build time, several times slower at
#                   run time): for tests only. Release is what users should get.
# IDP_PACKAGE_FEATURES=test-build builds the bindings with idp's test hooks (scripts/test-bindings.sh
# does, to share the tests' build); never in a package anyone installs.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="$ROOT/dist"
PROFILE=release
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="$2"; shift 2 ;;
    --profile) PROFILE="$2"; shift 2 ;;
    *) echo "usage: scripts/package.sh [--out DIR] [--profile release|dev]" >&2; exit 2 ;;
  esac
done
case "$PROFILE" in release|dev) ;; *) echo "--profile is release or dev, not $PROFILE" >&2; exit 2 ;; esac
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
VERSION="$(sed -n '/^\[workspace\.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)"
FEATURES="${IDP_PACKAGE_FEATURES:-}"
TOOLS_DIR="${TOOLS_DIR:-$ROOT/.ci/tools}"
VENV="$TOOLS_DIR/venv"
START=$SECONDS
step() { printf '\n--- [%4ds] %s\n' "$((SECONDS - START))" "$*"; }

step "maturin in $VENV"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q "maturin>=1.16,<2"
export PATH="$VENV/bin:$PATH"  # the PEP 517 backend runs `maturin`

# A package of another version left in OUT would be installed beside this one.
rm -f "$OUT"/idp-*-cp39-abi3-*.whl "$OUT"/idp-[0-9]*.tar.gz "$OUT"/idp-node-*.tgz \
  "$OUT"/idp-plugin-scaffolder-backend-module-idp-*.tgz

step "python: pip wheel ./idp-python (profile $PROFILE)"
MATURIN_PEP517_ARGS="--profile $PROFILE${CARGO_BUILD_TARGET:+ --target $CARGO_BUILD_TARGET}${FEATURES:+ --features $FEATURES}" \
  "$VENV/bin/pip" wheel -q --no-deps --no-build-isolation --no-cache-dir -w "$OUT" ./idp-python

step "python: sdist"
"$VENV/bin/maturin" sdist -m idp-python/Cargo.toml -o "$OUT"

step "node: the native module (profile $PROFILE)"
IDP_NODE_BUILD_PROFILE="$PROFILE" IDP_NODE_FEATURES="$FEATURES" node idp-node/scripts/install.js

step "backstage: the module, built with Backstage's CLI (tsc, backstage-cli package build)"
# IDP_PACKAGE_REUSE_NODE_MODULES=1: the caller has just run `npm ci` there (scripts/test-bindings.sh).
# --ignore-scripts: nothing the build uses needs an install script (better-sqlite3, which the test
# utilities pull in, would compile from source).
if [ -z "${IDP_PACKAGE_REUSE_NODE_MODULES:-}" ]; then
  (cd idp-node/backstage && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
(cd idp-node/backstage && npm run -s build)

step "npm pack"
node scripts/pack-npm.mjs --out "$OUT" >/dev/null

step "idp $VERSION packages in $OUT"
for f in "$OUT"/idp-*; do printf '  %s  (%s bytes)\n' "$(basename "$f")" "$(wc -c < "$f")"; done
for f in "idp-$VERSION.tar.gz" "idp-node-$VERSION.tgz" "idp-plugin-scaffolder-backend-module-idp-$VERSION.tgz"; do
  [ -f "$OUT/$f" ] || { echo "missing $OUT/$f" >&2; exit 1; }
done
ls "$OUT"/idp-"$VERSION"-cp39-abi3-*.whl >/dev/null || { echo "no abi3 wheel in $OUT" >&2; exit 1; }
ls "$OUT"/idp-node-*-"$VERSION".tgz >/dev/null || { echo "no platform package in $OUT" >&2; exit 1; }
