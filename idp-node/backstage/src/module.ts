// The backend module: registers the idp actions with the scaffolder. Configuration (app-config):
//
//   idp:
//     platform: ./platform     # a platform folder (`idp init`); default: the built-in platform
//     workspace: ./.idp        # where repos, state and audit live; default: .idp
//
// Relative paths are relative to the config file that sets them. A forge in the platform's
// idp.yaml (`kind: github`) without a `token` uses the backend's own `integrations.github`
// token for that host, so an app configures its GitHub credentials once.
import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import type { RootConfigService } from '@backstage/backend-plugin-api';
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
        const options = { hostTokens: integrationTokens(config) };
        const platform = dir
          ? Platform.fromDir(dir.path, workspace.path, options)
          : Platform.builtin(workspace.path, options);
        logger.info(
          `idp: platform ${dir ? `${dir.path} (${dir.from})` : 'built-in'}, ` +
            `workspace ${platform.workspace} (${workspace.from})`,
        );
        scaffolder.addActions(...createIdpActions({ platform }));
      },
    });
  },
});

/**
 * The backend's forge tokens by host, from `integrations.github` and `integrations.gitlab`
 * (`host`, `token`) and `integrations.gitea` (`host`, `password`: Backstage's Gitea integration
 * keeps an access token there): idp uses the one for its forge's host when idp.yaml sets no
 * token. GitHub App credentials (`apps`) are not read: give idp the app in idp.yaml's
 * `app: { app_id, installation_id, private_key: { file: ... } }` instead.
 */
export function integrationTokens(config: RootConfigService): Record<string, string> {
  const tokens: Record<string, string> = {};
  for (const [kind, field] of [['github', 'token'], ['gitlab', 'token'], ['gitea', 'password']]) {
    for (const entry of config.getOptionalConfigArray(`integrations.${kind}`) ?? []) {
      const token = entry.getOptionalString(field);
      if (token) tokens[entry.getString('host')] = token;
    }
  }
  return tokens;
}
