// The Node side of bench/bindings.sh: the same workload as native.rs, through @idp/node.
// Calls are awaited one at a time, as native.rs makes them.
//
// Usage: node node.mjs WORKSPACE SERVICES EXPLAIN_CALLS  (prints one JSON line)
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { Platform } = require('../../idp-node')

const [ws, n, calls] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])]
const p = Platform.builtin(ws, { as: 'user:default/alice' })
let t = process.hrtime.bigint()
for (let i = 0; i < n; i++) {
  const r = await p.runGoldenPath({ service: `svc-${i}`, owner: 'team-payments' })
  if (r.steps.length !== 4) throw new Error('expected 4 steps')
}
const goldenPathS = Number(process.hrtime.bigint() - t) / 1e9
t = process.hrtime.bigint()
for (let i = 0; i < calls; i++) await p.explain({ service: 'svc-0' })
const explainS = Number(process.hrtime.bigint() - t) / 1e9
console.log(JSON.stringify({ face: 'node', services: n, golden_path_s: goldenPathS,
  explain_calls: calls, explain_s: explainS }))
