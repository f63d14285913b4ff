// The backend module registers the actions with the scaffolder, configured from app-config.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { mockServices, startTestBackend } from '@backstage/backend-test-utils'
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node'
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils'
import * as module from '.'

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
