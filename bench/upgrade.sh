#!/usr/bin/env bash
# shellcheck disable=SC2015,SC2016  # `A && check OK .. || check FAIL ..`: check OK always succeeds
# Benchmark (not a test): `idp upgrade` beside `copier update` of the same files, measured in the
# same run.  See issue 6, quality bar, "Benchmark".
#
#   bench/upgrade.sh                                   # release build, FLEET=1000, COPIER_FLEET=50
#   FLEET=100 COPIER_FLEET=10 RUNS=10 bench/upgrade.sh # a quick run (about 2 minutes)
#
# What it does:
#   1. builds a copier template with two versions (a git repo, tags v1 and v2) from what idp
#      generates at 1.0.0 and at 2.0.0 for the same service (bench/make_copier_template.py), and
#      checks, for one service, that idp and copier both upgrade correctly: a fresh 2.0.0 render
#      plus the two team edits (bench/check_upgrade.py);
#   2. prepares, untimed: WARMUP+RUNS services at 1.0.0, each with the team's edits committed and
#      pushed to main (clone, edit, commit, push); a fleet workspace with FLEET services at 1.0.0
#      (+ WARMUP+RUNS more) whose edits are committed to main in the bare repos
#      (bench/team_edits.py commit); a copier project made with `copier copy --vcs-ref v1` (a git
#      repo with .copier-answers.yml, the same edits committed) and a fresh copy of it for every
#      run; and COPIER_FLEET such projects, each for another service;
#      the team edits (bench/team_edits.py): a new annotation `pagerduty.com/service-id: PX1234`
#      in catalog-info.yaml (merged YAML) and `WORKDIR /build` -> `WORKDIR /src` in the Dockerfile
#      (merged text), both next to files 2.0.0 changes, so every upgrade is a real three-way merge;
#   3. times, whole process, one run per service: `idp upgrade SERVICE` in the small workspace and
#      in the fleet workspace, and `copier update --trust --defaults --vcs-ref v2` of a fresh copy
#      of the project; then, once each: `idp upgrade --all` over the fleet, and `copier update` of
#      the COPIER_FLEET projects one after another (extrapolated per service);
#   4. checks every result (edits kept, 2.0.0 applied, nothing failed) and prints the table, the
#      ratio copier/idp and the goals (>= 50x per service; 1,000 services in under 10 s).
#
# Environment:
#   IDP_BIN         idp binary (default: target/release/idp, built with cargo if missing); copied
#                   into the scratch directory first, so a rebuild during the run changes nothing
#   RUNS            timed runs of each one-service command (default 20); WARMUP untimed warmups
#                   (default 2), each on a service/project of its own as well
#   FLEET           services in the idp fleet (default 1000)
#   COPIER_FLEET    projects in the copier fleet (default 50)
#   COPIER_VERSION  copier from PyPI, installed in bench/.venv (default 9.19.1)
#   BENCH_RUNNER    auto | hyperfine | python (as in bench/golden-path.sh)
#   BENCH_OUT       where results go (default bench/out/upgrade; gitignored)
#   TMPDIR          where the scratch workspaces go (removed on exit); idp fsyncs, so the disk
#                   shows in its time: TMPDIR=/dev/shm (tmpfs) takes the disk out
#
# Takes about 10 minutes with the defaults on 2 cores (most of it preparing the fleets and
# running copier).  Don't run it beside a build: on 2 cores a concurrent cargo build doubles idp's
# times; the report shows the load average before and after the timings.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

RUNS="${RUNS:-20}"
WARMUP="${WARMUP:-2}"
FLEET="${FLEET:-1000}"
COPIER_FLEET="${COPIER_FLEET:-50}"
COPIER_VERSION="${COPIER_VERSION:-9.19.1}"
BENCH_RUNNER="${BENCH_RUNNER:-auto}"
OUT="${BENCH_OUT:-$here/out/upgrade}"
SCAFFOLDER="user:default/alice" # runs the golden path
ADMIN="user:default/pat"        # upgrades touch prod: a platform admin
OWNER="team-payments"
TEMPLATE_SERVICE="zzbenchsvc" # source of the copier template: a name that occurs nowhere else
VERIFY_SERVICE="zzverify"     # correctness check: idp and copier both upgrade this one
# Every idp upgrade here goes `--to 2.0.0`, the version the copier template's v2 is built from
# (the latest, 2.1.0, renders the same files from the shared templates).
COPIER_SERVICE="orders"       # the service of the timed copier project
# Service names without '-' or '_': idp derives the Python module name from the service name
# (svc-1 -> src/svc_1), which the copier template (plain substitution of the name) cannot.

log() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

for v in RUNS WARMUP FLEET COPIER_FLEET; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a non-negative integer, got '${!v}'"
done
((RUNS >= 1 && FLEET >= 1 && COPIER_FLEET >= 1)) || die "RUNS, FLEET and COPIER_FLEET must be at least 1"
((FLEET <= 9999 && COPIER_FLEET <= 9999)) || die "FLEET and COPIER_FLEET must be at most 9999"
case "$BENCH_RUNNER" in auto | hyperfine | python) ;; *) die "BENCH_RUNNER must be auto, hyperfine or python" ;; esac
for tool in git python3 xargs; do
  command -v "$tool" >/dev/null || die "'$tool' is required but not on PATH"
done

# Team commits (and copier's own git calls) need an identity; don't depend on the user's config.
export GIT_AUTHOR_NAME="Team Payments" GIT_AUTHOR_EMAIL="team-payments@acme.example"
export GIT_COMMITTER_NAME="Team Payments" GIT_COMMITTER_EMAIL="team-payments@acme.example"
export GIT_CONFIG_NOSYSTEM=1

started=$SECONDS
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
rm -f -- "$OUT"/*.json "$OUT"/*.diff "$OUT"/*.log "$OUT"/*.cpu "$OUT/checks.txt" "$OUT/report.txt"

load1() { cut -d' ' -f1 /proc/loadavg; }
load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
if awk -v l="$(load1)" 'BEGIN { exit !(l > 1.0) }'; then
  log "WARNING: load average is $load_start: something else is running (a build?); idp's times will be pessimistic"
fi

# shellcheck source=bench/common.sh
source "$here/common.sh"
idp_src="$IDP_BIN"
vpython="$venv/bin/python" # has PyYAML (a copier dependency), for bench/check_upgrade.py

# --- scratch space ---------------------------------------------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/idp-upgrade-bench.XXXXXX")"
cleanup() { rm -rf -- "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
fs_type="$(stat -f -c %T "$work" 2>/dev/null || echo unknown)"
mkdir -p "$work/bin"
cp -- "$idp_src" "$work/bin/idp"
IDP_BIN="$work/bin/idp"
idp_version="$("$IDP_BIN" --version 2>/dev/null || echo unknown)"
idp_sha="$(sha256sum "$IDP_BIN" | cut -c1-12)"
failed_checks=0
check() { # check OK|FAIL TEXT: one line of the report's checks
  printf '%s: %s\n' "$1" "$2" >>"$OUT/checks.txt"
  [[ $1 == OK ]] || { failed_checks=$((failed_checks + 1)); log "CHECK FAILED: $2"; }
}

# idp_run WORKSPACE ARGS...: idp, output in $work/idp.stdout; on failure show idp's stderr.
idp_run() {
  local ws=$1
  shift
  "$IDP_BIN" --workspace "$ws" "$@" >"$work/idp.stdout" 2>"$work/idp.stderr" ||
    { cat "$work/idp.stderr" >&2; die "idp --workspace $ws $* failed (exit above)"; }
}
# scaffold WORKSPACE SERVICE VERSION: the golden path at VERSION.
scaffold() {
  idp_run "$1" --as "$SCAFFOLDER" -q golden-path run --service "$2" --owner "$OWNER" --version "$3"
  [[ -d $1/repos/$2.git ]] || die "idp wrote no repo at $1/repos/$2.git"
}
# team_push WORKSPACE SERVICE: the team's edits, as a team makes them: clone, edit, commit, push.
team_push() {
  local c="$work/clone"
  rm -rf -- "$c"
  git clone -q "$1/repos/$2.git" "$c"
  python3 "$here/team_edits.py" edit "$c"
  git -C "$c" commit -qam "team: PagerDuty service id; build in /src"
  git -C "$c" push -q origin HEAD:main
  rm -rf -- "$c"
}
# clone_both WORKSPACE SERVICE DIR: DIR/service and DIR/gitops.
clone_both() {
  git clone -q "$1/repos/$2.git" "$3/service"
  git clone -q "$1/repos/gitops.git" "$3/gitops"
}
# copier_project SERVICE GITOPS_URL DIR: `copier copy` at v1, a git repo, the team's edits committed.
copier_project() {
  "$copier" copy --trust --defaults --quiet --vcs-ref v1 --data "service=$1" --data "owner=$OWNER" \
    --data "gitops_repo_url=$2" "$template" "$3" >"$work/copier.log" 2>&1 ||
    { cat "$work/copier.log" >&2; die "copier copy failed for $1"; }
  [[ -f $3/.copier-answers.yml ]] || die "copier wrote no .copier-answers.yml in $3"
  git -C "$3" init -q -b main
  git -C "$3" add -A
  git -C "$3" commit -qm "copier copy $template v1"
  python3 "$here/team_edits.py" edit "$3/$1"
  git -C "$3" commit -qam "team: PagerDuty service id; build in /src"
}
copier_update_args=(update --trust --defaults --quiet --vcs-ref v2)

# --- 1. the copier template, two versions, from what idp generates ---------------------------
log "building the copier template: v1 from idp's 1.0.0, v2 from idp's 2.0.0 ($TEMPLATE_SERVICE)"
for v in 1.0.0 2.0.0; do
  rm -rf -- "$work/tpl/ws" # the same workspace path for both: the GitOps URL is the same
  scaffold "$work/tpl/ws" "$TEMPLATE_SERVICE" "$v"
  clone_both "$work/tpl/ws" "$TEMPLATE_SERVICE" "$work/tpl/$v"
  python3 "$here/make_copier_template.py" "$work/tpl/$v/service" "$work/tpl/$v/gitops" \
    "$work/tpl/$v/service/.idp/scaffold.json" "file://$work/tpl/ws/repos/gitops.git" "$work/tpl/t-$v" \
    >"$OUT/template-$v.json" || die "could not build the copier template from idp's $v"
done
cmp -s "$work/tpl/t-1.0.0/copier.yml" "$work/tpl/t-2.0.0/copier.yml" ||
  die "1.0.0 and 2.0.0 ask different questions; this script expects the same parameters"
template="$OUT/copier-upgrade-template"
rm -rf -- "$template"
mkdir -p "$template"
git -C "$template" init -q -b main
for v in 1.0.0 2.0.0; do
  git -C "$template" rm -rqf --ignore-unmatch .
  cp -a "$work/tpl/t-$v/." "$template/"
  # copier writes .copier-answers.yml only if the template renders it
  printf '%s\n' '# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY' \
    '{{ _copier_answers|to_nice_yaml -}}' >"$template/template/{{ _copier_conf.answers_file }}.jinja"
  git -C "$template" add -A
  git -C "$template" commit -qm "idp python-fastapi-service $v as a copier template"
  git -C "$template" tag "v${v%%.*}"
done
files="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["files"])' "$OUT/template-2.0.0.json")"

# --- 2. correctness: one service upgraded by idp and by copier ------------------------------
log "checking one upgrade by idp and by copier against a fresh 2.0.0 render + the team edits ($VERIFY_SERVICE)"
vws="$work/verify/ws"
scaffold "$vws" "$VERIFY_SERVICE" 2.0.0
clone_both "$vws" "$VERIFY_SERVICE" "$work/verify/expect"
rm -rf -- "$vws" # again the same path, so the GitOps URL in the files is the same
scaffold "$vws" "$VERIFY_SERVICE" 1.0.0
clone_both "$vws" "$VERIFY_SERVICE" "$work/verify/v1"
team_push "$vws" "$VERIFY_SERVICE"
idp_run "$vws" --as "$ADMIN" --json upgrade --to 2.0.0 "$VERIFY_SERVICE"
cp "$work/idp.stdout" "$OUT/verify-idp-receipt.json"
read -r idp_files_changed idp_status idp_merged < <(python3 - "$OUT/verify-idp-receipt.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
changed = [f for f in r["files"] if f["action"] not in ("keep", "unchanged")]
merged = [f"{f['path']}" for f in r["files"] if f["action"] == "merge_clean"]
status = r["status"] + ("" if not r["conflicts"] else f"+{len(r['conflicts'])}conflicts")
print(len(changed), status, ",".join(merged) or "-")
PY
)
[[ $idp_status == upgraded ]] && check OK "idp upgrade $VERIFY_SERVICE: status upgraded, no conflicts; three-way merged: $idp_merged" ||
  check FAIL "idp upgrade $VERIFY_SERVICE: status $idp_status (see $OUT/verify-idp-receipt.json)"
clone_both "$vws" "$VERIFY_SERVICE" "$work/verify/idp"
if "$vpython" "$here/check_upgrade.py" --edited --diff-out "$OUT/verify-idp.diff" \
  "$work/verify/expect/service" "$work/verify/expect/gitops" \
  "$work/verify/idp/service" "$work/verify/idp/gitops" >"$OUT/verify-idp.json"; then
  check OK "idp kept both team edits (catalog-info.yaml annotation, Dockerfile WORKDIR) and applied 2.0.0"
else
  check FAIL "idp's upgrade lost an edit or a file (see $OUT/verify-idp.json)"
fi

cproj="$work/verify/copier"
copier_project "$VERIFY_SERVICE" "file://$vws/repos/gitops.git" "$cproj"
# the v1 template must render exactly what idp 1.0.0 wrote (before the edits: compare at HEAD~1)
mkdir -p "$work/verify/copier-v1"
git -C "$cproj" archive HEAD~1 | tar -x -C "$work/verify/copier-v1"
"$vpython" "$here/check_upgrade.py" --strict "$work/verify/v1/service" "$work/verify/v1/gitops" \
  "$work/verify/copier-v1/$VERIFY_SERVICE" "$work/verify/copier-v1/gitops" >"$OUT/fidelity-v1.json" ||
  die "copier's v1 differs from idp's 1.0.0 (see $OUT/fidelity-v1.json): the template is not faithful"
check OK "copier copy at v1 renders what idp 1.0.0 wrote ($(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["identical"])' "$OUT/fidelity-v1.json") files identical; scaffold stamps left out)"
"$copier" "${copier_update_args[@]}" "$cproj" >"$work/copier.log" 2>&1 ||
  { cat "$work/copier.log" >&2; die "copier update failed for $VERIFY_SERVICE"; }
if "$vpython" "$here/check_upgrade.py" --edited --strict --diff-out "$OUT/verify-copier.diff" \
  "$work/verify/expect/service" "$work/verify/expect/gitops" \
  "$cproj/$VERIFY_SERVICE" "$cproj/gitops" >"$OUT/verify-copier.json"; then
  check OK "copier update kept both team edits and applied every v2 change (identical to a fresh v2 render + the edits)"
else
  check FAIL "copier update lost an edit or did not apply v2 (see $OUT/verify-copier.json, verify-copier.diff)"
fi
copier_files_changed="$(git -C "$cproj" status --porcelain --untracked-files=all | grep -vc ' \.copier-answers\.yml$' || true)"
[[ "$(git -C "$cproj" rev-list --count HEAD)" == 2 ]] &&
  check OK "copier update left its $copier_files_changed changed files uncommitted in the work tree (no commit, no branch, no change request)" ||
  check FAIL "copier update made a commit?"

# --- 3. preparing, untimed -------------------------------------------------------------------
names_of() { # names_of PREFIX: PREFIXw1..PREFIXwWARMUP PREFIX1..PREFIXRUNS (time_cmd's {n})
  local i
  for ((i = 1; i <= WARMUP; i++)); do echo "$1w$i"; done
  for ((i = 1; i <= RUNS; i++)); do echo "$1$i"; done
}
prep_started=$SECONDS
one_ws="$work/ws-one"
mapfile -t one_names < <(names_of up)
log "preparing ${#one_names[@]} services at 1.0.0 in a workspace, each with the team's edits pushed to main"
for s in "${one_names[@]}"; do
  scaffold "$one_ws" "$s" 1.0.0
  team_push "$one_ws" "$s"
done

fleet_ws="$work/ws-fleet"
mapfile -t big_names < <(names_of big)
mapfile -t fleet_names < <(for ((i = 1; i <= FLEET; i++)); do printf 'fleet%04d\n' "$i"; done)
all_fleet=("${fleet_names[@]}" "${big_names[@]}")
log "preparing the fleet: ${#all_fleet[@]} services at 1.0.0 in one workspace ($FLEET for upgrade --all," \
  "${#big_names[@]} for one-service upgrades), $(nproc) golden paths at a time"
fleet_prep_started=$SECONDS
scaffold "$fleet_ws" "${all_fleet[0]}" 1.0.0 # creates the workspace and the GitOps repo alone
for ((i = 1; i < ${#all_fleet[@]}; i += 100)); do
  printf '%s\n' "${all_fleet[@]:i:100}" |
    xargs -P "$(nproc)" -n 1 "$IDP_BIN" --workspace "$fleet_ws" --as "$SCAFFOLDER" -q golden-path run \
      --owner "$OWNER" --version 1.0.0 --service >/dev/null 2>>"$OUT/fleet-prep.log" ||
    { tail -n 20 "$OUT/fleet-prep.log" >&2; die "golden-path run failed while preparing the fleet"; }
  done_n=$((i + 100 < ${#all_fleet[@]} ? i + 100 : ${#all_fleet[@]}))
  log "  scaffolded $done_n/${#all_fleet[@]} ($((SECONDS - fleet_prep_started)) s)"
done
fleet_repos=()
for s in "${all_fleet[@]}"; do
  [[ -d $fleet_ws/repos/$s.git ]] || die "no repo for $s in the fleet workspace"
  fleet_repos+=("$fleet_ws/repos/$s.git")
done
log "committing the team's edits to main in ${#fleet_repos[@]} service repos"
python3 "$here/team_edits.py" commit "${fleet_repos[@]}" || die "could not commit the team edits"
fleet_prep_s=$((SECONDS - fleet_prep_started))

log "preparing the copier project ($COPIER_SERVICE, v1 + the team's edits) and ${#one_names[@]} fresh copies of it"
cbase="$work/copier-project"
copier_project "$COPIER_SERVICE" "file://$one_ws/repos/gitops.git" "$cbase"
mapfile -t cu_names < <(names_of cu)
for n in "${cu_names[@]}"; do cp -a "$cbase" "$work/$n"; done

log "preparing the copier fleet: $COPIER_FLEET projects (copier copy v1 + the team's edits), about 2 s each"
cfleet=()
for ((i = 1; i <= COPIER_FLEET; i++)); do
  s="$(printf 'cfleet%04d' "$i")"
  copier_project "$s" "file://$fleet_ws/repos/gitops.git" "$work/cfleet/$s"
  cfleet+=("$work/cfleet/$s")
  ((i % 10 == 0 || i == COPIER_FLEET)) && log "  $i/$COPIER_FLEET"
done
prep_s=$((SECONDS - prep_started))

# --- 4. timing -------------------------------------------------------------------------------
# time_cmd NAME WARMUPS COMMAND...: `{n}` in COMMAND is replaced by w1..wWARMUPS for the untimed
# warmups, then by 1..RUNS for the timed runs (one run each; hyperfine --parameter-scan).
# (as in bench/golden-path.sh)
time_cmd() {
  local name=$1 warmups=$2 i
  shift 2
  log "timing $name: $*"
  for ((i = 1; i <= warmups; i++)); do
    "${@//\{n\}/w$i}" >/dev/null 2>"$work/warmup.stderr" ||
      { cat "$work/warmup.stderr" >&2; die "warmup run of $name failed"; }
  done
  # the machine's CPU counters around the timed runs: the report shows what else ran meanwhile
  local t0 s0
  t0="$(date +%s.%N)"
  s0="$(head -n1 /proc/stat)"
  if [[ $runner == hyperfine ]]; then
    local cmd
    cmd="$(printf '%q ' "$@" | sed 's/\\{n\\}/{n}/g')"
    hyperfine -N --style basic --runs 1 --parameter-scan n 1 "$RUNS" \
      --export-json "$OUT/$name.json" "$cmd" >"$OUT/$name.log" 2>&1 ||
      { tail -n 20 "$OUT/$name.log" >&2; die "hyperfine failed for $name (log: $OUT/$name.log)"; }
    printf '%s\n' "$t0" "$s0" "$(date +%s.%N)" "$(head -n1 /proc/stat)" >"$OUT/$name.cpu"
    python3 - "$OUT/$name.json" >&2 <<'PY'
import json, statistics, sys
t = [x * 1000 for r in json.load(open(sys.argv[1]))["results"] for x in r["times"]]
print(f"  {len(t)} runs: median {statistics.median(t):.1f} ms (min {min(t):.1f}, max {max(t):.1f})")
PY
  else
    python3 "$here/timeit.py" --runs 1 --warmup 0 --scan "$RUNS" \
      --export-json "$OUT/$name.json" -- "$@" >&2 || die "timing failed for $name"
    printf '%s\n' "$t0" "$s0" "$(date +%s.%N)" "$(head -n1 /proc/stat)" >"$OUT/$name.cpu"
  fi
}

sync # the preparation's writeback is not charged to the first timed fsyncs
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
log "load average before the timings: $load_before"
time_cmd idp-one "$WARMUP" "$IDP_BIN" --workspace "$one_ws" --as "$ADMIN" -q upgrade --to 2.0.0 "up{n}"
time_cmd idp-one-big "$WARMUP" "$IDP_BIN" --workspace "$fleet_ws" --as "$ADMIN" -q upgrade --to 2.0.0 "big{n}"
time_cmd copier-update "$WARMUP" "$copier" "${copier_update_args[@]}" "$work/cu{n}"
sync
log "timing the fleet: idp upgrade --all over $FLEET services (${#big_names[@]} more are at 2.0.0 already)"
python3 "$here/run_once.py" --export-json "$OUT/fleet-idp.json" --stdout "$OUT/fleet-idp-receipt.json" \
  --stderr "$OUT/fleet-idp.stderr" -- "$IDP_BIN" --workspace "$fleet_ws" --as "$ADMIN" -q --json upgrade --all --to 2.0.0 >&2 ||
  { tail -n 20 "$OUT/fleet-idp.stderr" >&2; die "idp upgrade --all failed"; }
sync
log "timing the copier fleet: copier update of $COPIER_FLEET projects, one after another"
python3 "$here/run_once.py" --export-json "$OUT/fleet-copier.json" --stderr "$OUT/fleet-copier.stderr" -- \
  bash -c 'c=$1; shift; for d; do "$c" update --trust --defaults --quiet --vcs-ref v2 "$d" || exit 1; done' \
  _ "$copier" "${cfleet[@]}" >&2 ||
  { tail -n 20 "$OUT/fleet-copier.stderr" >&2; die "copier update failed in the copier fleet"; }
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

# --- 5. checks -------------------------------------------------------------------------------
log "checking every result"
one_repos=()
for s in "${one_names[@]}"; do one_repos+=("$one_ws/repos/$s.git"); done
r="$(python3 "$here/team_edits.py" check-bare 2.0.0 "${one_repos[@]}")" &&
  check OK "one-service idp upgrades: $r" || check FAIL "one-service idp upgrades: $r"
r="$(python3 "$here/team_edits.py" check-bare 2.0.0 "${fleet_repos[@]}")" &&
  check OK "idp fleet: $r" || check FAIL "idp fleet: $r"
r="$(python3 - "$OUT/fleet-idp-receipt.json" "$FLEET" "${#big_names[@]}" <<'PY'
import json, sys
r, n, done = json.load(open(sys.argv[1])), int(sys.argv[2]), int(sys.argv[3])
print(f"upgrade --all summary: {r['upgraded']} upgraded, {r['conflicts']} with conflicts, {r['failed']} failed, "
      f"{r['up_to_date']} up to date (expected {n} upgraded, {done} up to date)")
sys.exit(0 if (r["upgraded"], r["conflicts"], r["failed"], r["up_to_date"]) == (n, 0, 0, done) else 1)
PY
)" && check OK "$r" || check FAIL "$r"
# As the admin: the fleet lists only the services its caller may read.
idp_run "$fleet_ws" --as "$ADMIN" --json fleet
r="$(python3 - "$work/idp.stdout" "${#all_fleet[@]}" <<'PY'
import json, sys
rows, n = json.load(open(sys.argv[1])), int(sys.argv[2])
# 2.0.0 is one version behind the latest, 2.1.0 (the same files, from the shared templates).
at = sum(1 for s in rows if s["version"] == "2.0.0" and s["behind"] == 1)
edits = sum(1 for s in rows if s.get("managed_edits"))
print(f"idp fleet: {at}/{len(rows)} services at 2.0.0 (1 behind 2.1.0); {edits} with local edits to managed files")
sys.exit(0 if at == len(rows) == n else 1)
PY
)" && check OK "$r" || check FAIL "$r"
cu_dirs=()
for n in "${cu_names[@]}"; do cu_dirs+=("$work/$n/$COPIER_SERVICE"); done
r="$(BENCH_HERE="$here" python3 - "${cu_dirs[@]}" "${cfleet[@]}" <<'PY'
import os, subprocess, sys
sys.path.insert(0, os.environ["BENCH_HERE"])
import team_edits
good, bad = 0, []
for d in sys.argv[1:]:
    svc = d if os.path.exists(os.path.join(d, "Dockerfile")) else os.path.join(d, os.path.basename(d))
    proj = os.path.dirname(svc)
    ok = all(team_edits.check_dir(svc).values())
    ok &= 'idp.dev/scaffold-version: "2.0.0"' in open(os.path.join(svc, "catalog-info.yaml")).read()
    ok &= "_commit: v2" in open(os.path.join(proj, ".copier-answers.yml")).read()
    ok &= "<<<<<<<" not in subprocess.run(["git", "-C", proj, "diff"], capture_output=True, text=True).stdout
    if ok:
        good += 1
    else:
        bad.append(proj)
print(f"copier: {good}/{len(sys.argv) - 1} updated projects have both edits, v2 and no conflict markers"
      + (f" (failed: {', '.join(bad[:5])})" if bad else ""))
sys.exit(0 if not bad else 1)
PY
)" && check OK "$r" || check FAIL "$r"

# --- 6. report -------------------------------------------------------------------------------
BM_DATE="$(date -u +%Y-%m-%dT%H:%MZ)" BM_HOST="$(uname -sm), $(nproc) cores" BM_CPUS="$(nproc)" \
  BM_IDP_BIN="$idp_src (sha256 $idp_sha…, run from a copy)" BM_IDP_VERSION="$idp_version" BM_DEBUG="$debug_build" \
  BM_COPIER_VERSION="$copier_version" BM_TEMPLATE="$template" BM_FILES="$files" BM_RUNNER="$runner_desc" \
  BM_RUNS="$RUNS" BM_WARMUP="$WARMUP" BM_FLEET="$FLEET" BM_COPIER_FLEET="$COPIER_FLEET" BM_FS="$fs_type" \
  BM_ONE_WS="${#one_names[@]}" BM_BIG_WS="${#all_fleet[@]}" BM_LOAD_START="$load_start" \
  BM_LOAD_BEFORE="$load_before" BM_LOAD_AFTER="$load_after" BM_IDP_CHANGED="$idp_files_changed" \
  BM_COPIER_CHANGED="$copier_files_changed" BM_PREP_S="$prep_s" BM_FLEET_PREP_S="$fleet_prep_s" \
  python3 - "$OUT/meta.json" <<'PY'
import json, os, sys
e = os.environ
json.dump({
    "date": e["BM_DATE"], "host": e["BM_HOST"], "cpus": int(e["BM_CPUS"]),
    "idp_bin": e["BM_IDP_BIN"], "idp_version": e["BM_IDP_VERSION"], "debug_build": e["BM_DEBUG"] == "true",
    "copier_version": e["BM_COPIER_VERSION"], "template_dir": e["BM_TEMPLATE"], "files": int(e["BM_FILES"]),
    "runner": e["BM_RUNNER"], "runs": int(e["BM_RUNS"]), "warmup": int(e["BM_WARMUP"]),
    "fleet": int(e["BM_FLEET"]), "copier_fleet": int(e["BM_COPIER_FLEET"]), "fs": e["BM_FS"],
    "one_ws_services": int(e["BM_ONE_WS"]), "big_ws_services": int(e["BM_BIG_WS"]),
    "load_start": e["BM_LOAD_START"], "load_before": e["BM_LOAD_BEFORE"], "load_after": e["BM_LOAD_AFTER"],
    "idp_files_changed": int(e["BM_IDP_CHANGED"]), "copier_files_changed": int(e["BM_COPIER_CHANGED"]),
    "prep_seconds": int(e["BM_PREP_S"]), "fleet_prep_seconds": int(e["BM_FLEET_PREP_S"]),
}, open(sys.argv[1], "w"), indent=2)
PY
echo
python3 "$here/report_upgrade.py" "$OUT"
echo "  results: $OUT (report.txt, summary.json, timings, receipts, diffs); preparation took ${prep_s} s" \
  "(the idp fleet ${fleet_prep_s} s); the script took $((SECONDS - started)) s"
((failed_checks == 0)) || die "$failed_checks check(s) failed (see CHECKS above)"
