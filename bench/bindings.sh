#!/usr/bin/env bash
# Benchmark (not a test): the golden path through Python and through Node vs native Rust, same
# machine, same run, all three built in release; and the binding call overhead of a trivial call
# (explain). Each face runs the same workload in one process (bench/bindings/{native.rs,
# python.py,node.mjs}): SERVICES golden paths for svc-0..N, one call at a time, then EXPLAIN
# explain calls. Rounds are interleaved, each starting with the next face (native python node,
# python node native, ...), dirty pages are synced before every run, and the median round per
# face counts, so a burst of load elsewhere on the machine hits every face alike.
#
# Usage: bench/bindings.sh            (SERVICES=100 EXPLAIN=1000 ROUNDS=5 to change)
# Builds: cargo build --release (native example), pip install ./idp-python (release) into
# .ci/tools/bench-venv, napi build --release in idp-node. Don't run it beside a build.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SERVICES="${SERVICES:-100}"
EXPLAIN="${EXPLAIN:-1000}"
ROUNDS="${ROUNDS:-5}"
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
# target/release, or target/<triple>/release when a build target is set (CARGO_BUILD_TARGET, a
# cargo config): the newest build.
NATIVE=""
for f in "$TARGET"/release/examples/native_baseline "$TARGET"/*/release/examples/native_baseline; do
  [[ -x $f && ( -z $NATIVE || $f -nt $NATIVE ) ]] && NATIVE=$f
done
[[ -n $NATIVE ]] || { log "native_baseline was not built"; exit 1; }
log "built in $((SECONDS - START)) s"

OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
run_face() {
  sync
  case "$1" in
    native) "$NATIVE" "$OUT/$1-$2" "$SERVICES" "$EXPLAIN" ;;
    python) "$VENV/bin/python" bench/bindings/python.py "$OUT/$1-$2" "$SERVICES" "$EXPLAIN" ;;
    node) node bench/bindings/node.mjs "$OUT/$1-$2" "$SERVICES" "$EXPLAIN" ;;
  esac
}
FACES=(native python node)
for round in $(seq "$ROUNDS"); do
  log "round $round/$ROUNDS"
  for k in 0 1 2; do
    run_face "${FACES[$(((round + k) % 3))]}" "$round"
  done
done | tee "$OUT/runs.jsonl" >&2
python3 bench/bindings/report.py < "$OUT/runs.jsonl"
