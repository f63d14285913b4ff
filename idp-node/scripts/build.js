#!/usr/bin/env node
// Builds the native module from source on `npm install` (there are no prebuilt binaries).
// IDP_NODE_BUILD_PROFILE=dev builds the debug profile: about a third of the build time, several
// times slower at run time; fine for tests, wrong for a Backstage backend in production.
'use strict'
const { spawnSync } = require('node:child_process')
const path = require('node:path')

const root = path.join(__dirname, '..')
const args = ['build', '--platform']
if ((process.env.IDP_NODE_BUILD_PROFILE || 'release') !== 'dev') args.push('--release')
// Test builds only (scripts/test-bindings.sh): e.g. `failpoints`, the crash-test hooks.
if (process.env.IDP_NODE_FEATURES) args.push('--features', process.env.IDP_NODE_FEATURES)
let r
try {
  const cli = require.resolve('@napi-rs/cli/package.json', { paths: [root] })
  const bin = path.join(path.dirname(cli), require(cli).bin.napi)
  r = spawnSync(process.execPath, [bin, ...args], { cwd: root, stdio: 'inherit' })
} catch {
  // Installed as a link from another project (`npm install /path/to/idp-node`): npm does not
  // install a linked folder's own dependencies, so fetch the CLI for this one build.
  r = spawnSync('npx', ['--yes', '@napi-rs/cli@^3', ...args], { cwd: root, stdio: 'inherit' })
}
if (r.status !== 0) {
  console.error(`idp: building the native module failed (napi ${args.join(' ')}); ` +
    'it needs a Rust toolchain (https://rustup.rs) and a C compiler')
  process.exit(r.status || 1)
}
