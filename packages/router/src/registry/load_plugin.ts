import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { RouterStrategy } from '../routers/contract.js';
import { checkRouterStrategy } from './check_strategy.js';
import { type RouterRegistry, defaultRouterRegistry } from './registry.js';

export interface LoadRouterPluginOptions {
  /** Where strategies are registered. Default: `defaultRouterRegistry`. */
  registry?: RouterRegistry;
  /** Base for relative paths. Default: `process.cwd()`. */
  cwd?: string;
  /** How long the import may take (a plugin whose top-level await never settles). Default 30 s. */
  timeoutMs?: number;
}

function looksLikePath(specifier: string, cwd: string): boolean {
  return (
    specifier.startsWith('.') ||
    isAbsolute(specifier) ||
    /\.(m?js|cjs|ts)$/.test(specifier) ||
    existsSync(resolve(cwd, specifier))
  );
}

/** The module a failed import could not find, as a path when it is a file URL. */
function missingModule(err: unknown): string | undefined {
  const m = /Cannot find (?:module|package) '([^']+)'/.exec((err as Error).message ?? '');
  if (m == null) return undefined;
  return m[1].startsWith('file:') ? fileURLToPath(m[1]) : m[1];
}

/** Why importing `target` failed, in one line: the plugin missing, or the error its own code raised. */
function importFailure(err: unknown, specifier: string, target: string): string {
  const code = (err as { code?: string }).code;
  const firstLine = String((err as Error).message ?? err).split('\n')[0];
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'ERR_UNSUPPORTED_DIR_IMPORT') {
    const missing = missingModule(err);
    const self = target.startsWith('file:') ? fileURLToPath(target) : target;
    if (
      missing === undefined ||
      missing === self ||
      missing === specifier ||
      code === 'ERR_UNSUPPORTED_DIR_IMPORT'
    ) {
      return 'not found (check the path, or npm install the package)';
    }
    return `its import failed: ${firstLine}`;
  }
  return `its import failed: ${firstLine}`;
}

/**
 * Imports a router plugin from a file path (relative to `cwd`) or a package name, checks every strategy
 * it exports and registers them. A module may export a strategy as `default`, as `routerStrategy`, or
 * several as `routerStrategies` (an array). Returns the registered strategies.
 */
export async function loadRouterPlugin(
  specifier: string,
  options: LoadRouterPluginOptions = {},
): Promise<RouterStrategy[]> {
  if (typeof specifier !== 'string' || specifier.trim() === '') {
    throw new Error('loadRouterPlugin: expected a file path or package name.');
  }
  const registry = options.registry ?? defaultRouterRegistry;
  const cwd = options.cwd ?? process.cwd();
  const target = looksLikePath(specifier, cwd) ? pathToFileURL(resolve(cwd, specifier)).href : specifier;
  const timeoutMs = options.timeoutMs ?? 30_000;
  let mod: Record<string, unknown>;
  let timer: NodeJS.Timeout | undefined;
  try {
    // The timer also keeps the process alive, so a never-settling top-level await cannot end it silently.
    const timeout = new Promise<never>((_, fail) => {
      timer = setTimeout(
        () =>
          fail(
            new Error(
              `its import did not finish within ${timeoutMs / 1000} s (a top-level await that never settles?)`,
            ),
          ),
        timeoutMs,
      );
    });
    mod = (await Promise.race([import(/* @vite-ignore */ target), timeout])) as Record<string, unknown>;
  } catch (err) {
    const why = /did not finish within/.test((err as Error).message)
      ? (err as Error).message
      : importFailure(err, specifier, target);
    throw new Error(`Cannot load router plugin "${specifier}": ${why}.`, { cause: err });
  } finally {
    clearTimeout(timer);
  }
  // A CommonJS plugin arrives as { default: module.exports }: read its exports from there too.
  const cjs = mod.default as Record<string, unknown> | undefined;
  const exportsOf = [
    mod,
    ...(cjs != null && typeof cjs === 'object' && cjs.specificationVersion === undefined ? [cjs] : []),
  ];
  const candidates: unknown[] = [];
  for (const m of exportsOf) {
    if (Array.isArray(m.routerStrategies)) candidates.push(...m.routerStrategies);
    if (m.routerStrategy != null && !candidates.includes(m.routerStrategy)) candidates.push(m.routerStrategy);
  }
  if (mod.default != null && !candidates.includes(mod.default) && exportsOf.length === 1) {
    candidates.push(mod.default);
  }
  if (candidates.length === 0) {
    throw new Error(
      `Router plugin "${specifier}" exports no strategy: export it as default, as routerStrategy, or as routerStrategies (an array).`,
    );
  }
  const strategies = candidates.map((c) => checkRouterStrategy(c, `router plugin "${specifier}"`));
  for (const s of strategies) registry.register(s);
  return strategies;
}
