#!/usr/bin/env bash
# Benchmark (not a test): whole-process time of `idp golden-path run` beside `copier copy` of the
# same generated files, measured in the same run.  See issue 2, quality bar, "Benchmark".
#
#   bench/golden-path.sh                                  # release build (built once if missing)
#   IDP_BIN=target/debug/idp RUNS=10 bench/golden-path.sh
#
# What it does:
#   1. runs the golden path once into a scratch workspace, clones the service repo and the GitOps
#      repo, and turns their files into a copier template (bench/make_copier_template.py); checks
#      that copier renders it faithfully for another service name (bench/compare_trees.py);
#   2. times `idp golden-path run` for one service, whole process: (a) first service in an empty
#      workspace (a new workspace directory every run), (b) one more service in a workspace that
#      already has $PREFILL services (a new service name every run, so run k adds service PREFILL+k);
#   3. times `copier copy --trust --defaults --data service=... TEMPLATE DEST` of those files;
#   4. prints min/median/max, the ratio copier/idp and the targets (< 100 ms; >= 20x).
#
# Environment:
#   IDP_BIN         idp binary (default: target/release/idp, built with cargo if missing)
#   RUNS            timed runs per command (default 20); WARMUP untimed warmups (default 3)
#   PREFILL         services already in the workspace for case (b) (default 50)
#   COPIER_VERSION  copier from PyPI, installed in bench/.venv (default 9.19.1)
#   BENCH_RUNNER    auto | hyperfine | python (default auto: hyperfine, installed with apt-get if
#                   missing; else a python subprocess + time.perf_counter loop)
#   BENCH_OUT       where results go (default bench/out; gitignored)
#   TMPDIR          where the scratch workspaces go (removed on exit); idp fsyncs, so the disk
#                   shows in its time: TMPDIR=/dev/shm (tmpfs) takes the disk out
#
# Don't run it beside a build: on 2 cores a concurrent cargo build doubles idp's times.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

RUNS="${RUNS:-20}"
WARMUP="${WARMUP:-3}"
PREFILL="${PREFILL:-50}"
COPIER_VERSION="${COPIER_VERSION:-9.19.1}"
BENCH_RUNNER="${BENCH_RUNNER:-auto}"
OUT="${BENCH_OUT:-$here/out}"
PRINCIPAL="user:default/alice"
OWNER="team-payments"
SERVICE="orders"              # the timed service (idp and copier alike)
TEMPLATE_SERVICE="zzbenchsvc" # source of the copier template: a name that occurs nowhere else
VERIFY_SERVICE="zzverify"     # fidelity check: idp and copier both render this one

log() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

for v in RUNS WARMUP PREFILL; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a non-negative integer, got '${!v}'"
done
(( RUNS >= 1 )) || die "RUNS must be at least 1"
case "$BENCH_RUNNER" in auto | hyperfine | python) ;; *) die "BENCH_RUNNER must be auto, hyperfine or python" ;; esac
for tool in git python3; do
  command -v "$tool" >/dev/null || die "'$tool' is required but not on PATH"
done

started=$SECONDS
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

# shellcheck source=bench/common.sh
source "$here/common.sh"

