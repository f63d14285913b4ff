// The backend module: registers the idp actions with the scaffolder. Configuration (app-config):
//
//   idp:
//     platform: ./platform     # a platform folder (`idp init`); default: the built-in platform
//     workspace: ./.idp        # where repos, state and audit live; default: .idp
import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import { Platform } from '@idp/node';
import { createIdpActions } from './actions';

/**
 * The backend module registering the idp scaffolder actions:
 * `backend.add(import('@idp/plugin-scaffolder-backend-module-idp'))`.
 * @public
 */
export const scaffolderModuleIdp = createBackendModule({
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
        const dir = config.getOptionalString('idp.platform');
        const workspace = config.getOptionalString('idp.workspace') ?? '.idp';
        const platform = dir
          ? Platform.fromDir(dir, workspace)
          : Platform.builtin(workspace);
        logger.info(
          `idp: platform ${dir ?? 'built-in'}, workspace ${platform.workspace}`,
        );
        scaffolder.addActions(...createIdpActions({ platform }));
      },
    });
  },
});
