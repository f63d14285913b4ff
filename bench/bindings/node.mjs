// The Node side of bench/bindings.sh: the same workload as native.rs, through @idp/node.
// Calls are awaited one at a time, as native.rs makes them. Then a host's view: CONCURRENT golden
// paths in flight at once (a Backstage backend serving several scaffolder tasks), with the event
// loop's delay sampled by perf_hooks.monitorEventLoopDelay, beside the same loop left idle.
//
// Usage: node node.mjs WORKSPACE SERVICES EXPLAIN_CALLS [CONCURRENT]  (prints one JSON line)
import { createRequire } from 'node:module'
import { monitorEventLoopDelay } from 'node:perf_hooks'

const require = createRequire(import.meta.url)
const { Platform } = require('../../idp-node')

const [ws, n, calls] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])]
const concurrent = Number(process.argv[5] ?? 8)
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

// Event-loop delay in ms: percentiles of the histogram (10 ms resolution would hide a blocked loop,
// so sample every millisecond).
const delay = async (work) => {
  const h = monitorEventLoopDelay({ resolution: 1 })
  h.enable()
  const t0 = process.hrtime.bigint()
  await work()
  const s = Number(process.hrtime.bigint() - t0) / 1e9
  h.disable()
  const ms = (x) => Number((x / 1e6).toFixed(3))
  return { s, p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) }
}
const busy = await delay(async () => {
  for (let round = 0; round < Math.max(1, Math.floor(n / concurrent)); round++) {
    const batch = []
    for (let k = 0; k < concurrent; k++) {
      batch.push(p.runGoldenPath({ service: `par-${round}-${k}`, owner: 'team-payments' }))
    }
    for (const r of await Promise.all(batch)) {
      if (r.steps.length !== 4) throw new Error('expected 4 steps')
    }
  }
})
// The same wall time with nothing to do: the loop's own floor on this machine.
const idle = await delay(() => new Promise((resolve) => setTimeout(resolve, busy.s * 1000)))
console.log(JSON.stringify({ face: 'node', services: n, golden_path_s: goldenPathS,
  explain_calls: calls, explain_s: explainS, concurrent, concurrent_services:
  Math.max(1, Math.floor(n / concurrent)) * concurrent, lag_busy: busy, lag_idle: idle }))