# --- scratch space ---------------------------------------------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/idp-bench.XXXXXX")"
cleanup() { rm -rf -- "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
fs_type="$(stat -f -c %T "$work" 2>/dev/null || echo unknown)"

# run_idp WORKSPACE SERVICE [ARGS...]: one golden path, quietly; on failure show idp's stderr.
run_idp() {
  local ws=$1 svc=$2
  shift 2
  if ! "$IDP_BIN" --workspace "$ws" --as "$PRINCIPAL" -q golden-path run \
    --service "$svc" --owner "$OWNER" "$@" >"$work/idp.stdout" 2>"$work/idp.stderr"; then
    cat "$work/idp.stderr" >&2
    die "idp golden-path run failed for service '$svc' in $ws (exit above)"
  fi
}

# clone_repos WORKSPACE SERVICE DIR: clone the service repo and the GitOps repo named in the receipt.
clone_repos() {
  local ws=$1 svc=$2 dir=$3 links
  run_idp "$ws" "$svc" --json
  links="$(python3 - "$work/idp.stdout" <<'PY'
import json, sys
links = json.load(open(sys.argv[1]))["links"]
for key in ("service_repo", "gitops_repo"):
    url = links.get(key) or sys.exit(f"receipt has no links.{key}")
    print(url.removeprefix("file://"))
PY
)" || die "could not read the repo locations from idp's receipt ($work/idp.stdout)"
  mkdir -p "$dir"
  sed -n 2p <<<"$links" | sed 's|^|file://|' >"$dir/gitops_url"
  git clone -q "$(sed -n 1p <<<"$links")" "$dir/service" || die "git clone of the service repo failed"
  git clone -q "$(sed -n 2p <<<"$links")" "$dir/gitops" || die "git clone of the GitOps repo failed"
}

# --- 1. the copier template, from what idp generates -----------------------------------------
log "building the copier template from one golden-path run ($TEMPLATE_SERVICE)"
clone_repos "$work/src/ws" "$TEMPLATE_SERVICE" "$work/src"
template="$OUT/copier-template"
rm -rf -- "$template"
python3 "$here/make_copier_template.py" "$work/src/service" "$work/src/gitops" \
  "$work/src/service/.idp/scaffold.json" "$(cat "$work/src/gitops_url")" "$template" >"$OUT/template.json" ||
  die "could not build the copier template"
questions="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["questions"])' "$OUT/template.json")"

# copier_args SERVICE WORKSPACE DEST: the copier command for the files idp writes for SERVICE in WORKSPACE.
copier_args() {
  copier_cmd=("$copier" copy --trust --defaults --quiet --data "service=$1" --data "owner=$OWNER"
    --data "gitops_repo_url=file://$2/repos/gitops.git" "$template" "$3")
}

log "checking that copier renders the same files as idp ($VERIFY_SERVICE)"
clone_repos "$work/verify/ws" "$VERIFY_SERVICE" "$work/verify"
copier_args "$VERIFY_SERVICE" "$work/verify/ws" "$work/verify/copier"
[[ "$(cat "$work/verify/gitops_url")" == "file://$work/verify/ws/repos/gitops.git" ]] ||
  die "the GitOps repo is not where this script expects it: $(cat "$work/verify/gitops_url")"
"${copier_cmd[@]}" >"$work/copier.log" 2>&1 ||
  { cat "$work/copier.log" >&2; die "copier copy failed"; }
if ! python3 "$here/compare_trees.py" "$VERIFY_SERVICE" "$work/verify/service" "$work/verify/gitops" \
  "$work/verify/copier" >"$OUT/fidelity.json"; then
  cat "$OUT/fidelity.json" >&2
  die "copier's output differs from idp's (see $OUT/fidelity.json); the template is not faithful"
fi

# --- 2. the workspace that already has $PREFILL services -------------------------------------
log "filling a workspace with $PREFILL services"
mkdir -p "$work/ws-prefilled"
for ((i = 1; i <= PREFILL; i++)); do
  run_idp "$work/ws-prefilled" "$(printf 'svc-%03d' "$i")"
done

