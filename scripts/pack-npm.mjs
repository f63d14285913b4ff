#!/usr/bin/env node
// Packs idp's npm packages, in the napi-rs distribution layout, from a source checkout whose
// native module is built (idp-node/idp.<platform>.node: `npm ci` in idp-node, or
// scripts/package.sh, builds it):
//
//   @idp/node-<platform>   the prebuilt binary for this platform (idp-node/npm/<platform>/)
//   @idp/node              the JS loader and types; every platform package in
//                          optionalDependencies, so npm installs only the one that matches
//   @idp/plugin-scaffolder-backend-module-idp
//                          the Backstage module (built with Backstage's CLI), depending on
//                          @idp/node at this version
//
// The checkout keeps its development manifests (the Backstage module's `file:..` link to ../):
// the Node packages are packed from staged copies, the module in place with its manifest
// restored after. Nothing in the packages needs Rust to install.
//
//   node scripts/pack-npm.mjs --out DIR
import { execFileSync } from 'node:child_process'
import {
  copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const args = process.argv.slice(2)
const at = args.indexOf('--out')
if (at < 0 || !args[at + 1] || args.length !== 2) {
  console.error('usage: node scripts/pack-npm.mjs --out DIR')
  process.exit(2)
}
const out = resolve(args[at + 1])
const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const node = join(root, 'idp-node')
const read = (p) => JSON.parse(readFileSync(p, 'utf8'))
const main = read(join(node, 'package.json'))
const version = main.version

const { platformSuffix } = createRequire(import.meta.url)(join(node, 'scripts', 'platform.js'))
const platform = platformSuffix()
const binary = `${main.napi.binaryName}.${platform}.node`
if (!existsSync(join(node, binary))) {
  console.error(`idp-node/${binary} is not built: run scripts/package.sh (or npm ci in idp-node) first`)
  process.exit(1)
}

const stage = mkdtempSync(join(tmpdir(), 'idp-pack-'))
// Inside the try below, a failure throws (process.exit would skip the staging folder's removal).
class PackError extends Error {}
const pack = (dir) => {
  const stdout = execFileSync('npm', ['pack', '--json', '--pack-destination', out], { cwd: dir, encoding: 'utf8' })
  // The JSON array, whatever lifecycle output some npm versions print before it.
  const [{ filename }] = JSON.parse(stdout.slice(stdout.indexOf('[')))
  console.log(join(out, filename))
}
const write = (p, value) => writeFileSync(p, JSON.stringify(value, null, 2) + '\n')
try {
  // The platform package: its manifest (napi create-npm-dirs) and the binary.
  const platformDir = join(stage, platform)
  cpSync(join(node, 'npm', platform), platformDir, { recursive: true })
  copyFileSync(join(node, binary), join(platformDir, binary))
  const platformManifest = read(join(platformDir, 'package.json'))
  if (platformManifest.version !== version) {
    throw new PackError(`idp-node/npm/${platform}: version ${platformManifest.version}, not ${version}`)
  }
  pack(platformDir)

  // @idp/node: what `files` names, and the platform packages as optional dependencies (what
  // `napi prepublish` adds when publishing).
  const mainDir = join(stage, 'node')
  const platforms = readdirSync(join(node, 'npm'))
  if (platforms.length !== main.napi.targets.length) {
    throw new PackError('idp-node/npm has a folder per napi target: run `npx napi create-npm-dirs` in idp-node')
  }
  const optionalDependencies = {}
  for (const dir of platforms) optionalDependencies[read(join(node, 'npm', dir, 'package.json')).name] = version
  // No install script: the package builds nothing (install.js builds only in a source checkout),
  // and index.js says which platform package is missing when none loads.
  const scripts = { ...main.scripts }
  delete scripts.install
  const files = main.files.filter((f) => !f.startsWith('scripts/'))
  for (const f of files) cpSync(join(node, f), join(mainDir, f), { recursive: true })
  write(join(mainDir, 'package.json'), { ...main, files, scripts, optionalDependencies })
  pack(mainDir)

  // The Backstage module (built: `npm run build` in idp-node/backstage), packed in place so that
  // Backstage's CLI prepares its manifest (prepack/postpack: main and types from publishConfig,
  // the feature it exports), depending on @idp/node at this version instead of the link.
  const bs = join(node, 'backstage')
  const bsManifestPath = join(bs, 'package.json')
  const bsText = readFileSync(bsManifestPath, 'utf8')
  const bsManifest = JSON.parse(bsText)
  // Built, and from the current sources (scripts/package.sh builds it).
  const built = join(bs, 'dist', 'index.cjs.js')
  const newest = Math.max(...readdirSync(join(bs, 'src')).map((f) => statSync(join(bs, 'src', f)).mtimeMs))
  if (!existsSync(built) || statSync(built).mtimeMs < newest) {
    throw new PackError('idp-node/backstage is not built from its current sources: `npm run build` there')
  }
  bsManifest.dependencies['@idp/node'] = version
  try {
    write(bsManifestPath, bsManifest)
    pack(bs)
  } finally {
    writeFileSync(bsManifestPath, bsText)
  }
} catch (e) {
  if (!(e instanceof PackError)) throw e
  console.error(e.message)
  process.exitCode = 1
} finally {
  rmSync(stage, { recursive: true, force: true })
}

