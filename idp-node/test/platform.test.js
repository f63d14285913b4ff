'use strict'
// Every method of the core's api through the Node face: Promises, the core's JSON, the same
// results as the CLI.
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { execFileSync } = require('node:child_process')

const idp = require('..')
const { ALICE, PAT, REPO, tempDir, request, stable, camel, cliBinary } = require('./helpers')

function platform() {
  const ws = path.join(tempDir(), 'ws')
  return { ws, p: idp.Platform.builtin(ws, { as: ALICE }) }
}

test('one version: the addon, this package, the Backstage module and idp --version', () => {
  const v = idp.version()
  assert.match(v, /^\d+\.\d+\.\d+/)
  assert.equal(v, require('../package.json').version)
  assert.equal(v, require('../backstage/package.json').version)
  assert.equal(execFileSync(cliBinary(), ['--version'], { encoding: 'utf8' }), `idp ${v}\n`)
})

test('every core method is a camelCase method of Platform that returns a Promise', async () => {
  const { p } = platform()
  for (const m of idp.methods()) {
    assert.equal(typeof p[camel(m)], 'function', m)
    const pending = p[camel(m)]({})
    assert.ok(pending instanceof Promise, m)
    await pending.catch(() => {}) // empty arguments: a result or a typed error
  }
})

test('the golden path returns the receipt as a plain object in the core key order', async () => {
  const { p } = platform()
  const r = await p.runGoldenPath(request())
  assert.equal(r.status, 'completed')
  assert.deepEqual(r.steps.map((s) => s.step),
    ['bootstrap_service', 'wire_ci', 'provision_gitops', 'attach_observability'])
  assert.equal(r.steps[0].change_request.id, 'payments-api#1')
  assert.deepEqual(Object.keys(r).slice(0, 3), ['run_id', 'operation', 'service'])
  assert.equal(Object.getPrototypeOf(r), Object.prototype)
})

test('rerunning the same request changes nothing', async () => {
  const { p } = platform()
  const a = await p.runGoldenPath(request('orders-api', { port: 8080 }))
  const b = await p.runGoldenPath(request('orders-api', { port: 8080 }))
  assert.deepEqual(stable(a), stable(b))
  assert.equal((await p.runs({ service: 'orders-api' })).length, 2)
})

test('each step alone, plan, explain, resume, runs and golden paths', async () => {
  const { p } = platform()
  // Once GitOps exists, prod is no longer a first deploy and needs an approval: the steps
  // after provisionGitops run as the platform admin.
  for (const step of ['bootstrapService', 'wireCi', 'provisionGitops', 'attachObservability']) {
    const r = await p[step](request(), { as: PAT })
    assert.equal(r.status, 'completed', step)
  }
  const plan = await p.plan({ operation: 'run_golden_path', request: request('new-api') })
  assert.equal(plan.allowed, true)
  assert.ok(plan.change_sets.length > 0)
  const r = await p.runGoldenPath(request(), { as: PAT })
  const ex = await p.explain({ service: 'payments-api' })
  assert.ok(ex.files.some((f) => f.path === 'Dockerfile'))
  const resumed = await p.resume({ run_id: r.run_id }, { as: PAT })
  assert.deepEqual(stable(resumed), stable(r))
  assert.equal((await p.runs())[0].run_id, r.run_id)
  assert.deepEqual(
    [...new Set((await p.goldenPaths()).map((g) => g.id))],
    ['node-express-service', 'python-fastapi-service'],
  )
  assert.ok((await p.modules()).length > 0)
  assert.equal(typeof (await p.infraImpact()), 'object')
  assert.equal((await p.call('explain', { service: 'payments-api' })).service, 'payments-api')
})

test('request infra resource maps intents to modules', async () => {
  const { p } = platform()
  await p.runGoldenPath(request())
  const r = await p.requestInfraResource({
    ...request(), intents: [{ type: 'bucket', class: 'logs', environments: ['dev'] }],
  })
  assert.equal(r.status, 'completed')
  assert.ok(r.steps.some((s) => s.step === 'request_infra_resource'))
  assert.deepEqual((await p.infraImpact()).unchanged, ['payments-api'])
})

