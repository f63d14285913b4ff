# Shared by the bench scripts (sourced, not run): the idp binary, the timer and copier.
# Needs: root, here, OUT, BENCH_RUNNER, COPIER_VERSION, and the functions log and die.
# Sets: IDP_BIN (absolute), idp_version, debug_build, runner, runner_desc, venv, copier,
# copier_version.

# --- the idp binary --------------------------------------------------------------------------
if [[ -z ${IDP_BIN:-} ]]; then
  # Where cargo puts it: target/release, or target/<triple>/release when a build target is set
  # (CARGO_BUILD_TARGET, as scripts/test-all.sh sets it, or a cargo config).
  IDP_BIN="$root/target/release/idp"
  find_release() { # the newest of target/release/idp and target/<triple>/release/idp
    local f best=""
    for f in "$root"/target/release/idp "$root"/target/*/release/idp; do
      [[ -x $f && ( -z $best || $f -nt $best ) ]] && best=$f
    done
    [[ -n $best ]] && IDP_BIN=$best
  }
  find_release
  if [[ ! -x $IDP_BIN ]]; then
    command -v cargo >/dev/null || die "$IDP_BIN is missing and cargo is not on PATH; set IDP_BIN"
    log "building the release binary: cargo build --release -p idp-cli"
    (cd "$root" && cargo build --release -p idp-cli) || die "cargo build failed"
    find_release
  fi
fi
[[ -f $IDP_BIN && -x $IDP_BIN ]] || die "IDP_BIN=$IDP_BIN is not an executable file"
IDP_BIN="$(cd "$(dirname "$IDP_BIN")" && pwd)/$(basename "$IDP_BIN")"
# shellcheck disable=SC2034 # used by the scripts that source this file
idp_version="$("$IDP_BIN" --version 2>/dev/null || echo unknown)"
debug_build=false
[[ $IDP_BIN == */debug/* ]] && debug_build=true

# --- the timer -------------------------------------------------------------------------------
runner=python
if [[ $BENCH_RUNNER != python ]]; then
  if ! command -v hyperfine >/dev/null && command -v apt-get >/dev/null && [[ $(id -u) == 0 ]]; then
    log "installing hyperfine with apt-get (log: $OUT/apt.log)"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine; } \
      >"$OUT/apt.log" 2>&1; then
      log "apt-get could not install hyperfine (see $OUT/apt.log)"
    fi
  fi
  if command -v hyperfine >/dev/null; then
    runner=hyperfine
  elif [[ $BENCH_RUNNER == hyperfine ]]; then
    die "BENCH_RUNNER=hyperfine but hyperfine is not installed"
  else
    log "hyperfine unavailable: timing with python (subprocess + time.perf_counter)"
  fi
fi
if [[ $runner == hyperfine ]]; then
  runner_desc="$(hyperfine --version) (-N: no shell)"
else
  runner_desc="python $(python3 -c 'import platform; print(platform.python_version())') subprocess + time.perf_counter"
fi

# --- copier, from PyPI, in bench/.venv -------------------------------------------------------
venv="$here/.venv"
copier="$venv/bin/copier"
if [[ "$("$copier" --version 2>/dev/null || true)" != *"$COPIER_VERSION"* ]]; then
  log "installing copier==$COPIER_VERSION into $venv (log: $OUT/pip.log)"
  [[ -x $venv/bin/python ]] || python3 -m venv "$venv" >"$OUT/pip.log" 2>&1 ||
    die "python3 -m venv failed (see $OUT/pip.log; on Debian: apt-get install python3-venv)"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "copier==$COPIER_VERSION" \
    >>"$OUT/pip.log" 2>&1 || die "pip install copier==$COPIER_VERSION failed (see $OUT/pip.log)"
fi
copier_version="$("$copier" --version 2>&1 | tail -n1)"

