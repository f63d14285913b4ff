#!/usr/bin/env bash
# Every test of idp, from a clean clone on a fresh machine: installs what it needs (validators,
# maturin, npm packages) under .ci/tools and the packages' own folders, then runs the Rust, CLI,
# golden-path validation, Python, Node, Backstage, parity and example suites.
#
# Usage: scripts/test-all.sh          (CARGO_TARGET_DIR and TOOLS_DIR are honoured)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
START=$SECONDS
step() { printf '\n=== [%4ds] %s\n' "$((SECONDS - START))" "$*"; }

step "install tools"
bash scripts/install-tools.sh

step "rust: format, lint, tests (engine, CLI)"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo test --workspace --quiet

step "golden path: generate with the CLI and validate with kubernetes-validate, actionlint, hadolint, promtool, pytest"
bash scripts/e2e-golden-path.sh

step "rust: example"
cargo run --quiet -p idp-example

step "bindings: Python, Node, Backstage, parity across the four faces, examples"
bash scripts/test-bindings.sh

step "all green in $((SECONDS - START))s"
