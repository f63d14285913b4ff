// The backend module registers the actions with the scaffolder, configured from app-config.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { mockServices, startTestBackend } = require('@backstage/backend-test-utils')
const { scaffolderActionsExtensionPoint } = require('@backstage/plugin-scaffolder-node')
const { createMockActionContext } = require('@backstage/plugin-scaffolder-node-test-utils')

test('backend.add(module) registers the seven idp actions on the configured workspace', async () => {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'idp-backstage-'))
  const added = []
  const backend = await startTestBackend({
    extensionPoints: [[scaffolderActionsExtensionPoint, { addActions: (...a) => added.push(...a) }]],
    features: [
      // What `backend.add(import('@idp/plugin-scaffolder-backend-module-idp'))` passes (jest
      // runs CommonJS without --experimental-vm-modules, so the module namespace is required).
      Promise.resolve(require('../src/index.js')),
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
