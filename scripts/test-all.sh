#!/usr/bin/env bash
# Every test of idp, from a clean clone on a fresh machine: installs what it needs (validators,
# maturin, npm packages) under .ci/tools and the packages' own folders, then runs the Rust, CLI,
# golden-path validation, test-forge conformance, Python, Node, Backstage, parity and example
# suites.
#
# Usage: scripts/test-all.sh          (CARGO_TARGET_DIR and TOOLS_DIR are honoured)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Everything builds for the host triple named explicitly: `napi build` always passes --target, so
# with it set here the Rust tests, the CLI, maturin and napi share one dependency build
# (target/<triple>/debug) instead of compiling the graph twice (about 7 minutes on 2 cores).
export CARGO_BUILD_TARGET="${CARGO_BUILD_TARGET:-$(rustc -vV | sed -n 's/^host: //p')}"
# One cold build per run: incremental caches would only add gigabytes to target/ (a CI run ran
# out of disk while linking the test binaries).
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
# The crash tests need idp's fail points (IDP_FAILPOINT), and the provider conformance suites the
# `testing` module, both compiled in only with these features; every build here uses them, so the
# graph is built once (the bindings' scripts pass the fail points on too).
export IDP_FEATURES="--features idp-cli/failpoints,idp-core/testing"
START=$SECONDS
step() { printf '\n=== [%4ds] %s\n' "$((SECONDS - START))" "$*"; }

step "install tools"
bash scripts/install-tools.sh

step "rust: format, lint, tests (engine, CLI)"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets $IDP_FEATURES --quiet -- -D warnings
cargo test --workspace $IDP_FEATURES --quiet

step "golden path: generate with the CLI (Python and Node services), validate with kubernetes-validate, actionlint, hadolint, promtool, pytest, npm test; day-0 live with Prometheus"
bash scripts/e2e-golden-path.sh

step "rust: examples (the golden path from Rust; a custom provider injected through the builder)"
# --workspace --bins, here and in the other scripts: one feature set, so one build of the graph.
cargo build --quiet --workspace --bins $IDP_FEATURES
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/$CARGO_BUILD_TARGET/debug"
"$BIN/idp-example"
"$BIN/idp-example-custom-provider" | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert r["status"] == "completed" and len(r["steps"]) == 4, r
assert all(s["change_request"]["url"].startswith("tiny-forge://") for s in r["steps"]), r
print("custom provider: the golden path ran through tiny-forge:", ", ".join(s["change_request"]["id"] for s in r["steps"]))
'

step "test forge: Octokit drives its GitHub API; every request and response checked against GitHub's OpenAPI description"
bash scripts/test-testforge-openapi.sh

step "bindings: Python, Node, Backstage, parity across the four faces, examples"
bash scripts/test-bindings.sh

step "a real Backstage backend: the example template through the scaffolder's HTTP API, as signed-in users"
# The binaries test-bindings.sh copied aside (its TOOLS_DIR).
TOOLS="${TOOLS_DIR:-$ROOT/.ci/tools}"
IDP_CLI="$TOOLS/bin/idp" IDP_TESTFORGE="$TOOLS/bin/idp-testforge" bash scripts/test-backstage-backend.sh

step "all green in $((SECONDS - START))s"
