// The backend module: registers the idp actions with the scaffolder. Configuration (app-config):
//
//   idp:
//     platform: ./platform     # a platform folder (`idp init`); default: the built-in platform
//     workspace: ./.idp        # where repos, state and audit live; default: .idp
//
// Relative paths are relative to the config file that sets them.
import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import { Platform } from '@idp/node';
import { createIdpActions } from './actions';
import { resolveConfigPath } from './configPaths';

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
        // Relative paths resolve from the config file that sets them (configPaths.ts).
        const dirValue = config.getOptionalString('idp.platform');
        const dir = dirValue
          ? await resolveConfigPath('idp.platform', dirValue)
          : undefined;
        const workspaceValue = config.getOptionalString('idp.workspace');
        const workspace = await resolveConfigPath(
          'idp.workspace',
          workspaceValue ?? '.idp',
          { isDefault: workspaceValue === undefined },
        );
        const platform = dir
          ? Platform.fromDir(dir.path, workspace.path)
          : Platform.builtin(workspace.path);
        logger.info(
          `idp: platform ${dir ? `${dir.path} (${dir.from})` : 'built-in'}, ` +
            `workspace ${platform.workspace} (${workspace.from})`,
        );
        scaffolder.addActions(...createIdpActions({ platform }));
      },
    });
  },
});
