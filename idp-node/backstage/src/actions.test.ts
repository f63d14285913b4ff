// The idp scaffolder actions run against a real idp (the @idp/node package) in a temp
// workspace, through Backstage's own mock action context.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils'
import { Platform } from '@idp/node'
import { ConflictError, InputError, NotAllowedError } from '@backstage/errors'
import { createIdpActions, ACTIONS } from '.'

const ALICE: any = {
  ref: 'user:default/alice',
  entity: {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: { name: 'alice', namespace: 'default' },
    spec: { memberOf: ['team-payments'] },
    relations: [{ type: 'memberOf', targetRef: 'group:default/team-payments' }],
  },
}

let workspace: string
let actions: Record<string, any>

beforeEach(() => {
  workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'idp-backstage-'))
  actions = Object.fromEntries(
    createIdpActions({ platform: Platform.builtin(workspace) }).map((a) => [a.id, a]),
  )
})

afterEach(() => fs.rmSync(workspace, { recursive: true, force: true }))

function context(input: Record<string, any>, extra: Record<string, any> = {}) {
  const { isDryRun, signal, ...options } = extra
  // A task folder of our own: the default mock directory adds a process listener per context.
  const ctx: any = createMockActionContext({
    input, user: ALICE, workspacePath: path.join(workspace, 'task'), ...options,
  })
  // createMockActionContext (test-utils 0.3.14) passes neither isDryRun nor signal through.
  if (isDryRun !== undefined) ctx.isDryRun = isDryRun
  if (signal !== undefined) ctx.signal = signal
  const outputs: Record<string, any> = {}
  ctx.output = jest.fn((name: string, value: unknown) => { outputs[name] = value })
  return { ctx, outputs }
}

const input = { service: 'payments-api', owner: 'team-payments', parameters: { port: 8080 } }

test('the seven actions are registered with dry-run support and a JSON schema input', () => {
  expect(Object.keys(actions).sort()).toEqual([
    'idp:attach-observability', 'idp:bootstrap-service', 'idp:golden-path', 'idp:insights',
    'idp:provision-gitops', 'idp:request-infra-resource', 'idp:wire-ci',
  ])
  expect(actions['idp:insights'].supportsDryRun).toBe(true)
  // What the scaffolder's action catalog (/create/actions) lists for each.
  for (const a of Object.values(actions)) {
    expect(a.description).toMatch(/^[A-Z].+\.$/)
    expect(a.examples.length).toBeGreaterThan(0)
    expect(a.examples[0].example).toContain(`action: ${a.id}`)
  }
  for (const [id, a] of Object.entries(actions)) {
    if (id === 'idp:insights') continue
    expect(a.supportsDryRun).toBe(true)
    const schema = a.schema.input as any
    expect(Object.keys(schema.properties).sort()).toEqual(
      ['changeWindow', 'environments', 'goldenPath', 'intents', 'owner', 'parameters', 'service', 'version'],
    )
    expect(schema.required.sort()).toEqual(['owner', 'service'])
  }
})

test('idp:golden-path runs the golden path as the Backstage user and outputs links and the receipt', async () => {
  const { ctx, outputs } = context(input)
  await actions['idp:golden-path'].handler(ctx)
  expect(outputs.receipt.status).toBe('completed')
  expect(outputs.receipt.steps.map((s: any) => s.step)).toEqual(
    ['bootstrap_service', 'wire_ci', 'provision_gitops', 'attach_observability'],
  )
  expect(outputs.repoUrl).toBe(outputs.receipt.links.service_repo)
  expect(outputs.links.gitops_repo).toMatch(/gitops/)
  expect(outputs.runId).toBe(outputs.receipt.run_id)
  const [record] = (await Platform.builtin(workspace, { as: 'user:default/alice' }).auditList({ service: 'payments-api' }))
    .filter((r: any) => r.event.operation === 'run_golden_path')
  expect(record.event.principal).toBe('user:default/alice')
  // Adoption insights count the run as started from Backstage.
  const report = await Platform.builtin(workspace, { as: 'user:default/pat' }).insights()
  expect(report.adoption.runs_by_face).toEqual({ backstage: 1 })
  expect(report.adoption.golden_path_components).toBe(1)
})

