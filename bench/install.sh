#!/usr/bin/env bash
# Benchmark (not a test): how long installing idp takes, from the packed artifacts beside from
# source, each into a fresh place, measured in the same run. See issue 14, quality bar.
#
#   bench/install.sh
#
#   1. scripts/package.sh --profile release builds the packages into $BENCH_OUT/dist (not timed);
#   2. from packages, Rust hidden from the PATH:
#        Python  `pip install dist/idp-X-cp39-abi3-*.whl` into a fresh venv
#        Node    `npm install dist/idp-node-*.tgz` (@idp/node and its platform package) into a
#                fresh app
#   3. from source, as docs/install.md says, with a cold cargo target dir (what a build machine
#      without a cache gets; the crates are already downloaded):
#        Python  `pip install ./idp-python` into a fresh venv
#        Node    `npm install /path/to/idp/idp-node` into a fresh app
#   4. prints each time and the ratio.
#
# Environment: BENCH_OUT (default bench/out; gitignored). Needs the network (PyPI, npm). Takes
# about 20 minutes on 2 cores: the from-source installs compile the engine twice, in release.
# Don't run it beside another build.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="${BENCH_OUT:-$ROOT/bench/out}/install"
DIST="$OUT/dist"
VERSION="$(sed -n '/^\[workspace\.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$OUT"

. scripts/doc-commands.sh   # NO_RUST_ENV, without_rust: cargo, rustc and rustup hidden
seconds() { python3 -c 'import sys,time; t=time.perf_counter(); import subprocess; subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); print(f"{time.perf_counter()-t:.1f}")' "$@"; }

echo "building the release packages (not timed)" >&2
bash scripts/package.sh --out "$DIST" --profile release >/dev/null

python3 -m venv "$TMP/py-pkg"
PY_PKG=$(seconds "${NO_RUST_ENV[@]}" "$TMP/py-pkg/bin/pip" install -q --no-cache-dir "$DIST"/idp-"$VERSION"-cp39-abi3-*.whl)
mkdir "$TMP/node-pkg" && (cd "$TMP/node-pkg" && npm init -y >/dev/null)
NODE_PKG=$(cd "$TMP/node-pkg" && seconds "${NO_RUST_ENV[@]}" npm install --no-audit --no-fund \
  "$DIST/idp-node-$VERSION.tgz" "$DIST"/idp-node-linux-*-"$VERSION".tgz)

python3 -m venv "$TMP/py-src"
PY_SRC=$(CARGO_TARGET_DIR="$TMP/target-py" seconds "$TMP/py-src/bin/pip" install -q --no-cache-dir ./idp-python)
mkdir "$TMP/node-src" && (cd "$TMP/node-src" && npm init -y >/dev/null)
NODE_SRC=$(cd "$TMP/node-src" && CARGO_TARGET_DIR="$TMP/target-node" seconds npm install --no-audit --no-fund "$ROOT/idp-node")

# Each installed copy works.
without_rust "$TMP/py-pkg/bin/python" -c 'import idp; idp.Platform.default(workspace="'"$TMP"'/ws1")'
(cd "$TMP/node-pkg" && without_rust node -e "require('@idp/node').Platform.builtin('$TMP/ws2')")

{
  echo "install time, idp $VERSION, $(nproc) cores ($(date -u +%Y-%m-%dT%H:%MZ))"
  printf '  %-8s %16s %14s %8s\n' face "from packages" "from source" ratio
  for row in "Python $PY_PKG $PY_SRC" "Node $NODE_PKG $NODE_SRC"; do
    set -- $row
    printf '  %-8s %15ss %13ss %7.0fx\n' "$1" "$2" "$3" "$(python3 -c "print($3/$2)")"
  done
  echo "  packages: $(du -sh "$DIST" | cut -f1) in $DIST; from source: a cold release build of the engine"
} | tee "$OUT/report.txt"