test('waivers, authorize, policy tests and the audit log', async () => {
  const { p } = platform()
  await p.runGoldenPath(request())
  const w = await p.requestWaiver({
    rule: 'protected-environment', service: 'payments-api', environment: 'prod',
    operations: ['provision_gitops'], justification: 'hotfix for the prod outage', expires: '1d',
  })
  // A rule nothing checks is refused, with the valid rules named.
  await assert.rejects(
    p.requestWaiver({
      rule: 'managed-edit', service: 'payments-api',
      justification: 'keep our edited deployment', expires: '1d',
    }),
    (e) => e.code === 'InvalidInput' && e.message.includes('protected-environment'),
  )
  await p.approveWaiver({ id: w.id }, { as: PAT })
  assert.equal((await p.listWaivers({ service: 'payments-api' }))[0].state, 'approved')
  const d = await p.authorize({
    principal: { user: ALICE, groups: ['group:default/team-payments'] },
    action: 'wire_ci',
    resource: { type: 'service', name: 'payments-api', owner: 'team-payments' },
  })
  assert.equal(d.allowed, true)
  const report = await p.testPolicies({ dir: path.join(REPO, 'idp-core/platform/policies/tests') })
  assert.equal(report.failed, 0)
  const records = await p.auditList({ service: 'payments-api' })
  assert.ok(records.length > 0)
  // Signing a checkpoint is for platform admins.
  await assert.rejects(p.auditCheckpoint(), (e) => e.code === 'Denied')
  const cp = await p.auditCheckpoint({}, { as: PAT })
  const v = await p.auditVerify({ anchors: [cp] })
  assert.equal(v.ok, true)
  assert.equal(cp.seq, v.records)
})

test('upgrade plan, upgrade, fleet upgrade and fleet', async () => {
  const { p } = platform()
  await p.runGoldenPath({ ...request(), version: '1.0.0' })
  const [row] = await p.fleet()
  assert.equal(row.service, 'payments-api')
  const plan = await p.upgradePlan({ service: 'payments-api' })
  assert.equal(plan.from, '1.0.0')
  assert.deepEqual((await p.fleet())[0], row) // the plan wrote nothing
  // prod is protected: alice would need a waiver; the platform admin may upgrade.
  const done = await p.upgrade({ service: 'payments-api' }, { as: PAT })
  assert.equal(done.to, plan.to)
  assert.notEqual(done.to, '1.0.0')
  assert.equal(typeof (await p.upgradeFleet({ plan: true }, { as: PAT })), 'object')
})

test('a principal with explicit groups acts for those groups (Backstage ownership refs)', async () => {
  const { p } = platform()
  const r = await p.bootstrapService(request(), {
    as: { user: 'user:default/someone', groups: ['group:default/team-payments'] },
  })
  assert.equal(r.status, 'completed')
})

test('calls run off the JS thread: timers fire while golden paths run', async () => {
  const { p } = platform()
  await p.runGoldenPath(request('warm-up'))
  let ticks = 0
  const timer = setInterval(() => { ticks++ }, 1)
  const receipts = await Promise.all([1, 2, 3, 4].map((i) => p.runGoldenPath(request(`svc-${i}`))))
  clearInterval(timer)
  assert.deepEqual(receipts.map((r) => r.status), Array(4).fill('completed'))
  assert.ok(ticks > 3, `the event loop ticked ${ticks} times`)
})

test('init writes a platform folder that fromDir loads', async () => {
  const dir = tempDir()
  assert.ok(idp.init(path.join(dir, 'platform')) > 5)
  const p = idp.Platform.fromDir(path.join(dir, 'platform'), path.join(dir, 'ws'), { as: ALICE })
  assert.equal((await p.runGoldenPath(request())).status, 'completed')
})

test('results equal the CLI --json output less run id and timestamps', async () => {
  const { ws, p } = platform()
  const node = await p.runGoldenPath(request('payments-api', { port: 8080 }))
  const cli = (...args) => JSON.parse(execFileSync(cliBinary(),
    ['--workspace', ws, '--as', ALICE, '--json', '-q', ...args], { encoding: 'utf8' }))
  const fromCli = cli('golden-path', 'run', '--service', 'payments-api', '--owner', 'team-payments',
    '--param', 'port=8080')
  assert.equal(JSON.stringify(stable(node)), JSON.stringify(stable(fromCli)))
  assert.deepEqual(await p.explain({ service: 'payments-api' }), cli('explain', 'payments-api'))
})

