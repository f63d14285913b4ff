#!/usr/bin/env bash
# Builds the Python and Node bindings from source, packs them, installs the packages with Rust
# hidden and runs their tests and examples, and builds and tests the Backstage module; on a fresh machine
# (Python >= 3.9 with pip, Node >= 20 with npm, Rust). Tools go to a venv under .ci/tools
# (gitignored) and the packages' node_modules.
#
#   npm install ./idp-node from an app -> the source-checkout install docs/install.md describes
#   npm ci in idp-node                 -> napi builds the addon; index.d.ts must not drift
#   npm ci in idp-node/backstage       -> tsc, backstage-cli package lint, build and test (jest:
#                                         createMockActionContext, startTestBackend)
#   scripts/package.sh                 -> the abi3 wheel, the sdist, the npm tarballs
#   scripts/test-packages.sh           -> each installed with Rust hidden: pytest idp-python/tests
#                                         and the examples against the wheel, a wheel from the
#                                         sdist, the tarballs in a fresh app
#   node --test idp-node/test, examples/node/golden_path.mjs
#   tests/parity/run.py                -> the request vectors through Rust, Python (the installed
#                                         wheel), Node and the CLI: byte-identical results
#
# Usage: scripts/test-bindings.sh   (CARGO_TARGET_DIR and TOOLS_DIR are honoured)
# IDP_BINDINGS_PROFILE=release builds the bindings as users get them (default: dev, which
# builds in about a third of the time; the tests do not need the speed).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TOOLS_DIR="${TOOLS_DIR:-$ROOT/.ci/tools}"
PROFILE="${IDP_BINDINGS_PROFILE:-dev}"
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
for b in idp idp-parity-rust idp-testforge; do cp "$BIN_DIR/$b" "$TOOLS_DIR/bin/$b"; done
export IDP_CLI="$TOOLS_DIR/bin/idp" IDP_PARITY_RUST="$TOOLS_DIR/bin/idp-parity-rust" \
  IDP_TESTFORGE="$TOOLS_DIR/bin/idp-testforge"

step "node-source (docs/install.md): npm install /path/to/idp/idp-node in a fresh app builds it from this checkout"
. scripts/doc-commands.sh
# IDP_NODE_BUILD_WITH=cargo: the cargo-only build a linked install gets on a clean clone (before
# idp-node has node_modules), on every run.
APP="$(mktemp -d)"
trap 'rm -rf "$APP"' EXIT
(cd "$APP" && npm init -y >/dev/null \
  && IDP_NODE_BUILD_WITH=cargo IDP_NODE_BUILD_PROFILE="$PROFILE" IDP_NODE_FEATURES="$BINDING_FEATURES" run_doc node-source \
  && node -e "const {Platform, methods} = require('@idp/node'); Platform.builtin('ws'); console.log('installed @idp/node:', methods().length, 'methods')")
rm -rf "$APP"

step "node: npm ci in idp-node (builds the addon from source with napi, profile $PROFILE)"
(cd idp-node && IDP_NODE_BUILD_PROFILE="$PROFILE" IDP_NODE_FEATURES="$BINDING_FEATURES" npm ci --no-audit --no-fund)
if git rev-parse --git-dir >/dev/null 2>&1; then
  git diff --exit-code --stat -- idp-node/index.d.ts idp-node/index.js idp-node/api.d.ts ||
    { echo "idp-node/index.d.ts, index.js or api.d.ts differs from what the build generates: commit the generated files" >&2; exit 1; }
fi

step "backstage: npm ci in idp-node/backstage; tsc, lint, build and test with Backstage's CLI"
# --ignore-scripts: @idp/node (a link to ../) was built above; nothing else the module's build
# and tests load needs an install script (better-sqlite3 would compile from source).
(cd idp-node/backstage && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error \
  && npm run -s tsc && npm run -s lint && npm run -s build && npm test -s)

step "packages: scripts/package.sh (profile $PROFILE): the wheel, the sdist, the npm tarballs"
DIST="$TOOLS_DIR/dist"
IDP_PACKAGE_FEATURES="$BINDING_FEATURES" IDP_PACKAGE_REUSE_NODE_MODULES=1 bash scripts/package.sh --out "$DIST" --profile "$PROFILE"

step "packages: installed with Rust hidden; idp-python's tests against the wheel"
# The sdist's build shares this checkout's target dir and build settings.
MATURIN_PEP517_ARGS="--profile $PROFILE${CARGO_BUILD_TARGET:+ --target $CARGO_BUILD_TARGET}${BINDING_FEATURES:+ --features $BINDING_FEATURES}" \
  CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}" \
  bash scripts/test-packages.sh "$DIST" "$TOOLS_DIR/installed"
# The parity suite's Python face is the installed wheel.
PYTHON="$TOOLS_DIR/installed/python-wheel/.venv/bin/python"

step "node: node --test"
(cd idp-node && node --test test/)

step "node: example"
node examples/node/golden_path.mjs

step "parity: every request vector through Rust, Python, Node and the CLI"
"$PYTHON" tests/parity/run.py

step "bindings: all green in $((SECONDS - START))s"
