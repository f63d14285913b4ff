#!/usr/bin/env node
// Sets idp's one version everywhere it is written. The version lives in the workspace's
// Cargo.toml ([workspace.package] version): the crates, the CLI (`idp --version`) and the Python
// package (maturin reads it) take it from there. npm needs it in each package.json and its lock
// (the platform packages under idp-node/npm too), so this writes it there; a test (idp-cli/tests/cli.rs, one_version_everywhere) fails when
// they drift.
//
//   node scripts/set-version.mjs 0.2.0            # in this checkout
//   node scripts/set-version.mjs 0.2.0 --root DIR # in another copy of it
//
// Then `cargo update --workspace` (Cargo.lock names the crates' version) and a section for the
// version in CHANGELOG.md.

import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const args = process.argv.slice(2)
const at = args.indexOf('--root')
const root = at >= 0 ? args.splice(at, 2)[1] : join(import.meta.dirname, '..')
const [version] = args
if (!version || !/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version) || args.length !== 1) {
  console.error('usage: node scripts/set-version.mjs X.Y.Z [--root DIR]')
  process.exit(2)
}

// Every file is read and edited first, and written only when all of them could be.
const writes = []

// Cargo.toml: the `version` line of [workspace.package], and nothing else.
const cargoPath = join(root, 'Cargo.toml')
const cargo = readFileSync(cargoPath, 'utf8')
const section = /^\[workspace\.package\]\n(?:(?!\[)[^\n]*\n)*?version = "[^"]*"/m
if (!section.test(cargo)) {
  console.error(`${cargoPath}: no version in [workspace.package]`)
  process.exit(1)
}
writes.push([
  cargoPath,
  cargo.replace(section, (s) => s.replace(/version = "[^"]*"$/, `version = "${version}"`)),
])

// Each npm package, its lock's own entries, and the Backstage module's lock entry of @idp/node.
const json = (file, edit) => {
  const path = join(root, file)
  const value = JSON.parse(readFileSync(path, 'utf8'))
  edit(value)
  writes.push([path, JSON.stringify(value, null, 2) + '\n'])
}
for (const dir of ['idp-node', 'idp-node/backstage']) {
  json(`${dir}/package.json`, (p) => {
    p.version = version
  })
  json(`${dir}/package-lock.json`, (lock) => {
    lock.version = version
    lock.packages[''].version = version
    if (lock.packages['..']?.name === '@idp/node') lock.packages['..'].version = version
  })
}
// The prebuilt platform packages (napi-rs layout): idp-node/npm/<platform>/package.json.
const platforms = readdirSync(join(root, 'idp-node/npm'))
for (const dir of platforms) {
  json(`idp-node/npm/${dir}/package.json`, (p) => {
    p.version = version
  })
}
for (const [path, text] of writes) writeFileSync(path, text)
console.log(
  `idp ${version}: Cargo.toml, idp-node and idp-node/backstage (package.json and lock), ` +
    `${platforms.length} platform packages`,
)
