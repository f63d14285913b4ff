'use strict'
// The Node face against forges (`kind: github`, `gitlab`) on the test forge: real HTTP underneath.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const readline = require('node:readline')
const { spawn, execFileSync } = require('node:child_process')
const { Platform } = require('..')
const { ALICE, tempDir, request, cliBinary, testforgeBinary } = require('./helpers')

const TOKEN = 'node-forge-token'
const SECRET = 'node-forge-webhook-secret'
process.env.IDP_GITHUB_TOKEN = TOKEN
process.env.IDP_GITHUB_WEBHOOK_SECRET = SECRET

/** A test forge on a free loopback port; resolves to its base URL and the process. */
async function startForge(dir) {
  const child = spawn(
    testforgeBinary(),
    ['--listen', '127.0.0.1:0', '--root', path.join(dir, 'forge'), '--token', TOKEN, '--webhook-secret', SECRET],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const first = await new Promise((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).once('line', resolve)
    child.once('exit', (code) => reject(new Error(`the test forge exited with ${code}`)))
  })
  return { base: first.trim(), child }
}

/** `idp init` with source control on the test forge as `kind`; `token: false` names none. */
function platformDir(dir, base, autoMerge, { kind = 'github', token = true } = {}) {
  const dest = path.join(dir, 'platform')
  execFileSync(cliBinary(), ['init', dest])
  const file = path.join(dest, 'idp.yaml')
  const api = { github: 'v3', gitea: 'v1', gitlab: 'v4' }[kind]
  const yaml = fs
    .readFileSync(file, 'utf8')
    .replace(
      '    kind: local-git\n',
      `    kind: ${kind}\n    api_url: ${base}/api/${api}\n    owner: acme\n` +
        (token ? '    token: { env: IDP_GITHUB_TOKEN }\n' : '') +
        '    webhook_secret: { env: IDP_GITHUB_WEBHOOK_SECRET }\n',
    )
    .replace('    auto_merge: true\n', `    auto_merge: ${autoMerge}\n`)
  fs.writeFileSync(file, yaml)
  return dest
}

async function api(base, method, p, body) {
  const r = await fetch(base + p, {
    method,
    headers: { authorization: `token ${TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  assert.ok(r.ok, `${method} ${p}: ${r.status}`)
  const text = await r.text()
  return text ? JSON.parse(text) : null
}

test('on GitLab, with the host\'s token, the golden path lands as merged merge requests', async (t) => {
  const dir = tempDir()
  const { base, child } = await startForge(dir)
  t.after(() => child.kill())
  const folder = platformDir(dir, base, true, { kind: 'gitlab', token: false })
  assert.throws(() => Platform.fromDir(folder, path.join(dir, 'ws')), /host gave no token/)
  const p = Platform.fromDir(folder, path.join(dir, 'ws'), { hostTokens: { [base.replace('http://', '')]: TOKEN } })
  const r = await p.runGoldenPath(request(), { as: ALICE })
  assert.equal(r.status, 'completed')
  for (const s of r.steps) assert.ok(s.change_request.url.includes('/-/merge_requests/'), s.change_request.url)
  const mrs = await api(base, 'GET', '/api/v4/projects/acme%2Fpayments-api/merge_requests?state=all')
  assert.deepEqual(mrs.map((m) => m.state), ['merged', 'merged'])
  assert.ok(mrs.every((m) => m.labels.includes('idp')))
})

test('a run waits for review on the forge and a signed webhook resumes it', async (t) => {
  const dir = tempDir()
  const { base, child } = await startForge(dir)
  t.after(() => child.kill())
  const p = Platform.fromDir(platformDir(dir, base, false), path.join(dir, 'ws'))
  const r = await p.runGoldenPath(request(), { as: ALICE })
  assert.equal(r.status, 'waiting')
  const open = r.steps.at(-1).change_request
  assert.equal(open.state, 'open')
  assert.ok(open.url.startsWith(`${base}/acme/payments-api/pull/`), open.url)
  await api(base, 'PUT', `/api/v3/repos/acme/payments-api/pulls/${open.url.split('/').at(-1)}/merge`, {})
  const delivery = (await api(base, 'GET', '/_forge/deliveries')).at(-1)

  await assert.rejects(
    p.forgeWebhook({ headers: delivery.headers, body: delivery.body.replace('"merged":true', '"merged":false') }),
    (e) => e.code === 'Denied',
  )
  const report = await p.forgeWebhook({ headers: delivery.headers, body: delivery.body })
  assert.equal(report.event.merged, true)
  assert.equal(report.runs.length, 1)
  assert.equal(report.runs[0].run_id, r.run_id)
  assert.equal(report.runs[0].status, 'waiting')
  assert.equal(report.runs[0].receipt.steps[0].change_request.state, 'merged')
})