test('a parameter change merges into a team edit; explain and fleet show the drift', async () => {
  const { ws, p } = platform()
  await p.runGoldenPath(request(), { as: PAT })
  const clone = path.join(tempDir(), 'clone')
  const git = (cwd, ...args) =>
    execFileSync('git', ['-c', 'user.name=T', '-c', 'user.email=t@x', ...args], { cwd, stdio: 'pipe' })
  git(ws, 'clone', '-q', path.join(ws, 'repos', 'gitops.git'), clone)
  const file = path.join(clone, 'apps/payments-api/dev/deployment.yaml')
  const fs = require('node:fs')
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('replicas: 1\n', 'replicas: 2\n'))
  git(clone, 'commit', '-qam', 'two replicas in dev')
  git(clone, 'push', '-q', 'origin', 'main')
  await p.provisionGitops(request('payments-api', { port: 3001 }), { as: PAT })
  const x = await p.explain({ service: 'payments-api' })
  const dev = x.files.find((f) => f.path === 'apps/payments-api/dev/deployment.yaml')
  assert.deepEqual(dev.drift, ['/spec/replicas'])
  const [row] = await p.fleet({}, { as: PAT })
  assert.deepEqual(row.drift, ['gitops:apps/payments-api/dev/deployment.yaml: /spec/replicas'])
  git(clone, 'pull', '-q', '--ff-only')
  const text = fs.readFileSync(file, 'utf8')
  assert.ok(text.includes('replicas: 2') && text.includes('containerPort: 3001'), text)
  fs.writeFileSync(file, text.replace('containerPort: 3001', 'containerPort: 4000'))
  git(clone, 'commit', '-qam', 'pin the port')
  git(clone, 'push', '-q', 'origin', 'main')
  await assert.rejects(
    p.provisionGitops(request('payments-api', { port: 3002 }), { as: PAT }),
    (e) => e.code === 'Conflict' && /ports\[name=http\]\/containerPort/.test(e.message),
  )
})

test('an environment gets its own values', async () => {
  const { ws, p } = platform()
  await p.runGoldenPath(
    { ...request(), environments: { prod: { parameters: { memory_limit: '1024Mi' } } } },
    { as: PAT },
  )
  const x = await p.explain({ service: 'payments-api' })
  assert.deepEqual(x.environments, { prod: { memory_limit: '1024Mi' } })
  const prod = execFileSync('git', ['--git-dir', path.join(ws, 'repos', 'gitops.git'), 'show',
    'main:apps/payments-api/prod/deployment.yaml'], { encoding: 'utf8' })
  assert.ok(prod.includes('memory: "1024Mi"'), prod)
  await assert.rejects(
    p.provisionGitops({ service: 'payments-api', environments: { qa: { parameters: { port: 1 } } } }, { as: PAT }),
    (e) => e.code === 'InvalidInput' && e.context.field === 'environments.qa',
  )
})

test('checkGoldenPaths checks every golden path and version', async () => {
  const { p } = platform()
  const report = await p.checkGoldenPaths()
  assert.equal(report.ok, true)
  assert.deepEqual(report.problems, [])
  assert.ok(report.checked.includes('python-fastapi-service@2.0.0'))
})

test('insights count Node runs, and an ingested Argo CD sync as a production deployment', async () => {
  const { p } = platform()
  await p.runGoldenPath(request())
  await p.runGoldenPath(request('orders-api'), { face: 'backstage' })
  const sync = {
    app: {
      apiVersion: 'argoproj.io/v1alpha1', kind: 'Application',
      metadata: { name: 'payments-api-prod', labels: { 'app.kubernetes.io/name': 'payments-api', env: 'prod' } },
      status: {
        summary: { images: ['ghcr.io/acme/team-payments/payments-api:sha-c0ffee'] },
        operationState: { phase: 'Succeeded', finishedAt: '2026-11-20T10:00:00Z', syncResult: { revision: '0a1b2c' } },
      },
    },
  }
  const r = await p.ingestEvents({ source: 'argocd', payload: sync })
  assert.deepEqual([r.received, r.recorded], [1, 1])
  const report = await p.insights({ since: '2026-11-01' })
  assert.deepEqual(report.adoption.runs_by_face, { backstage: 1, node: 1 })
  assert.equal(report.four_keys.deployments, 1)
  await assert.rejects(p.runGoldenPath(request(), { face: 'Not A Face!' }), { code: 'InvalidInput' })
})
