'use strict'
// The checked-in index.d.ts matches the compiled module and the core's api::METHODS. (The build
// regenerates index.d.ts; scripts/test-bindings.sh also fails when it differs from git.)
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const idp = require('..')
const { camel } = require('./helpers')

const dts = fs.readFileSync(path.join(__dirname, '..', 'index.d.ts'), 'utf8')

function declaredMethods() {
  const body = dts.match(/export declare class Platform \{([\s\S]*?)\n\}/)[1]
  return new Set([...body.matchAll(/^ {2}(?:static )?(?:get )?([a-zA-Z]+)[<(]/gm)].map((m) => m[1]))
}

test('index.d.ts declares exactly the methods of the compiled Platform', () => {
  const runtime = new Set([
    ...Object.getOwnPropertyNames(idp.Platform.prototype).filter((n) => n !== 'constructor'),
    ...Object.getOwnPropertyNames(idp.Platform).filter((n) => typeof idp.Platform[n] === 'function'),
  ])
  assert.deepEqual([...declaredMethods()].sort(), [...runtime].sort())
})

test('every core method, and nothing else, is a typed method of Platform', () => {
  const ops = new Set(declaredMethods())
  for (const extra of ['builtin', 'fromDir', 'workspace', 'call']) ops.delete(extra)
  assert.deepEqual([...ops].sort(), idp.methods().map(camel).sort())
})

test('every exported function is declared', () => {
  for (const name of Object.keys(idp)) {
    if (name.startsWith('__')) continue
    assert.match(dts, new RegExp(`export declare (function|class|const) ${name}\\b`), name)
  }
})

test('no any in the public declarations: arguments and results are the core types', () => {
  const api = fs.readFileSync(path.join(__dirname, '..', 'api.d.ts'), 'utf8')
  for (const text of [dts, api]) {
    assert.doesNotMatch(text, /(:|<|\|)\s*any\b/)
    assert.doesNotMatch(text, /Record<string, any>/)
  }
  assert.match(dts, /runGoldenPath\(request: api\.IdpMethods\['run_golden_path'\]\['args'\]/)
  assert.match(api, /run_golden_path: \{ args: ServiceRequest; result: Receipt \}/)
  for (const m of idp.methods()) assert.match(api, new RegExp(`^  ${m}: \\{ args: `, 'm'), m)
})
