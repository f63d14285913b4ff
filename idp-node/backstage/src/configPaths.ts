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
  const targets = ConfigSources.parseArgs(argv);
  const files = targets.filter(t => t.type === 'path');
  // Only remote configs (`--config https://...`): no file, and not the default files either.
  if (targets.length > 0 && files.length === 0) return [];
  const source = ConfigSources.defaultForTargets({
    targets: files,
    allowMissingDefaultConfig: true,
    watch: false,
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
 * from); a default (`key` unset) from the folder of the first config file, where app-config.yaml
 * is; else from the working directory (an APP_CONFIG_ variable, or a config without files).
 * Returns the path and where it was resolved from.
 */
export async function resolveConfigPath(
  key: string,
  value: string,
  options: { argv?: string[]; isDefault?: boolean } = {},
): Promise<{ path: string; from: string }> {
  const what = options.isDefault ? `${key} (default ${value})` : key;
  if (path.isAbsolute(value)) return { path: value, from: what };
  let files: ConfigSourceData[] = [];
  let unreadable = '';
  try {
    files = await configFiles(options.argv ?? process.argv);
  } catch (e) {
    unreadable = `; the config files could not be read again: ${(e as Error).message}`;
  }
  const file = options.isDefault
    ? files.find(c => c.path)
    : files.filter(c => c.path && lookup(c.data, key.split('.')) === value).pop();
  if (file?.path) {
    return {
      path: path.resolve(path.dirname(file.path), value),
      from: `${what}, relative to ${file.path}`,
    };
  }
  return {
    path: path.resolve(value),
    from: `${what}, relative to the working directory${unreadable}`,
  };
}
