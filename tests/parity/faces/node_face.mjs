// The Node face of the parity suite: runs every call of a request vector through @idp/node
// (the camelCase async methods, `{ as }` for the principal) and prints one JSON result per
// call: what the Promise resolved to, or {error: {kind, message, retryable, context, details}} from the
// Error it rejected with (`code` is the core's error kind).
//
//   node node_face.mjs VECTOR.json WORKSPACE > results.json
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const { Platform } = require('../../../idp-node')

const [vectorPath, workspace] = process.argv.slice(2)
const vector = JSON.parse(readFileSync(vectorPath, 'utf8'))
const platform = Platform.builtin(workspace)
const camel = (s) => s.replace(/_([a-z])/g, (_, c) => c.toUpperCase())
const results = []
// A team's push between calls (tests/parity/team_push.py, the same for every face).
const teamPush = (spec) =>
  JSON.parse(execFileSync('python3', [fileURLToPath(new URL('../team_push.py', import.meta.url)), workspace, JSON.stringify(spec)], { encoding: 'utf8' }))
for (const c of vector.calls) {
  if (c.team_push) {
    results.push(teamPush(c.team_push))
    continue
  }
  const as = c.as ?? vector.as ?? 'user:default/alice'
  try {
    results.push(await platform[camel(c.method)](c.args ?? {}, { as }))
  } catch (e) {
    if (typeof e.code !== 'string') throw e
    results.push({ error: { kind: e.code, message: e.reason, retryable: e.retryable, context: e.context, details: e.details } })
  }
}
process.stdout.write(JSON.stringify(results, null, 2) + '\n')
