#!/usr/bin/env bash
# Keeps the test forge honest: Octokit (@octokit/rest, a client that shares no code with idp)
# drives the forge's GitHub-shaped API through everything it supports, and every request and
# response is checked against GitHub's published OpenAPI description (@octokit/openapi:
# api.github.com and GHES 3.19); the run fails on any violation outside the short allow-list in
# idp-testforge/conformance/test/github.test.mjs. Needs cargo, Node >= 20 with npm.
#
# Usage: scripts/test-testforge-openapi.sh
#   IDP_TESTFORGE          a forge binary to test (default: build one, debug, in the shared
#                          target dir; CARGO_TARGET_DIR and CARGO_BUILD_TARGET are honoured)
#   OPENAPI_DESCRIPTIONS   which descriptions (default: api.github.com,ghes-3.19)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# A binary given by a relative path is the caller's: the tests run from idp-testforge/conformance.
if [ -n "${IDP_TESTFORGE:-}" ]; then
  IDP_TESTFORGE="$(realpath "$IDP_TESTFORGE")"
fi
cd "$ROOT"

if [ -z "${IDP_TESTFORGE:-}" ]; then
  # Inside scripts/test-all.sh (IDP_FEATURES set) the workspace's binaries are already built with
  # one feature set: the same command is a no-op, where `-p idp-testforge` alone would build the
  # dependency graph again with other features.
  if [ -n "${IDP_FEATURES:-}" ]; then
    cargo build --quiet --workspace --bins $IDP_FEATURES
  else
    cargo build --quiet -p idp-testforge
  fi
  IDP_TESTFORGE="${CARGO_TARGET_DIR:-$ROOT/target}/${CARGO_BUILD_TARGET:+$CARGO_BUILD_TARGET/}debug/idp-testforge"
fi
[ -x "$IDP_TESTFORGE" ] || { echo "no forge binary at $IDP_TESTFORGE" >&2; exit 1; }
export IDP_TESTFORGE

cd idp-testforge/conformance
npm ci --no-audit --no-fund --loglevel=error
node --test test/
