# Sourced by the test scripts: runs a block of commands from docs/install.md as written.
# A block is the ```sh fence after a `<!-- tested: NAME -->` line; `/path/to/idp/dist` stands
# for the packages' folder ($DIST) and `/path/to/idp` for the checkout ($ROOT).
#
#   run_doc NAME            in the current folder
#   NO_RUST=1 run_doc NAME  with cargo, rustc and rustup hidden from the PATH ($NO_RUST_PATH)

doc_block() {
  local cmds dist="${DIST:-$ROOT/dist}"
  cmds="$(awk -v marker="<!-- tested: $1 -->" '
    $0 == marker { found = 1; next }
    found && !inblock && /^```sh$/ { inblock = 1; next }
    inblock && /^```$/ { exit }
    inblock { print }
  ' "$ROOT/docs/install.md")"
  cmds="${cmds//\/path\/to\/idp\/dist/"$dist"}"
  printf '%s\n' "${cmds//\/path\/to\/idp/"$ROOT"}"
}

run_doc() {
  local cmds
  cmds="$(doc_block "$1")"
  [ -n "$cmds" ] || { echo "docs/install.md has no block tested: $1" >&2; return 1; }
  printf '+ docs/install.md, %s, in %s:\n%s\n' "$1" "$PWD" "$(printf '%s\n' "$cmds" | sed 's/^/    /')"
  if [ -n "${NO_RUST:-}" ]; then
    "${NO_RUST_ENV[@]}" bash -euo pipefail -c "$cmds"
  else
    bash -euo pipefail -c "$cmds"
  fi
}

# The PATH less every folder that holds a Rust toolchain binary. A folder that also holds the
# tools the tests need (a distribution's cargo in /usr/bin) cannot be dropped: then fail, rather
# than test something else.
NO_RUST_PATH=""
while IFS= read -r d; do
  [ -n "$d" ] || continue
  if [ -e "$d/cargo" ] || [ -e "$d/rustc" ] || [ -e "$d/rustup" ]; then
    for tool in bash node npm python3; do
      if [ -e "$d/$tool" ]; then
        echo "cannot hide Rust from the PATH: $d holds cargo or rustc and $tool" >&2
        return 1 2>/dev/null || exit 1
      fi
    done
  else
    NO_RUST_PATH="${NO_RUST_PATH:+$NO_RUST_PATH:}$d"
  fi
done < <(printf '%s\n' "$PATH" | tr ':' '\n')
NO_RUST_ENV=(env PATH="$NO_RUST_PATH" RUSTUP_HOME=/nonexistent CARGO_HOME=/nonexistent)
without_rust() { "${NO_RUST_ENV[@]}" "$@"; }
