// The example Software Template (examples/backstage/template.yaml) runs as written: every idp
// step through the module's real actions as a team member, with its `${{ }}` inputs filled the
// way the scaffolder fills them, and every output it reads from a step is one that step sets.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import YAML from 'yaml'
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils'
import { Platform } from '@idp/node'
import { createIdpActions } from '.'

const TEMPLATE = path.join(__dirname, '../../../examples/backstage/template.yaml')
const ALICE = { ref: 'user:default/alice' }

// `${{ parameters.x }}` and `${{ steps['id'].output.a.b }}`: the two forms the template uses.
function lookup(expr: string, scope: any): any {
  const m = /^\s*(parameters|steps\['([^']+)'\]\.output)((?:\.[A-Za-z_][\w-]*)*)\s*$/.exec(expr)
  if (!m) throw new Error(`unsupported template expression: ${expr}`)
  let v = m[1] === 'parameters' ? scope.parameters : scope.steps[m[2]]
  if (v === undefined) throw new Error(`${expr}: step ${m[2]} has not run`)
  for (const key of m[3].split('.').filter(Boolean)) {
    if (v === undefined || v === null || !(key in v)) throw new Error(`${expr}: no ${key}`)
    v = v[key]
  }
  return v
}

function fill(value: any, scope: any): any {
  if (typeof value === 'string') {
    const whole = /^\$\{\{(.*)\}\}$/.exec(value)
    if (whole && !whole[1].includes('}}')) return lookup(whole[1], scope)
    return value.replace(/\$\{\{(.*?)\}\}/g, (_: string, e: string) => String(lookup(e, scope)))
  }
  if (Array.isArray(value)) return value.map((v: any) => fill(v, scope))
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, scope)]))
  }
  return value
}

let workspace: string
beforeEach(() => { workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'idp-template-')) })
afterEach(() => fs.rmSync(workspace, { recursive: true, force: true }))

async function runTemplate(parameters: Record<string, unknown>, { isDryRun = false } = {}) {
  const template = YAML.parse(fs.readFileSync(TEMPLATE, 'utf8'))
  const actions: Record<string, any> = Object.fromEntries(
    createIdpActions({ platform: Platform.builtin(workspace) }).map((a) => [a.id, a]),
  )
  const scope: { parameters: Record<string, unknown>; steps: Record<string, any> } = { parameters, steps: {} }
  const ran: string[] = []
  for (const step of template.spec.steps) {
    if (step.if !== undefined && !fill(step.if, scope)) continue
    if (!step.action.startsWith('idp:')) {
      // Another plugin's action (skipped in a dry run, as Backstage skips actions without
      // dry-run support): its inputs must still resolve from what the idp steps output.
      if (!isDryRun) fill(step.input, scope)
      continue
    }
    expect(Object.keys(actions)).toContain(step.action)
    const ctx: any = createMockActionContext({ input: fill(step.input, scope), user: ALICE })
    ctx.isDryRun = isDryRun
    const outputs: Record<string, unknown> = {}
    ctx.output = (name: string, value: unknown) => { outputs[name] = value }
    await actions[step.action].handler(ctx)
    scope.steps[step.id] = outputs
    ran.push(step.id)
  }
  return { scope, ran, filledOutput: isDryRun ? null : fill(template.spec.output, scope) }
}

test('the example template runs as written, as a member of the owning team', async () => {
  const { scope, ran, filledOutput } = await runTemplate(
    { service: 'tmpl-svc', owner: 'team-payments', goldenPath: 'python-fastapi-service', port: 8081, logsBucket: true },
  )
  expect(ran).toEqual(['golden-path', 'infra'])
  expect(scope.steps['golden-path'].receipt.status).toBe('completed')
  expect(scope.steps.infra.receipt.status).toBe('completed')
  expect(filledOutput!.links[0].url).toMatch(/tmpl-svc\.git$/)
  expect(filledOutput!.text[0].content).toContain('idp explain tmpl-svc')
})

test('the template skips the infrastructure step when not asked, and a dry run writes nothing', async () => {
  const { ran, scope } = await runTemplate(
    { service: 'tmpl-dry', owner: 'team-payments', goldenPath: 'python-fastapi-service', port: 8080, logsBucket: false },
    { isDryRun: true },
  )
  expect(ran).toEqual(['golden-path'])
  expect(scope.steps['golden-path'].plan.allowed).toBe(true)
  expect(await Platform.builtin(workspace, { as: 'user:default/pat' }).runs()).toEqual([])
})

test('the template creates a Node service when its language is picked', async () => {
  const { scope, ran } = await runTemplate(
    { service: 'tmpl-node', owner: 'team-payments', goldenPath: 'node-express-service', port: 3000, logsBucket: false },
  )
  expect(ran).toEqual(['golden-path'])
  const receipt = scope.steps['golden-path'].receipt
  expect([receipt.status, receipt.golden_path]).toEqual(['completed', 'node-express-service'])
  const files = receipt.steps.flatMap((s: any) => s.artifacts.map((a: any) => a.path))
  expect(files).toEqual(expect.arrayContaining(['package.json', 'src/observability.ts']))
})

test("the template's language choices are the built-in golden paths", async () => {
  const template = YAML.parse(fs.readFileSync(TEMPLATE, 'utf8'))
  const ids = (await Platform.builtin(workspace).goldenPaths()).map((g: any) => g.id)
  expect([...template.spec.parameters[0].properties.goldenPath.enum].sort()).toEqual([...new Set(ids)].sort())
})

test("the template's name field rejects what idp would reject", () => {
  const template = YAML.parse(fs.readFileSync(TEMPLATE, 'utf8'))
  const { pattern, maxLength } = template.spec.parameters[0].properties.service
  for (const bad of ['../../etc', 'Payments', '-x', 'x'.repeat(64)]) {
    expect(new RegExp(pattern).test(bad) && bad.length <= maxLength).toBe(false)
  }
  expect(new RegExp(pattern).test('payments-api')).toBe(true)
})
