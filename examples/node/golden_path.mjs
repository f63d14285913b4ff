#!/usr/bin/env node
// The golden path from Node: plan, run, rerun (a no-op), explain, and a denied outsider.
//
//   (cd idp-node && npm install)
//   node examples/node/golden_path.mjs [WORKSPACE]
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

// In an app: `import { Platform } from '@idp/node'`; here, the package in this repository.
const require = createRequire(import.meta.url)
const { Platform } = require('../../idp-node')

const workspace = process.argv[2] ?? mkdtempSync(join(tmpdir(), 'idp-example-'))
try {
  const platform = Platform.builtin(workspace, { as: 'user:default/alice' })
  const request = { service: 'payments-api', owner: 'team-payments', parameters: { port: 8080 } }

  const plan = await platform.plan({ operation: 'run_golden_path', request })
  const files = plan.change_sets.reduce((n, cs) => n + cs.files.length, 0)
  console.log(`plan: ${files} files in ${plan.change_sets.length} change sets, allowed=${plan.allowed}`)

  const receipt = await platform.runGoldenPath(request)
  for (const s of receipt.steps) {
    console.log(`  ${s.step.padEnd(22)} ${s.change_request ? s.change_request.id : 'no change'}`)
  }
  console.log(`service repo: ${receipt.links.service_repo}`)

  const again = await platform.runGoldenPath(request)
  again.steps.forEach((s, i) => {
    if (s.change_request && s.change_request.commit !== receipt.steps[i].change_request.commit) {
      throw new Error('a rerun must not commit')
    }
  })
  console.log('rerun: no new commits')

  const explained = await platform.explain({ service: 'payments-api' })
  const managed = explained.files.filter((f) => f.ownership === 'managed')
  console.log(`explain: ${managed.length} files managed by the platform`)

  try {
    await platform.wireCi(request, { as: 'user:default/mallory' })
  } catch (e) {
    console.log(`mallory: denied (${e.code})`)
  }

  if (!(await platform.auditVerify()).ok) throw new Error('audit log does not verify')
  console.log('audit log verified')
} finally {
  if (process.argv[2] === undefined) rmSync(workspace, { recursive: true, force: true })
}
