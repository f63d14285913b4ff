// The backend module registers the actions with the scaffolder, configured from app-config.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { mockServices, startTestBackend } from '@backstage/backend-test-utils'
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node'
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils'
import * as module from '.'
import { resolveConfigPath } from './configPaths'
import { integrationTokens } from './module'

test('backend.add(module) registers the seven idp actions on the configured workspace', async () => {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'idp-backstage-'))
  const added: any[] = []
  const backend = await startTestBackend({
    extensionPoints: [[scaffolderActionsExtensionPoint, { addActions: (...a: any[]) => added.push(...a) }]],
    features: [
      // What `backend.add(import('@idp/plugin-scaffolder-backend-module-idp'))` passes: the
      // module namespace (jest runs CommonJS without --experimental-vm-modules, so a static
      // import stands in for the dynamic one).
      Promise.resolve(module),
      mockServices.rootConfig.factory({ data: { idp: { workspace } } }),
    ],
  })
  try {
    expect(added.map((a) => a.id).sort()).toEqual([
      'idp:attach-observability', 'idp:bootstrap-service', 'idp:golden-path', 'idp:insights',
      'idp:provision-gitops', 'idp:request-infra-resource', 'idp:wire-ci',
    ])
    const ctx = createMockActionContext({
      input: { service: 'payments-api', owner: 'team-payments' },
      user: { ref: 'user:default/alice' },
    })
    await added.find((a) => a.id === 'idp:bootstrap-service').handler(ctx)
    expect(fs.existsSync(path.join(workspace, 'repos', 'payments-api.git'))).toBe(true)
  } finally {
    await backend.stop()
    fs.rmSync(workspace, { recursive: true, force: true })
  }
})

test('a relative idp.workspace resolves from the config file that sets it, not the working directory', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'idp-backstage-config-'))
  const file = path.join(root, 'app-config.yaml')
  fs.writeFileSync(file, 'idp:\n  workspace: ./idp-state\n')
  const added: any[] = []
  // The backend was started as `backstage-cli package start --config <file>` from elsewhere.
  const argv = process.argv
  process.argv = ['node', 'backend', '--config', file]
  const backend = await startTestBackend({
    extensionPoints: [[scaffolderActionsExtensionPoint, { addActions: (...a: any[]) => added.push(...a) }]],
    features: [
      Promise.resolve(module),
      mockServices.rootConfig.factory({ data: { idp: { workspace: './idp-state' } } }),
    ],
  })
  try {
    const ctx = createMockActionContext({
      input: { service: 'payments-api', owner: 'team-payments' },
      user: { ref: 'user:default/alice' },
    })
    await added.find((a) => a.id === 'idp:bootstrap-service').handler(ctx)
    expect(fs.existsSync(path.join(root, 'idp-state', 'repos', 'payments-api.git'))).toBe(true)
    expect(fs.existsSync(path.join(process.cwd(), 'idp-state'))).toBe(false)
  } finally {
    process.argv = argv
    await backend.stop()
    fs.rmSync(root, { recursive: true, force: true })
  }
})

test('resolveConfigPath: the last config file that sets the value wins; defaults, absolute paths, remote and broken configs', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'idp-backstage-config-'))
  fs.mkdirSync(path.join(root, 'a'))
  fs.mkdirSync(path.join(root, 'b'))
  fs.writeFileSync(path.join(root, 'a', 'app-config.yaml'), 'idp:\n  workspace: ws\n')
  fs.writeFileSync(path.join(root, 'b', 'app-config.local.yaml'), 'idp:\n  workspace: ws\n')
  const argv = ['node', 'backend', '--config', path.join(root, 'a', 'app-config.yaml'),
    '--config', path.join(root, 'b', 'app-config.local.yaml')]
  try {
    expect((await resolveConfigPath('idp.workspace', 'ws', { argv })).path).toBe(path.join(root, 'b', 'ws'))
    expect((await resolveConfigPath('idp.workspace', '/abs/ws', { argv })).path).toBe('/abs/ws')
    // Unset: the default beside the first config file (app-config.yaml).
    expect((await resolveConfigPath('idp.workspace', '.idp', { argv, isDefault: true })).path)
      .toBe(path.join(root, 'a', '.idp'))
    // Set by no file (an APP_CONFIG_ variable): the working directory.
    const other = await resolveConfigPath('idp.workspace', 'elsewhere', { argv })
    expect(other.path).toBe(path.resolve('elsewhere'))
    expect(other.from).toMatch(/working directory/)
    // Only a remote config: not the default files of the working directory.
    const remote = await resolveConfigPath('idp.workspace', 'ws', { argv: ['node', 'backend', '--config', 'https://config.example/app-config.yaml'] })
    expect(remote.path).toBe(path.resolve('ws'))
    // A config file that cannot be read again: the working directory, and why.
    const broken = path.join(root, 'broken.yaml')
    fs.writeFileSync(broken, 'idp: [\n')
    const unreadable = await resolveConfigPath('idp.workspace', 'ws', { argv: ['node', 'backend', '--config', broken] })
    expect(unreadable.path).toBe(path.resolve('ws'))
    expect(unreadable.from).toMatch(/could not be read/)
  } finally {
    fs.rmSync(root, { recursive: true, force: true })
  }
})

