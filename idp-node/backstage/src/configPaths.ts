// Relative paths in app-config (idp.platform, idp.workspace) resolve from the folder of the
// config file that sets them, not from the backend process's working directory: a backend
// started by `yarn start` runs in packages/backend while app-config.yaml is at the repo root.
import path from 'node:path';
import { ConfigSources, ConfigSourceData } from '@backstage/config-loader';

/**
 * The config files Backstage's own loader reads for this process (the `--config` arguments,
 * else app-config.yaml and app-config.local.yaml in the repo root), in the order it merges them.
 */
async function configFiles(argv: string[]): Promise<ConfigSourceData[]> {
  const source = ConfigSources.defaultForTargets({
    targets: ConfigSources.parseArgs(argv).filter(t => t.type === 'path'),
    allowMissingDefaultConfig: true,
  });
  const controller = new AbortController();
  const it = source.readConfigData({ signal: controller.signal })[Symbol.asyncIterator]();
  try {
    const first = await it.next();
    return first.done ? [] : first.value.configs;
  } finally {
    controller.abort();
    await it.return?.();
  }
}

function lookup(data: unknown, keys: string[]): unknown {
  return keys.reduce<unknown>(
    (v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined),
    data,
  );
}

/**
 * `value`, read from config `key` (`idp.workspace`), as an absolute path: a relative one from the
 * folder of the last config file that sets `key` to `value` (the one Backstage's merge took it
 * from), else from the working directory (an APP_CONFIG_ variable, or a config without files).
 * Returns the path and where it was resolved from.
 */
export async function resolveConfigPath(
  key: string,
  value: string,
  argv: string[] = process.argv,
): Promise<{ path: string; from: string }> {
  if (path.isAbsolute(value)) return { path: value, from: key };
  let files: ConfigSourceData[] = [];
  try {
    files = await configFiles(argv);
  } catch {
    // A config the loader cannot read here (a remote one): the working directory.
  }
  const file = files
    .filter(c => c.path && lookup(c.data, key.split('.')) === value)
    .pop();
  const base = file?.path ? path.dirname(file.path) : process.cwd();
  return {
    path: path.resolve(base, value),
    from: file?.path ? `${key} in ${file.path}` : `${key}, from the working directory`,
  };
}
