# Sourced by the test scripts: runs a block of commands from docs/install.md as written.
# A block is the ```sh fence after a `<!-- tested: NAME -->` line; `/path/to/idp/dist` stands
# for the packages' folder ($DIST) and `/path/to/idp` for the checkout ($ROOT).
#
#   run_doc NAME            in the current folder
#   NO_RUST=1 run_doc NAME  with cargo, rustc and rustup hidden from the PATH ($NO_RUST_PATH)

doc_block() {
  awk -v marker="<!-- tested: $1 -->" '
    $0 == marker { found = 1; next }
    found && !inblock && /^```sh$/ { inblock = 1; next }
    inblock && /^```$/ { exit }
    inblock { print }
  ' "$ROOT/docs/install.md" | sed -e "s|/path/to/idp/dist|${DIST:-$ROOT/dist}|g" -e "s|/path/to/idp|$ROOT|g"
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

# The PATH less every folder that holds a Rust toolchain binary.
NO_RUST_PATH="$(printf '%s' "$PATH" | tr ':' '\n' | while IFS= read -r d; do
  [ -n "$d" ] && [ ! -e "$d/cargo" ] && [ ! -e "$d/rustc" ] && [ ! -e "$d/rustup" ] && printf '%s\n' "$d"
done | paste -sd:)"
NO_RUST_ENV=(env PATH="$NO_RUST_PATH" RUSTUP_HOME=/nonexistent CARGO_HOME=/nonexistent)
without_rust() { "${NO_RUST_ENV[@]}" "$@"; }