test('each step action runs its own operation', async () => {
  for (const [id, { method }] of Object.entries(ACTIONS)) {
    if (id === 'idp:request-infra-resource') continue
    // After provision-gitops, prod needs an approval; the platform admin may go on.
    const { ctx, outputs } = context(input, { user: { ref: 'user:default/pat' } })
    await actions[id].handler(ctx)
    expect(outputs.receipt.operation).toBe(method)
  }
})

test('idp:request-infra-resource passes the intents to the core', async () => {
  await actions['idp:golden-path'].handler(context(input).ctx)
  const intents = [{ type: 'bucket', class: 'logs', environments: ['dev'] }]
  const { ctx, outputs } = context({ ...input, intents })
  await actions['idp:request-infra-resource'].handler(ctx)
  expect(outputs.receipt.operation).toBe('request_infra_resource')
  expect(outputs.receipt.status).toBe('completed')
})

test('a dry run outputs the plan and writes nothing', async () => {
  const { ctx, outputs } = context(input, { isDryRun: true })
  await actions['idp:golden-path'].handler(ctx)
  expect(outputs.plan.allowed).toBe(true)
  expect(outputs.plan.change_sets.length).toBeGreaterThan(0)
  expect(outputs.receipt).toBeUndefined()
  expect(await Platform.builtin(workspace, { as: 'user:default/pat' }).runs()).toEqual([])
})

test('template input names map to the core request (goldenPath, version)', async () => {
  const { ctx, outputs } = context(
    { ...input, goldenPath: 'python-fastapi-service', version: '1.0.0' }, { isDryRun: true },
  )
  await actions['idp:bootstrap-service'].handler(ctx)
  expect(outputs.plan.golden_path).toBe('python-fastapi-service')
  expect(outputs.plan.scaffold_version).toBe('1.0.0')
})

test('a template picks the Node golden path by its id', async () => {
  const { ctx, outputs } = context({ ...input, goldenPath: 'node-express-service' }, { isDryRun: true })
  await actions['idp:golden-path'].handler(ctx)
  expect(outputs.plan.golden_path).toBe('node-express-service')
  const files = outputs.plan.change_sets.flatMap((c: any) => c.files.map((f: any) => f.path))
  expect(files).toEqual(expect.arrayContaining(['package.json', 'src/observability.ts', `apps/${input.service}/prod/dashboard.yaml`]))
})

test('environments map to the core request: values for one environment', async () => {
  const { ctx, outputs } = context(
    { ...input, environments: { dev: { parameters: { memory_limit: '1024Mi' } } } }, { isDryRun: true },
  )
  await actions['idp:golden-path'].handler(ctx)
  const dev = outputs.plan.change_sets
    .flatMap((cs: any) => cs.files)
    .find((f: any) => f.path === 'apps/payments-api/dev/deployment.yaml')
  expect(dev!.diff).toContain('memory: "1024Mi"')
})

test('a user outside the owning team is denied with a NotAllowedError (403) carrying the core error code', async () => {
  const mallory = { ref: 'user:default/mallory' }
  for (const isDryRun of [false, true]) {
    const { ctx } = context(input, { user: mallory, isDryRun })
    const e = await actions['idp:golden-path'].handler(ctx).then(() => null, (err: any) => err)
    expect(e).toBeInstanceOf(NotAllowedError)
    expect(e).toMatchObject({ name: 'NotAllowedError', code: 'Denied', retryable: false })
    expect(e.message).toMatch(/mallory/)
  }
})

