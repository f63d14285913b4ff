#!/usr/bin/env bash
# Builds the Python and Node bindings from source and runs their tests and examples, then the
# Backstage module's tests; on a fresh machine (Python >= 3.9 with pip, Node >= 20 with npm,
# Rust). Tools go to a venv under .ci/tools (gitignored) and the packages' node_modules.
#
#   pip install ./idp-python   -> pytest idp-python/tests, examples/python/golden_path.py
#   npm ci in idp-node         -> node --test idp-node/test, examples/node/golden_path.mjs
#                                 (npm's install script builds the addon; index.d.ts must not drift)
#   npm ci in idp-node/backstage -> jest (createMockActionContext, startTestBackend)
#   tests/parity/run.py          -> the request vectors through Rust, Python, Node and the CLI:
#                                   byte-identical results
#
# Usage: scripts/test-bindings.sh   (CARGO_TARGET_DIR and TOOLS_DIR are honoured)
# IDP_BINDINGS_PROFILE=release builds the bindings as users get them (default: dev, which
# builds in about a third of the time; the tests do not need the speed).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TOOLS_DIR="${TOOLS_DIR:-$ROOT/.ci/tools}"
PROFILE="${IDP_BINDINGS_PROFILE:-dev}"
VENV="$TOOLS_DIR/venv"
START=$SECONDS
step() { printf '\n=== [%4ds] %s\n' "$((SECONDS - START))" "$*"; }

# Test builds carry idp's fail points and conformance suites (scripts/test-all.sh sets
# IDP_FEATURES); so do the bindings built here (their `test-build` feature), which keeps one build
# of the graph. Released packages are built without them.
IDP_FEATURES="${IDP_FEATURES---features idp-cli/failpoints,idp-core/testing}"
BINDING_FEATURES="${IDP_FEATURES:+test-build}"

step "CLI and the Rust parity face (the tests compare every face with them)"
cargo build --quiet --workspace --bins $IDP_FEATURES
# Private copies: another checkout sharing CARGO_TARGET_DIR may rebuild target/debug.
mkdir -p "$TOOLS_DIR/bin"
BIN_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/${CARGO_BUILD_TARGET:+$CARGO_BUILD_TARGET/}debug"
for b in idp idp-parity-rust; do cp "$BIN_DIR/$b" "$TOOLS_DIR/bin/$b"; done
export IDP_CLI="$TOOLS_DIR/bin/idp" IDP_PARITY_RUST="$TOOLS_DIR/bin/idp-parity-rust"

step "python: venv with maturin and pytest in $VENV"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q "maturin>=1.16,<2" "pytest>=8"
export PATH="$VENV/bin:$PATH"

step "python: pip install ./idp-python (maturin, profile $PROFILE)"
MATURIN_PEP517_ARGS="--profile $PROFILE${CARGO_BUILD_TARGET:+ --target $CARGO_BUILD_TARGET}${BINDING_FEATURES:+ --features $BINDING_FEATURES}" pip install -q --no-build-isolation --no-cache-dir \
  --force-reinstall --no-deps ./idp-python

step "python: pytest"
(cd idp-python && python -m pytest -q)

step "python: example"
python examples/python/golden_path.py

step "node: npm ci in idp-node (builds the addon from source, profile $PROFILE)"
(cd idp-node && IDP_NODE_BUILD_PROFILE="$PROFILE" IDP_NODE_FEATURES="$BINDING_FEATURES" npm ci --no-audit --no-fund)
if git rev-parse --git-dir >/dev/null 2>&1; then
  git diff --exit-code --stat -- idp-node/index.d.ts idp-node/index.js idp-node/api.d.ts ||
    { echo "idp-node/index.d.ts, index.js or api.d.ts differs from what the build generates: commit the generated files" >&2; exit 1; }
fi

step "node: npm install ./idp-node from an app (the package builds itself on install)"
APP="$(mktemp -d)"
(cd "$APP" && npm init -y >/dev/null \
  && IDP_NODE_BUILD_PROFILE="$PROFILE" IDP_NODE_FEATURES="$BINDING_FEATURES" npm install --no-audit --no-fund --loglevel=error "$ROOT/idp-node" \
  && node -e "const {Platform, methods} = require('@idp/node'); Platform.builtin('ws'); console.log('installed @idp/node:', methods().length, 'methods')")
rm -rf "$APP"

step "node: node --test"
(cd idp-node && node --test test/)

step "node: example"
node examples/node/golden_path.mjs

step "backstage: npm ci in idp-node/backstage, jest"
# --ignore-scripts: @idp/node (a link to ../) was built above; nothing else the tests load
# needs an install script.
(cd idp-node/backstage && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error \
  && npx jest --ci)

step "parity: every request vector through Rust, Python, Node and the CLI"
python tests/parity/run.py

step "bindings: all green in $((SECONDS - START))s"
