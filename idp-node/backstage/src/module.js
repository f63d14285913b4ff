'use strict'
// The backend module: registers the idp actions with the scaffolder. Configuration (app-config):
//
//   idp:
//     platform: ./platform     # a platform folder (`idp init`); default: the built-in platform
//     workspace: ./.idp        # where repos, state and audit live; default: .idp
const { coreServices, createBackendModule } = require('@backstage/backend-plugin-api')
const { scaffolderActionsExtensionPoint } = require('@backstage/plugin-scaffolder-node')
const { Platform } = require('@idp/node')
const { createIdpActions } = require('./actions')

const scaffolderModuleIdp = createBackendModule({
  pluginId: 'scaffolder',
  moduleId: 'idp',
  register(env) {
    env.registerInit({
      deps: {
        scaffolder: scaffolderActionsExtensionPoint,
        config: coreServices.rootConfig,
        logger: coreServices.logger,
      },
      async init({ scaffolder, config, logger }) {
        const dir = config.getOptionalString('idp.platform')
        const workspace = config.getOptionalString('idp.workspace') ?? '.idp'
        const platform = dir ? Platform.fromDir(dir, workspace) : Platform.builtin(workspace)
        logger.info(`idp: platform ${dir ?? 'built-in'}, workspace ${platform.workspace}`)
        scaffolder.addActions(...createIdpActions({ platform }))
      },
    })
  },
})

module.exports = { scaffolderModuleIdp }