test('bad input is an InputError (400), another owner\'s name a ConflictError (409)', async () => {
  const bad = context({ ...input, service: '../../etc' })
  await expect(actions['idp:golden-path'].handler(bad.ctx)).rejects.toBeInstanceOf(InputError)
  await actions['idp:golden-path'].handler(context(input).ctx)
  // The same name for another team: taken.
  const taken = context({ ...input, owner: 'platform-team' }, { user: { ref: 'user:default/pat' } })
  const e = await actions['idp:golden-path'].handler(taken.ctx).then(() => null, (err: any) => err)
  expect(e).toBeInstanceOf(ConflictError)
  expect(e.code).toBe('Conflict')
})

test('Backstage group memberships are the principal groups', async () => {
  // Not in idp's org directory, but a member of the owning team in the Backstage catalog.
  const bob = {
    ref: 'user:default/bob',
    entity: { ...ALICE.entity, metadata: { name: 'bob', namespace: 'default' } },
  }
  const { ctx, outputs } = context(input, { user: bob })
  await actions['idp:golden-path'].handler(ctx)
  expect(outputs.receipt.status).toBe('completed')
})

test('a task without a user is refused', async () => {
  const ctx: any = createMockActionContext({ input })
  delete ctx.user
  await expect(actions['idp:golden-path'].handler(ctx)).rejects.toMatchObject({ code: 'Denied' })
})

test('each step is logged as it happens, not after the run', async () => {
  const { ctx } = context(input)
  const lines: string[] = []
  ctx.logger.info = jest.fn((line: string) => lines.push(line))
  ctx.output = jest.fn((name: string) => { if (name === 'runId') lines.push('<outputs>') })
  await actions['idp:golden-path'].handler(ctx)
  const started = lines.findIndex((l) => /run .* started/.test(l))
  const provisioning = lines.findIndex((l) => /provision_gitops: writing/.test(l))
  const outputs = lines.indexOf('<outputs>')
  expect(started).toBeGreaterThanOrEqual(0)
  expect(provisioning).toBeGreaterThan(started)
  expect(outputs).toBeGreaterThan(provisioning)
})

test('a cancelled task (ctx.signal) stops the run; it is recorded cancelled and a retry resumes it', async () => {
  const ac = new AbortController()
  const { ctx } = context(input, { signal: ac.signal })
  const task = actions['idp:golden-path'].handler(ctx)
  ac.abort() // the task is cancelled while the run is being planned
  await expect(task).rejects.toMatchObject({ code: 'Cancelled' })
  const platform = Platform.builtin(workspace)
  const [run] = await platform.runs({}, { as: ALICE.ref })
  expect(run.status).toBe('cancelled')
  expect(run.steps_completed).not.toContain('attach_observability')
  // The scaffolder's retry of the same task resumes the same run.
  const again = context(input)
  await actions['idp:golden-path'].handler(again.ctx)
  expect(again.outputs.runId).toBe(run.run_id)
  expect(again.outputs.receipt.status).toBe('completed')
})

test('idp:insights reports what the user may read and writes the HTML report into the task workspace', async () => {
  await actions['idp:golden-path'].handler(context(input).ctx)
  const { ctx, outputs } = context({ team: 'team-payments', htmlPath: 'reports/insights.html' })
  await actions['idp:insights'].handler(ctx)
  expect(outputs.report.adoption.runs_by_face).toEqual({ backstage: 1 })
  expect(outputs.report.services.map((s: any) => s.service)).toEqual(['payments-api'])
  expect(outputs.htmlPath).toBe(path.join(workspace, 'task', 'reports', 'insights.html'))
  expect(fs.readFileSync(outputs.htmlPath, 'utf8')).toMatch(/^<!DOCTYPE html>/)
  // A path out of the task workspace is refused, and nothing is written there.
  const escape = context({ htmlPath: '../escaped.html' })
  await expect(actions['idp:insights'].handler(escape.ctx)).rejects.toThrow(/outside/)
  expect(fs.existsSync(path.join(workspace, 'escaped.html'))).toBe(false)
  // Another team's user reads none of team-payments' services.
  const other = context({}, { user: { ref: 'user:default/mallory' } })
  await actions['idp:insights'].handler(other.ctx)
  expect(other.outputs.report.services).toEqual([])
})
