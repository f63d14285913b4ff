'use strict'
// Every core error kind is an Error whose `code` is the kind.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const idp = require('..')
const { ALICE, PAT, MALLORY, tempDir, request } = require('./helpers')

function platform() {
  return idp.Platform.builtin(path.join(tempDir(), 'ws'), { as: ALICE })
}

test('the error codes are the core error kinds', () => {
  assert.deepEqual(idp.errorKinds(),
    ['InvalidInput', 'Denied', 'Conflict', 'NotFound', 'PolicyViolation', 'Provider', 'Internal',
      'Cancelled'])
})

test('an outsider is denied: code Denied with the decision in details', async () => {
  const err = await platform().runGoldenPath(request(), { as: MALLORY }).catch((e) => e)
  assert.ok(err instanceof Error)
  assert.equal(err.code, 'Denied')
  assert.equal(err.retryable, false)
  assert.equal(err.context.action, 'run_golden_path')
  assert.equal(err.details[0].allowed, false)
  assert.match(err.message, /mallory/)
})

test('bad input is InvalidInput naming the field', async () => {
  const p = platform()
  let err = await p.runGoldenPath({ service: 'Bad_Name', owner: 'team-payments' }).catch((e) => e)
  assert.equal(err.code, 'InvalidInput')
  assert.deepEqual(err.context, { field: 'service' })
  // `reason` is the message alone (the CLI's JSON `message`); `message` adds the context.
  assert.match(err.reason, /^service name "Bad_Name" is not allowed/)
  assert.equal(err.message, `${err.reason} (field: service)`)
  err = await p.explain({ service: 7 }).catch((e) => e)
  assert.equal(err.code, 'InvalidInput')
  err = await p.call('no_such_method').catch((e) => e)
  assert.equal(err.code, 'InvalidInput')
  err = await p.runGoldenPath(request(), { as: 42 }).catch((e) => e)
  assert.equal(err.code, 'InvalidInput')
})

test('an unknown service or run is NotFound', async () => {
  const p = platform()
  assert.equal((await p.explain({ service: 'nobody-made-this' }).catch((e) => e)).code, 'NotFound')
  assert.equal((await p.resume({ run_id: 'run-20000101T000000-deadbeef' }).catch((e) => e)).code, 'NotFound')
})

test('a name taken by another owner is a Conflict', async () => {
  const p = platform()
  await p.runGoldenPath(request())
  const err = await p.runGoldenPath({ service: 'payments-api', owner: 'platform-team' }, { as: PAT }).catch((e) => e)
  assert.equal(err.code, 'Conflict')
})

test('a rego deny is a PolicyViolation listing every violation', async () => {
  const dir = tempDir()
  idp.init(path.join(dir, 'platform'))
  fs.writeFileSync(path.join(dir, 'platform/policies/no-deployments.rego'),
    'package main\nimport rego.v1\ndeny_no_deployments contains msg if {\n' +
    '  input.kind == "Deployment"\n  msg := "no Deployments here"\n}\n')
  const p = idp.Platform.fromDir(path.join(dir, 'platform'), path.join(dir, 'ws'), { as: ALICE })
  const err = await p.runGoldenPath(request()).catch((e) => e)
  assert.equal(err.code, 'PolicyViolation')
  assert.ok(JSON.stringify(err.details).includes('no Deployments here'))
})

test('a broken platform folder throws synchronously with the file named', () => {
  const dir = tempDir()
  idp.init(path.join(dir, 'platform'))
  fs.writeFileSync(path.join(dir, 'platform/idp.yaml'), 'organization: [unclosed\n')
  assert.throws(() => idp.Platform.fromDir(path.join(dir, 'platform'), path.join(dir, 'ws')),
    (e) => e.code === 'InvalidInput' && /idp\.yaml/.test(e.message))
})
