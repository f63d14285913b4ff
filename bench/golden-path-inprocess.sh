#!/usr/bin/env bash
# Benchmark (a report, not a test): the in-process golden path of this checkout beside a base
# revision's, in one run: `cargo bench -p idp-core --bench golden_path` built at both, then run
# alternately (base, this, base, this, ...) so that both see the same machine.
#
#   bench/golden-path-inprocess.sh [BASE_REV]     # default BASE_REV: HEAD~1
#   ROUNDS=5 bench/golden-path-inprocess.sh 1297194
#
# Prints each run's services/s, the medians, and this checkout's time per service relative to
# the base (the async periphery's goal: within 5%). The base is checked out into a scratch
# worktree; both builds share this checkout's target directory, so dependencies build once.
# TMPDIR chooses the disk the bench workspaces go to (the bench uses tempfile).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
base_rev="${1:-HEAD~1}"
rounds="${ROUNDS:-5}"
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "ROUNDS must be a positive integer" >&2; exit 2; }
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

base_dir="$(mktemp -d "${TMPDIR:-/tmp}/idp-base.XXXXXX")"
cleanup() {
  git -C "$root" worktree remove --force "$base_dir" >/dev/null 2>&1 || rm -rf -- "$base_dir"
}
trap cleanup EXIT
git -C "$root" worktree add --quiet --detach "$base_dir" "$base_rev"

# bench_binary DIR: builds the golden_path bench in DIR and prints the executable's path.
bench_binary() {
  (cd "$1" && cargo bench -p idp-core --bench golden_path --no-run --message-format=json 2>/dev/null) |
    python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "golden_path" and m.get("executable"):
        print(m["executable"])'
}
echo "building the bench at $base_rev and at this checkout (release)..." >&2
base_bin="$(bench_binary "$base_dir" | tail -1)"
head_bin="$(bench_binary "$root" | tail -1)"
[[ -x $base_bin && -x $head_bin ]] || { echo "a bench build failed" >&2; exit 1; }

rate() { "$1" --bench 2>/dev/null | sed -n 's/.*= \([0-9.]*\) services\/s.*/\1/p'; }
base_rates=() head_rates=()
for ((i = 1; i <= rounds; i++)); do
  b="$(rate "$base_bin")"
  h="$(rate "$head_bin")"
  base_rates+=("$b") head_rates+=("$h")
  printf 'round %d: base %s services/s, this %s services/s\n' "$i" "$b" "$h"
done
python3 - "$base_rev" "${base_rates[*]}" "${head_rates[*]}" <<'EOF'
import statistics, sys
rev, base, head = sys.argv[1], [float(x) for x in sys.argv[2].split()], [float(x) for x in sys.argv[3].split()]
b, h = statistics.median(base), statistics.median(head)
change = (b / h - 1) * 100  # time per service, relative
print(f"median: base ({rev}) {b:.1f} services/s ({1000/b:.1f} ms each), "
      f"this checkout {h:.1f} services/s ({1000/h:.1f} ms each)")
print(f"time per service: {change:+.1f}% against the base; goal within 5%: {'PASS' if change <= 5 else 'MISS'}")
EOF
