#!/usr/bin/env bash
# Benchmark (not a test): idp against a forge, on the test forge over real HTTP (issue 11,
# quality bar). Release builds of the CLI and the test forge.
#
#   bench/forge.sh [SERVICES]        (default 200; 0 skips the fleet)
#
#   1. requests per golden path, for each kind (github, gitea, gitlab: the test forge serves
#      all three shapes): one golden path each, the forge's request counts by route;
#   2. the fleet: SERVICES services created at golden path 1.0.0 (not timed, no latency), then
#      `idp upgrade --all` with 20 ms injected on every forge request, at the concurrency
#      providers.source_control.concurrency sets (1 and 8), under the forge's rate limit
#      (403 with x-ratelimit-remaining: 0 past it, which idp waits out): wall time, requests,
#      requests per second, and whether the limit was ever hit.
#
# Environment: BENCH_OUT (default bench/out; gitignored); BENCH_PROFILE (default release;
# `debug` is enough for the request counts, not for the fleet's times). Don't run it beside
# another build.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SERVICES="${1:-200}"
LATENCY_MS=20
RATE_LIMIT=100000 # per token per hour: what a GitHub App installation gets at most is 15,000
OUT="${BENCH_OUT:-$ROOT/bench/out}/forge"
mkdir -p "$OUT"
TMP="$(mktemp -d)"
FORGE_PID=""
cleanup() { [ -n "$FORGE_PID" ] && kill "$FORGE_PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

PROFILE="${BENCH_PROFILE:-release}"
echo "building the $PROFILE CLI and test forge (not timed)" >&2
if [ "$PROFILE" = release ]; then
  cargo build --quiet --release -p idp-cli -p idp-testforge
else
  cargo build --quiet -p idp-cli -p idp-testforge
fi
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/${CARGO_BUILD_TARGET:+$CARGO_BUILD_TARGET/}$PROFILE"
TOKEN=bench-token
export IDP_GITHUB_TOKEN=$TOKEN

"$BIN/idp-testforge" --listen 127.0.0.1:0 --root "$TMP/forge" --token "$TOKEN" \
  --rate-limit "$RATE_LIMIT" > "$TMP/forge.out" &
FORGE_PID=$!
for _ in $(seq 100); do [ -s "$TMP/forge.out" ] && break; sleep 0.05; done
BASE="$(head -1 "$TMP/forge.out")"
forge() { curl -fsS -X "$1" -H "Authorization: token $TOKEN" "$BASE$2" ${3:+-d "$3"}; }

platform() { # DIR CONCURRENCY [KIND]
  "$BIN/idp" init "$1" >/dev/null
  python3 - "$1/idp.yaml" "$BASE" "$2" "${3:-github}" <<'EOF'
import sys
path, base, concurrency, kind = sys.argv[1:]
api = {"github": "v3", "gitea": "v1", "gitlab": "v4"}[kind]
s = open(path).read().replace(
    "    kind: local-git\n",
    f"    kind: {kind}\n    api_url: {base}/api/{api}\n    owner: acme\n"
    f"    token: {{ env: IDP_GITHUB_TOKEN }}\n    concurrency: {concurrency}\n")
open(path, "w").write(s)
EOF
}

# 1. Requests per golden path, per kind (each in its own organization).
for KIND in github gitea gitlab; do
  platform "$TMP/p1-$KIND" 8 "$KIND"
  sed -i "s/    owner: acme/    owner: org-$KIND/" "$TMP/p1-$KIND/idp.yaml"
  forge DELETE /_forge/stats
  "$BIN/idp" --workspace "$TMP/ws1-$KIND" --platform "$TMP/p1-$KIND" --as user:default/alice -q \
    golden-path run --service first-api --owner team-payments >/dev/null
  forge GET /_forge/stats > "$OUT/golden-path-requests-$KIND.json"
done

# 2. The fleet, once per concurrency (each on its own org's fresh repos).
for C in $([ "$SERVICES" -gt 0 ] && echo 1 8); do
  platform "$TMP/p$C-fleet" "$C"
  sed -i "s/    owner: acme/    owner: fleet$C/" "$TMP/p$C-fleet/idp.yaml"
  WS="$TMP/ws-fleet-$C"
  echo "creating $SERVICES services at 1.0.0 (concurrency $C; not timed)" >&2
  for i in $(seq -w 1 "$SERVICES"); do
    "$BIN/idp" --workspace "$WS" --platform "$TMP/p$C-fleet" --as user:default/alice -q \
      golden-path run --service "svc-$i" --owner team-payments --version 1.0.0 >/dev/null
  done
  forge DELETE /_forge/stats
  forge DELETE /_forge/faults
  forge POST /_forge/faults "[{\"kind\": \"latency\", \"latency_ms\": $LATENCY_MS, \"count\": 100000000}]"
  python3 - "$BIN/idp" "$WS" "$TMP/p$C-fleet" "$OUT/fleet-$C.json" <<'EOF'
import json, subprocess, sys, time
idp, ws, platform, out = sys.argv[1:]
t = time.perf_counter()
p = subprocess.run([idp, "--workspace", ws, "--platform", platform, "--as", "user:default/pat",
                    "-q", "--json", "upgrade", "--all"], capture_output=True, text=True)
elapsed = time.perf_counter() - t
if p.returncode not in (0, 4):
    sys.exit(f"idp upgrade --all failed ({p.returncode}): {p.stderr}")
json.dump({"seconds": elapsed, "report": json.loads(p.stdout)}, open(out, "w"))
EOF
  forge GET /_forge/stats > "$OUT/fleet-$C-requests.json"
  forge DELETE /_forge/faults
done

python3 - "$OUT" "$SERVICES" "$LATENCY_MS" "$RATE_LIMIT" <<'EOF'
import json, sys
out, services, latency, limit = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
for kind, prefix, skip in (("github", "/api/v3/repos/", 5), ("gitea", "/api/v1/repos/", 5),
                           ("gitlab", "/api/v4/projects/", 4)):
    gp = json.load(open(f"{out}/golden-path-requests-{kind}.json"))
    print(f"requests per golden path (4 steps), kind {kind}: {gp['total']}")
    routes = {}
    for route, n in gp["by_route"].items():
        method, path = route.split(" ", 1)
        key = method + " " + "/".join(p for p in path.split("/")[skip:] if p not in ("N", "SHA")) if path.startswith(prefix) else route
        routes[key] = routes.get(key, 0) + n
    for k, n in sorted(routes.items(), key=lambda kv: -kv[1]):
        print(f"  {n:3d}  {k}")
    print()
if services == 0:
    sys.exit(0)
print(f"idp upgrade --all over {services} services, {latency} ms injected per request, forge limit {limit}/h per token:")
for c in (1, 8):
    r = json.load(open(f"{out}/fleet-{c}.json"))
    s = json.load(open(f"{out}/fleet-{c}-requests.json"))
    limited = s["by_status"].get("403", 0) + s["by_status"].get("429", 0)
    rep = r["report"]
    counts = {k: rep.get(k) for k in ("upgraded", "conflicts", "up_to_date", "failed") if k in rep}
    print(f"  concurrency {c}: {r['seconds']:.1f} s, {s['total']} requests "
          f"({s['total'] / r['seconds']:.0f}/s, {s['total'] / services:.1f} per service), "
          f"rate-limited answers: {limited}, {counts}")
EOF
