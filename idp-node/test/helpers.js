'use strict'
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const ALICE = 'user:default/alice' // in team-payments
const PAT = 'user:default/pat' // platform admin
const MALLORY = 'user:default/mallory' // in no team
const REPO = path.resolve(__dirname, '..', '..')

const made = []
// Every test file is its own process: its folders go when it exits.
process.on('exit', () => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true })
})

function tempDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idp-node-'))
  made.push(dir)
  return dir
}

function request(service = 'payments-api', parameters = {}) {
  return { service, owner: 'team-payments', parameters }
}

/** A receipt less what differs between two identical runs (as the core's stable_json). */
function stable(receipt) {
  const { run_id, started_at, finished_at, ...rest } = receipt
  return rest
}

function camel(name) {
  return name.replace(/_([a-z])/g, (_, c) => c.toUpperCase())
}

/** The idp CLI built from this repo (scripts/test-bindings.sh builds it and sets IDP_CLI). */
function cliBinary() {
  const target = process.env.CARGO_TARGET_DIR || path.join(REPO, 'target')
  for (const c of [process.env.IDP_CLI, path.join(target, 'debug', 'idp')]) {
    if (c && fs.existsSync(c)) return c
  }
  throw new Error('the idp CLI is not built: run `cargo build -p idp-cli` or set IDP_CLI')
}

/** The test forge built from this repo (scripts/test-bindings.sh sets IDP_TESTFORGE). */
function testforgeBinary() {
  const target = process.env.CARGO_TARGET_DIR || path.join(REPO, 'target')
  for (const c of [process.env.IDP_TESTFORGE, path.join(target, 'debug', 'idp-testforge')]) {
    if (c && fs.existsSync(c)) return c
  }
  throw new Error('the test forge is not built: run `cargo build -p idp-testforge` or set IDP_TESTFORGE')
}

module.exports = { ALICE, PAT, MALLORY, REPO, tempDir, request, stable, camel, cliBinary, testforgeBinary }