test('integration tokens are read by host from GitHub, GitLab and Gitea integrations', () => {
  const config = mockServices.rootConfig({ data: { integrations: {
    github: [{ host: 'github.com', token: 'gh' }, { host: 'ghe.example' }],
    gitlab: [{ host: 'gitlab.example:8443', token: 'gl' }],
    gitea: [{ host: 'gitea.example', username: 'idp', password: 'gt' }],
  } } })
  expect(integrationTokens(config)).toEqual({
    'github.com': 'gh', 'gitlab.example:8443': 'gl', 'gitea.example': 'gt',
  })
  expect(integrationTokens(mockServices.rootConfig({ data: {} }))).toEqual({})
})

test('a forge without a token in idp.yaml uses the backend\'s integrations.github token for its host', async () => {
  const { spawn, execFileSync } = require('node:child_process')
  const readline = require('node:readline')
  const repo = path.resolve(__dirname, '..', '..', '..')
  const target = process.env.CARGO_TARGET_DIR || path.join(repo, 'target')
  const bin = (name: string, env: string) =>
    [process.env[env], path.join(target, 'debug', name)].find((c) => c && fs.existsSync(c)) as string
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'idp-backstage-forge-'))
  const token = 'backstage-integration-token'
  const forge = spawn(bin('idp-testforge', 'IDP_TESTFORGE'),
    ['--listen', '127.0.0.1:0', '--root', path.join(root, 'forge'), '--token', token],
    { stdio: ['ignore', 'pipe', 'inherit'] })
  const added: any[] = []
  let backend: any
  try {
    const base: string = (await new Promise((resolve) =>
      readline.createInterface({ input: forge.stdout }).once('line', resolve))) as string
    const platform = path.join(root, 'platform')
    execFileSync(bin('idp', 'IDP_CLI'), ['init', platform])
    const yamlFile = path.join(platform, 'idp.yaml')
    fs.writeFileSync(yamlFile, fs.readFileSync(yamlFile, 'utf8').replace('    kind: local-git\n',
      `    kind: github\n    api_url: ${base}/api/v3\n    owner: acme\n`))
    backend = await startTestBackend({
      extensionPoints: [[scaffolderActionsExtensionPoint, { addActions: (...a: any[]) => added.push(...a) }]],
      features: [
        Promise.resolve(module),
        mockServices.rootConfig.factory({ data: {
          idp: { platform, workspace: path.join(root, 'ws') },
          integrations: { github: [
            { host: 'github.com', token: 'not-this-one' },
            { host: base.replace('http://', ''), apiBaseUrl: `${base}/api/v3`, token },
          ] },
        } }),
      ],
    })
    const ctx = createMockActionContext({
      input: { service: 'payments-api', owner: 'team-payments' },
      user: { ref: 'user:default/alice' },
    })
    await added.find((a) => a.id === 'idp:bootstrap-service').handler(ctx)
    const r = await fetch(`${base}/api/v3/repos/acme/payments-api/pulls?state=all`,
      { headers: { authorization: `token ${token}` } })
    const pulls = await r.json()
    expect(pulls.map((p: any) => p.merged)).toEqual([true])
  } finally {
    await backend?.stop()
    forge.kill()
    fs.rmSync(root, { recursive: true, force: true })
  }
})
