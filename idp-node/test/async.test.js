'use strict'
// The async face for real: progress as it happens, an AbortSignal that cancels the run (recorded
// as cancelled; resume finishes it), and an event loop that stays free while runs work.
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')

const idp = require('..')
const { ALICE, tempDir, request } = require('./helpers')

function platform() {
  return idp.Platform.builtin(path.join(tempDir(), 'ws'), { as: ALICE })
}

test('onProgress receives every step as it happens, before the promise settles', async () => {
  const p = platform()
  const events = []
  let settled = false
  const pending = p.runGoldenPath(request(), { onProgress: (e) => events.push({ ...e, settled }) })
  const r = await pending.finally(() => { settled = true })
  assert.equal(r.status, 'completed')
  const steps = events.filter((e) => e.step).map((e) => e.step)
  assert.ok(steps.indexOf('bootstrap_service') < steps.indexOf('attach_observability'))
  assert.ok(events.every((e) => !e.settled), 'events arrive while the run is under way')
  assert.ok(events.some((e) => /completed/.test(e.message)))
})

test('aborting the signal cancels the run; it is recorded cancelled and resume finishes it', async () => {
  const p = platform()
  const ac = new AbortController()
  const pending = p.runGoldenPath(request(), { signal: ac.signal })
  ac.abort() // while the run is being planned: it stops at its next safe point
  const err = await pending.catch((e) => e)
  assert.equal(err.code, 'Cancelled', err.message)
  assert.equal(err.retryable, true)
  const [run] = await p.runs()
  assert.equal(run.status, 'cancelled')
  assert.ok(!run.steps_completed.includes('attach_observability'))
  const resumed = await p.resume({ run_id: run.run_id })
  assert.equal(resumed.status, 'completed')
  assert.equal(resumed.run_id, run.run_id)
})

test('an already aborted signal cancels before the first step', async () => {
  const p = platform()
  const err = await p.runGoldenPath(request(), { signal: AbortSignal.abort() }).catch((e) => e)
  assert.equal(err.code, 'Cancelled')
  const [run] = await p.runs()
  assert.deepEqual(run.steps_completed, [])
})

test('eight golden paths at once leave the event loop free', async () => {
  const p = platform()
  await p.runGoldenPath(request('warm-up')) // creates the shared GitOps repo
  const lags = []
  let last = process.hrtime.bigint()
  const timer = setInterval(() => {
    const now = process.hrtime.bigint()
    lags.push(Number(now - last) / 1e6 - 1)
    last = now
  }, 1)
  const receipts = await Promise.all(
    Array.from({ length: 8 }, (_, i) => p.runGoldenPath(request(`svc-${i}`))))
  clearInterval(timer)
  assert.deepEqual(receipts.map((r) => r.status), Array(8).fill('completed'))
  assert.ok(lags.length > 10, `the timer ran ${lags.length} times while 8 runs worked`)
})