# --- 3. timing -------------------------------------------------------------------------------
# Every timed run writes to a path of its own and nothing is deleted until the end: on a disk
# mounted with `discard` (as here), deleting the previous run's files right before a timed run
# makes that run's first fsync pay for the discards (measured: idp's sys time 18 ms -> 60 ms).
#
# time_cmd NAME WARMUPS COMMAND...: `{n}` in COMMAND is replaced by w1..wWARMUPS for the untimed
# warmups, then by 1..RUNS for the timed runs (one run each; hyperfine --parameter-scan).
time_cmd() {
  local name=$1 warmups=$2 i
  shift 2
  log "timing $name: $*"
  for ((i = 1; i <= warmups; i++)); do
    "${@//\{n\}/w$i}" >/dev/null 2>"$work/warmup.stderr" ||
      { cat "$work/warmup.stderr" >&2; die "warmup run of $name failed"; }
  done
  if [[ $runner == hyperfine ]]; then
    local cmd
    cmd="$(printf '%q ' "$@" | sed 's/\\{n\\}/{n}/g')"
    hyperfine -N --style basic --runs 1 --parameter-scan n 1 "$RUNS" \
      --export-json "$OUT/$name.json" "$cmd" >"$OUT/$name.log" 2>&1 ||
      { tail -n 20 "$OUT/$name.log" >&2; die "hyperfine failed for $name (log: $OUT/$name.log)"; }
    python3 - "$OUT/$name.json" >&2 <<'PY'
import json, statistics, sys
t = [x * 1000 for r in json.load(open(sys.argv[1]))["results"] for x in r["times"]]
print(f"  {len(t)} runs: median {statistics.median(t):.1f} ms (min {min(t):.1f}, max {max(t):.1f})")
PY
  else
    python3 "$here/timeit.py" --runs 1 --warmup 0 --scan "$RUNS" \
      --export-json "$OUT/$name.json" -- "$@" >&2 || die "timing failed for $name"
  fi
}

idp_args=(--as "$PRINCIPAL" -q golden-path run --owner "$OWNER")
# (a) the first service in an empty workspace: a new workspace directory every run
time_cmd idp-empty "$WARMUP" "$IDP_BIN" --workspace "$work/empty-{n}" "${idp_args[@]}" --service "$SERVICE"
# (b) one more service in the workspace that has $PREFILL: a new service name every run, so run k
#     adds service PREFILL+k (no warmup: the prefill has just done the same work)
time_cmd idp-ws 0 "$IDP_BIN" --workspace "$work/ws-prefilled" "${idp_args[@]}" --service "$SERVICE-{n}"
# copier: the same files as (a), run n rendering exactly what idp wrote in empty-n
copier_args "$SERVICE" "$work/empty-{n}" "$work/copier-{n}"
time_cmd copier "$WARMUP" "${copier_cmd[@]}"

# --- 4. report -------------------------------------------------------------------------------
BM_DATE="$(date -u +%Y-%m-%dT%H:%MZ)" BM_HOST="$(uname -sm), $(nproc) cores" BM_IDP_BIN="$IDP_BIN" \
  BM_IDP_VERSION="$idp_version" BM_DEBUG="$debug_build" BM_COPIER_VERSION="$copier_version" \
  BM_TEMPLATE="$template" BM_QUESTIONS="$questions" BM_RUNNER="$runner_desc" BM_RUNS="$RUNS" \
  BM_WARMUP="$WARMUP" BM_PREFILL="$PREFILL" BM_FS="$fs_type" \
  python3 - "$OUT/meta.json" <<'PY'
import json, os, sys
e = os.environ
json.dump({
    "date": e["BM_DATE"], "host": e["BM_HOST"],
    "idp_bin": e["BM_IDP_BIN"], "idp_version": e["BM_IDP_VERSION"], "debug_build": e["BM_DEBUG"] == "true",
    "copier_version": e["BM_COPIER_VERSION"], "template_dir": e["BM_TEMPLATE"], "questions": int(e["BM_QUESTIONS"]),
    "runner": e["BM_RUNNER"], "runs": int(e["BM_RUNS"]), "warmup": int(e["BM_WARMUP"]),
    "prefill": int(e["BM_PREFILL"]), "fs": e["BM_FS"],
}, open(sys.argv[1], "w"), indent=2)
PY
echo
python3 "$here/report.py" "$OUT"
echo "  results: $OUT (report.txt, summary.json, per-command timings); the script took $((SECONDS - started)) s"
