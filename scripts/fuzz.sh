#!/usr/bin/env bash
# Runs every fuzz target (fuzz/fuzz_targets: request, platform_folder, merge, hcl, yaml) for SECONDS
# each (default 60) with cargo-fuzz (libFuzzer, AddressSanitizer), seeded from the built-in
# platform, and prints per target the executions, the corpus size and the findings (crashes,
# timeouts, leaks saved under fuzz/artifacts/<target>/). Exits 1 when anything was found.
# Not part of CI. Installs what it needs: a nightly toolchain (rustup) and cargo-fuzz.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECONDS_EACH="${1:-60}"
shift || true
TARGETS=("$@")
[ "${#TARGETS[@]}" -gt 0 ] || TARGETS=(request platform_folder merge hcl yaml)

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

cd "$ROOT/fuzz"
# Seeds: real inputs of each kind, so the fuzzer starts from what idp actually reads.
PF="$ROOT/idp-core/platform"
seed() { mkdir -p "corpus/$1"; cat > "corpus/$1/$2"; }
printf 'service: payments-api\nowner: team-payments\nparameters: {port: 8080, description: "A service"}\nintents: [{type: bucket, class: logs, params: {retention_days: 90}}]\n' | seed request yaml
printf '{"service":"a","owner":"b","parameters":{"database":{"password":"x"}}}' | seed request json
{ printf '\x00'; cat "$PF/idp.yaml"; } | seed platform_folder idp
{ printf '\x01'; cat "$PF/org/org.yaml"; } | seed platform_folder org
{ printf '\x02'; cat "$PF/modules/bucket/aws-s3-bucket.yaml"; } | seed platform_folder module
{ printf '\x03'; cat "$PF/policies/authz.cedar"; } | seed platform_folder cedar
cat "$PF/idp.yaml" | seed yaml idp
cat "$PF/org/org.yaml" | seed yaml org
cat "$PF/golden-paths/python-fastapi-service/2.0.0/path.yaml" | seed yaml path
printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: "a"\n  labels: {}\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n        - name: app\n          args: [--port, "8080"]\n          ports:\n          - containerPort: 8080\ndata:\n  x.json: |\n    {"a": 1}\n---\n- 0123\n- 1.5\n' | seed yaml manifest

cargo +nightly fuzz build -O

status=0
printf '%-16s %12s %10s %9s\n' target executions corpus findings
for t in "${TARGETS[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  before=$(find "artifacts/$t" -type f | wc -l)
  log="$(mktemp)"
  cargo +nightly fuzz run -O "$t" "corpus/$t" -- \
    -max_total_time="$SECONDS_EACH" -print_final_stats=1 -rss_limit_mb=4096 >"$log" 2>&1 || true
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  after=$(find "artifacts/$t" -type f | wc -l)
  found=$((after - before))
  printf '%-16s %12s %10s %9s\n' "$t" "${execs:-?}" "$(find "corpus/$t" -type f | wc -l)" "$found"
  if [ "$found" -gt 0 ] || ! grep -q 'stat::number_of_executed_units' "$log"; then
    status=1
    grep -E 'panicked|ERROR: |SUMMARY' "$log" | head -5 || tail -20 "$log"
  fi
  rm -f "$log"
done
exit "$status"
