#!/usr/bin/env bash
# Benchmark (not a test): the golden path through Python and through Node vs native Rust, same
# machine, same run, all three built in release; and the binding call overhead of a trivial call
# (explain). Each face runs the same workload in one process (bench/bindings/{native.rs,
# python.py,node.mjs}): SERVICES golden paths for svc-0..N, one call at a time, then EXPLAIN
# explain calls. Rounds are interleaved (native, python, node, native, ...) and the median
# counts, so a burst of load elsewhere on the machine hits every face alike.
#
# Usage: bench/bindings.sh            (SERVICES=200 EXPLAIN=2000 ROUNDS=3 to change)
# Builds: cargo build --release (native example), pip install ./idp-python (release) into
# .ci/tools/bench-venv, napi build --release in idp-node. Don't run it beside a build.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SERVICES="${SERVICES:-200}"
EXPLAIN="${EXPLAIN:-2000}"
ROUNDS="${ROUNDS:-3}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
VENV="${TOOLS_DIR:-$ROOT/.ci/tools}/bench-venv"
log() { printf 'bench: %s\n' "$*" >&2; }

log "building release artifacts (native baseline, Python wheel, Node addon)"
START=$SECONDS
cargo build --release --quiet -p idp-python --example native_baseline
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q "maturin>=1.16,<2"
PATH="$VENV/bin:$PATH" "$VENV/bin/pip" install -q --no-build-isolation --no-cache-dir \
  --force-reinstall --no-deps ./idp-python
(cd idp-node && { [ -d node_modules ] || npm ci --ignore-scripts --no-audit --no-fund; } \
  && npx napi build --platform --release >/dev/null)
log "built in $((SECONDS - START)) s"

OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
for round in $(seq "$ROUNDS"); do
  log "round $round/$ROUNDS"
  "$TARGET/release/examples/native_baseline" "$OUT/native-$round" "$SERVICES" "$EXPLAIN"
  "$VENV/bin/python" bench/bindings/python.py "$OUT/python-$round" "$SERVICES" "$EXPLAIN"
  node bench/bindings/node.mjs "$OUT/node-$round" "$SERVICES" "$EXPLAIN"
done | tee "$OUT/runs.jsonl" >&2
python3 bench/bindings/report.py < "$OUT/runs.jsonl"
