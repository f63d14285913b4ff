#!/usr/bin/env bash
# A real Backstage backend, end to end (examples/backstage-backend): installs the example backend
# (createBackend with the scaffolder, the catalog, sign-in and idp's module) with idp's npm
# packages packed from this checkout, then runs test/e2e.test.mjs, which starts the backend and
# the test forge on loopback ports and drives the example Software Template through the
# scaffolder's HTTP API as signed-in catalog users.
#
# Needs: Node >= 20 with npm; the native module idp-node/idp.<platform>.node (`npm ci` in
# idp-node, which scripts/test-bindings.sh runs, builds it); the idp CLI and the test forge
# (IDP_CLI, IDP_TESTFORGE; default target/debug/idp and target/debug/idp-testforge:
# `cargo build --workspace --bins`). Nothing is skipped: a missing piece fails the run.
# better-sqlite3 (the backend's database) compiles from source on install (a C++ compiler; the
# Node headers from /usr/include/node when they are there, else node-gyp downloads them).
#
# Warm runs reuse the install: it runs again only when package-lock.json changed, the idp
# packages are repacked and reinstalled only when what they are packed from changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EX="$ROOT/examples/backstage-backend"
PKGS="$EX/.packages"
START=$SECONDS
step() { printf '\n--- [%4ds] %s\n' "$((SECONDS - START))" "$*"; }
fail() { echo "test-backstage-backend: $*" >&2; exit 1; }

export IDP_CLI="${IDP_CLI:-$ROOT/target/debug/idp}"
export IDP_TESTFORGE="${IDP_TESTFORGE:-$ROOT/target/debug/idp-testforge}"
[ -x "$IDP_CLI" ] || fail "no idp CLI at $IDP_CLI (cargo build --workspace --bins, or set IDP_CLI)"
[ -x "$IDP_TESTFORGE" ] || fail "no test forge at $IDP_TESTFORGE (cargo build --workspace --bins, or set IDP_TESTFORGE)"
PLATFORM="$(node -p "require('$ROOT/idp-node/scripts/platform.js').platformSuffix()")"
ADDON="$ROOT/idp-node/idp.$PLATFORM.node"
[ -f "$ADDON" ] || fail "idp-node/idp.$PLATFORM.node is not built (npm ci in idp-node, as scripts/test-bindings.sh does)"

# True when some file under the given paths is newer than $1.
newer_than() { local ref="$1"; shift; [ ! -e "$ref" ] || [ -n "$(find "$@" -newer "$ref" -print -quit 2>/dev/null)" ]; }

step "the Backstage module, built from its sources (idp-node/backstage)"
BS="$ROOT/idp-node/backstage"
if newer_than "$BS/dist/index.cjs.js" "$BS/src"; then
  [ -d "$BS/node_modules" ] || (cd "$BS" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  (cd "$BS" && npm run -s build)
else
  echo "up to date"
fi

step "idp's npm packages, packed into examples/backstage-backend/.packages"
STAMP_PKGS="$PKGS/.packed"
if newer_than "$STAMP_PKGS" "$ADDON" "$BS/dist" "$BS/package.json" "$ROOT/idp-node/index.js" \
  "$ROOT/idp-node/index.d.ts" "$ROOT/idp-node/api.d.ts" "$ROOT/idp-node/package.json" "$ROOT/idp-node/npm"; then
  rm -rf "$PKGS"
  mkdir -p "$PKGS"
  node "$ROOT/scripts/pack-npm.mjs" --out "$PKGS"
  touch "$STAMP_PKGS"
else
  echo "up to date"
fi

step "npm install in examples/backstage-backend"
cd "$EX"
# better-sqlite3 builds from source: against the system's Node headers when it has them.
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node_api.h ]; then
  export npm_config_nodedir=/usr
fi
T0=$SECONDS
LOCK_SUM="$(cat package-lock.json package.json | sha256sum | cut -d' ' -f1)"
# `npm install` from the lock (exact versions), not `npm ci`: @idp/node lists every platform's
# package as an optional dependency, and npm ci refuses a lock without the ones this platform
# does not install. --no-save: the lock stays as committed (no integrity for the idp tarballs,
# which are repacked from the checkout).
INSTALL=""
if [ "$(cat node_modules/.idp-e2e-lock 2>/dev/null)" != "$LOCK_SUM" ]; then
  rm -rf node_modules
  INSTALL=1
elif newer_than node_modules/.idp-e2e-packages "$STAMP_PKGS"; then
  rm -rf node_modules/@idp
  INSTALL=1
fi
if [ -n "$INSTALL" ]; then
  npm install --no-save --no-audit --no-fund --loglevel=error
  echo "$LOCK_SUM" > node_modules/.idp-e2e-lock
  touch node_modules/.idp-e2e-packages
else
  echo "up to date"
fi
echo "node_modules: $(du -sh node_modules | cut -f1), installed in $((SECONDS - T0))s"
# The module must load Backstage's packages from the backend's tree, not its own copies.
node -e "
const m = require.resolve('@idp/plugin-scaffolder-backend-module-idp');
const api = require.resolve('@backstage/backend-plugin-api', { paths: [m] });
if (!api.startsWith(require('path').join(process.cwd(), 'node_modules'))) throw new Error('the module resolves ' + api);
"

step "test/e2e.test.mjs"
node --test --test-reporter=spec test/

step "backstage-backend: all green in $((SECONDS - START))s"
