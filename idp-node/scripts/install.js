#!/usr/bin/env node
// `npm install` of @idp/node.
//
// - From a source checkout of idp (this folder inside the Cargo workspace), it builds the native
//   module from source: with `napi build` when the package's dev dependencies are installed (it
//   also regenerates index.js and index.d.ts), otherwise with cargo alone, copying the library
//   to idp.<platform>.node (IDP_NODE_BUILD_WITH=cargo always does). Either way it needs Rust and
//   a C compiler. IDP_NODE_BUILD_PROFILE=dev builds the debug profile: about a third of the build
//   time, several times slower at run time; fine for tests, wrong for a Backstage backend in
//   production.
// - Anywhere else it builds nothing and only checks that a binary loads, failing with what to do.
//   The packages scripts/pack-npm.mjs makes carry no install script (the binary comes from the
//   platform package npm picks among the optional dependencies); this branch is what a packed
//   copy of the source folder gets (`npm install --install-links /path/to/idp/idp-node`).
'use strict'
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { platformSuffix } = require('./platform')

const root = path.join(__dirname, '..')

function inSourceCheckout() {
  try {
    const own = fs.readFileSync(path.join(root, 'Cargo.toml'), 'utf8')
    const workspace = fs.readFileSync(path.join(root, '..', 'Cargo.toml'), 'utf8')
    return /^name = "idp-node"$/m.test(own) && /^\[workspace\]$/m.test(workspace)
  } catch {
    return false
  }
}

function fail(message) {
  console.error(`@idp/node: ${message}`)
  process.exit(1)
}

// The napi CLI of idp-node's dev dependencies, or null. Linked from an app (`npm install
// /path/to/idp/idp-node`), npm does not install a linked folder's dev dependencies, and cargo
// alone is enough (index.js and index.d.ts are committed).
function napiCli() {
  if (process.env.IDP_NODE_BUILD_WITH === 'cargo') return null
  try {
    const cli = require.resolve('@napi-rs/cli/package.json', { paths: [root] })
    return path.join(path.dirname(cli), require(cli).bin.napi)
  } catch {
    return null
  }
}

function buildFromSource() {
  const release = (process.env.IDP_NODE_BUILD_PROFILE || 'release') !== 'dev'
  // Test builds only (scripts/test-bindings.sh): e.g. `test-build`, the crash-test hooks.
  const features = process.env.IDP_NODE_FEATURES ? ['--features', process.env.IDP_NODE_FEATURES] : []
  const napi = napiCli()
  if (napi) {
    const args = ['build', '--platform', ...(release ? ['--release'] : []), ...features]
    const r = spawnSync(process.execPath, [napi, ...args], { cwd: root, stdio: 'inherit' })
    if (r.status !== 0) fail(`napi ${args.join(' ')} failed; building from source needs Rust (https://rustup.rs) and a C compiler`)
    return
  }
  const args = ['build', '-p', 'idp-node', '--lib', '--message-format=json-render-diagnostics',
    ...(release ? ['--release'] : []), ...features]
  const r = spawnSync('cargo', args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 256 << 20 })
  if (r.error || r.status !== 0) {
    fail(`cargo ${args.join(' ')} failed${r.error ? ` (${r.error.message})` : ''}; building from source needs Rust (https://rustup.rs) and a C compiler`)
  }
  const lib = r.stdout.toString().split('\n').filter(Boolean).map((l) => JSON.parse(l))
    .filter((m) => m.reason === 'compiler-artifact' && m.target?.name === 'idp_node' && m.target.kind.includes('cdylib'))
    .flatMap((m) => m.filenames)
    .find((f) => /\.(so|dylib|dll)$/.test(f))
  if (!lib) fail('cargo built no library for idp-node')
  fs.copyFileSync(lib, path.join(root, `idp.${platformSuffix()}.node`))
}

if (inSourceCheckout()) {
  buildFromSource()
} else {
  try {
    require(root)
  } catch (e) {
    fail(`no native module loads on ${platformSuffix()} (${e.message.split('\n')[0]}).\n` +
      'This is a copy of the source folder without its Rust sources (npm --install-links?). ' +
      'Install the packages scripts/package.sh builds, or link the source checkout itself: ' +
      'see docs/install.md')
  }
}
